"""Billing lines of the acts, from the facts the record holds."""

from dataclasses import asdict
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.billing.models import BillingLine
from telesante.billing.teleconsultation_rules import Facts, assess
from telesante.directory.models import Professional
from telesante.patients.models import CareRelation, Patient
from telesante.teleconsultation.models import Appointment


def age_on(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


async def bill_teleconsultation(db: AsyncSession, appointment: Appointment) -> BillingLine:
    """One billing line per téléconsultation held, with every rule checked and why."""
    existing = await db.scalar(select(BillingLine).where(BillingLine.act_id == appointment.id))
    if existing:
        return existing
    patient = await db.get(Patient, appointment.patient_id)
    professional = await db.get(Professional, appointment.professional_id)
    assert patient is not None and professional is not None
    on = appointment.starts_at.date()
    facts = Facts(
        on=on,
        video_held=appointment.admitted_at is not None and appointment.status == "done",
        specialty=professional.specialty,
        is_gp_of_record=patient.gp_of_record_id == professional.id,
        referred_by_gp=appointment.referred_by_gp,
        has_gp=patient.gp_of_record_id is not None,
        patient_age=age_on(patient.birth_date, on),
        known_patient=await _known(db, patient.id, professional.id, appointment),
    )
    result = assess(facts)
    line = BillingLine(
        act_type="teleconsultation",
        act_id=appointment.id,
        professional_id=professional.id,
        patient_id=patient.id,
        code=result.code,
        amount_cents=result.amount_cents,
        reimbursable=result.reimbursable,
        rules=[asdict(r) for r in result.rules]
        + [{"name": "tariff_verified", "ok": result.tariff_verified, "why": ""}],
    )
    db.add(line)
    await db.flush()
    return line


async def _known(db: AsyncSession, patient_id: str, professional_id: str, appointment: Appointment) -> bool:
    """Proxy until in-person visits are recorded: a care relation with this professional that
    began at least a day before the booking (médecin traitant or care team)."""
    since = appointment.created_at - timedelta(days=1)
    return bool(
        await db.scalar(
            select(CareRelation.id)
            .where(
                CareRelation.patient_id == patient_id,
                CareRelation.professional_id == professional_id,
                CareRelation.reason != "act",
                CareRelation.starts_at <= since,
            )
            .limit(1)
        )
    )
