"""Sending a téléexpertise request, claiming it from a pool, giving it to another expert, closing it.

Services flush, never commit (ADR 0002): a refusal anywhere (no consent, a bad file, an expert
who may not answer) rolls the whole request back, files included.
"""

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.audit.service import record
from telesante.auth.actor import Actor
from telesante.consent.service import require_consent
from telesante.db import utcnow
from telesante.directory.models import Organisation, Professional
from telesante.errors import Conflict, Forbidden, Invalid
from telesante.patients.access import access_patient
from telesante.patients.models import Patient
from telesante.realtime.bus import Bus
from telesante.teleexpertise import attachments, notify, timers
from telesante.teleexpertise.access import Access, Role, pool_member
from telesante.teleexpertise.lifecycle import OPEN, Status, move, require_open
from telesante.teleexpertise.models import ExpertAssignment, ExpertRequest
from telesante.teleexpertise.rules import DELAYS, may_answer, may_request
from telesante.teleexpertise.schemas import RequestCreate
from telesante.timeline.service import add_entry

CONSENT_ACT = "teleexpertise"  # consent/service.py's name for the act
NEW_TITLE = "Nouvelle demande de téléexpertise"


async def require_requester(db: AsyncSession, actor: Actor) -> Professional:
    professional = await db.get(Professional, actor.professional_id) if actor.professional_id else None
    if actor.role != "professional" or professional is None or not may_request(professional.profession):
        raise Forbidden("seul un professionnel de santé peut demander une téléexpertise")
    return professional


async def _experts(db: AsyncSession, requester: Professional, ids: list[str]) -> list[Professional]:
    experts = []
    for expert_id in dict.fromkeys(ids):
        expert = await db.get(Professional, expert_id)
        if expert is None or not may_answer(expert.profession):
            raise Invalid.field(
                "expert_ids", f"{expert_id} : l'expert doit être un médecin ou une sage-femme"
            )
        if expert.id == requester.id:
            raise Invalid.field("expert_ids", "on ne se demande pas son propre avis")
        experts.append(expert)
    return experts


async def _check_pool(db: AsyncSession, data: RequestCreate) -> None:
    if data.pool is None:
        if not data.expert_ids:
            raise Invalid.field("expert_ids", "choisir au moins un expert ou une équipe")
        return
    if await db.get(Organisation, data.pool.organisation_id) is None:
        raise Invalid.field("pool.organisation_id", "organisation inconnue")


async def create_request(
    db: AsyncSession, bus: Bus | None, actor: Actor, data: RequestCreate, uploads: list[attachments.Upload]
) -> ExpertRequest:
    requester = await require_requester(db, actor)
    patient = await access_patient(db, actor, data.patient_id, action="create", resource_type="ExpertRequest")
    consent = await require_consent(db, patient.id, CONSENT_ACT)
    experts = await _experts(db, requester, data.expert_ids)
    await _check_pool(db, data)
    files = await attachments.cleaned(uploads)
    now = utcnow()
    request = ExpertRequest(
        patient_id=patient.id,
        requester_id=requester.id,
        requester_user_id=actor.user.id,
        consent_id=consent.id,
        question=data.question,
        urgency=data.urgency,
        status=Status.requested,
        due_at=now + DELAYS[data.urgency],
        round=1,
        pool_specialty=data.pool.specialty if data.pool else None,
        pool_organisation_id=data.pool.organisation_id if data.pool else None,
        pool_open=bool(data.pool) and not experts,
    )
    db.add(request)
    await db.flush()
    db.add_all(
        ExpertAssignment(request_id=request.id, professional_id=e.id, via="named", status="active")
        for e in experts
    )
    await attachments.attach_files(db, actor, patient, request, files)
    await attachments.attach_existing(db, patient, request, data.document_ids, data.measurement_ids)
    add_entry(
        db,
        patient.id,
        kind="teleexpertise",
        title="Demande de téléexpertise envoyée",
        summary=data.question,
        source_type="ExpertRequest",
        source_id=request.id,
        author_professional_id=requester.id,
    )
    record(
        db,
        actor,
        action="create",
        resource_type="ExpertRequest",
        resource_id=request.id,
        patient_id=patient.id,
    )
    await timers.schedule_round(db, request)
    await notify.tell(
        db, bus, await timers.waiting_on(db, request), request, NEW_TITLE, _asked(requester, request)
    )
    return request


