"""Requests as the API (and later the pages) show them: the inbox and one request in full."""

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.auth.actor import Actor
from telesante.db import utcnow
from telesante.directory.models import Professional
from telesante.errors import Forbidden
from telesante.teleexpertise import answers, attachments, thread
from telesante.teleexpertise.access import Access, Role, assigned_to, open_to_pool
from telesante.teleexpertise.lifecycle import OPEN
from telesante.teleexpertise.models import ExpertAnswer, ExpertAssignment, ExpertRequest
from telesante.teleexpertise.rules import DELAYS
from telesante.teleexpertise.schemas import (
    AnswerOut,
    AttachmentOut,
    ExpertOut,
    MeasurementOut,
    MessageOut,
    PoolIn,
    RequestOut,
    RequestSummary,
)

AT_RISK = 0.1  # less than a tenth of the delay left (or overdue): shown as at risk


def at_risk(request: ExpertRequest, now: datetime) -> bool:
    return request.status in OPEN and request.due_at - now < DELAYS[request.urgency] * AT_RISK


def summary(request: ExpertRequest, role: Role, now: datetime | None = None) -> RequestSummary:
    now = now or utcnow()
    pool = (
        PoolIn(specialty=request.pool_specialty, organisation_id=request.pool_organisation_id)
        if request.pool_specialty and request.pool_organisation_id
        else None
    )
    return RequestSummary(
        id=request.id,
        patient_id=request.patient_id,
        requester_id=request.requester_id,
        urgency=request.urgency,
        status=request.status,
        due_at=request.due_at,
        seconds_left=int((request.due_at - now).total_seconds()),
        at_risk=at_risk(request, now),
        pool=pool,
        pool_open=request.pool_open,
        claimed_by_id=request.claimed_by_id,
        role=role,
        created_at=request.created_at,
    )


async def inbox(db: AsyncSession, actor: Actor, box: str) -> list[RequestSummary]:
    """`inbox`: addressed to me or open to my pool; `sent`: mine as requérant. By due time."""
    me = actor.professional_id
    if actor.role != "professional" or me is None:
        raise Forbidden("réservé aux professionnels")
    mine = ExpertRequest.requester_id == me
    condition = mine if box == "sent" else or_(assigned_to(me), open_to_pool(me))
    rows = await db.scalars(
        select(ExpertRequest).where(condition).order_by(ExpertRequest.due_at, ExpertRequest.id)
    )
    role = Role.requester if box == "sent" else None
    return [summary(r, role or await _inbox_role(db, r, me)) for r in rows]


async def _inbox_role(db: AsyncSession, request: ExpertRequest, me: str) -> Role:
    mine = await db.scalar(
        select(ExpertAssignment.id).where(
            ExpertAssignment.request_id == request.id, ExpertAssignment.professional_id == me
        )
    )
    return Role.expert if mine else Role.pool


async def _names(db: AsyncSession, ids: set[str]) -> dict[str, Professional]:
    rows = await db.scalars(select(Professional).where(Professional.id.in_(ids)))
    return {p.id: p for p in rows}


async def full(db: AsyncSession, access: Access) -> RequestOut:
    request = access.request
    assignments = list(
        await db.scalars(
            select(ExpertAssignment)
            .where(ExpertAssignment.request_id == request.id)
            .order_by(ExpertAssignment.created_at)
        )
    )
    messages = await thread.messages_of(db, request)
    given = await answers.answers_of(db, request)
    people = await _names(
        db,
        {a.professional_id for a in assignments}
        | {m.author_professional_id for m in messages}
        | {request.requester_id},
    )
    documents = await attachments.attached_documents(db, request)
    measurements = await attachments.attached_measurements(db, request)
    return RequestOut(
        **summary(request, access.role).model_dump(),
        question=request.question,
        experts=[
            ExpertOut(
                professional_id=a.professional_id,
                display_name=people[a.professional_id].display_name,
                specialty=people[a.professional_id].specialty,
                via=a.via,
                status=a.status,
            )
            for a in assignments
        ],
        attachments=[
            AttachmentOut(
                document_id=d.id,
                filename=d.filename,
                content_type=d.content_type,
                size=d.size,
                sha256=d.sha256,
            )
            for d in documents
        ],
        measurements=[
            MeasurementOut(id=m.id, kind=m.kind, value=m.value, effective_at=m.effective_at)
            for m in measurements
        ],
        messages=[
            MessageOut(
                id=m.id,
                author_professional_id=m.author_professional_id,
                author=people[m.author_professional_id].display_name,
                body=m.body,
                created_at=m.created_at,
            )
            for m in messages
        ],
        answers=[answer_out(a, people) for a in given],
        appointment_id=request.appointment_id,
        escalated_at=request.escalated_at,
    )


def answer_out(item: ExpertAnswer, people: dict[str, Professional]) -> AnswerOut:
    expert = people.get(item.professional_id)
    return AnswerOut(
        id=item.id,
        professional_id=item.professional_id,
        expert=expert.display_name if expert else "",
        opinion=item.opinion,
        management=item.management,
        see_patient=item.see_patient,
        signed_at=item.signed_at,
        content_sha256=item.content_sha256,
        billing=item.billing,
    )
