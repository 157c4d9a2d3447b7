"""A patient books a free slot, is confirmed and reminded, cancels or moves within the rules."""

import asyncio
from datetime import timedelta
from email import message_from_bytes, policy

from httpx import AsyncClient
from sqlalchemy import select, update

from telesante.db import transaction, utcnow
from telesante.jobs.models import Job
from telesante.jobs.worker import Worker
from telesante.runtime import Runtime
from telesante.teleconsultation.models import Appointment
from tests.fixtures.world import World
from tests.teleconsultation.conftest import Practice, book, many_patients, next_slot


async def test_fifty_patients_racing_for_one_slot_end_with_one_booking(
    client: AsyncClient, world: World, runtime: Runtime, practice: Practice
) -> None:
    patients = await many_patients(runtime, world, practice.doctor, 50)
    slot = await next_slot(client, practice, patients[0], timedelta(days=1))
    body = {
        "professional_id": practice.doctor.professional.id,
        "consultation_type_id": practice.type_id,
        "starts_at": slot.isoformat(),
    }
    responses = await asyncio.gather(
        *(client.post("/api/teleconsultations", json=body, headers=p.headers) for p in patients)
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 49
    refusals = {r.json()["detail"] for r in responses if r.status_code == 409}
    assert refusals <= {"ce créneau n'est pas libre", "ce créneau vient d'être réservé par quelqu'un d'autre"}
    async with runtime.sessionmaker() as db:
        assert len(list(await db.scalars(select(Appointment.id)))) == 1


async def test_booking_confirms_by_email_with_an_ics_and_schedules_two_reminders(
    client: AsyncClient, world: World, runtime: Runtime, practice: Practice, smtp_server: list[object]
) -> None:
    me = await world.patient(practice.doctor, with_account=True)
    slot = await next_slot(client, practice, me, timedelta(days=3))
    booked = await client.post(
        "/api/teleconsultations",
        headers=me.headers,
        json={
            "professional_id": practice.doctor.professional.id,
            "consultation_type_id": practice.type_id,
            "starts_at": slot.isoformat(),
            "reason": "Renouvellement d'ordonnance",
        },
    )
    assert booked.status_code == 201, booked.text
    async with runtime.sessionmaker() as db:
        jobs = list(
            await db.scalars(select(Job).where(Job.kind == "teleconsultation.reminder").order_by(Job.due_at))
        )
    assert [round((slot - j.due_at).total_seconds() / 3600) for j in jobs[1:]] == [24, 1]
    await Worker(runtime).run_until_idle()
    [envelope] = smtp_server
    mail = message_from_bytes(envelope.content, policy=policy.default)  # type: ignore[attr-defined]
    assert "Téléconsultation confirmée" in mail["Subject"]
    [attachment] = list(mail.iter_attachments())
    ics = attachment.get_content()
    assert "BEGIN:VEVENT" in ics and slot.strftime("DTSTART:%Y%m%dT%H%M%SZ") in ics
    assert "Renouvellement" not in ics  # no health detail in the invitation
    # The reminders fire at their time, once, even if the worker runs again.
    async with transaction(runtime.sessionmaker) as db:
        await db.execute(update(Job).where(Job.status == "pending").values(due_at=utcnow()))
    await Worker(runtime).run_until_idle()
    await Worker(runtime).run_until_idle()
    mails = [message_from_bytes(m.content, policy=policy.default) for m in smtp_server]  # type: ignore[attr-defined]
    assert [m["Subject"] for m in mails] == ["Telesante : Téléconsultation confirmée"] + [
        "Telesante : Rappel de téléconsultation"
    ] * 2
    assert all("BEGIN:VEVENT" in next(m.iter_attachments()).get_content() for m in mails)
    inbox = (await client.get("/api/notifications", headers=me.headers)).json()
    assert [n["title"] for n in inbox].count("Rappel de téléconsultation") == 2


async def test_cancel_and_move_within_the_professionals_notice(
    client: AsyncClient, world: World, runtime: Runtime, practice: Practice
) -> None:
    me = await world.patient(practice.doctor, with_account=True)
    booked = await book(client, practice, me, timedelta(days=2))
    later = await next_slot(client, practice, me, timedelta(days=2, hours=3))
    moved = await client.post(
        f"/api/teleconsultations/{booked['id']}/move",
        headers=me.headers,
        json={"starts_at": later.isoformat()},
    )
    assert moved.status_code == 200 and moved.json()["starts_at"].startswith(later.strftime("%Y-%m-%dT%H:%M"))
    async with transaction(runtime.sessionmaker) as db:  # the appointment is now in one hour
        await db.execute(
            update(Appointment).values(
                starts_at=utcnow() + timedelta(hours=1), ends_at=utcnow() + timedelta(hours=1, minutes=15)
            )
        )
    late = await client.post(f"/api/teleconsultations/{booked['id']}/cancel", headers=me.headers)
    assert late.status_code == 409 and "2 h avant" in late.json()["detail"]
    by_doctor = await client.post(
        f"/api/teleconsultations/{booked['id']}/cancel", headers=practice.doctor.headers
    )
    assert by_doctor.status_code == 200 and by_doctor.json()["status"] == "cancelled"
    again = await client.post(
        f"/api/teleconsultations/{booked['id']}/cancel", headers=practice.doctor.headers
    )
    assert again.status_code == 409


async def test_only_free_slots_of_real_types_and_only_patients_book(
    client: AsyncClient, world: World, practice: Practice
) -> None:
    me = await world.patient(practice.doctor, with_account=True)
    slot = await next_slot(client, practice, me, timedelta(days=1))
    body = {
        "professional_id": practice.doctor.professional.id,
        "consultation_type_id": practice.type_id,
        "starts_at": (slot + timedelta(minutes=7)).isoformat(),
    }
    assert (await client.post("/api/teleconsultations", headers=me.headers, json=body)).status_code == 409
    body["starts_at"] = slot.isoformat()
    wrong_type = await client.post(
        "/api/teleconsultations", headers=me.headers, json={**body, "consultation_type_id": "nope"}
    )
    assert wrong_type.status_code == 422 and wrong_type.json()["errors"][0]["field"] == "consultation_type_id"
    assert (
        await client.post("/api/teleconsultations", headers=practice.doctor.headers, json=body)
    ).status_code == 403
    naive = await client.get(
        f"/api/professionals/{practice.doctor.professional.id}/slots",
        headers=me.headers,
        params={"consultation_type_id": practice.type_id, "from": "2026-01-01", "to": "2027-01-01"},
    )
    assert naive.status_code == 422


async def test_the_patient_finds_their_gp_first(
    client: AsyncClient, world: World, practice: Practice
) -> None:
    other = await world.professional("Aaron")
    kind = await client.post(
        "/api/agenda/consultation-types",
        headers=other.headers,
        json={"label": "Téléconsultation", "duration_minutes": 20},
    )
    assert kind.status_code == 201
    me = await world.patient(practice.doctor, with_account=True)
    await client.post(
        f"/api/patients/{me.patient.id}/care-relations",
        headers=practice.doctor.headers,
        json={"professional_id": practice.doctor.professional.id, "reason": "gp_of_record"},
    )
    found = (await client.get("/api/teleconsultation/professionals", headers=me.headers)).json()
    assert found[0]["id"] == practice.doctor.professional.id and found[0]["is_gp_of_record"]
    assert {p["display_name"] for p in found} == {"Dr Claire Martin", "Dr Claire Aaron"}
