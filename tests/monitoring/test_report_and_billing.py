"""The month's close: the monthly job files the PDF report on the timeline and bills the operator
forfait once when its conditions hold, never otherwise; the prescriber's report on demand; the
forfait's rules and amounts."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select

from telesante.billing import months
from telesante.billing.models import BillingLine
from telesante.billing.telesurveillance import OPERATOR_FORFAITS, operator_forfait
from telesante.db import transaction, utcnow
from telesante.documents.models import Document
from telesante.documents.pdf import check_pdf
from telesante.jobs.models import Job
from telesante.jobs.worker import Worker
from telesante.monitoring import forfait, monthly
from telesante.runtime import Runtime
from tests.fixtures.world import Person, World
from tests.monitoring.conftest import Followed, blood_pressure, bundle, consent, glucose, register_device
from tests.prescriptions.test_pdf import pdf_text
from tests.security.test_pages import login_with_totp
from tests.web.test_login_and_pages import field

LAST_MONTH = months.month_of(months.bounds(months.current_month())[0] - timedelta(days=1))
START, END = months.bounds(LAST_MONTH)
DAYS = (months.first_day(months.current_month()) - months.first_day(LAST_MONTH)).days  # Paris days


async def followed_since_before(
    client: AsyncClient, world: World, *, indication: str = "diabetes", family: str = "Mensuel"
) -> Followed:
    """A patient enrolled five days before last month began, with a device."""
    doctor = await world.professional("Martin")
    second = await world.professional("Bernard")
    patient = await world.patient(doctor, family=family, given="Anne", with_account=True)
    assert isinstance(patient, Person) and patient.patient is not None
    assert doctor.professional is not None and second.professional is not None
    await consent(client, doctor, patient.patient.id)
    response = await client.post(
        "/api/monitoring/programs",
        headers=doctor.headers,
        json={
            "patient_id": patient.patient.id,
            "indication": indication,
            "operator_team": [doctor.professional.id, second.professional.id],
            "starts_at": (START - timedelta(days=5)).isoformat(),
            "duration_days": 120,
        },
    )
    assert response.status_code == 201, response.text
    kind = "cgm" if indication == "diabetes" else "bp_monitor"
    device = await register_device(client, doctor, response.json()["id"], kind)
    return Followed(doctor, second, patient, response.json()["id"], device["id"], device["token"])


def noon(day: int) -> datetime:
    """Noon (Paris, give or take the offset) of the given day of last month, counted from 0."""
    return START + timedelta(days=day, hours=11)


async def send_days(client: AsyncClient, followed: Followed, days: range, make: Any = None) -> None:
    resources = [(make or (lambda at: glucose(120, at)))(noon(day)) for day in days]
    response = await client.post(
        "/fhir/R4", headers=followed.device_headers, json=bundle("batch", *resources)
    )
    assert response.status_code == 200, response.text
    assert all(e["response"]["status"].startswith("201") for e in response.json()["entry"])


async def close_last_month(runtime: Runtime) -> None:
    """Schedule last month's close (already due) and let the worker run every due job."""
    async with transaction(runtime.sessionmaker) as db:
        await monthly.schedule_close(db, LAST_MONTH)
    await Worker(runtime).run_until_idle()
    async with transaction(runtime.sessionmaker) as db:
        failed = list(await db.scalars(select(Job).where(Job.status != "done", Job.due_at <= utcnow())))
    assert not failed, [(j.kind, j.last_error) for j in failed]


async def lines_of(runtime: Runtime, program_id: str) -> list[BillingLine]:
    async with transaction(runtime.sessionmaker) as db:
        act_id = monthly.forfait_act_id(program_id, LAST_MONTH)
        return list(await db.scalars(select(BillingLine).where(BillingLine.act_id == act_id)))


