"""Login with password + TOTP through the HTML forms, CSRF, and the pages behind it."""

import re

import pyotp
from httpx import AsyncClient, Response

from tests.fixtures.world import PASSWORD, Person, World


def field(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no {name} in page"
    return match.group(1)


async def password_step(client: AsyncClient, email: str, password: str = PASSWORD) -> Response:
    form = await client.get("/login")
    return await client.post(
        "/login", data={"email": email, "password": password, "csrf_token": field(form.text, "csrf_token")}
    )


async def enrol(client: AsyncClient, person: Person) -> str:
    """First login of a professional: password, then TOTP enrolment. Returns the TOTP secret."""
    assert (await password_step(client, person.user.email)).headers["location"] == "/mfa/enrol"
    page = await client.get("/mfa/enrol")
    assert "<svg" in page.text  # the QR code
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page.text).group(1)  # type: ignore[union-attr]
    done = await client.post(
        "/mfa/enrol", data={"code": pyotp.TOTP(secret).now(), "csrf_token": field(page.text, "csrf_token")}
    )
    assert done.status_code == 200 and "Double authentification activée" in done.text
    return secret


async def test_professional_enrols_totp_then_sees_their_patient(client: AsyncClient, world: World) -> None:
    doctor = await world.professional()
    patient = await world.patient(doctor, family="Bernard", given="Camille")
    await enrol(client, doctor)
    home = await client.get("/")
    assert home.status_code == 200 and "Camille BERNARD" in home.text
    record = await client.get(f"/patients/{patient.id}")
    assert "Historique" in record.text and "Identité enregistrée" in record.text
    search = await client.get("/patients", params={"q": "bern"}, headers={"hx-request": "true"})
    assert "Camille BERNARD" in search.text and "<html" not in search.text


async def test_no_patient_data_before_the_second_factor(client: AsyncClient, world: World) -> None:
    doctor = await world.professional()
    patient = await world.patient(doctor)
    await password_step(client, doctor.user.email)
    page = await client.get(f"/patients/{patient.id}")
    assert page.status_code == 303 and page.headers["location"] == "/mfa/enrol"
    api = await client.get(f"/api/patients/{patient.id}")
    assert api.status_code == 403


async def test_second_login_asks_the_code_and_refuses_a_wrong_one(client: AsyncClient, world: World) -> None:
    doctor = await world.professional()
    secret = await enrol(client, doctor)
    await client.post("/logout", data={"csrf_token": field((await client.get("/")).text, "csrf_token")})
    client.cookies.clear()
    assert (await password_step(client, doctor.user.email)).headers["location"] == "/mfa"
    form = await client.get("/mfa")
    wrong = await client.post("/mfa", data={"code": "000000", "csrf_token": field(form.text, "csrf_token")})
    assert wrong.status_code == 401 and "Code incorrect" in wrong.text
    right = await client.post(
        "/mfa", data={"code": pyotp.TOTP(secret).now(), "csrf_token": field(form.text, "csrf_token")}
    )
    assert right.status_code == 303 and right.headers["location"] == "/"


async def test_a_recovery_code_works_once(client: AsyncClient, world: World) -> None:
    doctor = await world.professional()
    await password_step(client, doctor.user.email)
    page = await client.get("/mfa/enrol")
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page.text).group(1)  # type: ignore[union-attr]
    shown = await client.post(
        "/mfa/enrol", data={"code": pyotp.TOTP(secret).now(), "csrf_token": field(page.text, "csrf_token")}
    )
    codes = re.findall(r"<li><code>([0-9a-f]{6}-[0-9a-f]{6})</code></li>", shown.text)
    assert len(codes) == 8
    for attempt, expected in ((1, 303), (2, 401)):
        client.cookies.clear()
        await password_step(client, doctor.user.email)
        form = await client.get("/mfa")
        response = await client.post(
            "/mfa", data={"code": codes[0], "csrf_token": field(form.text, "csrf_token")}
        )
        assert response.status_code == expected, f"attempt {attempt}"


async def test_wrong_password_and_unknown_account_get_the_same_answer(
    client: AsyncClient, world: World
) -> None:
    doctor = await world.professional()
    wrong = await password_step(client, doctor.user.email, "not the password")
    unknown = await password_step(client, "nobody@test.telesante.fr", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert "Identifiants incorrects" in wrong.text and "Identifiants incorrects" in unknown.text


async def test_forms_without_the_csrf_token_are_refused(client: AsyncClient, world: World) -> None:
    doctor = await world.professional()
    await enrol(client, doctor)
    forged = await client.post("/logout", data={})
    assert forged.status_code == 403
    api = await client.post("/api/patients", json={})
    assert api.status_code == 403 and "CSRF" in api.json()["detail"]
    login_without_token = await client.post("/login", data={"email": doctor.user.email, "password": PASSWORD})
    assert login_without_token.status_code in (403, 422)


async def test_session_id_changes_at_login(client: AsyncClient, world: World) -> None:
    doctor = await world.professional()
    client.cookies.set("ts_session", "attacker-chosen-value")
    response = await password_step(client, doctor.user.email)
    issued = re.search(r"ts_session=([^;]+)", response.headers["set-cookie"]).group(1)  # type: ignore[union-attr]
    assert issued != "attacker-chosen-value" and len(issued) >= 40
    client.cookies.clear()
    client.cookies.set("ts_session", "attacker-chosen-value")
    assert (await client.get("/api/me")).status_code == 401


async def test_admin_page_creates_an_organisation_and_rejects_a_bad_finess(
    client: AsyncClient, world: World
) -> None:
    admin = await world.admin()
    await enrol(client, admin)
    page = await client.get("/admin")
    token = field(page.text, "csrf_token")
    bad = await client.post(
        "/admin/organisations",
        data={"name": "X", "kind": "practice", "finess": "750000003", "csrf_token": token},
    )
    assert bad.status_code == 422 and "Luhn" in bad.text
    good = await client.post(
        "/admin/organisations",
        data={"name": "Pharmacie du Port", "kind": "pharmacy", "finess": "750000002", "csrf_token": token},
    )
    assert good.status_code == 303
    assert "Pharmacie du Port" in (await client.get("/admin")).text


async def test_a_professional_cannot_open_the_admin_page(client: AsyncClient, world: World) -> None:
    doctor = await world.professional()
    await enrol(client, doctor)
    assert (await client.get("/admin")).status_code == 403


async def test_another_professionals_patient_page_is_not_found(client: AsyncClient, world: World) -> None:
    doctor, stranger = await world.professional(), await world.professional("Inconnu")
    patient = await world.patient(doctor)
    await enrol(client, stranger)
    page = await client.get(f"/patients/{patient.id}")
    assert page.status_code == 404 and "Durand" not in page.text
