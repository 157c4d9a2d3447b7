"""The 48-hour promise as durable timers: reminders before the due time, escalation at it.

Each request round (first due time, then each escalation or new expert) schedules its three jobs
with dedupe keys naming the request and the round, so scheduling twice writes nothing and a restart
neither loses nor repeats one (ADR 0005). A timer of an older round, or of a request already
answered, closed or cancelled, does nothing. Each acts at the moment it was set for (`at`).
"""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from telesante.jobs.queue import job_handler, schedule
from telesante.realtime.bus import Bus
from telesante.teleexpertise import notify
from telesante.teleexpertise.lifecycle import OPEN
from telesante.teleexpertise.models import ExpertRequest
from telesante.teleexpertise.rules import DELAYS, REMINDER_FRACTIONS

REMINDER_JOB = "teleexpertise.reminder"
ESCALATE_JOB = "teleexpertise.escalate"
REMINDER_TITLE = "Téléexpertise : réponse attendue"
ESCALATED_TITLE = "Téléexpertise à prendre en charge"
UNANSWERED_TITLE = "Téléexpertise sans réponse dans le délai"


def dedupe_key(request: ExpertRequest, which: str) -> str:
    return f"teleexpertise:{request.id}:{request.round}:{which}"


async def schedule_round(db: AsyncSession, request: ExpertRequest) -> None:
    """The reminders and the escalation of the request's current due time."""
    delay = DELAYS[request.urgency]
    start = request.due_at - delay
    for which, fraction in REMINDER_FRACTIONS.items():
        at = start + delay * fraction
        payload = {"request_id": request.id, "round": request.round, "which": which, "at": at.isoformat()}
        await schedule(db, REMINDER_JOB, payload, due_at=at, dedupe_key=dedupe_key(request, which))
    payload = {"request_id": request.id, "round": request.round, "at": request.due_at.isoformat()}
    await schedule(
        db, ESCALATE_JOB, payload, due_at=request.due_at, dedupe_key=dedupe_key(request, "escalate")
    )


def start_round(request: ExpertRequest, at: datetime) -> None:
    request.round += 1
    request.due_at = at + DELAYS[request.urgency]


def time_left(delta: timedelta) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d}" if hours else f"{minutes} min"


async def _current(db: AsyncSession, payload: dict[str, Any]) -> ExpertRequest | None:
    request = await db.get(ExpertRequest, payload["request_id"], with_for_update=True)
    if request is None or request.round != int(payload["round"]) or request.status not in OPEN:
        return None
    return request


async def waiting_on(db: AsyncSession, request: ExpertRequest) -> list[str]:
    """Who the request is waiting for: experts who have not answered, or the open pool."""
    experts = await notify.active_experts(db, request)
    if request.pool_open and request.claimed_by_id is None:
        experts += await notify.pool_members(db, request)
    return experts


@job_handler(REMINDER_JOB)
async def remind(db: AsyncSession, payload: dict[str, Any], bus: Bus) -> None:
    request = await _current(db, payload)
    if request is None:
        return
    left = time_left(request.due_at - datetime.fromisoformat(payload["at"]))
    await notify.tell(
        db,
        bus,
        await waiting_on(db, request),
        request,
        REMINDER_TITLE,
        f"Il reste {left} pour donner votre avis.",
    )


@job_handler(ESCALATE_JOB)
async def escalate(db: AsyncSession, payload: dict[str, Any], bus: Bus) -> None:
    """To the pool when named experts did not answer and a pool was given; otherwise to the
    requérant, who may choose another expert."""
    request = await _current(db, payload)
    if request is None or not await waiting_on(db, request):
        return
    at = datetime.fromisoformat(payload["at"])
    request.escalated_at = at
    if request.pool_specialty and not request.pool_open and request.claimed_by_id is None:
        request.pool_open = True
        start_round(request, at)
        await schedule_round(db, request)
        body = "Un confrère n'a pas pu répondre à temps : la demande est ouverte à votre équipe."
        await notify.tell(db, bus, await notify.pool_members(db, request), request, ESCALATED_TITLE, body)
        return
    body = "Aucun avis n'a été donné dans le délai : vous pouvez choisir un autre expert."
    await notify.tell(db, bus, [request.requester_id], request, UNANSWERED_TITLE, body)
