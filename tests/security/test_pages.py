"""The patient sees who consulted their record; a professional breaks the glass from the page."""

import pyotp
from httpx import AsyncClient

from telesante.auth.models import User
from telesante.db import transaction, utcnow
from telesante.runtime import Runtime
from tests.fixtures.world import Person, World
from tests.web.test_login_and_pages import field, password_step


async def login_with_totp(client: AsyncClient, runtime: Runtime, person: Person) -> None:
    secret = pyotp.random_base32()
    async with transaction(runtime.sessionmaker) as db:
        user = await db.get(User, person.user.id)
        assert user is not None
        user.totp_secret, user.totp_enabled_at = secret, utcnow()
    await password_step(client, person.user.email)
    form = await client.get("/mfa")
    done = await client.post(
        "/mfa", data={"code": pyotp.TOTP(secret).now(), "csrf_token": field(form.text, "csrf_token")}
    )
    assert done.status_code == 303


async def test_the_patient_page_shows_who_consulted_the_record(
    client: AsyncClient, world: World, runtime: Runtime
) -> None:
    doctor = await world.professional("Lemaire")
    me = await world.patient(doctor, with_account=True)
    await client.get(f"/api/patients/{me.patient.id}", headers=doctor.headers)
    await login_with_totp(client, runtime, me)
    home = await client.get("/", follow_redirects=True)
    assert "Qui a consulté mon dossier" in home.text
    assert "Dr Claire Lemaire" in home.text and "a consulté" in home.text
    assert "<title>Marie DURAND · Telesante</title>" in home.text
    assert home.text.count("Qui a consulté mon dossier") == 1


async def test_break_glass_from_the_page_then_the_banner(
    client: AsyncClient, world: World, runtime: Runtime
) -> None:
    doctor, emergency = await world.professional(), await world.professional("Urgentiste")
    patient = await world.patient(doctor, family="Inconnue")
    await login_with_totp(client, runtime, emergency)
    form = await client.get("/urgence")
    token = field(form.text, "csrf_token")
    short = await client.post(
        "/urgence",
        data={
            "ins": patient.ins_matricule,
            "birth_date": "1985-05-17",
            "reason": "urgence",
            "csrf_token": token,
        },
    )
    assert short.status_code == 422
    opened = await client.post(
        "/urgence",
        data={
            "ins": patient.ins_matricule,
            "birth_date": "1985-05-17",
            "reason": "Patiente inconsciente, allergies ?",
            "csrf_token": token,
        },
    )
    assert opened.status_code == 303 and opened.headers["location"] == f"/patients/{patient.id}"
    record = await client.get(opened.headers["location"])
    assert "Accès en urgence (bris de glace)" in record.text and "Marie INCONNUE" in record.text
