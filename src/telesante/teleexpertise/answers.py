"""The expert's structured, signed answer: filed on the patient's timeline as a report, returned
to the requérant, billed. With several experts each answers; the request completes with the last.

Nothing is written when the expert may no longer answer (closed, cancelled, reassigned: 409).
"""

import hashlib
import json

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.audit.service import record
from telesante.auth.actor import Actor
from telesante.db import utcnow
from telesante.errors import Forbidden
from telesante.realtime.bus import Bus
from telesante.teleexpertise import billing, notify
from telesante.teleexpertise.access import Access, Role
from telesante.teleexpertise.lifecycle import Status, move, require_open
from telesante.teleexpertise.models import ExpertAnswer, ExpertRequest
from telesante.teleexpertise.schemas import AnswerCreate
from telesante.teleexpertise.thread import require_active
from telesante.timeline.service import add_entry

SEE_LABELS = {
    "none": "pas besoin de voir le patient",
    "routine": "à voir en consultation habituelle",
    "soon": "à voir rapidement",
    "urgent": "à voir en urgence",
}


def seal(request: ExpertRequest, professional_id: str, data: AnswerCreate) -> str:
    """The hash of what was signed: the request, the expert and the three answers."""
    signed = {"request_id": request.id, "professional_id": professional_id, **data.model_dump()}
    return hashlib.sha256(json.dumps(signed, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


async def answer(
    db: AsyncSession, bus: Bus | None, actor: Actor, access: Access, data: AnswerCreate
) -> ExpertAnswer:
    request, me = access.request, actor.professional_id
    if access.role is not Role.expert or me is None:
        raise Forbidden("seul un expert sollicité (ou ayant pris la demande en charge) répond")
    require_open(request)
    assignment = await require_active(db, request, me)
    item = ExpertAnswer(
        request_id=request.id,
        professional_id=me,
        opinion=data.opinion,
        management=data.management,
        see_patient=data.see_patient,
        signed_at=utcnow(),
        content_sha256=seal(request, me, data),
        billing=[],
    )
    db.add(item)
    assignment.status = "answered"
    await db.flush()
    item.billing = await billing.bill_answer(db, request, item)
    await _advance(db, request)
    _file(db, request, item)
    record(
        db,
        actor,
        action="create",
        resource_type="ExpertAnswer",
        resource_id=item.id,
        patient_id=request.patient_id,
    )
    await notify.tell(
        db,
        bus,
        [request.requester_id],
        request,
        "Téléexpertise : avis reçu",
        "Un expert a répondu à votre demande.",
    )
    return item


async def _advance(db: AsyncSession, request: ExpertRequest) -> None:
    """Completed once nobody is left to answer (no active expert, no open unclaimed pool)."""
    waiting = await notify.active_experts(db, request)
    pool_waiting = request.pool_open and request.claimed_by_id is None
    move(request, Status.completed if not waiting and not pool_waiting else Status.in_progress)


def _file(db: AsyncSession, request: ExpertRequest, item: ExpertAnswer) -> None:
    add_entry(
        db,
        request.patient_id,
        kind="teleexpertise",
        title="Avis de téléexpertise",
        summary=f"{SEE_LABELS[item.see_patient]}. {item.management}",
        occurred_at=item.signed_at,
        source_type="ExpertAnswer",
        source_id=item.id,
        author_professional_id=item.professional_id,
    )


async def answers_of(db: AsyncSession, request: ExpertRequest) -> list[ExpertAnswer]:
    rows = await db.scalars(
        select(ExpertAnswer)
        .where(ExpertAnswer.request_id == request.id)
        .order_by(ExpertAnswer.signed_at, ExpertAnswer.id)
    )
    return list(rows)
