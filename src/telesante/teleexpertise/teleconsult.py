"""One click from an opinion to a téléconsultation, in the expert's own agenda.

The expert proposes one of their free slots; the teleconsultation booking does the rest (the
free-slot check and race, the patient told, e-mailed and reminded) with the request's context as
the reason, and the request links the appointment. An expert without an agenda (no active
consultation type) gets 409 saying so: they may instead suggest "à voir" in their answer and the
requérant books elsewhere. The booking's care relation is not added (book_for_patient adds none),
so the expert's access stays the request's narrow one.
"""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from telesante.audit.service import record
from telesante.auth.actor import Actor
from telesante.errors import Conflict, Forbidden
from telesante.realtime.bus import Bus
from telesante.teleconsultation import booking
from telesante.teleconsultation import schedule as agenda
from telesante.teleconsultation.models import Appointment
from telesante.teleexpertise.access import Access, Role
from telesante.teleexpertise.lifecycle import require_open
from telesante.teleexpertise.thread import require_active

REASON_MAX = 400


async def propose(
    db: AsyncSession, bus: Bus | None, actor: Actor, access: Access, type_id: str, starts_at: datetime
) -> Appointment:
    request, me = access.request, actor.professional_id
    if access.role is not Role.expert or me is None:
        raise Forbidden("seul un expert sollicité propose une téléconsultation")
    require_open(request)
    await require_active(db, request, me)
    if request.appointment_id is not None:
        raise Conflict("une téléconsultation est déjà proposée pour cette demande")
    if not await agenda.types_of(db, me):
        raise Conflict("vous n'avez pas d'agenda de téléconsultation : indiquez « à voir » dans votre avis")
    reason = f"Téléexpertise : {request.question}"[:REASON_MAX]
    appointment = await booking.book_for_patient(
        db,
        bus,
        actor,
        request.patient_id,
        type_id,
        starts_at,
        reason,
        timeline_title="Téléconsultation proposée par l'expert après une téléexpertise",
        announcement="Téléconsultation proposée par le médecin expert",
    )
    request.appointment_id = appointment.id
    record(
        db,
        actor,
        action="create",
        resource_type="Appointment",
        resource_id=appointment.id,
        patient_id=request.patient_id,
    )
    return appointment
