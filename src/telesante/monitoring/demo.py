"""Télésurveillance in the demo: four of Dr Martin's patients who consented, enrolled 14 days ago
with their devices, 14 days of simulated readings (simulation.py) stored through the one ingestion,
and a few stories on top: a severe hypoglycaemia last night and a weight gain (open alerts), a
hyperglycaemia three days ago that Dr Martin took into account.

`load_monitoring_demo(db)` runs inside the demo's transaction, after its patients and consents
exist (demo/load.py); a second call enrols nobody twice.
"""

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.auth.actor import Actor
from telesante.auth.models import User
from telesante.consent.service import current_consent
from telesante.db import utcnow
from telesante.directory.models import Professional
from telesante.monitoring import alerts as alert_service
from telesante.monitoring import devices, ingest, monthly, programs, simulation
from telesante.monitoring.defaults import INDICATION_LABELS, Indication
from telesante.monitoring.measures import MeasureKind
from telesante.monitoring.models import Alert, Device, Program
from telesante.patients.models import Patient

PARIS = ZoneInfo("Europe/Paris")
DAYS = 14
K = MeasureKind
Story = Callable[[list[simulation.Reading], datetime], list[simulation.Reading]]


def _at(now: datetime, days_ago: int, hour: int, minute: int = 0) -> datetime:
    day = (now - timedelta(days=days_ago)).astimezone(PARIS).date()
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS)


def _glucose_dip(
    readings: list[simulation.Reading], start: datetime, values: list[int]
) -> list[simulation.Reading]:
    """CGM readings from `start` on take these values (mg/dL), one per reading."""
    cgm = [i for i, r in enumerate(readings) if r.kind is K.GLUCOSE_CGM and r.effective_at >= start]
    changed = list(readings)
    for index, value in zip(cgm, values, strict=False):
        changed[index] = replace(readings[index], value=Decimal(value), unit="mg/dL")
    return changed


def night_hypo(readings: list[simulation.Reading], now: datetime) -> list[simulation.Reading]:
    """Last night around 3 am: down to 48 mg/dL, back within the hour."""
    dip = [68, 63, 58, 53, 50, 48, 49, 52, 57, 63, 70, 78, 86]
    readings = _glucose_dip(readings, _at(now, 0 if now.astimezone(PARIS).hour >= 5 else 1, 2, 50), dip)
    return afternoon_hyper(readings, now, days_ago=3)


def afternoon_hyper(
    readings: list[simulation.Reading], now: datetime, days_ago: int = 1
) -> list[simulation.Reading]:
    """After lunch: up to 290 mg/dL for an hour and a half."""
    peak = [230, 248, 258, 268, 279, 286, 290, 288, 280, 272, 262, 255, 246, 232, 215, 196]
    return _glucose_dip(readings, _at(now, days_ago, 13, 30), peak)


def weight_gain(readings: list[simulation.Reading], now: datetime) -> list[simulation.Reading]:
    """Fluid retention over the last three weighings: +0.3, +1.2, +2.9 kg (more than 2 kg in 3 days
    whichever earlier weighing the window reaches back to)."""
    weighings = [i for i, r in enumerate(readings) if r.kind is K.WEIGHT][-3:]
    changed = list(readings)
    for index, gain in zip(weighings, (Decimal("0.3"), Decimal("1.2"), Decimal("2.9")), strict=False):
        changed[index] = replace(readings[index], value=readings[index].value + gain)
    return changed


def unchanged(readings: list[simulation.Reading], now: datetime) -> list[simulation.Reading]:
    return readings


# (indication, simulated profile index in simulation.PROFILES order, devices, story)
PLANS: list[tuple[Indication, int, tuple[str, ...], Story]] = [
    (Indication.DIABETES, 0, ("cgm",), night_hypo),
    (Indication.HEART_FAILURE, 2, ("scale", "bp_monitor"), weight_gain),
    (Indication.DIABETES, 0, ("cgm",), afternoon_hyper),
    (Indication.HEART_FAILURE, 2, ("scale", "bp_monitor"), unchanged),
]
DEVICE_KINDS = {"cgm": {K.GLUCOSE_CGM}, "scale": {K.WEIGHT}, "bp_monitor": {K.SYSTOLIC, K.DIASTOLIC}}
MODELS = {"cgm": "Dexcom G7", "scale": "Withings Body", "bp_monitor": "Omron M7 Intelli IT"}


