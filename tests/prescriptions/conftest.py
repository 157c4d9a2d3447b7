"""People and a client for the ordonnance numérique, with the prescriptions routers mounted."""

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import insert, text, update

from telesante.db import commit
from telesante.directory.models import Organisation, Professional, professional_organisations
from telesante.identifiers.builders import make_finess
from telesante.patients.models import Patient
from telesante.runtime import Runtime
from tests.fixtures.world import Person, World

_finess = itertools.count(500)


@pytest.fixture
async def rx(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app with this package's routers, as app.py will include them."""
    from telesante.prescriptions.routes import fhir_router, pages_router, router

    for extra in (router, fhir_router, pages_router):
        app.include_router(extra)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def complete_prescriber(
    runtime: Runtime,
    person: Person,
    *,
    email: str | None = "claire.martin@cabinet-du-parc.fr",
    phone: str | None = "04 78 12 34 56",
    city: str | None = "Lyon",
) -> Person:
    """Give a professional what R5132-3 needs: e-mail, phone and a practice with a city."""
    assert person.professional
    async with runtime.sessionmaker() as db:
        organisation = Organisation(
            name="Cabinet du Parc", kind="practice", finess=make_finess("69", next(_finess)), city=city
        )
        db.add(organisation)
        await db.flush()
        await db.execute(
            update(Professional)
            .where(Professional.id == person.professional.id)
            .values(email=email, phone=phone)
        )
        await db.execute(
            insert(professional_organisations).values(
                professional_id=person.professional.id, organisation_id=organisation.id
            )
        )
        await commit(db)
    return person


@dataclass
class Cast:
    doctor: Person
    patient: Person
    pharmacist: Person

    @property
    def patient_id(self) -> str:
        assert self.patient.patient
        return self.patient.patient.id


@pytest.fixture
async def cast(world: World, runtime: Runtime) -> Cast:
    doctor = await complete_prescriber(runtime, await world.professional("Martin", "physician"))
    patient = await world.patient(doctor, with_account=True)
    assert isinstance(patient, Person)
    pharmacist = await world.professional("Petit", "pharmacist", specialty=None)
    return Cast(doctor, patient, pharmacist)


PARACETAMOL: dict[str, Any] = {
    "drug": "Doliprane",
    "dci": "paracétamol",
    "dose": "500 mg",
    "form": "comprimé",
    "posology": "1 comprimé jusqu'à 3 fois par jour si douleur",
    "duration": "5 jours",
    "packs": 1,
    "renewals": 0,
}
LEVOTHYROX: dict[str, Any] = {
    "dci": "lévothyroxine sodique",
    "dose": "75 µg",
    "form": "comprimé",
    "posology": "1 comprimé le matin à jeun",
    "duration": "1 mois",
    "renewals": 2,
    "non_substitution": "MTE",
}


def prescription_body(patient_id: str, *lines: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"patient_id": patient_id, "lines": list(lines or (PARACETAMOL, LEVOTHYROX)), **extra}


async def prescribe(rx: httpx.AsyncClient, cast: Cast, *lines: dict[str, Any]) -> str:
    response = await rx.post(
        "/api/prescriptions", json=prescription_body(cast.patient_id, *lines), headers=cast.doctor.headers
    )
    assert response.status_code == 201, response.text
    public_id: str = response.json()["public_id"]
    return public_id


async def set_patient(runtime: Runtime, patient_id: str, **values: Any) -> None:
    async with runtime.sessionmaker() as db:
        await db.execute(update(Patient).where(Patient.id == patient_id).values(**values))
        await commit(db)


async def audit_count(runtime: Runtime, **where: str) -> int:
    clause = " AND ".join(f"{k} = :{k}" for k in where)
    async with runtime.sessionmaker() as db:
        sql = f"SELECT count(*) FROM audit_events WHERE {clause}"  # noqa: S608 - column names from the test
        return int((await db.execute(text(sql), where)).scalar_one())