def _asked(requester: Professional, request: ExpertRequest) -> str:
    urgent = " urgente" if request.urgency == "urgent" else ""
    return f"{requester.display_name} vous demande un avis{urgent}."


async def claim(db: AsyncSession, bus: Bus | None, actor: Actor, access: Access) -> ExpertRequest:
    """Take a request from the pool: one guarded UPDATE, so of two experts clicking at once
    exactly one wins and the other gets 409."""
    request, me = access.request, actor.professional_id
    if access.role is not Role.pool or me is None:
        raise Conflict("cette demande ne se prend pas en charge : elle vous est déjà adressée")
    won = await db.execute(
        update(ExpertRequest)
        .where(
            ExpertRequest.id == request.id,
            ExpertRequest.pool_open.is_(True),
            ExpertRequest.claimed_by_id.is_(None),
            ExpertRequest.status.in_(OPEN),
            pool_member(me),
        )
        .values(claimed_by_id=me)
        .execution_options(synchronize_session=False)
    )
    if won.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("un confrère vient de prendre cette demande en charge")
    await db.refresh(request)
    await _retire_unanswered(db, request)
    db.add(ExpertAssignment(request_id=request.id, professional_id=me, via="pool", status="active"))
    if request.status == Status.requested:
        move(request, Status.accepted)
    await db.flush()
    await notify.tell(
        db,
        bus,
        [request.requester_id],
        request,
        "Téléexpertise prise en charge",
        "Un expert a pris votre demande en charge.",
    )
    return request


async def _retire_unanswered(db: AsyncSession, request: ExpertRequest) -> None:
    await db.execute(
        update(ExpertAssignment)
        .where(ExpertAssignment.request_id == request.id, ExpertAssignment.status == "active")
        .values(status="reassigned")
        .execution_options(synchronize_session=False)
    )


async def reassign(
    db: AsyncSession, bus: Bus | None, actor: Actor, access: Access, expert_id: str
) -> ExpertRequest:
    """The requérant gives the request to another expert: a new due time, new timers; the
    experts who did not answer can no longer answer (409)."""
    request = _as_requester(access)
    require_open(request)
    requester = await require_requester(db, actor)
    [expert] = await _experts(db, requester, [expert_id])
    taken = await db.scalar(
        select(ExpertAssignment).where(
            ExpertAssignment.request_id == request.id, ExpertAssignment.professional_id == expert.id
        )
    )
    if taken is not None:
        raise Conflict("cet expert a déjà été sollicité pour cette demande")
    await _retire_unanswered(db, request)
    db.add(ExpertAssignment(request_id=request.id, professional_id=expert.id, via="named", status="active"))
    request.pool_open = False
    timers.start_round(request, utcnow())
    await db.flush()
    await timers.schedule_round(db, request)
    await notify.tell(db, bus, [expert.id], request, NEW_TITLE, _asked(requester, request))
    record(
        db,
        actor,
        action="update",
        resource_type="ExpertRequest",
        resource_id=request.id,
        patient_id=request.patient_id,
    )
    return request


async def close(db: AsyncSession, actor: Actor, access: Access, to: Status) -> ExpertRequest:
    """The requérant closes (completed) or cancels the request; nobody may answer it afterwards."""
    request = _as_requester(access)
    require_open(request)
    move(request, to)
    record(
        db,
        actor,
        action="update",
        resource_type="ExpertRequest",
        resource_id=request.id,
        patient_id=request.patient_id,
    )
    return request


def _as_requester(access: Access) -> ExpertRequest:
    if access.role is not Role.requester:
        raise Forbidden("réservé au professionnel qui a fait la demande")
    return access.request


async def patient_of(db: AsyncSession, actor: Actor, request: ExpertRequest) -> Patient:
    """The requérant's own access to the patient, through the patient gate (to add to the record)."""
    return await access_patient(db, actor, request.patient_id, action="create", resource_type="Document")
