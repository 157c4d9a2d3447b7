"""Bris de glace: emergency access to a record outside the care team.

The professional identifies the patient by INS matricule and birth date (both
exact, so nobody can browse), states a reason, and gets a few hours of access.
Every access through the grant is audited with the reason, and the patient
sees it in "Qui a consulté mon dossier" and in a notification.
"""

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.audit.service import record, record_denied
from telesante.auth.actor import Actor
from telesante.auth.models import User
from telesante.db import utcnow
from telesante.errors import Forbidden, NotFound
from telesante.notifications.service import notify
from telesante.patients.access import NOT_FOUND
from telesante.patients.models import BreakGlassGrant, Patient
from telesante.realtime.bus import Bus
from telesante.timeline.service import add_entry

DURATION = timedelta(hours=4)


async def open_break_glass(
    db: AsyncSession, bus: Bus | None, actor: Actor, ins: str, birth_date: date, reason: str
) -> BreakGlassGrant:
    if actor.role != "professional" or not actor.professional_id:
        raise Forbidden("seul un professionnel de santé peut demander un accès en urgence")
    matricule = ins.replace(" ", "").upper()
    patient = await db.scalar(
        select(Patient).where(Patient.ins_matricule == matricule, Patient.birth_date == birth_date)
    )
    if patient is None:
        record_denied(
            db,
            actor,
            action="break_glass",
            resource_type="Patient",
            resource_id=None,
            patient_id=None,
            purpose="break_glass",
        )
        raise NotFound(NOT_FOUND)
    now = utcnow()
    grant = BreakGlassGrant(
        patient_id=patient.id,
        professional_id=actor.professional_id,
        user_id=actor.user.id,
        reason=reason,
        starts_at=now,
        expires_at=now + DURATION,
    )
    db.add(grant)
    await db.flush()
    record(
        db,
        actor,
        action="break_glass",
        resource_type="BreakGlassGrant",
        resource_id=grant.id,
        patient_id=patient.id,
        purpose="break_glass",
        reason=reason,
    )
    add_entry(
        db,
        patient.id,
        kind="break_glass",
        title="Accès en urgence (bris de glace)",
        summary=f"Motif déclaré : {reason}",
        source_type="BreakGlassGrant",
        source_id=grant.id,
        author_professional_id=actor.professional_id,
    )
    await _tell_patient(db, bus, patient.id)
    return grant


async def _tell_patient(db: AsyncSession, bus: Bus | None, patient_id: str) -> None:
    account = await db.scalar(select(User.id).where(User.patient_id == patient_id))
    if account:
        await notify(
            db,
            bus,
            account,
            "Accès en urgence à votre dossier",
            "Un professionnel a ouvert votre dossier en urgence. Le motif figure dans "
            "« Qui a consulté mon dossier ».",
            link=f"/patients/{patient_id}#acces",
        )
