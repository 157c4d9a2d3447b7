"""Share a file in a call, list the call's files, download one.

Professionals and patients act with their session (or API token) through the access gate.
A guest acts with the call pass its socket handed over (header ``X-Call-Pass``, passes.py):
it shares and downloads while the call lasts, and is audited under its join token. After
the call, a file is a document of the patient's record like any other: whoever the access
gate lets see the patient's documents may list and download it, here or in /api/patients.
"""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Request, status
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.audit.service import record
from telesante.auth.actor import Actor
from telesante.deps import DbSession, get_actor, get_optional_actor
from telesante.documents.intake import check_declared_length, read_limited
from telesante.documents.routes import DOWNLOAD, FILENAME, UPLOAD_BODY, UPLOAD_ERRORS, download_headers
from telesante.documents.service import accepted_kind, clean
from telesante.errors import PROBLEM_RESPONSES, Conflict, NotFound, Unauthorized
from telesante.patients.access import access_patient
from telesante.runtime import Runtime
from telesante.teleconsultation.call import files
from telesante.teleconsultation.call.files import SharedFile, Sharer
from telesante.teleconsultation.call.participants import participant
from telesante.teleconsultation.call.passes import HEADER, CallPass, read_pass
from telesante.teleconsultation.call.tokens import Role
from telesante.teleconsultation.lifecycle import Status
from telesante.teleconsultation.models import Appointment

router = APIRouter(prefix="/api/teleconsultations", tags=["teleconsultation"], responses=PROBLEM_RESPONSES)
PASS = Header(alias=HEADER, description="a guest's call pass, handed over its call socket (no session)")
PassHeader = Annotated[str | None, PASS]


class CallFileOut(BaseModel):
    id: str
    filename: str
    content_type: str
    size: int
    sha256: str
    shared_by: str
    shared_by_role: str
    created_at: datetime
    url: str


def file_out(appointment_id: str, shared: SharedFile) -> CallFileOut:
    document = shared.document
    return CallFileOut(
        id=document.id,
        filename=document.filename,
        content_type=document.content_type,
        size=document.size,
        sha256=document.sha256,
        shared_by=shared.shared_by,
        shared_by_role=shared.shared_by_role,
        created_at=document.created_at,
        url=files.file_url(appointment_id, document.id),
    )


@router.post(
    "/{appointment_id}/files",
    status_code=status.HTTP_201_CREATED,
    responses=UPLOAD_ERRORS,
    openapi_extra=UPLOAD_BODY,
)
async def share_file(
    appointment_id: str,
    request: Request,
    db: DbSession,
    call_pass: PassHeader = None,
    filename: Annotated[str | None, FILENAME] = None,
) -> CallFileOut:
    """Send a PDF, JPEG or PNG before or during the call: a record document attached to the encounter."""
    appointment, sharer = await _sharer(request, db, appointment_id, call_pass)
    declared = accepted_kind(request.headers.get("content-type"))
    check_declared_length(request.headers.get("content-length"))
    file = await clean(await read_limited(request.stream()), declared, filename)
    document = await files.share(db, _runtime(request).bus, appointment, sharer, file)
    return file_out(appointment.id, SharedFile(document, sharer.name, sharer.role))


@router.get("/{appointment_id}/files")
async def list_files(appointment_id: str, request: Request, db: DbSession) -> list[CallFileOut]:
    """The files sent before or during the call, oldest first (for the compte rendu)."""
    actor = await _actor(request, db)
    appointment = await _through_gate(db, actor, appointment_id, action="search")
    return [file_out(appointment.id, shared) for shared in await files.files_of(db, appointment)]


@router.get("/{appointment_id}/files/{file_id}", response_class=Response, responses=DOWNLOAD)
async def download_file(
    appointment_id: str, file_id: str, request: Request, db: DbSession, call_pass: PassHeader = None
) -> Response:
    """The file, always as an attachment, never to be sniffed or rendered by the browser."""
    if call_pass:
        claims = read_pass(_runtime(request).settings.secret_key, call_pass, appointment_id)
        appointment = await _guest_call(db, appointment_id)
        document = await files.file_of(db, appointment, file_id)
        _audit_guest(db, claims, appointment, "read", document.id)
    else:
        actor = await _actor(request, db)
        appointment = await _through_gate(db, actor, appointment_id, action="read", resource_id=file_id)
        document = await files.file_of(db, appointment, file_id)
    return Response(document.content, media_type=document.content_type, headers=download_headers(document))


async def _sharer(
    request: Request, db: AsyncSession, appointment_id: str, call_pass: str | None
) -> tuple[Appointment, Sharer]:
    """A guest by its pass, or the appointment's professional or patient by their session."""
    if call_pass:
        claims = read_pass(_runtime(request).settings.secret_key, call_pass, appointment_id)
        appointment = await _guest_call(db, appointment_id)
        _audit_guest(db, claims, appointment, "create", None)
        return appointment, Sharer(claims.token_id, claims.name, Role.companion)
    actor = await _actor(request, db)
    appointment, role, name = await participant(
        db, actor, appointment_id, action="create", resource_type="Document"
    )
    if appointment.status not in OPEN_FOR_FILES:
        raise Conflict("la téléconsultation est terminée ou annulée : l'envoi de documents est fermé")
    return appointment, Sharer(actor.user.id, name, role, actor.professional_id)


# The patient and the professional send documents ahead (the reason for consulting, results…)
# and during the call; a guest only during the call, with its pass.
OPEN_FOR_FILES = frozenset({Status.booked, Status.waiting, Status.in_call})


async def _actor(request: Request, db: AsyncSession) -> Actor:
    """The session's or token's user, as CurrentActor would give (CSRF checked on writes)."""
    return await get_actor(await get_optional_actor(request, db, _runtime(request).settings))


async def _through_gate(
    db: AsyncSession, actor: Actor, appointment_id: str, *, action: str, resource_id: str | None = None
) -> Appointment:
    """The appointment if the access gate lets `actor` see its patient's documents; one 404 otherwise."""
    appointment = await db.get(Appointment, appointment_id)
    if appointment is None:
        raise NotFound("rendez-vous introuvable")
    try:
        await access_patient(
            db,
            actor,
            appointment.patient_id,
            action=action,
            resource_type="Document",
            resource_id=resource_id or appointment.id,
        )
    except NotFound:
        raise NotFound("rendez-vous introuvable") from None  # the gate's refusal stays audited
    return appointment


async def _guest_call(db: AsyncSession, appointment_id: str) -> Appointment:
    """The appointment while its call lasts: a guest's pass ends with the call."""
    appointment = await db.get(Appointment, appointment_id)
    if appointment is None or appointment.status != Status.in_call:
        raise Unauthorized("laissez-passer d'appel expiré : la téléconsultation est terminée")
    return appointment


def _audit_guest(
    db: AsyncSession, claims: CallPass, appointment: Appointment, action: str, document_id: str | None
) -> None:
    """A guest has no user: the event names them, their join token and their leg in its reason."""
    record(
        db,
        None,
        action=action,
        resource_type="Document",
        resource_id=document_id or appointment.id,
        patient_id=appointment.patient_id,
        reason=f"accompagnant invité « {claims.name} » "
        f"(jeton {claims.token_id}, participant {claims.leg_id})",
    )


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime
