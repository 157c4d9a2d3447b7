"""Erasure (GDPR art. 17): the account goes, the medical record stays for its legal retention period."""

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from httpx import AsyncClient
from sqlalchemy import select, text

from telesante.auth.models import User
from telesante.db import commit, utcnow
from telesante.gdpr import service
from telesante.notifications.service import notify
from telesante.runtime import Runtime
from tests.fixtures.world import PASSWORD, Person, World
from tests.gdpr.arrange import full_record


def paris_today() -> date:
    """The service dates activity in Paris time; UTC's date differs an hour or two a night."""
    return datetime.now(ZoneInfo("Europe/Paris")).date()


def field(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no {name} in page"
    return match.group(1)


async def login_status(client: AsyncClient, email: str) -> int:
    form = await client.get("/login")
    response = await client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": field(form.text, "csrf_token")}
    )
    client.cookies.clear()
    return response.status_code


async def count(runtime: Runtime, sql: str, **params: object) -> int:
    async with runtime.engine.connect() as conn:
        return int((await conn.execute(text(sql), params)).scalar_one())


async def test_erasure_removes_the_account_and_keeps_the_record_saying_until_when(
    client: AsyncClient, world: World, runtime: Runtime
) -> None:
    arranged = await full_record(world, runtime, client)
    person, patient_id = arranged.patient, arranged.record.id
    async with runtime.sessionmaker() as db:
        await notify(db, None, person.user.id, "Résultat disponible", "Votre bilan est arrivé", email=False)
        await commit(db)
    assert await login_status(client, person.user.email) == 303  # the password works before

    response = await client.post("/api/me/erasure", json={"password": PASSWORD}, headers=person.headers)
    assert response.status_code == 201, response.text
    result = response.json()
    # Born in 1985: the 20 years from today's activity outlast the 28th birthday.
    kept_until = paris_today().replace(year=paris_today().year + 20)
    assert result["status"] == "partial"
    assert result["retention"]["kept_until"] == kept_until.isoformat()
    assert "R1112-7" in result["retention"]["rule"] and "R1112-7" in result["detail"]
    assert kept_until.strftime("%d/%m/%Y") in result["detail"]

    # The account is gone: no token, no password login, no inbox, no second factor.
    assert (await client.get("/api/me", headers=person.headers)).status_code == 401
    assert await login_status(client, person.user.email) == 401
    async with runtime.sessionmaker() as db:
        user = await db.scalar(select(User).where(User.id == person.user.id))
        assert user is not None and not user.is_active
        assert person.user.email not in user.email and user.totp_secret is None
        assert user.password_hash == service.ERASED_PASSWORD_HASH
    for table in ("notifications", "api_tokens", "web_sessions"):
        assert await count(runtime, f"SELECT count(*) FROM {table} WHERE user_id = :u", u=person.user.id) == 0  # noqa: S608
    # The medical record is untouched, and the request is on file.
    assert await count(runtime, "SELECT count(*) FROM patients WHERE id = :p", p=patient_id) == 1
    assert (
        await count(runtime, "SELECT count(*) FROM timeline_entries WHERE patient_id = :p", p=patient_id) == 3
    )
    assert await count(runtime, "SELECT count(*) FROM documents WHERE patient_id = :p", p=patient_id) == 1
    assert (
        await count(
            runtime,
            "SELECT count(*) FROM erasure_requests WHERE status = 'partial' AND user_id = :u",
            u=person.user.id,
        )
        == 1
    )
    # The doctor still reads the record.
    read = await client.get(f"/api/patients/{patient_id}", headers=arranged.doctor.headers)
    assert read.status_code == 200


async def test_a_childs_record_is_kept_until_the_28th_birthday(client: AsyncClient, world: World) -> None:
    doctor = await world.professional()
    birth = date(2023, 6, 15)  # 28 in 2051, later than 20 years after today
    child = await world.patient(doctor, family="Petit", given="Léo", sex="M", birth=birth, with_account=True)
    assert isinstance(child, Person)
    response = await client.post(
        "/api/me/erasure", json={"scope": "record", "password": PASSWORD}, headers=child.headers
    )
    assert response.status_code == 201
    result = response.json()
    assert result["status"] == "refused" and result["erased"] == []
    assert result["retention"]["kept_until"] == "2051-06-15"
    assert "28e anniversaire" in result["detail"] and "15/06/2051" in result["detail"]
    # A refused request leaves the account working, and it is listed.
    listed = await client.get("/api/me/erasure", headers=child.headers)
    assert listed.status_code == 200
    assert [(r["status"], r["detail"]) for r in listed.json()] == [("refused", result["detail"])]


