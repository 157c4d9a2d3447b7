"""Recording, withdrawing and checking consent to each act of telemedicine.

Acts call `require_consent` before they start: a withdrawal blocks new acts
of that kind at once (acts.md "Common to every act"; security.md §3).
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.audit.service import record
from telesante.auth.actor import Actor
from telesante.consent.models import Consent
from telesante.db import utcnow
from telesante.errors import AppError, Forbidden, NotFound
from telesante.patients.models import Patient
from telesante.timeline.service import add_entry

Act = Literal["teleconsultation", "teleexpertise", "telemonitoring", "teleassistance"]
ACT_LABELS = {
    "teleconsultation": "téléconsultation",
    "teleexpertise": "téléexpertise",
    "telemonitoring": "télésurveillance",
    "teleassistance": "téléassistance",
}


class ConsentMissing(AppError):
    status, code, title = 409, "consent_missing", "Consentement requis"


class ConsentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    act: Act
    decision: Literal["granted", "refused"] = "granted"
    method: Literal["in_person", "in_app"]
    information: str = Field(min_length=10, max_length=4000, description="what the patient was told")


async def record_consent(db: AsyncSession, actor: Actor, patient: Patient, data: ConsentCreate) -> Consent:
    """`patient` comes from the access gate. A patient records their own consent only in the app."""
    if actor.role == "patient" and data.method != "in_app":
        raise Forbidden("un patient enregistre son consentement dans l'application (method=in_app)")
    now = utcnow()
    consent = Consent(
        patient_id=patient.id,
        act=data.act,
        decision=data.decision,
        method=data.method,
        information=data.information,
        recorded_by_user_id=actor.user.id,
        recorded_at=now,
    )
    db.add(consent)
    await db.flush()
    verb = "donné" if data.decision == "granted" else "refusé"
    add_entry(
        db,
        patient.id,
        kind="consent",
        title=f"Consentement {verb} : {ACT_LABELS[data.act]}",
        source_type="Consent",
        source_id=consent.id,
        author_professional_id=actor.professional_id,
    )
    record(db, actor, action="create", resource_type="Consent", resource_id=consent.id, patient_id=patient.id)
    return consent


async def withdraw(db: AsyncSession, actor: Actor, patient: Patient, consent_id: str) -> Consent:
    consent = await db.get(Consent, consent_id)
    if consent is None or consent.patient_id != patient.id:
        raise NotFound("consentement introuvable")
    if consent.withdrawn_at is None:
        consent.withdrawn_at, consent.withdrawn_by_user_id = utcnow(), actor.user.id
        add_entry(
            db,
            patient.id,
            kind="consent",
            title=f"Consentement retiré : {ACT_LABELS[consent.act]}",
            source_type="Consent",
            source_id=consent.id,
            author_professional_id=actor.professional_id,
        )
        record(
            db, actor, action="update", resource_type="Consent", resource_id=consent.id, patient_id=patient.id
        )
    return consent


async def consents_of(db: AsyncSession, patient: Patient) -> list[Consent]:
    rows = await db.scalars(
        select(Consent).where(Consent.patient_id == patient.id).order_by(Consent.recorded_at.desc())
    )
    return list(rows)


async def current_consent(db: AsyncSession, patient_id: str, act: str) -> Consent | None:
    """The latest decision for `act`, if it is a consent still in force."""
    latest = await db.scalar(
        select(Consent)
        .where(Consent.patient_id == patient_id, Consent.act == act)
        .order_by(Consent.recorded_at.desc())
        .limit(1)
    )
    if latest is None or latest.decision != "granted" or latest.withdrawn_at is not None:
        return None
    return latest


async def require_consent(db: AsyncSession, patient_id: str, act: str) -> Consent:
    consent = await current_consent(db, patient_id, act)
    if consent is None:
        raise ConsentMissing(f"le patient n'a pas consenti à la {ACT_LABELS.get(act, act)} (ou l'a retiré)")
    return consent
