"""The access gate: the one place that decides who may see a patient's data.

A patient sees their own record. A professional who has passed the second
factor sees a patient through a current care relation (médecin traitant,
care team, an act) or, in an emergency, through a break-glass grant (a stated
reason, a few hours, audited as such and shown to the patient). An
administrator manages accounts and organisations but reads no clinical data;
an auditor reads access traces only. Every decision is audited; a refusal
answers exactly like a missing patient, so nobody learns that a record exists.
"""

from sqlalchemy import ColumnElement, and_, exists, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.audit.service import record, record_denied
from telesante.auth.actor import Actor
from telesante.db import utcnow
from telesante.errors import NotFound
from telesante.patients.models import BreakGlassGrant, CareRelation, Patient

NOT_FOUND = "patient introuvable"


def current_relation(professional_id: str) -> ColumnElement[bool]:
    now = utcnow()
    return exists(
        select(CareRelation.id).where(
            CareRelation.patient_id == Patient.id,
            CareRelation.professional_id == professional_id,
            CareRelation.starts_at <= now,
            or_(CareRelation.ends_at.is_(None), CareRelation.ends_at > now),
        )
    )


def current_break_glass(professional_id: str) -> ColumnElement[bool]:
    now = utcnow()
    return exists(
        select(BreakGlassGrant.id).where(
            BreakGlassGrant.patient_id == Patient.id,
            BreakGlassGrant.professional_id == professional_id,
            BreakGlassGrant.starts_at <= now,
            BreakGlassGrant.expires_at > now,
        )
    )


def visible_patients(actor: Actor) -> ColumnElement[bool]:
    """A SQL condition on Patient matching exactly the patients `actor` may see."""
    if not actor.fully_authenticated:
        return false()
    if actor.role == "patient" and actor.patient_id:
        return Patient.id == actor.patient_id
    if actor.role == "professional" and actor.professional_id:
        return or_(current_relation(actor.professional_id), current_break_glass(actor.professional_id))
    return false()


async def access_patient(
    db: AsyncSession,
    actor: Actor,
    patient_id: str,
    *,
    purpose: str = "care",
    action: str = "read",
    resource_type: str = "Patient",
    resource_id: str | None = None,
) -> Patient:
    """The patient if `actor` may act on their data for `purpose`; 404 otherwise, audited."""
    patient = await db.scalar(select(Patient).where(and_(Patient.id == patient_id, visible_patients(actor))))
    if patient is None:
        record_denied(
            db,
            actor,
            action=action,
            resource_type=resource_type,
            resource_id=resource_id or patient_id,
            patient_id=patient_id,
            purpose=purpose,
        )
        raise NotFound(NOT_FOUND)
    grant = await emergency_grant(db, actor, patient_id)
    record(
        db,
        actor,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id or patient_id,
        patient_id=patient_id,
        purpose="break_glass" if grant else purpose,
        reason=grant.reason if grant else None,
    )
    return patient


async def emergency_grant(db: AsyncSession, actor: Actor, patient_id: str) -> BreakGlassGrant | None:
    """The break-glass grant behind this access, when no care relation explains it."""
    if actor.role != "professional" or not actor.professional_id:
        return None
    related = await db.scalar(
        select(Patient.id).where(Patient.id == patient_id, current_relation(actor.professional_id))
    )
    if related:
        return None
    now = utcnow()
    return await db.scalar(
        select(BreakGlassGrant)
        .where(
            BreakGlassGrant.patient_id == patient_id,
            BreakGlassGrant.professional_id == actor.professional_id,
            BreakGlassGrant.expires_at > now,
        )
        .order_by(BreakGlassGrant.expires_at.desc())
        .limit(1)
    )
