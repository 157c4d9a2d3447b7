"""The télésurveillance pages through HTTP: the operator's dashboard (order, acknowledge and resolve
with CSRF, from an alert to a téléconsultation), the access gate, the patient page with its charts
and AGP, and the patient's own view."""

import html
import re
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import select, update

from telesante.db import transaction
from telesante.jobs.models import Job
from telesante.monitoring.demo import load_monitoring_demo
from telesante.patients.models import Patient
from telesante.runtime import Runtime
from tests.fixtures.world import Person, World
from tests.monitoring.conftest import (
    Followed,
    ago,
    alerts,
    bundle,
    consent,
    enrol,
    glucose,
    register_device,
    send,
)
from tests.security.test_pages import login_with_totp
from tests.web.test_login_and_pages import field

PARIS = ZoneInfo("Europe/Paris")


async def another_patient(client: AsyncClient, world: World, followed: Followed, family: str) -> Followed:
    """One more diabetic patient of the same team, with a CGM of their own."""
    patient = await world.patient(followed.doctor, family=family, given="Jeanne", with_account=True)
    assert isinstance(patient, Person) and patient.patient is not None
    await consent(client, followed.doctor, patient.patient.id)
    assert followed.doctor.professional is not None and followed.second.professional is not None
    response = await enrol(
        client,
        followed.doctor,
        patient.patient.id,
        [followed.doctor.professional.id, followed.second.professional.id],
    )
    assert response.status_code == 201, response.text
    device = await register_device(client, followed.doctor, response.json()["id"])
    return Followed(
        followed.doctor, followed.second, patient, response.json()["id"], device["id"], device["token"]
    )


def order_of(text: str, *people: Followed) -> list[str]:
    """The families of these patients in the order their cards appear."""
    positions = []
    for person in people:
        assert person.patient.patient is not None
        at = text.find(f'id="patient-{person.patient.patient.id}"')
        assert at >= 0, f"{person.patient.patient.birth_family_name} is not on the dashboard"
        positions.append((at, person.patient.patient.birth_family_name))
    return [family for _, family in sorted(positions)]


def alert_section(html: str, alert_id: str) -> str:
    match = re.search(rf'<section class="card" id="alerte-{alert_id}".*?</section>', html, re.S)
    assert match, f"alert {alert_id} is not on the page"
    return match.group(0)


async def test_the_dashboard_puts_the_most_severe_then_the_oldest_first(
    client: AsyncClient, world: World, runtime: Runtime, followed: Followed
) -> None:
    older_warning = followed  # Lefebvre
    await send(client, older_warning, glucose(65, ago(minutes=50)))
    critical = await another_patient(client, world, followed, "Critique")
    newer_warning = await another_patient(client, world, followed, "Recent")
    handled = await another_patient(client, world, followed, "Traite")
    quiet = await another_patient(client, world, followed, "Calme")
    await send(client, newer_warning, glucose(320, ago(minutes=40)))
    await send(client, critical, glucose(48, ago(minutes=30)))  # the newest alert, but critical
    await send(client, handled, glucose(300, ago(minutes=45)))
    await send(client, quiet, glucose(120, ago(minutes=20)))
    [to_acknowledge] = await alerts(client, followed.doctor, patient_id=handled.patient.patient.id)  # type: ignore[union-attr]
    response = await client.post(
        f"/api/monitoring/alerts/{to_acknowledge['id']}/acknowledge",
        headers=followed.doctor.headers,
        json={"comment": "Patient appelé, repas copieux."},
    )
    assert response.status_code == 200, response.text

    await login_with_totp(client, runtime, followed.second)  # the second operator watches too
    page = await client.get("/telesurveillance")
    assert page.status_code == 200
    assert order_of(page.text, quiet, handled, newer_warning, critical, older_warning) == [
        "Critique",
        "Lefebvre",
        "Recent",
        "Traite",
        "Calme",
    ]
    assert "Hypoglycémie de niveau 2" in page.text and "48 mg/dL" in page.text  # the evidence shown
    assert "120 mg/dL" in page.text  # the quiet patient's last measurement
    fragment = await client.get("/telesurveillance/liste")  # what the live refresh fetches
    assert "<html" not in fragment.text and order_of(fragment.text, critical, quiet) == ["Critique", "Calme"]
    assert 'src="/static/monitoring_dashboard.js"' in page.text


