"""The FHIR façade of téléexpertise: ServiceRequest, Task, Communication (and the answers'
DocumentReference, which fhir/routes.py dispatches here).

Two gates, as the request's own records are not the patient's whole record (ADR 0010): the
request's gate lets its parties in (an expert sees only what was addressed to them), and the
patient gate lets those who care for the patient see all of the patient's téléexpertise.
Anyone else gets the same 404 (or, searching, an empty bundle) as for nothing at all.
"""

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import ColumnElement, and_, false, or_, select

from telesante.audit.service import record, record_denied
from telesante.auth.actor import Actor
from telesante.deps import CurrentActor, DbSession
from telesante.errors import Invalid, NotFound
from telesante.fhir.mapping import searchset
from telesante.fhir.outcome import FHIR_JSON, FhirResponse
from telesante.patients.access import access_patient, visible_patients
from telesante.patients.models import Patient
from telesante.teleexpertise import fhir, report_pdf, thread
from telesante.teleexpertise.access import PURPOSE, assigned_to, open_to_pool, readable
from telesante.teleexpertise.models import ExpertAnswer, ExpertAssignment, ExpertMessage, ExpertRequest

router = APIRouter(prefix="/fhir/R4", tags=["fhir", "teleexpertise"], default_response_class=FhirResponse)
FHIR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": "OperationOutcome", "content": {FHIR_JSON: {}}} for status in (400, 401, 404)
}
MAX_COUNT = 100


async def searchable(db: DbSession, actor: Actor, patient_id: str, kind: str) -> ColumnElement[bool]:
    """The patient's requests the actor may see: all of them through the patient gate, otherwise
    those addressed to them (or open to their pool)."""
    visible = await db.scalar(select(Patient.id).where(Patient.id == patient_id, visible_patients(actor)))
    if visible:
        await access_patient(db, actor, patient_id, action="search", resource_type=kind)
        return ExpertRequest.patient_id == patient_id
    me = actor.professional_id if actor.role == "professional" and actor.fully_authenticated else None
    if me is None:
        record_denied(
            db,
            actor,
            action="search",
            resource_type=kind,
            resource_id=None,
            patient_id=patient_id,
            purpose=PURPOSE,
        )
        return false()
    return and_(ExpertRequest.patient_id == patient_id, or_(assigned_to(me), open_to_pool(me)))


async def _searched(
    request: Request, db: DbSession, actor: Actor, kind: str, *refs: str
) -> list[ExpertRequest]:
    """By `patient=`, or by a reference to the ServiceRequest (`based-on`, `focus`…)."""
    params = request.query_params
    if ref := next((params[r] for r in refs if params.get(r)), None):
        return [await readable(db, actor, ref.removeprefix("ServiceRequest/"), kind)]
    patient_id = (params.get("patient") or params.get("subject") or "").removeprefix("Patient/")
    if not patient_id:
        raise Invalid.field(
            "patient", "requis : Patient/{id}" + "".join(f", ou {r}=ServiceRequest/{{id}}" for r in refs)
        )
    rows = list(
        await db.scalars(
            select(ExpertRequest)
            .where(await searchable(db, actor, patient_id, kind))
            .order_by(ExpertRequest.created_at, ExpertRequest.id)
            .limit(MAX_COUNT)
        )
    )
    for found in rows:
        record(
            db,
            actor,
            action="search",
            resource_type=kind,
            resource_id=found.id,
            patient_id=found.patient_id,
            purpose=PURPOSE,
        )
    return rows


def _bundle(request: Request, resources: list[dict[str, Any]]) -> dict[str, Any]:
    base = str(request.base_url).rstrip("/") + "/fhir/R4"
    return searchset(resources[:MAX_COUNT], base, str(request.url), None)


@router.get("/ServiceRequest/{request_id}", responses=FHIR_RESPONSES)
async def read_service_request(request_id: str, db: DbSession, actor: CurrentActor) -> dict[str, Any]:
    """A téléexpertise request: what was asked, of whom, by when."""
    found = await readable(db, actor, request_id, "ServiceRequest")
    return fhir.service_request_resource(await fhir.load(db, found))


