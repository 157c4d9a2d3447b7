"""From an alert to a téléconsultation: the watching professional books one of their own free
slots for the patient, the alert's context as the reason, through the téléconsultation booking
(the same free-slot check and race protection; the patient is told, e-mailed the .ics and reminded).
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from telesante.audit.service import record
from telesante.auth.actor import Actor
from telesante.errors import Forbidden
from telesante.monitoring.measures import MeasureKind, display_unit, french
from telesante.monitoring.models import Alert, Measurement
from telesante.patients.models import Patient
from telesante.realtime.bus import Bus
from telesante.teleconsultation import booking
from telesante.teleconsultation import schedule as agenda
from telesante.teleconsultation.agenda import PARIS
from telesante.teleconsultation.models import Appointment, ConsultationType

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
    """Book the actor's own slot for a patient the gate handed out; the patient is told, e-mailed
    and reminded like any booking (teleconsultation.booking)."""
    _professional(actor)
    appointment = await booking.book_for_patient(
        db,
        bus,
        actor,
        patient.id,
        type_id,
        starts_at,
        reason,
        timeline_title="Téléconsultation programmée par l'équipe de télésurveillance",
        announcement="Téléconsultation proposée par votre équipe de télésurveillance",
    )
    record(
        db,
        actor,
        action="create",
        resource_type="Appointment",
        resource_id=appointment.id,
        patient_id=patient.id,
    )
    return appointment


def _professional(actor: Actor) -> str:
    if actor.role != "professional" or not actor.professional_id:
        raise Forbidden("réservé aux professionnels de l'équipe de télésurveillance")
    return actor.professional_id
