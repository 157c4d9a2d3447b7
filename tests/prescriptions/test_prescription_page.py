"""The doctor writes the ordonnance of a téléconsultation on its page, through HTTP with a session."""

import base64
import re
from datetime import date
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import text

from telesante.runtime import Runtime
from tests.call.conftest import Call, make_call
from tests.fixtures.world import Person, World
from tests.prescriptions.conftest import audit_count, complete_prescriber, set_patient
from tests.security.test_pages import login_with_totp
from tests.web.test_login_and_pages import field

PARACETAMOL = {
    "dci": "paracétamol",
    "dose": "500 mg",
    "form": "comprimé",
    "posology": "1 comprimé 3 fois par jour",
    "renewals": "0",  # the form's default
}
LEVOTHYROX = {
    "dci": "lévothyroxine sodique",
    "drug": "Levothyrox",
    "dose": "75 µg",
    "form": "comprimé",
    "posology": "1 comprimé le matin à jeun",
    "duration": "3 mois",
    "renewals": "2",
    "non_substitution": "MTE",
}


@pytest.fixture
async def visit(world: World, runtime: Runtime) -> Call:
    """A doctor with every prescriber mention, in a téléconsultation with their patient."""
    doctor = await complete_prescriber(runtime, await world.professional("Martin"))
    return await make_call(world, runtime, doctor)


def form_of(csrf: str, *lines: dict[str, str], **extra: str) -> dict[str, str]:
    data = {"csrf_token": csrf, **extra}
    for index, line in enumerate(lines):
        data |= {f"lines-{index}-{name}": value for name, value in line.items()}
    return data


def error_at(html: str, field_id: str) -> str:
    match = re.search(rf'<p class="error" id="{field_id}-error">([^<]*)</p>', html)
    assert match, f"no error shown at {field_id}"
    return match.group(1).replace("&#39;", "'")


def value_of(html: str, field_id: str) -> str:
    """What an input holds, or which option of a select is chosen, as the page sends it back."""
    select = re.search(rf'<select id="{field_id}".*?</select>', html, re.S)
    if select:
        chosen = re.search(r'<option value="([^"]*)" selected>', select.group(0))
        return chosen.group(1) if chosen else ""
    tag = re.search(rf'<input id="{field_id}"[^>]*>', html)
    assert tag, f"no field {field_id}"
    value = re.search(r'value="([^"]*)"', tag.group(0))
    return value.group(1) if value else ""


async def stored(runtime: Runtime) -> int:
    """Prescriptions written, and attempts audited as writes (a refused one must leave neither)."""
    async with runtime.sessionmaker() as db:
        rows = int((await db.execute(text("SELECT count(*) FROM prescriptions"))).scalar_one())
    assert rows == await audit_count(runtime, action="create", resource_type="Prescription")
    return rows


async def open_form(client: AsyncClient, runtime: Runtime, person: Person, visit: Call) -> tuple[str, str]:
    await login_with_totp(client, runtime, person)
    url = f"/teleconsultations/{visit.appointment.id}/ordonnance"
    return url, field((await client.get(url)).text, "csrf_token")


async def test_two_lines_signed_then_number_qr_code_and_pdf(
    client: AsyncClient, runtime: Runtime, visit: Call
) -> None:
    await login_with_totp(client, runtime, visit.doctor)
    url = f"/teleconsultations/{visit.appointment.id}/ordonnance"
    form = await client.get(url)
    assert form.status_code == 200
    assert "DURAND Marie" in form.text and "17/05/1985" in form.text
    assert 'name="lines-0-posology"' in form.text and "Ajouter une ligne" in form.text
    assert "marge thérapeutique étroite" in form.text and "déjà signées" not in form.text

    extra = {"patient_weight_kg": "61,5", "lines-0-duration": "5 jours", "lines-0-packs": "2"}
    signed = await client.post(
        url, data=form_of(field(form.text, "csrf_token"), PARACETAMOL, LEVOTHYROX, **extra)
    )
    assert signed.status_code == 303, signed.text
    done_url = signed.headers["location"]
    public_id = done_url.rsplit("/", 1)[1]
    assert done_url == f"{url}/{public_id}" and public_id.startswith("ORD-")

    done = await client.get(done_url)
    assert done.status_code == 200
    printed = re.search(r'id="printed-id">(ORD(?:-[0-9A-Z]{5}){4})<', done.text)
    assert printed and printed.group(1).replace("-", "") == public_id.replace("-", "")
    qr = re.search(r'id="qr-code" src="data:image/png;base64,([^"]+)"', done.text)
    assert qr and base64.b64decode(qr.group(1)).startswith(b"\x89PNG\r\n\x1a\n")
    assert "Non substituable (MTE) — marge thérapeutique étroite" in done.text
    link = re.search(r'href="([^"]+)" download>Télécharger l.ordonnance \(PDF\)<', done.text)
    assert link and link.group(1) == f"/api/prescriptions/{public_id}.pdf"

    document = await client.get(link.group(1))
    assert document.status_code == 200 and document.headers["content-type"] == "application/pdf"
    assert document.content.startswith(b"%PDF")

    content: dict[str, Any] = (
        await client.get(f"/api/prescriptions/{public_id}", headers=visit.doctor.headers)
    ).json()["content"]
    assert content["appointment_id"] == visit.appointment.id
    assert content["patient"]["weight_kg"] == 61.5
    first, second = content["lines"]
    assert first["packs"] == 2 and first["renewals"] == 0 and first["non_substitution"] is None
    assert second["renewals"] == 2 and second["non_substitution"] == "MTE"

    again = await client.get(url)
    assert "Ordonnances déjà signées" in again.text and printed.group(1) in again.text


