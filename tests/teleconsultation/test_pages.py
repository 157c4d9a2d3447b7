"""The patient books from the page, consents and waits; the doctor admits from the waiting room."""

import re
from datetime import timedelta

from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import update

from telesante.db import transaction, utcnow
from telesante.runtime import Runtime
from telesante.teleconsultation.models import Appointment
from tests.fixtures.world import World
from tests.security.test_pages import login_with_totp
from tests.teleconsultation.conftest import Practice, book
from tests.web.test_login_and_pages import field


async def test_book_consent_wait_and_admit_through_the_pages(
    app: FastAPI, client: AsyncClient, world: World, runtime: Runtime, practice: Practice
) -> None:
    me = await world.patient(practice.doctor, with_account=True)
    await login_with_totp(client, runtime, me)
    search = await client.get("/teleconsultations/reserver")
    assert "Dr Claire Martin" in search.text
    slots = await client.get(
        "/teleconsultations/reserver", params={"professional_id": practice.doctor.professional.id}
    )
    starts = re.findall(r'name="starts_at" value="([^"]+)"', slots.text)
    assert starts, "free slots are offered"
    assert 'name="reason"' in slots.text  # the reason for consulting is asked with the slot
    booked = await client.post(
        "/teleconsultations/reserver",
        data={
            "csrf_token": field(slots.text, "csrf_token"),
            "professional_id": practice.doctor.professional.id,
            "consultation_type_id": practice.type_id,
            "starts_at": starts[-1],
            "reason": "Toux depuis huit jours",
        },
    )
    assert booked.status_code == 303
    appointment_url = booked.headers["location"]
    async with transaction(runtime.sessionmaker) as db:
        start = utcnow() + timedelta(minutes=5)
        await db.execute(update(Appointment).values(starts_at=start, ends_at=start + timedelta(minutes=15)))
    detail = await client.get(appointment_url)
    assert "J'accepte la téléconsultation" in detail.text
    entered = await client.post(
        f"{appointment_url}/salle-attente",
        data={"csrf_token": field(detail.text, "csrf_token"), "consent_given": "oui"},
    )
    assert entered.status_code == 303
    assert "Vous êtes en salle d'attente" in (await client.get(appointment_url)).text

    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as doctor:
        await login_with_totp(doctor, runtime, practice.doctor)
        room = await doctor.get("/teleconsultations")
        assert "Faire entrer" in room.text and "Marie DURAND" in room.text
        assert "Toux depuis huit jours" in (await doctor.get(appointment_url)).text  # the reason, ahead
        admitted = await doctor.post(
            f"{appointment_url}/admettre", data={"csrf_token": field(room.text, "csrf_token")}
        )
        assert admitted.status_code == 303 and admitted.headers["location"] == f"{appointment_url}/appel"
    assert "Rejoindre l'appel" in (await client.get(appointment_url)).text


async def test_the_patient_moves_then_cancels_from_the_pages_within_the_notice(
    client: AsyncClient, world: World, runtime: Runtime, practice: Practice
) -> None:
    me = await world.patient(practice.doctor, with_account=True)
    booked = await book(client, practice, me, timedelta(days=2))
    url = f"/teleconsultations/{booked['id']}"
    await login_with_totp(client, runtime, me)
    detail = await client.get(url)
    assert "Déplacer le rendez-vous" in detail.text and "Annuler le rendez-vous" in detail.text
    choices = await client.get(f"{url}/deplacer")
    starts = re.findall(r'name="starts_at" value="([^"]+)"', choices.text)
    later = next(s for s in starts if s > booked["starts_at"])
    csrf = field(choices.text, "csrf_token")
    moved = await client.post(f"{url}/deplacer", data={"csrf_token": csrf, "starts_at": later})
    assert moved.status_code == 303
    async with runtime.sessionmaker() as db:
        appointment = await db.get(Appointment, booked["id"])
        assert appointment and appointment.starts_at.isoformat()[:16] == later[:16]
    taken = await client.post(f"{url}/deplacer", data={"csrf_token": csrf, "starts_at": "demain"})
    assert taken.status_code == 409 and "créneau invalide" in taken.text
    async with transaction(runtime.sessionmaker) as db:  # now one hour away: inside the 2 h notice
        start = utcnow() + timedelta(hours=1)
        await db.execute(update(Appointment).values(starts_at=start, ends_at=start + timedelta(minutes=15)))
    late = await client.post(f"{url}/annuler", data={"csrf_token": csrf})
    assert late.status_code == 409 and "2 h avant" in late.text
    async with transaction(runtime.sessionmaker) as db:
        start = utcnow() + timedelta(days=1)
        await db.execute(update(Appointment).values(starts_at=start, ends_at=start + timedelta(minutes=15)))
    cancelled = await client.post(f"{url}/annuler", data={"csrf_token": csrf})
    assert cancelled.status_code == 303
    assert "annulé" in (await client.get(url)).text
    assert (await client.post(f"{url}/annuler", data={})).status_code == 403  # no CSRF token
