"""Sessions: idle timeouts by role, a new id when the second factor passes, device and address
recorded, "Mes sessions" to end one or all of them."""

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import pyotp
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import update

from telesante.auth.models import User, WebSession
from telesante.db import transaction, utcnow
from telesante.runtime import Runtime
from tests.fixtures.world import Person, World
from tests.web.test_login_and_pages import enrol, field, password_step

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
ANDROID = (
    "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36"
)


def cookie_of(response: httpx.Response) -> str:
    found = re.search(r"ts_session=([^;]+)", response.headers.get("set-cookie", ""))
    assert found, "no session cookie issued"
    return found.group(1)


@asynccontextmanager
async def logged_in(
    app: FastAPI, person: Person, secret: str, ip: str, agent: str
) -> AsyncIterator[AsyncClient]:
    """A browser on its own device and address, logged in with password and TOTP."""
    transport = httpx.ASGITransport(app=app, client=(ip, 50000))
    async with AsyncClient(
        transport=transport, base_url="http://testserver", headers={"user-agent": agent}
    ) as client:
        await password_step(client, person.user.email)
        form = await client.get("/mfa")
        done = await client.post(
            "/mfa", data={"code": pyotp.TOTP(secret).now(), "csrf_token": field(form.text, "csrf_token")}
        )
        assert done.status_code == 303
        yield client


async def with_totp(world: World, runtime: Runtime, patient: bool = False) -> tuple[Person, str]:
    person = await world.patient(with_account=True) if patient else await world.professional()
    assert isinstance(person, Person)
    secret = pyotp.random_base32()
    async with transaction(runtime.sessionmaker) as db:
        user = await db.get(User, person.user.id)
        assert user is not None
        user.totp_secret, user.totp_enabled_at = secret, utcnow()
    return person, secret


async def idle_for(runtime: Runtime, minutes: int) -> None:
    async with transaction(runtime.sessionmaker) as db:
        await db.execute(update(WebSession).values(last_seen_at=utcnow() - timedelta(minutes=minutes)))


async def test_the_second_factor_issues_a_new_session_id(client: AsyncClient, world: World) -> None:
    doctor = await world.professional()
    login = await password_step(client, doctor.user.email)
    before = cookie_of(login)
    page = await client.get("/mfa/enrol")
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page.text).group(1)  # type: ignore[union-attr]
    done = await client.post(
        "/mfa/enrol", data={"code": pyotp.TOTP(secret).now(), "csrf_token": field(page.text, "csrf_token")}
    )
    after = cookie_of(done)
    assert after != before
    assert (await client.get("/api/me")).status_code == 200
    client.cookies.clear()
    client.cookies.set("ts_session", before)  # the pre-second-factor id is worth nothing now
    assert (await client.get("/api/me")).status_code == 401
    # And again at the next login with the code.
    client.cookies.clear()
    second = cookie_of(await password_step(client, doctor.user.email))
    form = await client.get("/mfa")
    ok = await client.post(
        "/mfa", data={"code": pyotp.TOTP(secret).now(), "csrf_token": field(form.text, "csrf_token")}
    )
    assert cookie_of(ok) != second
    client.cookies.clear()
    client.cookies.set("ts_session", second)
    assert (await client.get("/api/me")).status_code == 401


async def test_a_professional_is_logged_out_after_30_idle_minutes(
    app: FastAPI, world: World, runtime: Runtime
) -> None:
    doctor, secret = await with_totp(world, runtime)
    async with logged_in(app, doctor, secret, "192.0.2.1", FIREFOX) as client:
        await idle_for(runtime, 29)
        assert (await client.get("/api/me")).status_code == 200
        await idle_for(runtime, 31)
        assert (await client.get("/api/me")).status_code == 401


async def test_a_patient_is_logged_out_after_60_idle_minutes(
    app: FastAPI, world: World, runtime: Runtime
) -> None:
    patient, secret = await with_totp(world, runtime, patient=True)
    async with logged_in(app, patient, secret, "192.0.2.2", ANDROID) as client:
        await idle_for(runtime, 45)
        assert (await client.get("/api/me")).status_code == 200
        await idle_for(runtime, 61)
        assert (await client.get("/api/me")).status_code == 401


