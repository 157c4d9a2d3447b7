"""From an alert to a téléconsultation: the watching professional books one of their own free
slots for the patient, the alert's context as the reason.

The téléconsultation booking (teleconsultation/booking.py) is the patient's: it refuses a
professional. This is the smallest honest version of booking on the patient's behalf: the same
free-slot check and the same unique index settle races, the patient is told in the app with a link
to the appointment, and the step is on the timeline. Not done here (booking's private steps): the
confirmation e-mail with its .ics and the reminder jobs.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.audit.service import record
from telesante.auth.actor import Actor
from telesante.auth.models import User
from telesante.errors import Conflict, Forbidden
from telesante.monitoring.measures import MeasureKind, display_unit, french
from telesante.monitoring.models import Alert, Measurement
from telesante.notifications.service import notify
from telesante.patients.models import Patient
from telesante.realtime.bus import Bus
from telesante.teleconsultation import schedule as agenda
from telesante.teleconsultation.agenda import PARIS
from telesante.teleconsultation.models import Appointment, ConsultationType
from telesante.timeline.service import add_entry

DAYS_OFFERED = 7


@dataclass(frozen=True)
class Offer:
    kind: ConsultationType | None  # None: the professional offers no téléconsultation
    slots_by_day: dict[date, list[datetime]]


def alert_reason(alert: Alert, evidence: list[Measurement]) -> str:
    """The alert as a consultation reason: what, when, and the values that raised it."""
    when = alert.occurred_at.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M")
    values = ", ".join(
        f"{french(m.value, 1)} {display_unit(MeasureKind(m.kind).spec.unit)}" for m in evidence[-3:]
    )
    return f"Télésurveillance : {alert.label} le {when}" + (f" ({values})" if values else "")


async def offer(db: AsyncSession, actor: Actor) -> Offer:
    """The actor's first active consultation type and its free slots of the coming week."""
    professional_id = _professional(actor)
    kinds = await agenda.types_of(db, professional_id)
    if not kinds:
        return Offer(None, {})
    today = datetime.now(PARIS).date()
    by_day: dict[date, list[datetime]] = {}
    for slot in await agenda.slots(
        db, professional_id, kinds[0], today, today + timedelta(days=DAYS_OFFERED - 1)
    ):
        by_day.setdefault(slot.astimezone(PARIS).date(), []).append(slot)
    return Offer(kinds[0], by_day)


async def book_for_patient(
    db: AsyncSession,
    bus: Bus | None,
    actor: Actor,
    patient: Patient,
    type_id: str,
    starts_at: datetime,
    reason: str | None,
) -> Appointment:
    """Book the actor's own slot for a patient the gate handed out."""
    professional_id = _professional(actor)
    kind = await agenda.consultation_type(db, professional_id, type_id)
    local_day = starts_at.astimezone(PARIS).date()
    if starts_at not in await agenda.slots(db, professional_id, kind, local_day, local_day):
        raise Conflict("ce créneau n'est pas libre")
    appointment = Appointment(
        professional_id=professional_id,
        patient_id=patient.id,
        consultation_type_id=kind.id,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=kind.duration_minutes),
        status="booked",
        reason=reason,
        referred_by_gp=False,
        booked_by_user_id=actor.user.id,
        incidents=[],
    )
    db.add(appointment)
    try:
        await db.flush()  # the unique index settles a race for the slot
    except IntegrityError:
        raise Conflict("ce créneau vient d'être réservé par quelqu'un d'autre") from None
    add_entry(
        db,
        patient.id,
        kind="teleconsultation",
        title="Téléconsultation programmée par l'équipe de télésurveillance",
        occurred_at=starts_at,
        source_type="Appointment",
        source_id=appointment.id,
        author_professional_id=professional_id,
    )
    record(
        db,
        actor,
        action="create",
        resource_type="Appointment",
        resource_id=appointment.id,
        patient_id=patient.id,
    )
    await _tell_patient(db, bus, appointment)
    return appointment


async def _tell_patient(db: AsyncSession, bus: Bus | None, appointment: Appointment) -> None:
    user_id = await db.scalar(select(User.id).where(User.patient_id == appointment.patient_id))
    if user_id is None:
        return  # no account: the team calls the patient
    when = appointment.starts_at.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M")
    await notify(
        db,
        bus,
        user_id,
        "Téléconsultation proposée par votre équipe de télésurveillance",
        f"Rendez-vous le {when}. Ouvrez-le pour donner votre accord et rejoindre la salle d'attente.",
        link=f"/teleconsultations/{appointment.id}",
        email=False,
    )


def _professional(actor: Actor) -> str:
    if actor.role != "professional" or not actor.professional_id:
        raise Forbidden("réservé aux professionnels de l'équipe de télésurveillance")
    return actor.professional_id
