"""French pages of téléexpertise: the inbox, a new request and one request for each party.

The new request is sent by te_new.js through the JSON API (multipart, with the camera's photos);
every other action is a plain form calling the same services as the API. A refusal is shown on
the request page in French, and a savepoint drops what the refused attempt wrote.
"""

from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from telesante.audit.service import record
from telesante.auth.actor import Actor
from telesante.consent import service as consent
from telesante.deps import DbSession
from telesante.directory.models import Organisation, Professional, professional_organisations
from telesante.errors import AppError, Invalid
from telesante.patients import service as patients
from telesante.patients.access import access_patient
from telesante.patients.models import Patient
from telesante.teleconsultation import schedule as agenda
from telesante.teleconsultation.agenda import PARIS
from telesante.teleexpertise import answers, service, teleconsult, thread, views
from telesante.teleexpertise.access import Access, Role, access_request
from telesante.teleexpertise.lifecycle import LABELS, OPEN, Status
from telesante.teleexpertise.models import ExpertRequest
from telesante.teleexpertise.routes import bus_of
from telesante.teleexpertise.rules import EXPERT_PROFESSIONS
from telesante.teleexpertise.schemas import AnswerCreate, RequestSummary
from telesante.teleexpertise.timers import time_left
from telesante.web.guard import PageActor
from telesante.web.render import page

router = APIRouter(include_in_schema=False)
CONSENT_TEXT = (
    "J'ai informé le patient que son dossier (question, photos, documents joints) sera transmis à un "
    "médecin expert pour avis à distance, que l'avis sera versé à son dossier et que les données sont "
    "hébergées chez un hébergeur certifié HDS ; il a donné son accord."
)
ANSWER_FIELDS = {"opinion": "l'avis", "management": "la conduite à tenir", "see_patient": "voir le patient"}
Text = Annotated[str, Form(max_length=20000)]
Id = Annotated[str, Form(max_length=36)]


def left(summary: RequestSummary) -> str:
    """Time left in words, or how late the request is."""
    if summary.seconds_left < 0:
        return f"en retard de {time_left(timedelta(seconds=-summary.seconds_left))}"
    return f"{time_left(timedelta(seconds=summary.seconds_left))} restantes"


async def _names(db: DbSession, ids: set[str]) -> dict[str, Professional]:
    rows = await db.scalars(select(Professional).where(Professional.id.in_(ids)))
    return {p.id: p for p in rows}


async def _listed(db: DbSession, actor: Actor, rows: list[RequestSummary]) -> dict[str, str]:
    """The question's opening for each listed request, audited as a search like the patient list."""
    for row in rows:
        record(
            db,
            actor,
            action="search",
            resource_type="ExpertRequest",
            resource_id=row.id,
            patient_id=row.patient_id,
        )
    found = await db.execute(
        select(ExpertRequest.id, ExpertRequest.question).where(ExpertRequest.id.in_([r.id for r in rows]))
    )
    return {id_: text if len(text) <= 90 else f"{text[:90]}…" for id_, text in found}


@router.get("/teleexpertise")
async def inbox_page(request: Request, db: DbSession, actor: PageActor) -> HTMLResponse:
    try:
        inbox = await views.inbox(db, actor, "inbox")
        sent = await views.inbox(db, actor, "sent")
    except AppError as exc:
        return page(request, "error.html", exc.status, actor=actor, title="Téléexpertise", detail=exc.detail)
    people = await _names(db, {r.requester_id for r in inbox})
    return page(
        request,
        "te_inbox.html",
        actor=actor,
        inbox=inbox,
        sent=sent,
        people=people,
        questions=await _listed(db, actor, inbox + sent),
        left=left,
        labels=LABELS,
    )


async def _experts(db: DbSession, actor: Actor, q: str) -> list[Professional]:
    """Doctors and midwives who may give an opinion, by name or specialty; never oneself."""
    query = select(Professional).where(
        Professional.profession.in_(EXPERT_PROFESSIONS), Professional.id != actor.professional_id
    )
    if q.strip():
        pattern = f"%{q.strip()}%"
        query = query.where(Professional.family_name.ilike(pattern) | Professional.specialty.ilike(pattern))
    return list(await db.scalars(query.order_by(Professional.family_name, Professional.id).limit(50)))


