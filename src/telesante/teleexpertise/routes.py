"""The JSON API of téléexpertise. Pages (a later task) call the same services.

A request is created from JSON, or from a multipart form whose `request` part is that JSON and
whose `files` parts are photos and PDFs; the form is read in memory within the upload limit
(multipart.py). More files are added later as a raw body, like documents/routes.py.
"""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import Response
from pydantic import ValidationError

from telesante.deps import CurrentActor, DbSession
from telesante.documents.intake import check_declared_length, read_limited
from telesante.documents.routes import DOWNLOAD, FILENAME, UPLOAD_BODY, UPLOAD_ERRORS, download_headers
from telesante.errors import PROBLEM_RESPONSES, Forbidden, Invalid
from telesante.realtime.bus import Bus
from telesante.teleexpertise import answers, attachments, report_pdf, service, teleconsult, thread, views
from telesante.teleexpertise.access import Role, access_request, readable
from telesante.teleexpertise.lifecycle import Status, require_open
from telesante.teleexpertise.multipart import boundary_of, parse_form
from telesante.teleexpertise.schemas import (
    AnswerCreate,
    AnswerOut,
    MessageCreate,
    MessageOut,
    ProposeIn,
    ReassignIn,
    RequestCreate,
    RequestOut,
    RequestSummary,
)

router = APIRouter(prefix="/api/expert-requests", tags=["teleexpertise"], responses=PROBLEM_RESPONSES)
CREATE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/RequestCreate"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "request": {"type": "string", "description": "RequestCreate as JSON"},
                        "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
                    },
                }
            },
        },
    }
}


def bus_of(request: Request) -> Bus:
    bus: Bus = request.app.state.runtime.bus
    return bus


def _invalid(error: ValidationError) -> Invalid:
    errors = [{"field": ".".join(map(str, e["loc"])), "reason": e["msg"]} for e in error.errors()]
    return Invalid("; ".join(f"{e['field']}: {e['reason']}" for e in errors), errors=errors)


async def _read_create(request: Request) -> tuple[RequestCreate, list[attachments.Upload]]:
    content_type = request.headers.get("content-type", "")
    check_declared_length(request.headers.get("content-length"))
    body = await read_limited(request.stream())
    boundary = boundary_of(content_type)
    if boundary is None:
        raw, uploads = body, []
    else:
        parts = parse_form(body, boundary)
        raw = next((p.data for p in parts if p.name == "request"), b"")
        uploads = [attachments.Upload(p.data, p.content_type, p.filename) for p in parts if p.name == "files"]
    try:
        return RequestCreate.model_validate_json(raw), uploads
    except ValidationError as error:
        raise _invalid(error) from None


@router.post("", status_code=status.HTTP_201_CREATED, responses=UPLOAD_ERRORS, openapi_extra=CREATE_BODY)
async def create_request(request: Request, db: DbSession, actor: CurrentActor) -> RequestOut:
    """Ask for an opinion: the patient (consent to téléexpertise required), the question, named
    experts and/or a pool, the urgency, photos and PDFs (EXIF/GPS stripped, encrypted)."""
    data, uploads = await _read_create(request)
    created = await service.create_request(db, bus_of(request), actor, data, uploads)
    return await views.full(db, await access_request(db, actor, created.id))


@router.get("")
async def list_requests(
    db: DbSession, actor: CurrentActor, box: Annotated[Literal["inbox", "sent"], Query()] = "inbox"
) -> list[RequestSummary]:
    """The expert's inbox (or the requérant's sent requests), soonest due first."""
    return await views.inbox(db, actor, box)


@router.get("/{request_id}")
async def read_request(request_id: str, db: DbSession, actor: CurrentActor) -> RequestOut:
    return await views.full(db, await access_request(db, actor, request_id))


@router.post("/{request_id}/attachments", status_code=201, responses=UPLOAD_ERRORS, openapi_extra=UPLOAD_BODY)
async def add_attachment(
    request_id: str,
    request: Request,
    db: DbSession,
    actor: CurrentActor,
    filename: Annotated[str | None, FILENAME] = None,
) -> RequestOut:
    """The requérant adds a photo (from the camera) or a PDF to an open request."""
    access = await access_request(db, actor, request_id, action="update")
    if access.role is not Role.requester:
        raise Forbidden("seul le demandeur ajoute des pièces jointes")
    require_open(access.request)
    check_declared_length(request.headers.get("content-length"))
    upload = attachments.Upload(
        await read_limited(request.stream()), request.headers.get("content-type"), filename
    )
    files = await attachments.cleaned([upload])
    patient = await service.patient_of(db, actor, access.request)
    await attachments.attach_files(db, actor, patient, access.request, files)
    return await views.full(db, access)