@router.get("/ServiceRequest", responses=FHIR_RESPONSES)
async def search_service_request(request: Request, db: DbSession, actor: CurrentActor) -> dict[str, Any]:
    """A patient's téléexpertise requests (`patient=`), or one by `_id`."""
    rows = await _searched(request, db, actor, "ServiceRequest", "_id")
    return _bundle(request, [fhir.service_request_resource(await fhir.load(db, r)) for r in rows])


async def _tasks(db: DbSession, found: ExpertRequest) -> list[dict[str, Any]]:
    loaded = await fhir.load(db, found)
    return [fhir.task_resource(loaded, a) for a in loaded.assignments]


@router.get("/Task/{task_id}", responses=FHIR_RESPONSES)
async def read_task(task_id: str, db: DbSession, actor: CurrentActor) -> dict[str, Any]:
    """One expert's part of a request (its id is the assignment's)."""
    assignment = await db.get(ExpertAssignment, task_id)
    if assignment is None:
        raise NotFound("Task introuvable")
    found = await readable(db, actor, assignment.request_id, "Task", task_id)
    return fhir.task_resource(await fhir.load(db, found), assignment)


@router.get("/Task", responses=FHIR_RESPONSES)
async def search_task(request: Request, db: DbSession, actor: CurrentActor) -> dict[str, Any]:
    """The experts' parts: `patient=`, or `focus=`/`based-on=ServiceRequest/{id}`."""
    rows = await _searched(request, db, actor, "Task", "focus", "based-on")
    return _bundle(request, [task for r in rows for task in await _tasks(db, r)])


async def _communications(db: DbSession, found: ExpertRequest) -> list[dict[str, Any]]:
    loaded = await fhir.load(db, found)
    return [fhir.communication_resource(loaded, m) for m in await thread.messages_of(db, found)]


@router.get("/Communication/{message_id}", responses=FHIR_RESPONSES)
async def read_communication(message_id: str, db: DbSession, actor: CurrentActor) -> dict[str, Any]:
    """A message of a request's thread."""
    message = await db.get(ExpertMessage, message_id)
    if message is None:
        raise NotFound("Communication introuvable")
    found = await readable(db, actor, message.request_id, "Communication", message_id)
    return fhir.communication_resource(await fhir.load(db, found), message)


@router.get("/Communication", responses=FHIR_RESPONSES)
async def search_communication(request: Request, db: DbSession, actor: CurrentActor) -> dict[str, Any]:
    """The threads: `patient=`, or `based-on=`/`part-of=ServiceRequest/{id}`."""
    rows = await _searched(request, db, actor, "Communication", "based-on", "part-of")
    return _bundle(request, [c for r in rows for c in await _communications(db, r)])


async def answer_document(
    request: Request, db: DbSession, found: ExpertRequest, answer: ExpertAnswer
) -> dict[str, Any]:
    """The DocumentReference of an answer's PDF report (built to announce its size and hash)."""
    base = str(request.base_url).rstrip("/")
    url = f"{base}/api/expert-requests/{found.id}/answers/{answer.id}/report.pdf"
    pdf = await report_pdf.answer_pdf(db, found, answer)
    return fhir.document_reference_resource(found, answer, pdf, url)


async def read_answer_document(
    request: Request, db: DbSession, actor: Actor, answer_id: str
) -> dict[str, Any] | None:
    """For DocumentReference/{id}: None when no answer has this id (it may be another kind)."""
    answer = await db.get(ExpertAnswer, answer_id)
    if answer is None:
        return None
    found = await readable(db, actor, answer.request_id, "DocumentReference", answer_id)
    return await answer_document(request, db, found, answer)


async def patient_answer_documents(request: Request, db: DbSession, patient_id: str) -> list[dict[str, Any]]:
    """The answers' reports of a patient the caller already passed the patient gate for."""
    rows = await db.execute(
        select(ExpertRequest, ExpertAnswer)
        .join(ExpertAnswer, ExpertAnswer.request_id == ExpertRequest.id)
        .where(ExpertRequest.patient_id == patient_id)
        .order_by(ExpertAnswer.signed_at, ExpertAnswer.id)
        .limit(MAX_COUNT)
    )
    return [await answer_document(request, db, found, answer) for found, answer in rows]