async def _pools(db: DbSession) -> list[tuple[str, str, str]]:
    """(organisation id, organisation name, specialty) wherever experts of a specialty work together."""
    rows = await db.execute(
        select(Organisation.id, Organisation.name, Professional.specialty)
        .join(professional_organisations, professional_organisations.c.organisation_id == Organisation.id)
        .join(Professional, Professional.id == professional_organisations.c.professional_id)
        .where(Professional.profession.in_(EXPERT_PROFESSIONS), Professional.specialty.is_not(None))
        .distinct()
        .order_by(Organisation.name, Professional.specialty)
    )
    return [(org_id, name, specialty or "") for org_id, name, specialty in rows]


@router.get("/teleexpertise/nouvelle")
async def new_page(
    request: Request, db: DbSession, actor: PageActor, patient_q: str = "", patient_id: str = "", q: str = ""
) -> HTMLResponse:
    try:
        await service.require_requester(db, actor)
        chosen = await access_patient(db, actor, patient_id[:36]) if patient_id else None
    except AppError as exc:
        return page(request, "error.html", exc.status, actor=actor, title="Téléexpertise", detail=exc.detail)
    consented = (
        chosen is not None and await consent.current_consent(db, chosen.id, "teleexpertise") is not None
    )
    return page(
        request,
        "te_new.html",
        actor=actor,
        patients=await patients.search_patients(db, actor, name=patient_q[:120] or None, limit=50),
        patient_q=patient_q,
        chosen=chosen,
        consented=consented,
        consent_text=CONSENT_TEXT,
        q=q,
        experts=await _experts(db, actor, q[:120]) if chosen and consented else [],
        pools=await _pools(db) if chosen and consented else [],
    )


@router.post("/teleexpertise/nouvelle/consentement")
async def record_consent(
    request: Request, db: DbSession, actor: PageActor, patient_id: Id, agreed: Id = ""
) -> Response:
    """The requérant records the patient's agreement, given in person, before asking."""
    try:
        if agreed != "oui":
            raise Invalid.field("agreed", "cochez la case : le patient doit avoir donné son accord")
        patient = await access_patient(db, actor, patient_id, action="create", resource_type="Consent")
        data = consent.ConsentCreate(act="teleexpertise", method="in_person", information=CONSENT_TEXT)
        await consent.record_consent(db, actor, patient, data)
    except AppError as exc:
        return page(request, "error.html", exc.status, actor=actor, title="Consentement", detail=exc.detail)
    return RedirectResponse(f"/teleexpertise/nouvelle?patient_id={patient_id}", status_code=303)


async def _slots(db: DbSession, actor: Actor, access: Access) -> tuple[str, dict[date, list[datetime]]]:
    """The expert's first consultation type and its free slots of the coming week, to propose one."""
    me = actor.professional_id
    if access.role is not Role.expert or me is None or access.request.appointment_id is not None:
        return "", {}
    kinds = await agenda.types_of(db, me)
    if not kinds:
        return "", {}
    today = datetime.now(PARIS).date()
    by_day: dict[date, list[datetime]] = {}
    for slot in await agenda.slots(db, me, kinds[0], today, today + timedelta(days=6)):
        by_day.setdefault(slot.astimezone(PARIS).date(), []).append(slot)
    return kinds[0].id, by_day


async def _render(
    request: Request,
    db: DbSession,
    actor: Actor,
    access: Access,
    *,
    status_code: int = 200,
    error: str | None = None,
) -> HTMLResponse:
    full = await views.full(db, access)
    me = actor.professional_id
    requester = await db.get(Professional, full.requester_id)
    type_id, slots = await _slots(db, actor, access)
    is_open = full.status in OPEN
    mine = next((e for e in full.experts if e.professional_id == me), None)
    return page(
        request,
        "te_request.html",
        status_code,
        actor=actor,
        r=full,
        patient=await db.get(Patient, full.patient_id),  # behind the request's gate above
        requester=requester,
        role=access.role,
        is_open=is_open,
        may_write=is_open
        and (access.role is Role.requester or (mine is not None and mine.status == "active")),
        may_answer=is_open and access.role is Role.expert and mine is not None and mine.status == "active",
        left=left(full),
        labels=LABELS,
        see_labels=answers.SEE_LABELS,
        experts=await _experts(db, actor, "") if is_open and access.role is Role.requester else [],
        type_id=type_id,
        slots=slots,
        paris=PARIS,
        error=error,
    )