@router.get("/{request_id}/attachments/{document_id}", response_class=Response, responses=DOWNLOAD)
async def download_attachment(
    request_id: str, document_id: str, db: DbSession, actor: CurrentActor
) -> Response:
    """A file attached to the request: all an expert may read of the record."""
    access = await access_request(db, actor, request_id, resource_type="Document", resource_id=document_id)
    document = await attachments.attached_document(db, access.request, document_id)
    return Response(document.content, media_type=document.content_type, headers=download_headers(document))


@router.post("/{request_id}/claim")
async def claim(request_id: str, request: Request, db: DbSession, actor: CurrentActor) -> RequestOut:
    """Take the request from the pool; 409 when a colleague was faster."""
    access = await access_request(db, actor, request_id, action="update", claiming=True)
    await service.claim(db, bus_of(request), actor, access)
    return await views.full(db, await access_request(db, actor, request_id))


@router.post("/{request_id}/messages", status_code=201)
async def post_message(
    request_id: str, data: MessageCreate, request: Request, db: DbSession, actor: CurrentActor
) -> MessageOut:
    access = await access_request(db, actor, request_id, action="update", resource_type="Communication")
    message = await thread.post_message(db, bus_of(request), actor, access, data.body)
    full = await views.full(db, access)
    return next(m for m in full.messages if m.id == message.id)


@router.post("/{request_id}/answers", status_code=201)
async def post_answer(
    request_id: str, data: AnswerCreate, request: Request, db: DbSession, actor: CurrentActor
) -> AnswerOut:
    """The signed answer; its `billing` says which lines were produced, or why not."""
    access = await access_request(db, actor, request_id, action="create", resource_type="ExpertAnswer")
    given = await answers.answer(db, bus_of(request), actor, access, data)
    full = await views.full(db, access)
    return next(a for a in full.answers if a.id == given.id)


REPORT_PDF: dict[int | str, dict[str, Any]] = {
    200: {"description": "Le compte rendu de l'avis, imprimable", "content": {"application/pdf": {}}},
}


@router.get("/{request_id}/answers/{answer_id}/report.pdf", response_class=Response, responses=REPORT_PDF)
async def read_answer_report(request_id: str, answer_id: str, db: DbSession, actor: CurrentActor) -> Response:
    """The signed answer as a PDF report, for the parties of the request and the patient's care
    team (as its FHIR DocumentReference); audited."""
    request = await readable(db, actor, request_id, "ExpertAnswerPdf", answer_id)
    answer = await report_pdf.answer_of(db, request, answer_id)
    data = await report_pdf.answer_pdf(db, request, answer)
    disposition = f'inline; filename="{report_pdf.file_name(answer)}"'
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": disposition, "Cache-Control": "no-store"},
    )


@router.post("/{request_id}/reassign")
async def reassign(
    request_id: str, data: ReassignIn, request: Request, db: DbSession, actor: CurrentActor
) -> RequestOut:
    """The requérant chooses another expert (after an escalation, or any time before an answer)."""
    access = await access_request(db, actor, request_id, action="update")
    await service.reassign(db, bus_of(request), actor, access, data.expert_id)
    return await views.full(db, access)


@router.post("/{request_id}/close")
async def close(request_id: str, db: DbSession, actor: CurrentActor) -> RequestOut:
    access = await access_request(db, actor, request_id, action="update")
    await service.close(db, actor, access, Status.completed)
    return await views.full(db, access)


@router.post("/{request_id}/cancel")
async def cancel(request_id: str, db: DbSession, actor: CurrentActor) -> RequestOut:
    access = await access_request(db, actor, request_id, action="update")
    await service.close(db, actor, access, Status.cancelled)
    return await views.full(db, access)


@router.post("/{request_id}/teleconsultation", status_code=201)
async def propose_teleconsultation(
    request_id: str, data: ProposeIn, request: Request, db: DbSession, actor: CurrentActor
) -> RequestOut:
    """The expert books one of their own slots for the patient; the request links the appointment.
    409 when the expert has no agenda (teleconsult.py)."""
    access = await access_request(db, actor, request_id, action="update")
    await teleconsult.propose(db, bus_of(request), actor, access, data.consultation_type_id, data.starts_at)
    return await views.full(db, access)