async def load_monitoring_demo(db: AsyncSession, *, now: datetime | None = None) -> list[str]:
    """Enrol up to four of Dr Claire Martin's consenting patients; returns lines for the summary."""
    now = now or utcnow()
    doctor = await db.scalar(
        select(Professional).where(Professional.family_name == "Martin", Professional.given_name == "Claire")
    )
    user = await db.scalar(select(User).where(User.professional_id == doctor.id)) if doctor else None
    if doctor is None or user is None:
        return ["Télésurveillance : Dr Claire Martin introuvable, rien chargé."]
    actor = Actor(user=user, mfa_passed=True, via="system")
    team = [doctor.id, *(await _cardiologist(db))]
    lines, enrolled = [], []
    for (indication, profile, kinds, story), patient in zip(
        PLANS, await _candidates(db, doctor), strict=False
    ):
        program = await programs.enrol(
            db,
            actor,
            programs.Enrolment(
                patient.id, indication, team, now - timedelta(days=DAYS, hours=1), timedelta(days=90), 30
            ),
        )
        simulated = simulation.cohort(6, seed=f"demo-{patient.id[:8]}")[profile]
        sim = simulation.simulate(
            simulated, now - timedelta(days=DAYS), now - timedelta(minutes=10), anomalies=False
        )
        readings = story(sim.readings, now)
        for kind in kinds:
            device, _ = await devices.register(
                db, actor, program, devices.Registration(kind, MODELS[kind], f"DEMO-{program.id[:8]}-{kind}")
            )
            await _send(db, device, [r for r in readings if r.kind in DEVICE_KINDS[kind]], now)
        enrolled.append(program.id)
        lines.append(f"Télésurveillance : {patient.display_name} ({INDICATION_LABELS[indication]})")
    await _acknowledge_hyper(db, actor, enrolled)
    await monthly.ensure_scheduled(db, now)
    return lines


async def _candidates(db: AsyncSession, doctor: Professional) -> list[Patient]:
    """Dr Martin's patients who consented to télésurveillance and are not yet enrolled, those with
    an account first (so that a demo patient sees "Mes mesures")."""
    enrolled = exists(select(Program.id).where(Program.patient_id == Patient.id, Program.status == "active"))
    has_account = exists(select(User.id).where(User.patient_id == Patient.id))
    rows = await db.scalars(
        select(Patient)
        .where(Patient.gp_of_record_id == doctor.id, ~enrolled)
        .order_by(has_account.desc(), Patient.birth_family_name, Patient.id)
    )
    found = []
    for patient in rows:
        if await current_consent(db, patient.id, programs.CONSENT_ACT) is not None:
            found.append(patient)
        if len(found) == len(PLANS):
            break
    return found


async def _cardiologist(db: AsyncSession) -> list[str]:
    """The demo's cardiologist as second operator, called when nobody acknowledges."""
    found = await db.scalar(
        select(Professional.id).where(
            Professional.specialty == "Cardiologie", Professional.profession == "physician"
        )
    )
    return [found] if found else []


async def _send(db: AsyncSession, device: Device, readings: list[simulation.Reading], now: datetime) -> None:
    sent = [
        ingest.Reading(
            tuple(ingest.Value(r.kind, r.value, r.unit) for r in group),
            group[0].device_time(),
            ingest.Source.FHIR,
        )
        for group in _panels(readings)
    ]
    await ingest.ingest(db, None, device, sent, now=now)


def _panels(readings: list[simulation.Reading]) -> list[list[simulation.Reading]]:
    """Systolic and diastolic of one instant travel together, as one blood-pressure panel."""
    grouped: dict[tuple[datetime, bool], list[simulation.Reading]] = {}
    for reading in readings:
        pressure = reading.kind in (K.SYSTOLIC, K.DIASTOLIC)
        grouped.setdefault((reading.effective_at, pressure), []).append(reading)
    return list(grouped.values())


async def _acknowledge_hyper(db: AsyncSession, actor: Actor, program_ids: list[str]) -> None:
    """Dr Martin took the oldest hyperglycaemia into account: the dashboard shows both states."""
    alert = await db.scalar(
        select(Alert)
        .where(Alert.program_id.in_(program_ids), Alert.rule_code == "glucose.hyper", Alert.status == "open")
        .order_by(Alert.occurred_at)
        .limit(1)
    )
    if alert is not None:
        await alert_service.acknowledge(
            db, None, actor, alert, "Repas de fête ; glycémies revenues dans la cible, traitement inchangé."
        )
