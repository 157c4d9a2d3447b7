"""The billing page, the cap warning on the agenda, and the referral question at booking."""

import re

from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import select

from telesante.billing.months import current_month
from telesante.db import transaction
from telesante.runtime import Runtime
from telesante.teleconsultation.models import Appointment
from tests.billing.conftest import held, patient_of
from tests.fixtures.world import Person, World
from tests.security.test_pages import login_with_totp
from tests.teleconsultation.conftest import Practice
from tests.web.test_login_and_pages import field

APPROACHING = (
    "Attention : votre part de téléconsultation approche du plafond de 20 % de votre activité annuelle."
)


def alert(html: str) -> str:
    found = re.search(r'role="alert"[^>]*>(.*?)</p>', html, re.S)
    return found.group(1) if found else ""


async def test_the_page_shows_the_lines_and_warns_until_the_activity_is_declared(
    client: AsyncClient,
    live_server: str,
    world: World,
    runtime: Runtime,
    practice: Practice,
    other_gp: Person,
) -> None:
    patient = await patient_of(client, world, runtime, practice, other_gp)
    await held(client, live_server, runtime, practice, patient, referred=True)
    await login_with_totp(client, runtime, practice.doctor)

    shown = await client.get("/facturation")
    assert shown.status_code == 200
    assert '<a href="/facturation">Facturation</a>' in shown.text
    assert "TCG" in shown.text and "25,00 €" in shown.text and "adressé par le médecin traitant" in shown.text
    assert "total remboursable : <strong>25,00 €</strong>" in shown.text
    assert "dépasse le plafond de 20 %" in alert(shown.text) and "Déclarez votre activité" in alert(
        shown.text
    )
    agenda = await client.get("/teleconsultations")
    assert "dépasse le plafond de 20 %" in alert(agenda.text)

    month = current_month()
    forged = await client.post("/facturation", data={"month": month, "in_person_acts": "4"})
    assert forged.status_code == 403
    declared = await client.post(
        "/facturation",
        data={"csrf_token": field(shown.text, "csrf_token"), "month": month, "in_person_acts": "4"},
    )
    assert declared.status_code == 303 and declared.headers["location"] == f"/facturation?month={month}"
    shown = await client.get(declared.headers["location"])
    assert alert(shown.text).strip() == APPROACHING  # 1 téléconsultation in 5 acts: 20 %, at the cap
    assert "20,0 %" in shown.text and 'name="in_person_acts" type="number"' in shown.text
    assert APPROACHING in alert((await client.get("/teleconsultations")).text)

    await client.post(
        "/facturation",
        data={"csrf_token": field(shown.text, "csrf_token"), "month": month, "in_person_acts": "100"},
    )
    assert 'role="alert"' not in (await client.get("/facturation")).text
    assert 'role="alert"' not in (await client.get("/teleconsultations")).text


async def test_a_wrong_figure_is_explained_on_the_page(
    client: AsyncClient, world: World, runtime: Runtime
) -> None:
    doctor = await world.professional("Martin")
    await login_with_totp(client, runtime, doctor)
    shown = await client.get("/facturation", params={"month": "pas-un-mois"})
    assert shown.status_code == 200 and f'value="{current_month()}"' in shown.text
    refused = await client.post(
        "/facturation",
        data={
            "csrf_token": field(shown.text, "csrf_token"),
            "month": current_month(),
            "in_person_acts": "-5",
        },
    )
    assert refused.status_code == 422
    assert "Actes en présentiel : entre 0 et 10000" in alert(refused.text)


async def test_a_patient_has_no_billing_page(client: AsyncClient, world: World, runtime: Runtime) -> None:
    doctor = await world.professional("Martin")
    patient = await world.patient(doctor, with_account=True)
    assert isinstance(patient, Person)
    await login_with_totp(client, runtime, patient)
    response = await client.get("/facturation")
    assert response.status_code == 403 and "réservé aux professionnels" in response.text
    assert 'href="/facturation"' not in (await client.get("/teleconsultations")).text


async def test_the_booking_page_asks_whether_the_gp_referred_the_patient(
    app: FastAPI, client: AsyncClient, world: World, runtime: Runtime, practice: Practice, other_gp: Person
) -> None:
    question = "Vous êtes adressé(e) par votre médecin traitant"
    patient = await patient_of(client, world, runtime, practice, other_gp)
    await login_with_totp(client, runtime, patient)
    assert practice.doctor.professional and patient.patient
    slots = await client.get(
        "/teleconsultations/reserver", params={"professional_id": practice.doctor.professional.id}
    )
    assert question in slots.text and 'name="referred_by_gp" value="oui"' in slots.text
    booked = await client.post(
        "/teleconsultations/reserver",
        data={
            "csrf_token": field(slots.text, "csrf_token"),
            "professional_id": practice.doctor.professional.id,
            "consultation_type_id": practice.type_id,
            "starts_at": re.findall(r'name="starts_at" value="([^"]+)"', slots.text)[0],
            "referred_by_gp": "oui",
        },
    )
    assert booked.status_code == 303
    async with transaction(runtime.sessionmaker) as db:
        stored = await db.scalar(select(Appointment).where(Appointment.patient_id == patient.patient.id))
        assert stored is not None and stored.referred_by_gp is True

    own = await patient_of(client, world, runtime, practice, practice.doctor)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as other:
        await login_with_totp(other, runtime, own)
        page = await other.get(
            "/teleconsultations/reserver", params={"professional_id": practice.doctor.professional.id}
        )
        assert "votre médecin traitant" in page.text and question not in page.text  # one's own GP
