"""Patients' second factor by e-mail: a 6-digit code sent through the outbox, single use,
10 minutes, 5 attempts; never offered to professionals."""

import re
from datetime import timedelta
from email import message_from_bytes, policy

import httpx
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select, update

from telesante.app import create_app
from telesante.auth.models import LoginChallenge
from telesante.db import transaction, utcnow
from telesante.jobs.worker import Worker
from telesante.runtime import Runtime
from telesante.settings import get_settings
from tests.fixtures.world import Person, World
from tests.web.test_login_and_pages import field, password_step


async def patient_account(world: World) -> Person:
    person = await world.patient(with_account=True)
    assert isinstance(person, Person)
    return person


async def mailed_code(runtime: Runtime, smtp_server: list[object], to: str) -> str:
    """Run the outbox, then read the code from the last e-mail sent to `to`."""
    await Worker(runtime).run_until_idle()
    envelope = smtp_server[-1]
    assert envelope.rcpt_tos == [to]  # type: ignore[attr-defined]
    mail = message_from_bytes(envelope.content, policy=policy.default)  # type: ignore[attr-defined]
    assert "code de connexion" in mail["Subject"]
    found = re.search(r"\b(\d{6})\b", mail.get_content())
    assert found, "no code in the e-mail"
    return found.group(1)


async def submit(client: AsyncClient, code: str) -> httpx.Response:
    form = await client.get("/mfa")
    return await client.post("/mfa", data={"code": code, "csrf_token": field(form.text, "csrf_token")})


async def test_a_patient_logs_in_with_the_code_sent_by_email(
    client: AsyncClient, world: World, runtime: Runtime, smtp_server: list[object]
) -> None:
    patient = await patient_account(world)
    login = await password_step(client, patient.user.email)
    assert login.status_code == 303 and login.headers["location"] == "/mfa"
    page = await client.get("/mfa")
    assert "Code à 6 chiffres reçu par e-mail" in page.text and patient.user.email not in page.text
    assert (await client.get("/api/me")).status_code == 403  # not before the code
    code = await mailed_code(runtime, smtp_server, patient.user.email)
    wrong = await submit(client, "000000" if code != "000000" else "111111")
    assert wrong.status_code == 401 and "Code incorrect" in wrong.text
    right = await submit(client, code)
    assert right.status_code == 303 and right.headers["location"] == "/"
    assert (await client.get("/api/me")).json()["email"] == patient.user.email
    [session] = (await client.get("/api/me/sessions")).json()
    assert session["mfa_method"] == "email"


async def test_the_code_is_stored_hashed_and_forgotten_once_sent(
    client: AsyncClient, world: World, runtime: Runtime, smtp_server: list[object]
) -> None:
    patient = await patient_account(world)
    await password_step(client, patient.user.email)
    code = await mailed_code(runtime, smtp_server, patient.user.email)
    async with transaction(runtime.sessionmaker) as db:
        challenge = await db.scalar(select(LoginChallenge).where(LoginChallenge.kind == "email_code"))
        assert challenge is not None
        assert code not in challenge.secret_hash and code not in str(challenge.data)
        assert challenge.expires_at - challenge.created_at == timedelta(minutes=10)


async def test_a_code_works_once(
    client: AsyncClient, world: World, runtime: Runtime, smtp_server: list[object]
) -> None:
    patient = await patient_account(world)
    await password_step(client, patient.user.email)
    code = await mailed_code(runtime, smtp_server, patient.user.email)
    assert (await submit(client, code)).status_code == 303
    client.cookies.clear()
    await password_step(client, patient.user.email)  # a new login: a new code is mailed
    assert (await submit(client, code)).status_code == 401
    fresh = await mailed_code(runtime, smtp_server, patient.user.email)
    assert (await submit(client, fresh)).status_code == 303


async def test_an_expired_code_is_refused(
    client: AsyncClient, world: World, runtime: Runtime, smtp_server: list[object]
) -> None:
    patient = await patient_account(world)
    await password_step(client, patient.user.email)
    code = await mailed_code(runtime, smtp_server, patient.user.email)
    async with transaction(runtime.sessionmaker) as db:
        await db.execute(update(LoginChallenge).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert (await submit(client, code)).status_code == 401


async def test_five_wrong_attempts_spend_the_code(
    app: FastAPI, client: AsyncClient, world: World, runtime: Runtime, smtp_server: list[object]
) -> None:
    patient = await patient_account(world)
    await password_step(client, patient.user.email)
    code = await mailed_code(runtime, smtp_server, patient.user.email)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        assert (await submit(client, wrong)).status_code == 401
    locked = await submit(client, code)
    assert locked.status_code == 429 and "Trop de tentatives" in locked.text  # the user is throttled
    # Even once the lock is gone (here: a restarted server, whose in-process counters are new),
    # the code itself is spent.
    restarted = create_app(get_settings(), run_worker=False)
    restarted.state.runtime = runtime
    async with AsyncClient(
        transport=httpx.ASGITransport(app=restarted), base_url="http://testserver"
    ) as again:
        again.cookies.update(client.cookies)
        assert (await submit(again, code)).status_code == 401
        resent = await again.post(
            "/mfa/email", data={"csrf_token": field((await again.get("/mfa")).text, "csrf_token")}
        )
        assert resent.status_code == 429  # a new code at most once a minute


async def test_a_new_code_replaces_the_previous_one(
    client: AsyncClient, world: World, runtime: Runtime, smtp_server: list[object]
) -> None:
    patient = await patient_account(world)
    await password_step(client, patient.user.email)
    first = await mailed_code(runtime, smtp_server, patient.user.email)
    async with transaction(runtime.sessionmaker) as db:  # a minute later
        await db.execute(update(LoginChallenge).values(created_at=utcnow() - timedelta(seconds=61)))
    form = await client.get("/mfa")
    resent = await client.post("/mfa/email", data={"csrf_token": field(form.text, "csrf_token")})
    assert resent.status_code == 200 and "nouveau code" in resent.text
    second = await mailed_code(runtime, smtp_server, patient.user.email)
    if first != second:
        assert (await submit(client, first)).status_code == 401
    assert (await submit(client, second)).status_code == 303


async def test_professionals_never_get_an_email_code(
    client: AsyncClient, world: World, runtime: Runtime, smtp_server: list[object]
) -> None:
    doctor = await world.professional()
    login = await password_step(client, doctor.user.email)
    assert login.headers["location"] == "/mfa/enrol"
    assert await Worker(runtime).run_until_idle() == 0 and smtp_server == []
    assert (await client.get("/mfa")).headers["location"] == "/mfa/enrol"
    enrol = await client.get("/mfa/enrol")
    resend = await client.post("/mfa/email", data={"csrf_token": field(enrol.text, "csrf_token")})
    assert resend.status_code == 303
    assert await Worker(runtime).run_until_idle() == 0 and smtp_server == []


async def test_a_patient_cannot_enrol_an_authenticator_with_the_password_alone(
    client: AsyncClient, world: World, runtime: Runtime, smtp_server: list[object]
) -> None:
    patient = await patient_account(world)
    await password_step(client, patient.user.email)
    before = await client.get("/mfa/enrol")
    assert before.status_code == 303 and before.headers["location"] == "/mfa"
    code = await mailed_code(runtime, smtp_server, patient.user.email)
    await submit(client, code)
    after = await client.get("/mfa/enrol")
    assert after.status_code == 200 and 'id="totp-secret"' in after.text
