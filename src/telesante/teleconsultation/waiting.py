"""The waiting room: the patient enters up to 10 minutes before; the professional sees who
waits and for how long, and admits them."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.audit.service import record
from telesante.auth.actor import Actor
from telesante.consent.service import require_consent
from telesante.db import after_commit, utcnow
from telesante.errors import Conflict, Forbidden, NotFound
from telesante.realtime.bus import Bus, user_channel
from telesante.teleconsultation.lifecycle import Status, move
from telesante.teleconsultation.models import Appointment

EARLY = timedelta(minutes=10)


@dataclass(frozen=True)
class Waiting:
    appointment: Appointment
    waited: timedelta


async def appointment_for(
    db: AsyncSession, actor: Actor, appointment_id: str, action: str = "read"
) -> Appointment:
    """The appointment if the actor is its patient or its professional (audited); 404 otherwise."""
    appointment = await db.get(Appointment, appointment_id)
    if appointment is None or not (
        (actor.patient_id and appointment.patient_id == actor.patient_id)
        or (actor.professional_id and appointment.professional_id == actor.professional_id)
    ):
        raise NotFound("rendez-vous introuvable")
    record(
        db,
        actor,
        action=action,
        resource_type="Appointment",
        resource_id=appointment.id,
        patient_id=appointment.patient_id,
    )
    return appointment


async def enter(db: AsyncSession, bus: Bus | None, actor: Actor, appointment: Appointment) -> Appointment:
    if actor.patient_id != appointment.patient_id:
        raise Forbidden("seul le patient entre en salle d'attente")
    now = utcnow()
    if now < appointment.starts_at - EARLY:
        opens = appointment.starts_at - EARLY
        raise Conflict(f"la salle d'attente ouvre 10 minutes avant le rendez-vous ({opens.isoformat()})")
    if now > appointment.ends_at:
        raise Conflict("ce rendez-vous est passé")
    await require_consent(db, appointment.patient_id, "teleconsultation")  # collected before the act
    if appointment.status != Status.waiting:
        move(appointment, Status.waiting)
    await _tell(db, bus, appointment, "patient_waiting")
    return appointment


async def admit(db: AsyncSession, bus: Bus | None, actor: Actor, appointment: Appointment) -> Appointment:
    if actor.professional_id != appointment.professional_id:
        raise Forbidden("seul le professionnel du rendez-vous fait entrer le patient")
    move(appointment, Status.in_call)
    await _tell(db, bus, appointment, "admitted")
    return appointment


async def waiting_room(db: AsyncSession, actor: Actor, now: datetime | None = None) -> list[Waiting]:
    if not actor.professional_id:
        raise Forbidden("réservé aux professionnels")
    now = now or utcnow()
    rows = await db.scalars(
        select(Appointment)
        .where(
            Appointment.professional_id == actor.professional_id,
            Appointment.status == Status.waiting,
        )
        .order_by(Appointment.starts_at)
    )
    return [Waiting(a, now - (a.waiting_since or now)) for a in rows]


async def _tell(db: AsyncSession, bus: Bus | None, appointment: Appointment, kind: str) -> None:
    """Live events to both sides, after commit (the professional's list, the patient's page)."""
    if bus is None:
        return
    from telesante.auth.models import User

    users = await db.scalars(
        select(User.id).where(
            (User.professional_id == appointment.professional_id)
            | (User.patient_id == appointment.patient_id)
        )
    )
    message = {"type": kind, "appointment_id": appointment.id, "status": appointment.status}
    for user_id in list(users):
        after_commit(db, _publisher(bus, user_channel(user_id), message))


def _publisher(bus: Bus, channel: str, message: dict[str, str]) -> Callable[[], Awaitable[None]]:
    return lambda: bus.publish(channel, message)