@pytest.mark.parametrize(
    ("name", "typed", "reason"),
    [
        ("posology", "", "R5132-3 2° : posologie et mode d'emploi"),
        ("packs", "0", "doit être supérieur ou égal à 1"),
        ("non_substitution", "XYZ", "« non substituable » avec MTE, EFG (enfant de moins de 6 ans) ou CIF"),
    ],
)
async def test_an_invalid_line_comes_back_in_french_at_its_field_and_nothing_is_stored(
    client: AsyncClient, runtime: Runtime, visit: Call, name: str, typed: str, reason: str
) -> None:
    url, csrf = await open_form(client, runtime, visit.doctor, visit)
    wrong = PARACETAMOL | {"duration": "5 jours", name: typed}
    refused = await client.post(url, data=form_of(csrf, LEVOTHYROX, wrong))
    assert refused.status_code == 422
    assert reason in error_at(refused.text, f"lines-1-{name}")
    assert 'aria-invalid="true"' in refused.text and "L'ordonnance n'a pas été signée" in refused.text
    # What was typed is kept, the wrong value too.
    assert value_of(refused.text, "lines-0-dci") == "lévothyroxine sodique"
    assert value_of(refused.text, "lines-0-non_substitution") == "MTE"
    assert value_of(refused.text, "lines-1-dose") == "500 mg"
    assert value_of(refused.text, f"lines-1-{name}") == typed
    assert await stored(runtime) == 0
    listed = await client.get(url)
    assert "déjà signées" not in listed.text


async def test_a_form_without_a_drug_or_with_a_wrong_weight_is_refused_in_french(
    client: AsyncClient, runtime: Runtime, visit: Call
) -> None:
    url, csrf = await open_form(client, runtime, visit.doctor, visit)
    empty = await client.post(url, data=form_of(csrf, {"renewals": "0", "dci": " "}))
    assert empty.status_code == 422 and "au moins un médicament prescrit" in empty.text
    heavy = await client.post(url, data=form_of(csrf, PARACETAMOL | {"packs": "1"}, patient_weight_kg="4000"))
    assert heavy.status_code == 422
    assert error_at(heavy.text, "patient_weight_kg") == "doit être inférieur ou égal à 1000"
    assert value_of(heavy.text, "patient_weight_kg") == "4000"
    assert await stored(runtime) == 0


async def test_a_child_needs_a_weight_and_a_french_decimal_is_read(
    client: AsyncClient, runtime: Runtime, visit: Call
) -> None:
    assert visit.patient.patient
    await set_patient(runtime, visit.patient.patient.id, birth_date=date(date.today().year - 4, 1, 1))
    url, csrf = await open_form(client, runtime, visit.doctor, visit)
    amoxicillin = {
        "dci": "amoxicilline",
        "dose": "250 mg/5 ml",
        "form": "suspension buvable",
        "posology": "5 ml matin, midi et soir",
        "duration": "7 jours",
        "renewals": "0",
        "non_substitution": "EFG",
    }
    refused = await client.post(url, data=form_of(csrf, amoxicillin))
    assert refused.status_code == 422
    assert "poids lorsque nécessaire" in error_at(refused.text, "patient_weight_kg")
    assert await stored(runtime) == 0
    signed = await client.post(url, data=form_of(csrf, amoxicillin, patient_weight_kg="14,5"))
    assert signed.status_code == 303, signed.text
    assert await stored(runtime) == 1


async def test_only_the_professional_of_the_appointment_writes_it(
    client: AsyncClient, runtime: Runtime, world: World, visit: Call
) -> None:
    url = f"/teleconsultations/{visit.appointment.id}/ordonnance"
    await login_with_totp(client, runtime, visit.doctor)
    csrf = field((await client.get(url)).text, "csrf_token")
    assert (await client.post(url, data=form_of("wrong", PARACETAMOL, packs="1"))).status_code == 403
    signed = await client.post(url, data=form_of(csrf, PARACETAMOL | {"packs": "1"}))
    done_url = signed.headers["location"]

    stranger = await world.professional("Inconnu")
    await login_with_totp(client, runtime, stranger)
    home = await client.get("/")
    for path in (url, done_url):
        response = await client.get(path)
        assert response.status_code == 404 and "rendez-vous introuvable" in response.text
    posted = await client.post(
        url, data=form_of(field(home.text, "csrf_token"), PARACETAMOL | {"packs": "1"})
    )
    assert posted.status_code == 404

    await login_with_totp(client, runtime, visit.patient)
    for path in (url, done_url):
        response = await client.get(path)
        assert response.status_code == 403 and "réservé au professionnel de ce rendez-vous" in response.text
    assert await stored(runtime) == 1