async def test_erasing_the_account_only_is_done(client: AsyncClient, world: World) -> None:
    person = await world.patient(world_carer := await world.professional(), with_account=True)
    assert isinstance(person, Person) and world_carer
    response = await client.post(
        "/api/me/erasure", json={"scope": "account", "password": PASSWORD}, headers=person.headers
    )
    assert response.status_code == 201 and response.json()["status"] == "done"
    assert (await client.get("/api/me", headers=person.headers)).status_code == 401


async def test_a_wrong_password_erases_nothing(client: AsyncClient, world: World, runtime: Runtime) -> None:
    person = await world.patient(with_account=True)
    assert isinstance(person, Person)
    response = await client.post(
        "/api/me/erasure", json={"password": "not the password at all"}, headers=person.headers
    )
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert (await client.get("/api/me", headers=person.headers)).status_code == 200
    assert await count(runtime, "SELECT count(*) FROM erasure_requests") == 0
    missing = await client.post("/api/me/erasure", json={}, headers=person.headers)
    assert missing.status_code == 422
    assert (
        await client.post(
            "/api/me/erasure", json={"scope": "x", "password": PASSWORD}, headers=person.headers
        )
    ).status_code == 422


async def test_a_professional_or_admin_cannot_use_it(client: AsyncClient, world: World) -> None:
    for person in (await world.professional(), await world.admin()):
        response = await client.post("/api/me/erasure", json={"password": PASSWORD}, headers=person.headers)
        assert response.status_code == 403
        assert (await client.get("/api/me/erasure", headers=person.headers)).status_code == 403
        assert (await client.get("/api/me", headers=person.headers)).status_code == 200


async def test_a_failure_midway_leaves_the_account_whole(
    client: AsyncClient, world: World, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    person = await world.patient(with_account=True)
    assert isinstance(person, Person)

    def crash(*_: object) -> str:
        raise RuntimeError("crash after the account was emptied")

    monkeypatch.setattr(service, "_status", crash)  # runs after erase_account
    with pytest.raises(RuntimeError):
        await client.post("/api/me/erasure", json={"password": PASSWORD}, headers=person.headers)
    assert (await client.get("/api/me", headers=person.headers)).status_code == 200
    assert (
        await count(runtime, "SELECT count(*) FROM users WHERE email = :e AND is_active", e=person.user.email)
        == 1
    )


async def test_the_retention_runs_from_the_last_activity(
    client: AsyncClient, world: World, runtime: Runtime
) -> None:
    """A recent entry, not the registration date, starts the 20 years."""
    doctor = await world.professional()
    person = await world.patient(doctor, with_account=True)
    assert isinstance(person, Person) and person.patient
    later = utcnow() + timedelta(days=400)
    async with runtime.engine.begin() as conn:
        await conn.execute(
            text("UPDATE timeline_entries SET occurred_at = :t WHERE patient_id = :p"),
            {"t": later, "p": person.patient.id},
        )
    response = await client.post(
        "/api/me/erasure", json={"scope": "record", "password": PASSWORD}, headers=person.headers
    )
    kept = date.fromisoformat(response.json()["retention"]["kept_until"])
    assert kept.year == later.year + 20


async def test_the_my_data_page_links_the_exports_and_takes_an_erasure_request(
    client: AsyncClient, world: World
) -> None:
    person = await world.patient(with_account=True)
    assert isinstance(person, Person)
    shown = await client.get("/mes-donnees", headers=person.headers)
    assert shown.status_code == 200
    assert 'href="/api/me/export.pdf"' in shown.text and 'href="/api/me/export.json"' in shown.text
    wrong = await client.post("/mes-donnees/effacement", data={"password": "nope"}, headers=person.headers)
    assert wrong.status_code == 403 and "mot de passe incorrect" in wrong.text
    done = await client.post("/mes-donnees/effacement", data={"password": PASSWORD}, headers=person.headers)
    kept_until = paris_today().replace(year=paris_today().year + 20).strftime("%d/%m/%Y")
    assert done.status_code == 200 and kept_until in done.text and "R1112-7" in done.text
    doctor = await world.professional()
    assert (await client.get("/mes-donnees", headers=doctor.headers)).status_code == 403
