"""A session's states: calling (ringing at the doctor's or the team's), active (accepted), ended;
or cancelled (the professional hung up first) and missed (nobody accepted in time)."""

from datetime import timedelta
from enum import StrEnum

from telesante.errors import Conflict

RING_FOR = timedelta(minutes=3)  # then the call is missed and the professional told


class Status(StrEnum):
    calling = "calling"
    active = "active"
    ended = "ended"
    cancelled = "cancelled"
    missed = "missed"


LABELS = {
    Status.calling: "Appel en cours",
    Status.active: "En cours",
    Status.ended: "Terminée",
    Status.cancelled: "Annulée",
    Status.missed: "Sans réponse",
}


def require(status: str, *allowed: Status) -> None:
    if Status(status) not in allowed:
        raise Conflict(f"la session est « {LABELS[Status(status)]} »")
