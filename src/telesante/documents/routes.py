"""Upload, list and download a patient's documents (PDF, JPEG, PNG).

The upload is the raw request body with its Content-Type, not multipart: a multipart
parser spools large files to disk, and no plaintext document may touch the disk.
"""

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import Response

from telesante.deps import CurrentActor, DbSession
from telesante.documents import service
from telesante.documents.intake import MAX_BYTES, check_declared_length, read_limited
from telesante.documents.models import Document
from telesante.documents.schemas import DocumentOut
from telesante.documents.sniff import KINDS
from telesante.errors import PROBLEM_JSON, PROBLEM_RESPONSES
from telesante.patients.access import access_patient

router = APIRouter(prefix="/api/patients", tags=["documents"], responses=PROBLEM_RESPONSES)

BINARY = {"schema": {"type": "string", "format": "binary"}}
UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": f"the file itself, at most {MAX_BYTES // (1024 * 1024)} MB",
        "content": {kind.media_type: BINARY for kind in KINDS},
    }
}
UPLOAD_ERRORS: dict[int | str, dict[str, Any]] = {
    413: {"description": "File larger than the limit", "content": {PROBLEM_JSON: {}}},
    415: {"description": "Type not accepted, or not what the bytes are", "content": {PROBLEM_JSON: {}}},
}
DOWNLOAD: dict[int | str, dict[str, Any]] = {
    200: {"description": "The file", "content": {kind.media_type: BINARY for kind in KINDS}}
}
FILENAME = Query(max_length=1000, description="the file's name; cleaned and shortened")


def document_out(document: Document) -> DocumentOut:
    return DocumentOut.model_validate(document, from_attributes=True)


@router.post(
    "/{patient_id}/documents",
    status_code=status.HTTP_201_CREATED,
    responses=UPLOAD_ERRORS,
    openapi_extra=UPLOAD_BODY,
)
async def upload_document(
    patient_id: str,
    request: Request,
    db: DbSession,
    actor: CurrentActor,
    filename: Annotated[str | None, FILENAME] = None,
) -> DocumentOut:
    """Add a PDF, JPEG or PNG to the record. Images lose all their metadata (EXIF, GPS)."""
    patient = await access_patient(db, actor, patient_id, action="create", resource_type="Document")
    declared = service.accepted_kind(request.headers.get("content-type"))
    check_declared_length(request.headers.get("content-length"))
    data = await read_limited(request.stream())
    file = await service.clean(data, declared, filename)
    return document_out(await service.add_document(db, actor, patient, file))


@router.get("/{patient_id}/documents")
async def list_documents(patient_id: str, db: DbSession, actor: CurrentActor) -> list[DocumentOut]:
    """The documents' metadata, newest first."""
    patient = await access_patient(db, actor, patient_id, action="search", resource_type="Document")
    return [document_out(d) for d in await service.documents_of(db, patient)]


@router.get("/{patient_id}/documents/{document_id}", response_class=Response, responses=DOWNLOAD)
async def download_document(
    patient_id: str, document_id: str, db: DbSession, actor: CurrentActor
) -> Response:
    """The file, always as an attachment and never to be sniffed or rendered by the browser."""
    patient = await access_patient(
        db, actor, patient_id, action="read", resource_type="Document", resource_id=document_id
    )
    document = await service.document_of(db, patient, document_id)
    return Response(document.content, media_type=document.content_type, headers=download_headers(document))


def download_headers(document: Document) -> dict[str, str]:
    fallback = document.filename.encode("ascii", "replace").decode().replace("?", "_")
    disposition = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(document.filename)}"
    return {
        "Content-Disposition": disposition,
        "X-Content-Type-Options": "nosniff",
        # Health data stays out of shared caches, and is inert if a browser ever renders it.
        "Cache-Control": "no-store",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