async def test_acknowledge_then_resolve_from_the_dashboard_with_csrf(
    client: AsyncClient, runtime: Runtime, followed: Followed
) -> None:
    await send(client, followed, glucose(50, ago(minutes=20)))
    found = {a["rule_code"]: a for a in await alerts(client, followed.doctor)}
    severe = found["glucose.hypo_severe"]
    await login_with_totp(client, runtime, followed.doctor)
    page = await client.get("/telesurveillance")
    section = alert_section(page.text, severe["id"])
    assert "Prendre en compte" in section and "à prendre en compte" in section
    url = f"/telesurveillance/alertes/{severe['id']}/prise-en-compte"

    forged = await client.post(url, data={"comment": "sans jeton"})
    assert forged.status_code == 403
    empty = await client.post(url, data={"csrf_token": field(page.text, "csrf_token"), "comment": "  "})
    assert empty.status_code == 422 and "commentaire" in empty.text
    done = await client.post(
        url, data={"csrf_token": field(page.text, "csrf_token"), "comment": "Resucrage fait, rappel à 18 h."}
    )
    assert done.status_code == 303 and done.headers["location"] == f"/telesurveillance#alerte-{severe['id']}"
    [acknowledged] = [a for a in await alerts(client, followed.doctor) if a["id"] == severe["id"]]
    assert acknowledged["status"] == "acknowledged"
    assert acknowledged["acknowledgement"] == "Resucrage fait, rappel à 18 h."
    section = alert_section((await client.get("/telesurveillance")).text, severe["id"])
    assert "Prise en compte par Dr Claire Martin" in section and "Resucrage fait" in section
    again = await client.post(url, data={"csrf_token": field(page.text, "csrf_token"), "comment": "encore"})
    assert again.status_code == 409  # already taken into account: the state machine says so

    resolved = await client.post(
        f"/telesurveillance/alertes/{severe['id']}/resolution",
        data={"csrf_token": field(page.text, "csrf_token"), "comment": "Glycémies stables."},
    )
    assert resolved.status_code == 303
    assert severe["id"] not in (await client.get("/telesurveillance")).text
    final = await client.get(f"/api/monitoring/alerts/{severe['id']}", headers=followed.doctor.headers)
    assert final.json()["status"] == "resolved" and final.json()["resolution"] == "Glycémies stables."


async def test_a_professional_outside_the_team_gets_404(
    app: FastAPI, client: AsyncClient, world: World, runtime: Runtime, followed: Followed
) -> None:
    await send(client, followed, glucose(60, ago(minutes=10)))
    [alert] = await alerts(client, followed.doctor)
    assert followed.patient.patient is not None
    patient_id = followed.patient.patient.id
    outsider = await world.professional("Durand")
    await login_with_totp(client, runtime, outsider)
    home = await client.get("/telesurveillance")
    assert home.status_code == 200 and patient_id not in home.text
    assert (await client.get(f"/telesurveillance/patients/{patient_id}")).status_code == 404
    assert (await client.get(f"/telesurveillance/patients/{patient_id}/teleconsultation")).status_code == 404
    acknowledged = await client.post(
        f"/telesurveillance/alertes/{alert['id']}/prise-en-compte",
        data={"csrf_token": field(home.text, "csrf_token"), "comment": "je ne suis pas de l'équipe"},
    )
    assert acknowledged.status_code == 404
    assert (await client.get(f"/monitoring/alerts/{alert['id']}")).status_code == 404
    [still] = await alerts(client, followed.doctor)
    assert still["status"] == "open"
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as member:
        await login_with_totp(member, runtime, followed.doctor)
        link = await member.get(f"/monitoring/alerts/{alert['id']}")  # the notification's link
        assert link.status_code == 303
        assert link.headers["location"] == f"/telesurveillance/patients/{patient_id}#alerte-{alert['id']}"