async def test_the_monthly_job_files_the_report_and_bills_the_forfait_once(
    client: AsyncClient, world: World, runtime: Runtime
) -> None:
    followed = await followed_since_before(client, world)
    await send_days(client, followed, range(0, 20))  # 20 days of data out of 28 to 31
    await send_days(client, followed, range(20, 21), lambda at: glucose(49, at))  # a severe low
    assert followed.patient.patient is not None
    patient_id = followed.patient.patient.id

    await close_last_month(runtime)

    report_id = monthly.report_id(followed.program_id, LAST_MONTH)
    timeline = await client.get(f"/api/patients/{patient_id}/timeline", headers=followed.doctor.headers)
    [entry] = [e for e in timeline.json() if e.get("source_id") == report_id]
    assert entry["title"] == f"Rapport de télésurveillance : diabète, {forfait.month_name(LAST_MONTH)}"
    pdf = await client.get(
        f"/api/patients/{patient_id}/documents/{report_id}", headers=followed.doctor.headers
    )
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    check_pdf(pdf.content)  # a whole PDF, nothing active inside
    text = pdf_text(pdf.content)
    assert "RAPPORT MENSUEL DE T" in text and forfait.month_name(LAST_MONTH) in text
    assert "Jours suivis dans le mois : " in text and "jours avec des mesures : 21" in text
    assert "Hypoglyc" in text and "49 mg/dL" in text  # the alert and the measurement that raised it
    assert "Pas encore prise en compte" in text
    assert "Profil glyc" in text and "Temps dans les cibles" in text  # the charts' titles
    assert "Forfait de l'opérateur : dû — TVA Niveau 2, 28,00 €" in text

    [line] = await lines_of(runtime, followed.program_id)
    assert (line.act_type, line.code, line.amount_cents, line.reimbursable) == (
        "telesurveillance",
        "TVA",
        2800,
        True,
    )
    assert line.patient_id == patient_id and line.professional_id == followed.doctor.professional.id  # type: ignore[union-attr]
    rules = {r["name"]: r for r in line.rules}
    assert rules["Données transmises (plus de la moitié des jours)"]["ok"] is True
    assert rules["Données transmises (plus de la moitié des jours)"]["why"].startswith(
        f"21 jour(s) avec des mesures sur {DAYS}"
    )
    assert rules["tariff_verified"]["ok"] is False  # the level ↔ TVA/TVB correspondence is unverified
    api = await client.get(
        "/api/billing/lines", headers=followed.doctor.headers, params={"month": months.current_month()}
    )
    assert [(row["code"], row["act_type"]) for row in api.json()["lines"]] == [("TVA", "telesurveillance")]
    await login_with_totp(client, runtime, followed.doctor)
    page = await client.get("/facturation")
    assert "TVA" in page.text and "28,00 €" in page.text and "Données transmises" in page.text

    async with transaction(runtime.sessionmaker) as db:  # the job again, as after a restart
        await monthly.close_program_month(
            db, {"program_id": followed.program_id, "month": LAST_MONTH}, runtime.bus
        )
    assert len(await lines_of(runtime, followed.program_id)) == 1
    async with transaction(runtime.sessionmaker) as db:
        reports = await db.scalar(
            select(func.count()).select_from(Document).where(Document.patient_id == patient_id)
        )
    assert reports == 1


