"""A doctor with an agenda open every day, and patients with accounts, for téléconsultation tests."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

import pytest
from httpx import AsyncClient

from telesante.auth import service as auth
from telesante.auth.models import User
from telesante.db import transaction
from telesante.runtime import Runtime
from telesante.settings import get_settings
from tests.fixtures.acts import open_agenda
from tests.fixtures.world import Person, World


@dataclass
class Practice:
    doctor: Person
    type_id: str


@pytest.fixture
async def practice(client: AsyncClient, world: World) -> Practice:
    doctor = await world.professional("Martin")
    return Practice(doctor, await open_agenda(client, doctor))


async def next_slot(client: AsyncClient, practice: Practice, patient: Person, after: timedelta) -> datetime:
    day = (datetime.now().astimezone() + after).date()
    response = await client.get(
        f"/api/professionals/{practice.doctor.professional.id}/slots",
        headers=patient.headers,
        params={
            "consultation_type_id": practice.type_id,
            "from": day.isoformat(),
            "to": (day + timedelta(days=1)).isoformat(),
        },
    )
    assert response.status_code == 200, response.text
    threshold = datetime.now().astimezone() + after
    return next(s for s in map(datetime.fromisoformat, response.json()) if s >= threshold)


async def book(client: AsyncClient, practice: Practice, patient: Person, after: timedelta) -> dict[str, str]:
    """The patient books the first free slot after `after`; returns the appointment."""
    slot = await next_slot(client, practice, patient, after)
    response = await client.post(
        "/api/teleconsultations",
        headers=patient.headers,
        json={
            "professional_id": practice.doctor.professional.id,
            "consultation_type_id": practice.type_id,
            "starts_at": slot.isoformat(),
        },
    )
    assert response.status_code == 201, response.text
    appointment: dict[str, str] = response.json()
    return appointment


async def many_patients(runtime: Runtime, world: World, carer: Person, count: int) -> list[Person]:
    """Patients with API tokens, without paying argon2 for each account."""
    people = []
    for index in range(count):
        patient = await world.patient(carer, family=f"Patient{index}")
        async with transaction(runtime.sessionmaker) as db:
            user = User(
                email=f"p{index}-{patient.id[:8]}@test.telesante.fr",
                password_hash="x",
                role="patient",
                patient_id=patient.id,
                recovery_code_hashes=[],
            )
            db.add(user)
            await db.flush()
            token, _ = await auth.create_api_token(db, user, get_settings())
        people.append(Person(user, token, patient=patient))
    return people


__all__ = ["Practice", "book", "many_patients", "next_slot", "practice", "time"]