@router.get("/teleexpertise/{request_id}")
async def request_page(request: Request, request_id: str, db: DbSession, actor: PageActor) -> HTMLResponse:
    access = await access_request(db, actor, request_id[:36])
    return await _render(request, db, actor, access)


async def _act(
    request: Request, db: DbSession, actor: Actor, access: Access, action: Callable[[], Awaitable[object]]
) -> Response:
    """Run a service call in a savepoint; on a refusal, the page again with the reason."""
    try:
        async with db.begin_nested():
            await action()
    except AppError as exc:
        await db.refresh(access.request)  # the savepoint's rollback expired what it touched
        return await _render(request, db, actor, access, status_code=exc.status, error=exc.detail)
    return RedirectResponse(f"/teleexpertise/{access.request.id}", status_code=303)


@router.post("/teleexpertise/{request_id}/message")
async def post_message(
    request: Request, request_id: str, db: DbSession, actor: PageActor, body: Text = ""
) -> Response:
    access = await access_request(db, actor, request_id[:36], action="update", resource_type="Communication")

    async def action() -> None:
        if not body.strip() or len(body) > 8000:
            raise Invalid.field("body", "écrivez un message (8 000 caractères au plus)")
        await thread.post_message(db, bus_of(request), actor, access, body.strip())

    return await _act(request, db, actor, access, action)


@router.post("/teleexpertise/{request_id}/prendre")
async def claim(request: Request, request_id: str, db: DbSession, actor: PageActor) -> Response:
    access = await access_request(db, actor, request_id[:36], action="update", claiming=True)
    return await _act(request, db, actor, access, lambda: service.claim(db, bus_of(request), actor, access))


def _answer(opinion: str, management: str, see_patient: str) -> AnswerCreate:
    try:
        return AnswerCreate.model_validate(
            {"opinion": opinion, "management": management, "see_patient": see_patient}
        )
    except ValidationError as exc:
        fields = sorted({ANSWER_FIELDS.get(str(e["loc"][0]), str(e["loc"][0])) for e in exc.errors()})
        raise Invalid("complétez " + ", ".join(fields) + " (l'avis : 10 caractères au moins)") from None


@router.post("/teleexpertise/{request_id}/avis")
async def post_answer(
    request: Request,
    request_id: str,
    db: DbSession,
    actor: PageActor,
    opinion: Text = "",
    management: Text = "",
    see_patient: Id = "",
) -> Response:
    access = await access_request(db, actor, request_id[:36], action="create", resource_type="ExpertAnswer")

    async def action() -> None:
        data = _answer(opinion, management, see_patient)
        await answers.answer(db, bus_of(request), actor, access, data)

    return await _act(request, db, actor, access, action)


@router.post("/teleexpertise/{request_id}/teleconsultation")
async def propose(
    request: Request,
    request_id: str,
    db: DbSession,
    actor: PageActor,
    consultation_type_id: Id = "",
    starts_at: Id = "",
) -> Response:
    access = await access_request(db, actor, request_id[:36], action="update")

    async def action() -> None:
        try:
            moment = datetime.fromisoformat(starts_at)
        except ValueError:
            raise Invalid.field("starts_at", "choisissez un créneau") from None
        await teleconsult.propose(db, bus_of(request), actor, access, consultation_type_id, moment)

    return await _act(request, db, actor, access, action)


@router.post("/teleexpertise/{request_id}/reassigner")
async def reassign(
    request: Request, request_id: str, db: DbSession, actor: PageActor, expert_id: Id = ""
) -> Response:
    access = await access_request(db, actor, request_id[:36], action="update")
    return await _act(
        request, db, actor, access, lambda: service.reassign(db, bus_of(request), actor, access, expert_id)
    )


@router.post("/teleexpertise/{request_id}/cloturer")
async def close(request: Request, request_id: str, db: DbSession, actor: PageActor) -> Response:
    access = await access_request(db, actor, request_id[:36], action="update")
    return await _act(request, db, actor, access, lambda: service.close(db, actor, access, Status.completed))


@router.post("/teleexpertise/{request_id}/annuler")
async def cancel(request: Request, request_id: str, db: DbSession, actor: PageActor) -> Response:
    access = await access_request(db, actor, request_id[:36], action="update")
    return await _act(request, db, actor, access, lambda: service.close(db, actor, access, Status.cancelled))
