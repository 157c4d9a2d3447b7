"""A SAMU room: its ARM, an urgentist and a GP regulator, resources, and people who are not in it."""

from dataclasses import dataclass, field
from typing import Any

import pytest
from httpx import AsyncClient, Response

from telesante.db import commit
from telesante.directory.models import Organisation
from telesante.patients.models import Patient
from telesante.regulation.models import RegulationStaff, Resource
from telesante.runtime import Runtime
from tests.fixtures.world import Person, World

TELEPHONY_SECRET = "telephony-test-secret"


@dataclass
class Room:
    centre: Organisation
    arm: Person
    urgentist: Person
    gp: Person
    other_urgentist: Person  # of the same room: two regulators may race for a file
    outsider: Person  # a doctor of no room
    elsewhere: Person  # a regulator of another centre
    patient: Person  # has an account and a Telesante record
    resources: dict[str, str] = field(default_factory=dict)  # vehicle type → resource id

    @property
    def ins(self) -> str:
        assert isinstance(self.patient.patient, Patient) and self.patient.patient.ins_matricule
        return self.patient.patient.ins_matricule


async def centre(world: World, name: str) -> Organisation:
    return await world.organisation(name, kind="samu")


async def staff(runtime: Runtime, centre_id: str, person: Person, function: str) -> None:
    assert person.professional is not None
    async with runtime.sessionmaker() as db:
        db.add(
            RegulationStaff(centre_id=centre_id, professional_id=person.professional.id, function=function)
        )
        await commit(db)


RESOURCES = [
    ("SMUR Lyon Nord", "SMUR", "SMUR.VLM", 45.78, 4.86),
    ("Ambulances du Rhône 12", "TSU", "TSU.AMB", 45.75, 4.84),
    ("VSAV Villeurbanne", "SIS", "SIS.VSAV", 45.77, 4.88),
]


@pytest.fixture
async def room(world: World, runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Room:
    monkeypatch.setattr(runtime.settings, "telephony_token", TELEPHONY_SECRET)
    samu = await centre(world, "SAMU 69 – Centre 15")
    other = await centre(world, "SAMU 38 – Centre 15")
    people = {
        "arm": await world.professional("Haddad", profession="call_taker", specialty=None),
        "urgentist": await world.professional("Dupuis", specialty="Médecine d'urgence"),
        "gp": await world.professional("Lefort"),
        "other_urgentist": await world.professional("Morel", specialty="Médecine d'urgence"),
    }
    for role, function in [("arm", "arm"), ("urgentist", "mru"), ("gp", "mrl"), ("other_urgentist", "mru")]:
        await staff(runtime, samu.id, people[role], function)
    elsewhere = await world.professional("Isérois", specialty="Médecine d'urgence")
    await staff(runtime, other.id, elsewhere, "mru")
    patient = await world.patient(with_account=True)
    assert isinstance(patient, Person)
    found = Room(
        samu, outsider=await world.professional("Voisin"), elsewhere=elsewhere, patient=patient, **people
    )
    async with runtime.sessionmaker() as db:
        for name, kind, vehicle, lat, lon in RESOURCES:
            resource = Resource(
                centre_id=samu.id,
                name=name,
                resource_type=kind,
                vehicle_type=vehicle,
                latitude=lat,
                longitude=lon,
                team_level="MED" if kind == "SMUR" else "PARAMED",
            )
            db.add(resource)
            await db.flush()
            found.resources[vehicle] = resource.id
        await commit(db)
    return found


def ok(response: Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def opened(client: AsyncClient, room: Room, **fields: Any) -> dict[str, Any]:
    """A file opened by hand by the ARM."""
    body = {"priority": "P1", "motive": "Douleur thoracique", "city": "Lyon", **fields}
    return ok(await client.post("/api/regulation/files", json=body, headers=room.arm.headers), 201)  # type: ignore[no-any-return]


async def taken(client: AsyncClient, room: Room, file_id: str, by: Person | None = None) -> dict[str, Any]:
    return ok(
        await client.post(f"/api/regulation/files/{file_id}/take", headers=(by or room.urgentist).headers)
    )  # type: ignore[no-any-return]
