"""Téléconsultations really held (booked, consented, admitted, ended on the call socket), so that
billing tests read the lines the platform itself wrote."""

import asyncio
import contextlib
import json
from datetime import timedelta

import pytest
import websockets
from httpx import AsyncClient
from sqlalchemy import update

from telesante.db import transaction, utcnow
from telesante.patients.models import CareRelation
from telesante.runtime import Runtime
from telesante.teleconsultation.models import Appointment
from tests.fixtures.world import Person, World
from tests.teleconsultation.conftest import Practice, next_slot, practice


async def patient_of(
    client: AsyncClient, world: World, runtime: Runtime, practice: Practice, gp: Person
) -> Person:
    """A consenting patient the doctor has followed for a month, whose médecin traitant is `gp`."""
    patient = await world.patient(practice.doctor, with_account=True)
    assert isinstance(patient, Person) and patient.patient and gp.professional
    declared = await client.post(
        f"/api/patients/{patient.patient.id}/care-relations",
        headers=practice.doctor.headers,
        json={"professional_id": gp.professional.id, "reason": "gp_of_record"},
    )
    assert declared.status_code == 201, declared.text
    async with transaction(runtime.sessionmaker) as db:  # known for a month: the known-patient proxy
        await db.execute(
            update(CareRelation)
            .where(CareRelation.patient_id == patient.patient.id)
            .values(starts_at=utcnow() - timedelta(days=30))
        )
    consent = await client.post(
        f"/api/patients/{patient.patient.id}/consents",
        headers=patient.headers,
        json={"act": "teleconsultation", "method": "in_app", "information": "Vidéo, compte rendu, HDS."},
    )
    assert consent.status_code == 201, consent.text
    return patient


async def held(
    client: AsyncClient,
    live_server: str,
    runtime: Runtime,
    practice: Practice,
    patient: Person,
    *,
    referred: bool,
) -> str:
    """The patient books (referred or not), waits, is admitted; the doctor ends the call. The id."""
    slot = await next_slot(client, practice, patient, timedelta(days=1))
    booked = await client.post(
        "/api/teleconsultations",
        headers=patient.headers,
        json={
            "professional_id": practice.doctor.professional.id,  # type: ignore[union-attr]
            "consultation_type_id": practice.type_id,
            "starts_at": slot.isoformat(),
            "referred_by_gp": referred,
        },
    )
    assert booked.status_code == 201, booked.text
    appointment_id: str = booked.json()["id"]
    async with transaction(runtime.sessionmaker) as db:  # bring the appointment close to now
        start = utcnow() + timedelta(minutes=5)
        await db.execute(
            update(Appointment)
            .where(Appointment.id == appointment_id)
            .values(starts_at=start, ends_at=start + timedelta(minutes=15))
        )
    base = f"/api/teleconsultations/{appointment_id}"
    assert (await client.post(f"{base}/waiting-room", headers=patient.headers)).status_code == 200
    assert (await client.post(f"{base}/admit", headers=practice.doctor.headers)).status_code == 200
    await end_call(client, live_server, practice, appointment_id)
    return appointment_id


async def end_call(client: AsyncClient, live_server: str, practice: Practice, appointment_id: str) -> None:
    joined = await client.post(
        f"/api/teleconsultations/{appointment_id}/call/token", headers=practice.doctor.headers
    )
    assert joined.status_code == 200, joined.text
    url = f"{live_server.replace('http', 'ws')}{joined.json()['socket']}?token={joined.json()['token']}"
    async with websockets.connect(url) as socket:
        await socket.send(json.dumps({"type": "end"}))
        with contextlib.suppress(websockets.ConnectionClosed):
            while True:  # the server closes the socket once the call is ended and billed
                await asyncio.wait_for(socket.recv(), 15)


@pytest.fixture
async def other_gp(world: World) -> Person:
    return await world.professional("Bernard")


__all__ = ["end_call", "held", "other_gp", "patient_of", "practice"]
