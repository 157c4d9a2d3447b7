"""A request's states (those of the FHIR Task) and the one function that moves between them."""

from enum import StrEnum

from telesante.db import utcnow
from telesante.errors import Conflict
from telesante.teleexpertise.models import ExpertRequest


class Status(StrEnum):
    requested = "requested"  # sent, no expert has started
    accepted = "accepted"  # claimed from the pool
    in_progress = "in_progress"  # a thread or a first answer
    completed = "completed"  # every expert answered, or the requérant closed it
    cancelled = "cancelled"


OPEN = frozenset({Status.requested, Status.accepted, Status.in_progress})
ALLOWED = {
    Status.requested: {Status.accepted, Status.in_progress, Status.completed, Status.cancelled},
    Status.accepted: {Status.in_progress, Status.completed, Status.cancelled},
    Status.in_progress: {Status.completed, Status.cancelled},
    Status.completed: set(),
    Status.cancelled: set(),
}
LABELS = {
    Status.requested: "envoyée",
    Status.accepted: "prise en charge",
    Status.in_progress: "en cours",
    Status.completed: "clôturée",
    Status.cancelled: "annulée",
}


def require_open(request: ExpertRequest) -> None:
    if request.status not in OPEN:
        raise Conflict(
            f"demande de téléexpertise {LABELS[Status(request.status)]} : plus rien ne peut y être ajouté"
        )


def move(request: ExpertRequest, to: Status) -> None:
    """Refuse an illegal move with a message saying what was expected and what came."""
    current = Status(request.status)
    if current == to:
        return
    if to not in ALLOWED[current]:
        expected = ", ".join(sorted(ALLOWED[current])) or "rien (état final)"
        raise Conflict(f"demande « {current} » : passage à « {to} » impossible (attendu : {expected})")
    request.status = to
    if to in (Status.completed, Status.cancelled):
        request.closed_at = utcnow()
