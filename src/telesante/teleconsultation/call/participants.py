"""Who takes part in a call: the appointment's professional and patient (with their session),
and the companions the professional invites: with their own account (an invitation bound to
their user), or with a one-time link, then a call pass (see passes.py)."""

from sqlalchemy.ext.asyncio import AsyncSession

from telesante.audit.service import record
from telesante.auth.actor import Actor
from telesante.directory.models import Professional
from telesante.patients.access import access_patient
from telesante.teleconsultation.call.tokens import Role, invitation_for
from telesante.teleconsultation.models import Appointment
from telesante.teleconsultation.waiting import appointment_for


async def participant(
    db: AsyncSession,
    actor: Actor,
    appointment_id: str,
    *,
    action: str = "read",
    resource_type: str = "Appointment",
) -> tuple[Appointment, Role, str]:
    """The actor's appointment, role and shown name; through the access gate, which audits.

    An invited companion reaches the call, not the patient's record: their access is to this
    appointment only, audited as such.
    """
    invited = await invitation_for(db, appointment_id, actor.user.id) if actor.professional_id else None
    if invited is not None:
        appointment = await db.get(Appointment, appointment_id)
        assert appointment is not None  # the invitation's foreign key
        record(
            db,
            actor,
            action=action,
            resource_type=resource_type,
            resource_id=appointment.id if resource_type == "Appointment" else None,
            patient_id=appointment.patient_id,
            reason="accompagnant invité à la téléconsultation",
        )
        return appointment, Role.companion, invited.display_name
    appointment = await appointment_for(db, actor, appointment_id)
    role = Role.professional if actor.professional_id == appointment.professional_id else Role.patient
    patient = await access_patient(
        db,
        actor,
        appointment.patient_id,
        action=action,
        resource_type=resource_type,
        resource_id=appointment.id if resource_type == "Appointment" else None,
    )
    if role is Role.patient:
        return appointment, role, patient.display_name
    return appointment, role, await professional_name(db, appointment.professional_id)


async def professional_name(db: AsyncSession, professional_id: str) -> str:
    professional = await db.get(Professional, professional_id)
    return professional.display_name if professional else "Professionnel"
