"""The request's own gate: who may see a téléexpertise request, and as what.

An expert is not put in the patient's care team: they see the request addressed to them (or to
their pool) and what is attached to it, never the rest of the record (ADR 0010). The requérant and
the patient see it too. Everyone else gets the same 404 as for a request that does not exist, and
every decision is audited like the patient gate's.
"""

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import ColumnElement, and_, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.audit.service import record, record_denied
from telesante.auth.actor import Actor
from telesante.directory.models import Professional, professional_organisations
from telesante.errors import NotFound
from telesante.patients.access import access_patient
from telesante.teleexpertise.lifecycle import OPEN
from telesante.teleexpertise.models import ExpertAssignment, ExpertRequest
from telesante.teleexpertise.rules import EXPERT_PROFESSIONS

NOT_FOUND = "demande de téléexpertise introuvable"
PURPOSE = "teleexpertise"


class Role(StrEnum):
    requester = "requester"
    expert = "expert"  # named, or the pool's claimer (also once answered or reassigned)
    pool = "pool"  # a member of a pool the request is open to, before anyone claimed it
    patient = "patient"


@dataclass(frozen=True)
class Access:
    request: ExpertRequest
    role: Role


def pool_member(professional_id: str) -> ColumnElement[bool]:
    """A SQL condition on ExpertRequest: this professional belongs to the request's pool."""
    return exists(
        select(Professional.id)
        .join(professional_organisations, professional_organisations.c.professional_id == Professional.id)
        .where(
            Professional.id == professional_id,
            Professional.profession.in_(EXPERT_PROFESSIONS),
            func.lower(Professional.specialty) == func.lower(ExpertRequest.pool_specialty),
            professional_organisations.c.organisation_id == ExpertRequest.pool_organisation_id,
        )
    )


def open_to_pool(professional_id: str, *, even_claimed: bool = False) -> ColumnElement[bool]:
    """Open to this member's pool; `even_claimed` for a claim, whose loser must learn it lost (409)."""
    conditions = [ExpertRequest.pool_open.is_(True), pool_member(professional_id)]
    if not even_claimed:
        conditions += [ExpertRequest.claimed_by_id.is_(None), ExpertRequest.status.in_(OPEN)]
    return and_(*conditions)


def assigned_to(professional_id: str) -> ColumnElement[bool]:
    return exists(
        select(ExpertAssignment.id).where(
            ExpertAssignment.request_id == ExpertRequest.id,
            ExpertAssignment.professional_id == professional_id,
        )
    )


async def role_of(
    db: AsyncSession, actor: Actor, request: ExpertRequest, *, claiming: bool = False
) -> Role | None:
    if not actor.fully_authenticated:
        return None
    if actor.role == "patient":
        return Role.patient if actor.patient_id == request.patient_id else None
    me = actor.professional_id
    if actor.role != "professional" or not me:
        return None
    if request.requester_id == me:
        return Role.requester
    mine = select(ExpertRequest.id).where(ExpertRequest.id == request.id)
    if await db.scalar(mine.where(assigned_to(me))):
        return Role.expert
    if await db.scalar(mine.where(open_to_pool(me, even_claimed=claiming))):
        return Role.pool
    return None


async def access_request(
    db: AsyncSession,
    actor: Actor,
    request_id: str,
    *,
    action: str = "read",
    resource_type: str = "ExpertRequest",
    resource_id: str | None = None,
    claiming: bool = False,
) -> Access:
    """The request and the actor's role in it; 404 for anyone else, audited either way."""
    request = await db.get(ExpertRequest, request_id)
    role = await role_of(db, actor, request, claiming=claiming) if request else None
    audited = {"resource_type": resource_type, "resource_id": resource_id or request_id, "purpose": PURPOSE}
    if request is None or role is None:
        patient_id = request.patient_id if request else None
        record_denied(db, actor, action=action, patient_id=patient_id, **audited)
        raise NotFound(NOT_FOUND)
    record(db, actor, action=action, patient_id=request.patient_id, **audited)
    return Access(request, role)


async def readable(
    db: AsyncSession, actor: Actor, request_id: str, kind: str, resource_id: str | None = None
) -> ExpertRequest:
    """The request if the actor is one of its parties or may see the patient; audited either way."""
    request = await db.get(ExpertRequest, request_id)
    if request is None:
        raise NotFound(f"{kind} introuvable")
    audited = {"resource_type": kind, "resource_id": resource_id or request.id}
    if await role_of(db, actor, request) is not None:
        record(db, actor, action="read", patient_id=request.patient_id, purpose=PURPOSE, **audited)
        return request
    try:
        await access_patient(db, actor, request.patient_id, **audited)
    except NotFound:
        raise NotFound(f"{kind} introuvable") from None
    return request
