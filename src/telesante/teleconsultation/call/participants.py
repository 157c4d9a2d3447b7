"""Who takes part in a call: the appointment's professional and patient (with their session),
and the companions they invite (with a one-time link, then a call pass: see passes.py)."""

from sqlalchemy.ext.asyncio import AsyncSession

from telesante.auth.actor import Actor
from telesante.directory.models import Professional
from telesante.patients.access import access_patient
from telesante.teleconsultation.call.tokens import Role
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
    """The actor's appointment, role and shown name; through the access gate, which audits."""
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
