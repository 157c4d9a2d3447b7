"""The waiting room: the patient enters up to 10 minutes before; the professional admits them."""

import json
from datetime import timedelta

import websockets
from httpx import AsyncClient
from sqlalchemy import text, update

from telesante.db import transaction, utcnow
from telesante.runtime import Runtime
from telesante.teleconsultation.models import Appointment
from tests.fixtures.acts import record_consent
from tests.fixtures.world import Person, World
from tests.teleconsultation.conftest import Practice, book


async def booked_in(
    client: AsyncClient, world: World, runtime: Runtime, practice: Practice, minutes: float
) -> tuple[Person, str]:
    me = await world.patient(practice.doctor, with_account=True)
    assert isinstance(me, Person)
    appointment = await book(client, practice, me, timedelta(days=1))
    async with transaction(runtime.sessionmaker) as db:  # bring the appointment close to now
        start = utcnow() + timedelta(minutes=minutes)
        await db.execute(
            update(Appointment)
            .where(Appointment.id == appointment["id"])
            .values(starts_at=start, ends_at=start + timedelta(minutes=15))
        )
    return me, appointment["id"]


async def consent(client: AsyncClient, me: Person) -> None:
    assert me.patient is not None
    await record_consent(
        client, me, me.patient.id, "teleconsultation", "Vidéo, compte rendu, données HDS.", "in_app"
    )


async def test_too_early_then_waiting_then_admitted(
    client: AsyncClient, world: World, runtime: Runtime, practice: Practice
) -> None:
    me, appointment_id = await booked_in(client, world, runtime, practice, minutes=11)
    early = await client.post(f"/api/teleconsultations/{appointment_id}/waiting-room", headers=me.headers)
    assert early.status_code == 409 and "10 minutes avant" in early.json()["detail"]
    async with transaction(runtime.sessionmaker) as db:
        start = utcnow() + timedelta(minutes=9)
        await db.execute(update(Appointment).values(starts_at=start, ends_at=start + timedelta(minutes=15)))
    no_consent = await client.post(
        f"/api/teleconsultations/{appointment_id}/waiting-room", headers=me.headers
    )
    assert no_consent.status_code == 409 and no_consent.json()["title"] == "Consentement requis"
    await consent(client, me)
    entered = await client.post(f"/api/teleconsultations/{appointment_id}/waiting-room", headers=me.headers)
    assert entered.status_code == 200 and entered.json()["status"] == "waiting"
    room = (await client.get("/api/waiting-room", headers=practice.doctor.headers)).json()
    assert [w["appointment"]["id"] for w in room] == [appointment_id]
    assert room[0]["patient_name"] == "Marie DURAND" and room[0]["waited_seconds"] >= 0
    assert (
        await client.post(f"/api/teleconsultations/{appointment_id}/admit", headers=me.headers)
    ).status_code == 403
    admitted = await client.post(
        f"/api/teleconsultations/{appointment_id}/admit", headers=practice.doctor.headers
    )
    assert admitted.status_code == 200 and admitted.json()["status"] == "in_call"
    assert (await client.get("/api/waiting-room", headers=practice.doctor.headers)).json() == []
    twice = await client.post(
        f"/api/teleconsultations/{appointment_id}/admit", headers=practice.doctor.headers
    )
    assert twice.status_code == 409 and "in_call" in twice.json()["detail"]
    async with runtime.engine.connect() as conn:
        audited = (
            (
                await conn.execute(
                    text(
                        "SELECT actor_role FROM audit_events WHERE resource_type = 'Appointment' "
                        "AND action = 'update' "
                        "AND resource_id = :a ORDER BY at"
                    ),
                    {"a": appointment_id},
                )
            )
            .scalars()
            .all()
        )
    assert list(audited) == ["patient", "professional"]  # entering the waiting room, then the admission


async def test_the_professional_sees_the_patient_arrive_live(
    client: AsyncClient, world: World, runtime: Runtime, practice: Practice, live_server: str
) -> None:
    me, appointment_id = await booked_in(client, world, runtime, practice, minutes=5)
    url = live_server.replace("http", "ws") + "/ws"
    async with websockets.connect(url, additional_headers=practice.doctor.headers) as socket:
        assert json.loads(await socket.recv()) == {"type": "ready"}
        await consent(client, me)
        await client.post(f"/api/teleconsultations/{appointment_id}/waiting-room", headers=me.headers)
        event = json.loads(await socket.recv())
    assert event == {"type": "patient_waiting", "appointment_id": appointment_id, "status": "waiting"}


async def test_nobody_else_sees_or_enters_the_appointment(
    client: AsyncClient, world: World, runtime: Runtime, practice: Practice
) -> None:
    me, appointment_id = await booked_in(client, world, runtime, practice, minutes=5)
    intruder = await world.patient(practice.doctor, family="Intrus", with_account=True)
    other_doctor = await world.professional("Autre")
    for person in (intruder, other_doctor):
        for method, path in (("GET", ""), ("POST", "/waiting-room"), ("POST", "/admit"), ("POST", "/cancel")):
            response = await client.request(
                method, f"/api/teleconsultations/{appointment_id}{path}", headers=person.headers
            )
            assert response.status_code == 404, (method, path)
    assert (await client.get("/api/teleconsultations/nope", headers=me.headers)).status_code == 404
