"""A nurse at a patient's home who consented, a named dermatologist, a hospital team of two, and
a doctor nobody calls."""

import io
from dataclasses import dataclass
from typing import Any

import pytest
from httpx import AsyncClient, Response
from PIL import Image

from telesante.runtime import Runtime
from tests.fixtures.acts import record_consent
from tests.fixtures.world import Person, World
from tests.teleexpertise.conftest import join


@dataclass
class Home:
    nurse: Person
    patient: Person
    doctor: Person  # named
    team: list[Person]  # the hospital's dermatologists
    hospital_id: str
    outsider: Person


@pytest.fixture
async def home(client: AsyncClient, world: World, runtime: Runtime) -> Home:
    nurse = await world.professional("Petit", profession="nurse", specialty=None)
    patient = await world.patient(nurse, with_account=True)
    assert isinstance(patient, Person) and patient.patient
    await record_consent(
        client, nurse, patient.patient.id, "teleassistance", "Un médecin guidera le pansement par vidéo."
    )
    hospital = await world.organisation("CHU de Lyon", kind="hospital")
    team = [await world.professional(f"Derm{i}", specialty="Dermatologie") for i in (1, 2)]
    for member in team:
        await join(runtime, member, hospital.id)
    return Home(
        nurse,
        patient,
        await world.professional("Benali", specialty="Dermatologie"),
        team,
        hospital.id,
        await world.professional("Voisin"),
    )


def ok(response: Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def started(client: AsyncClient, home: Home, **callee: Any) -> dict[str, Any]:
    assert home.patient.patient and home.doctor.professional
    body = {
        "patient_id": home.patient.patient.id,
        "act": "Réfection d'un pansement d'ulcère de jambe",
        **(callee or {"doctor_id": home.doctor.professional.id}),
    }
    return ok(await client.post("/api/teleassistance/sessions", json=body, headers=home.nurse.headers), 201)  # type: ignore[no-any-return]


async def active(client: AsyncClient, home: Home) -> dict[str, Any]:
    session = await started(client, home)
    return ok(
        await client.post(f"/api/teleassistance/sessions/{session['id']}/accept", headers=home.doctor.headers)
    )  # type: ignore[no-any-return]


def png(width: int = 64, height: int = 48) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 80, 60)).save(out, "PNG")
    return out.getvalue()