async def test_from_an_alert_to_a_teleconsultation_in_one_click(
    client: AsyncClient, runtime: Runtime, followed: Followed
) -> None:
    every_day = [{"weekday": d, "opens": "00:00", "closes": "23:59"} for d in range(7)]
    headers = followed.doctor.headers
    assert (await client.put("/api/agenda/opening-hours", json=every_day, headers=headers)).status_code == 200
    kind = await client.post(
        "/api/agenda/consultation-types",
        headers=headers,
        json={"label": "Téléconsultation", "duration_minutes": 15, "billing_code": "TCG"},
    )
    assert kind.status_code == 201, kind.text
    await send(client, followed, glucose(52, ago(minutes=15)))
    severe = next(a for a in await alerts(client, followed.doctor) if a["rule_code"] == "glucose.hypo_severe")
    assert followed.patient.patient is not None
    await login_with_totp(client, runtime, followed.doctor)
    dashboard = await client.get("/telesurveillance")
    link = re.search(
        r'href="(/telesurveillance/patients/[^"]+/teleconsultation\?alerte=[^"]+)"', dashboard.text
    )
    assert link, "each patient has a Téléconsultation link"
    assert link.group(1).endswith(severe["id"])  # the most severe alert gives the context
    offer = await client.get(link.group(1).replace("&amp;", "&"))
    assert offer.status_code == 200
    assert "Télésurveillance : Hypoglycémie" in offer.text and "52 mg/dL" in offer.text  # the alert's context
    starts = re.findall(r'name="starts_at" value="([^"]+)"', offer.text)
    reason = re.search(r'<textarea id="reason" name="reason"[^>]*>([^<]*)</textarea>', offer.text)
    assert starts and reason
    booked = await client.post(
        f"/telesurveillance/patients/{followed.patient.patient.id}/teleconsultation",
        data={
            "csrf_token": field(offer.text, "csrf_token"),
            "consultation_type_id": kind.json()["id"],
            "starts_at": starts[0],
            "reason": reason.group(1).replace("&#39;", "'").replace("&amp;", "&"),
        },
    )
    assert booked.status_code == 303, booked.text
    appointment = await client.get(booked.headers["location"])
    assert "Hypoglycémie" in appointment.text  # the reason, for the professional
    mine = await client.get("/api/notifications", headers=followed.patient.headers)
    assert any("Téléconsultation proposée" in n["title"] for n in mine.json())
    async with runtime.sessionmaker() as db:  # e-mailed with its .ics, and reminded, like any booking
        jobs = list(await db.scalars(select(Job.payload).where(Job.kind == "teleconsultation.reminder")))
    assert [j["title"] for j in jobs][:1] == [
        "Téléconsultation proposée par votre équipe de télésurveillance"
    ]
    taken = await client.post(
        f"/telesurveillance/patients/{followed.patient.patient.id}/teleconsultation",
        data={
            "csrf_token": field(offer.text, "csrf_token"),
            "consultation_type_id": kind.json()["id"],
            "starts_at": starts[0],
        },
    )
    assert taken.status_code == 409 and "pas libre" in taken.text


async def test_a_patient_is_sent_to_their_own_view(
    client: AsyncClient, runtime: Runtime, followed: Followed
) -> None:
    await login_with_totp(client, runtime, followed.patient)
    response = await client.get("/telesurveillance")
    assert response.status_code == 303 and response.headers["location"] == "/mes-mesures"
    assert (await client.get("/telesurveillance/liste")).status_code == 403


def daily_cycle(days: int = 14, every: timedelta = timedelta(minutes=30)) -> list[dict[str, Any]]:
    """A CGM history: a meal-shaped day (110 fasting, 200 after lunch), one reading every `every`."""
    readings = []
    start = ago(days=days)
    for index in range(int(timedelta(days=days) / every) - 6):
        at = start + index * every
        hour = at.astimezone(PARIS).hour
        value = 200 if 13 <= hour < 15 else (150 if 19 <= hour < 21 else 110)
        readings.append(glucose(value, at))
    return readings


async def test_the_patient_page_draws_every_value_with_thresholds_and_the_agp(
    client: AsyncClient, world: World, runtime: Runtime, followed: Followed
) -> None:
    history = daily_cycle()
    response = await client.post("/fhir/R4", headers=followed.device_headers, json=bundle("batch", *history))
    assert response.status_code == 200, response.text
    await send(client, followed, glucose(50, ago(minutes=2)))  # an alert today
    change = await client.patch(
        f"/api/monitoring/programs/{followed.program_id}/rules/glucose.hypo",
        headers=followed.doctor.headers,
        json={"limit": "75", "reason": "Patient âgé : seuil relevé"},
    )
    assert change.status_code == 200, change.text
    hypo = next(a for a in await alerts(client, followed.doctor) if a["rule_code"] == "glucose.hypo")
    taken = await client.post(
        f"/api/monitoring/alerts/{hypo['id']}/acknowledge",
        headers=followed.doctor.headers,
        json={"comment": "Vu, à surveiller."},
    )
    assert taken.status_code == 200, taken.text
    assert followed.patient.patient is not None
    await login_with_totp(client, runtime, followed.second)
    page = await client.get(f"/telesurveillance/patients/{followed.patient.patient.id}")
    assert page.status_code == 200, page.text
    body = page.text
    assert body.count("<svg") >= 3  # glucose over 14 days, the time in ranges, the AGP
    agp = re.search(r'<svg[^>]*id="agp".*?</svg>', body, re.S)
    assert agp and agp.group(0).count("<polygon") >= 2 and "<polyline" in agp.group(0)  # bands, median
    glucose_chart = re.search(r'<svg[^>]*id="courbe-0".*?</svg>', body, re.S)
    assert glucose_chart and "&lt; 75 (Hypoglycémie)" in glucose_chart.group(0)  # the adjusted threshold
    assert "&lt; 54 (Hypoglycémie de niveau 2)" in glucose_chart.group(0)
    metrics = re.search(r'<dl class="facts" id="glucose-metrics">.*?</dl>', body, re.S)
    assert metrics and "GMI" in metrics.group(0) and "Coefficient de variation" in metrics.group(0)
    values = [float(r["valueQuantity"]["value"]) for r in history] + [50.0]
    shown = re.search(r"Glycémie moyenne</dt><dd>(\d+) mg/dL", metrics.group(0))
    assert shown and abs(int(shown.group(1)) - sum(values) / len(values)) <= 1
    assert "Données insuffisantes" in body  # one reading every 30 min is far below 70 % of 5-min slots
    assert "Battelino" in body and "seuil vérifié" in body  # the rules' sources
    assert "Patient âgé : seuil relevé" in body and "glycémie &lt; 70 mg/dL" in body  # the change log
    assert "Hypoglycémie de niveau 2" in body and "Prendre en compte" in body
    assert "Prise en compte par Dr Claire Martin" in body and "Vu, à surveiller." in body
    assert re.findall(r"<script(?![^>]*\bsrc=)", body) == []  # the CSP allows no inline script