async def test_too_little_data_files_the_report_but_bills_nothing(
    client: AsyncClient, world: World, runtime: Runtime
) -> None:
    followed = await followed_since_before(client, world)
    await send_days(client, followed, range(0, DAYS // 2))  # half of the days or less: not "more than half"
    await close_last_month(runtime)
    assert await lines_of(runtime, followed.program_id) == []
    async with transaction(runtime.sessionmaker) as db:
        document = await db.get(Document, monthly.report_id(followed.program_id, LAST_MONTH))
        assert document is not None
        text = pdf_text(document.content)
    assert "Forfait de l'opérateur : non dû" in text and "[non] Données transmises" in text


async def test_hypertension_alone_is_not_billed(client: AsyncClient, world: World, runtime: Runtime) -> None:
    followed = await followed_since_before(client, world, indication="hypertension")

    await send_days(client, followed, range(0, DAYS), lambda at: blood_pressure(135, 85, at))
    await close_last_month(runtime)
    assert await lines_of(runtime, followed.program_id) == []


async def test_the_prescriber_asks_for_an_interim_report_which_never_bills(
    client: AsyncClient, runtime: Runtime, followed: Followed
) -> None:
    assert followed.patient.patient is not None
    patient_id = followed.patient.patient.id
    await client.post("/fhir/R4/Observation", headers=followed.device_headers, json=glucose(130, utcnow()))
    await login_with_totp(client, runtime, followed.doctor)
    page = await client.get(f"/telesurveillance/patients/{patient_id}")
    asked = await client.post(
        f"/telesurveillance/patients/{patient_id}/rapports",
        data={"csrf_token": field(page.text, "csrf_token"), "month": months.current_month()},
    )
    assert asked.status_code == 303, asked.text
    page = await client.get(f"/telesurveillance/patients/{patient_id}")
    assert "(intermédiaire, au" in page.text
    async with transaction(runtime.sessionmaker) as db:
        lines = await db.scalar(select(func.count()).select_from(BillingLine))
        scheduled = await db.scalar(
            select(Job.id).where(Job.dedupe_key == f"{monthly.MONTHLY_JOB}:{months.current_month()}")
        )
    assert lines == 0 and scheduled is not None  # and the month's close is on its way
    future = await client.post(
        f"/telesurveillance/patients/{patient_id}/rapports",
        data={"csrf_token": field(page.text, "csrf_token"), "month": "2999-01"},
    )
    assert future.status_code == 422


async def test_only_the_prescriber_asks_for_a_report(
    client: AsyncClient, runtime: Runtime, followed: Followed
) -> None:
    assert followed.patient.patient is not None
    await login_with_totp(client, runtime, followed.second)
    page = await client.get(f"/telesurveillance/patients/{followed.patient.patient.id}")
    assert "Produire le rapport maintenant" not in page.text
    refused = await client.post(
        f"/telesurveillance/patients/{followed.patient.patient.id}/rapports",
        data={"csrf_token": field(page.text, "csrf_token"), "month": months.current_month()},
    )
    assert refused.status_code == 403


# The forfait's rules, table-driven (acts.md, billing.md § Télésurveillance).

NOVEMBER = datetime(2026, 10, 31, 23, tzinfo=UTC), datetime(2026, 11, 30, 23, tzinfo=UTC)
FACTS = forfait.MonthFacts(
    month="2026-11",
    month_start=NOVEMBER[0],
    month_end=NOVEMBER[1],
    indication="diabetes",
    program_starts=datetime(2026, 9, 1, tzinfo=UTC),
    followed_days=30,
    days_with_data=16,
    now=datetime(2026, 12, 1, 2, tzinfo=UTC),
)


@pytest.mark.parametrize(
    ("changes", "billable", "amount"),
    [
        ({}, True, 2800),
        ({"indication": "heart_failure"}, True, 2800),
        ({"indication": "chronic_respiratory_failure"}, True, 2800),
        ({"indication": "hypertension"}, False, None),
        ({"days_with_data": 15}, False, 2800),  # exactly half: not more than half
        ({"days_with_data": 0}, False, 2800),
        ({"followed_days": 0, "days_with_data": 0}, False, 2800),  # the program did not run that month
        ({"followed_days": 3, "days_with_data": 2}, True, 2800),  # began on the 28th, data on two days
        ({"now": datetime(2026, 11, 30, 12, tzinfo=UTC)}, False, 2800),  # the month is not over
        ({"program_starts": datetime(2025, 10, 30, tzinfo=UTC)}, False, 2800),  # prescription over a year
        (
            {"month": "2023-06", "month_start": datetime(2023, 5, 31, 22, tzinfo=UTC)},
            False,
            None,
        ),  # before the droit commun (1 July 2023)
        (
            {"month": "2023-07", "month_start": datetime(2023, 6, 30, 22, tzinfo=UTC)},
            True,
            2800,
        ),  # its first month, whose first Paris midnight is still 30 June in UTC
    ],
)
def test_the_forfait_rules(changes: dict[str, Any], billable: bool, amount: int | None) -> None:
    result = forfait.assess(replace(FACTS, **changes))
    assert result.billable is billable
    assert (result.forfait.amount_cents if result.forfait else None) == amount
    failed = [c.name for c in result.checks if not c.ok]
    assert bool(failed) is not billable or result.forfait is None


def test_the_operator_forfaits_are_dated_and_sourced() -> None:
    assert [(f.level, f.amount_cents) for f in OPERATOR_FORFAITS] == [
        ("niveau_1", 1100),
        ("niveau_2", 2800),
        ("majore_1", 5600),
        ("majore_2", 7000),
    ]
    assert all(f.source and not f.code_verified for f in OPERATOR_FORFAITS)
    assert operator_forfait("niveau_2", datetime(2026, 11, 1).date()).code == "TVA"
    with pytest.raises(LookupError):
        operator_forfait("niveau_2", datetime(2023, 6, 30).date())
    respiratory = forfait.assess(replace(FACTS, indication="chronic_respiratory_failure"))
    assert respiratory.billable and not respiratory.tariff_verified  # its level is an assumption