async def test_a_session_ends_at_its_absolute_lifetime(app: FastAPI, world: World, runtime: Runtime) -> None:
    doctor, secret = await with_totp(world, runtime)
    async with logged_in(app, doctor, secret, "192.0.2.3", FIREFOX) as client:
        async with transaction(runtime.sessionmaker) as db:
            await db.execute(update(WebSession).values(expires_at=utcnow() - timedelta(seconds=1)))
        assert (await client.get("/api/me")).status_code == 401


async def test_my_sessions_lists_devices_and_ends_one(app: FastAPI, world: World, runtime: Runtime) -> None:
    doctor, secret = await with_totp(world, runtime)
    stranger, stranger_secret = await with_totp(world, runtime)
    async with (
        logged_in(app, doctor, secret, "192.0.2.10", FIREFOX) as desk,
        logged_in(app, doctor, secret, "192.0.2.11", ANDROID) as phone,
        logged_in(app, stranger, stranger_secret, "192.0.2.12", FIREFOX) as other,
    ):
        listed = (await desk.get("/api/me/sessions")).json()
        assert {(s["ip"], s["device"], s["current"], s["mfa_method"]) for s in listed} == {
            ("192.0.2.10", "Firefox sur Windows", True, "totp"),
            ("192.0.2.11", "Chrome sur Android", False, "totp"),
        }
        page = await desk.get("/security/sessions")
        assert "Mes sessions" in page.text and "Chrome sur Android" in page.text and "192.0.2.11" in page.text
        phone_id = next(s["id"] for s in listed if not s["current"])
        # Someone else cannot end it: same answer as an unknown id.
        csrf = {"x-csrf-token": field((await other.get("/security/sessions")).text, "csrf_token")}
        assert (await other.delete(f"/api/me/sessions/{phone_id}", headers=csrf)).status_code == 404
        assert (await phone.get("/api/me")).status_code == 200
        ended = await desk.post(
            f"/security/sessions/{phone_id}/end", data={"csrf_token": field(page.text, "csrf_token")}
        )
        assert ended.status_code == 303 and ended.headers["location"] == "/security/sessions"
        assert (await phone.get("/api/me")).status_code == 401
        assert (await desk.get("/api/me")).status_code == 200
        assert (await other.get("/api/me")).status_code == 200


async def test_logout_everywhere(app: FastAPI, world: World, runtime: Runtime) -> None:
    doctor, secret = await with_totp(world, runtime)
    async with (
        logged_in(app, doctor, secret, "192.0.2.20", FIREFOX) as desk,
        logged_in(app, doctor, secret, "192.0.2.21", ANDROID) as phone,
    ):
        page = await desk.get("/security/sessions")
        done = await desk.post(
            "/security/sessions/end-all", data={"csrf_token": field(page.text, "csrf_token")}
        )
        assert done.status_code == 303 and done.headers["location"] == "/login"
        assert (await phone.get("/api/me")).status_code == 401
        assert (await desk.get("/api/me")).status_code == 401


async def test_the_json_api_ends_all_sessions_and_needs_csrf(
    app: FastAPI, world: World, runtime: Runtime
) -> None:
    doctor, secret = await with_totp(world, runtime)
    async with (
        logged_in(app, doctor, secret, "192.0.2.30", FIREFOX) as desk,
        logged_in(app, doctor, secret, "192.0.2.31", ANDROID) as phone,
    ):
        assert (await desk.delete("/api/me/sessions")).status_code == 403  # no CSRF token
        token = field((await desk.get("/security/sessions")).text, "csrf_token")
        assert (await desk.delete("/api/me/sessions", headers={"x-csrf-token": token})).status_code == 204
        assert (await phone.get("/api/me")).status_code == 401


async def test_sessions_need_the_second_factor(client: AsyncClient, world: World) -> None:
    doctor = await world.professional()
    await password_step(client, doctor.user.email)
    assert (await client.get("/api/me/sessions")).status_code == 403
    assert (await client.get("/security/sessions")).headers["location"] == "/mfa/enrol"
    await enrol(client, doctor)
    assert (await client.get("/api/me/sessions")).status_code == 200