async def test_the_patient_sees_their_own_data_only_in_plain_words(
    client: AsyncClient, world: World, runtime: Runtime, followed: Followed
) -> None:
    other = await another_patient(client, world, followed, "Autre")
    await send(client, other, glucose(333, ago(minutes=30)))
    await send(client, followed, glucose(112, ago(minutes=40)), glucose(48, ago(minutes=20)))
    await login_with_totp(client, runtime, followed.patient)
    mine = await client.get("/mes-mesures")
    assert mine.status_code == 200
    latest = re.search(r'<dl class="facts" id="latest">.*?</dl>', mine.text, re.S)
    assert latest and "48 mg/dL" in latest.group(0) and "Glycémie (capteur)" in latest.group(0)
    explained = re.search(r'<ul class="list" id="my-alerts">.*?</ul>', html.unescape(mine.text), re.S)
    assert explained
    sentence = re.search(
        r"Votre glycémie est descendue sous 54 mg/dL le (\d\d/\d\d/\d{4}) à (\d\d:\d\d) \(48 mg/dL\)",
        explained.group(0),
    )
    assert sentence, explained.group(0)
    assert "l'équipe qui vous suit a été prévenue" in explained.group(0)
    assert "glucose.hypo" not in mine.text and "percentile" not in mine.text.lower()  # no jargon
    assert "333" not in mine.text and "Autre" not in mine.text  # nobody else's data
    assert "appelez le <strong>15</strong>" in mine.text
    assert (await client.get(f"/telesurveillance/patients/{followed.patient.patient.id}")).status_code == 403  # type: ignore[union-attr]


async def test_the_demo_tells_its_stories_on_the_dashboard(
    client: AsyncClient, world: World, runtime: Runtime
) -> None:
    martin = await world.professional("Martin")
    await world.professional("Lefèvre", specialty="Cardiologie")
    with_account = await world.patient(martin, family="Aubert", with_account=True)
    assert isinstance(with_account, Person) and with_account.patient and martin.professional
    others = [await world.patient(martin, family=name) for name in ("Blanc", "Colin", "Dumas", "Refus")]
    ids = [with_account.patient.id, *(p.id for p in others if isinstance(p, Patient))]
    for patient_id in ids[:4]:  # the fifth never consented to télésurveillance
        await consent(client, martin, patient_id)
    async with transaction(runtime.sessionmaker) as db:  # Dr Martin is their médecin traitant
        await db.execute(
            update(Patient).where(Patient.id.in_(ids)).values(gp_of_record_id=martin.professional.id)
        )
        lines = await load_monitoring_demo(db)
    assert len(lines) == 4 and "Marie AUBERT (diabète)" in lines[0]
    async with transaction(runtime.sessionmaker) as db:
        again = await load_monitoring_demo(db)  # nobody is enrolled twice
    assert again == []
    found = await alerts(client, martin)
    by_rule = {(a["patient_id"], a["rule_code"]): a["status"] for a in found}
    assert by_rule[(ids[0], "glucose.hypo_severe")] == "open"
    assert by_rule[(ids[0], "glucose.hyper")] == "acknowledged"
    assert by_rule[(ids[1], "weight.gain_3d")] == "open"
    assert not any(a["patient_id"] == ids[3] for a in found)  # the quiet one
    await login_with_totp(client, runtime, martin)
    dashboard = await client.get("/telesurveillance")
    first = re.search(r'<article class="card[^"]*" id="patient-([^"]+)"', dashboard.text)
    assert first and first.group(1) == ids[0]  # the severe hypoglycaemia comes first
    assert ids[4] not in dashboard.text
    page = await client.get(f"/telesurveillance/patients/{ids[0]}")
    assert 'id="agp"' in page.text and "Données insuffisantes" not in page.text  # 14 days of sensor data
