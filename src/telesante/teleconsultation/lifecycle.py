"""An appointment's states and the one function that moves between them."""

from enum import StrEnum

from telesante.db import utcnow
from telesante.errors import Conflict
from telesante.teleconsultation.models import Appointment


class Status(StrEnum):
    booked = "booked"
    waiting = "waiting"  # the patient is in the waiting room
    in_call = "in_call"  # admitted by the professional
    done = "done"
    cancelled = "cancelled"
    no_show = "no_show"


ALLOWED = {
    Status.booked: {Status.waiting, Status.cancelled, Status.no_show, Status.in_call},
    Status.waiting: {Status.in_call, Status.cancelled, Status.no_show},
    Status.in_call: {Status.done},
    Status.done: set(),
    Status.cancelled: set(),
    Status.no_show: set(),
}
STAMPS = {
    Status.waiting: "waiting_since",
    Status.in_call: "admitted_at",
    Status.done: "ended_at",
    Status.cancelled: "cancelled_at",
}


def move(appointment: Appointment, to: Status) -> None:
    """Refuse an illegal move with a message saying what was expected and what came."""
    current = Status(appointment.status)
    if to not in ALLOWED[current]:
        expected = ", ".join(sorted(ALLOWED[current])) or "nothing (final state)"
        raise Conflict(f"rendez-vous « {current} » : passage à « {to} » impossible (attendu : {expected})")
    appointment.status = to
    if stamp := STAMPS.get(to):
        setattr(appointment, stamp, utcnow())
