"""The JSON API of téléassistance: start and ring, accept (first wins), cancel, the checklist and
its steps, captures with their marks, incidents, the end and its report."""

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import Response
from pydantic import TypeAdapter, ValidationError

from telesante.deps import CurrentActor, DbSession
from telesante.documents.intake import check_declared_length, read_limited
from telesante.documents.models import Document
from telesante.documents.routes import BINARY, download_headers
from telesante.errors import PROBLEM_RESPONSES, Conflict, Invalid, NotFound
from telesante.realtime.bus import Bus
from telesante.teleassistance import service
from telesante.teleassistance.checklists import CHECKLISTS
from telesante.teleassistance.lifecycle import LABELS, Status
from telesante.teleassistance.models import AssistanceSession
from telesante.teleassistance.schemas import ChecklistIn, IncidentIn, Mark, StartIn

router = APIRouter(prefix="/api/teleassistance", tags=["teleassistance"], responses=PROBLEM_RESPONSES)
MARKS = TypeAdapter(list[Mark])
CAPTURE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "the still (PNG or JPEG) as annotated; its marks in the X-Marks header (JSON)",
        "content": {"image/png": BINARY, "image/jpeg": BINARY},
    }
}


def bus_of(request: Request) -> Bus:
    bus: Bus = request.app.state.runtime.bus
    return bus


async def view(db: DbSession, actor: CurrentActor, session: AssistanceSession) -> dict[str, Any]:
    """What a participant sees; a doctor being rung sees who calls and for what, nothing more."""
    role = service.role_in(actor, session)
    out: dict[str, Any] = {
        "id": session.id,
        "status": session.status,
        "status_label": LABELS[Status(session.status)],
        "act": session.act,
        "role": role,
        "created_at": session.created_at.isoformat(),
    }
    if role == "rung":
        return out
    steps = await service.steps_of(db, session)
    shots = await service.captures_of(db, session)
    return {
        **out,
        "patient_id": session.patient_id,
        "appointment_id": session.appointment_id,
        "accepted_at": session.accepted_at.isoformat() if session.accepted_at else None,
        "ended_at": session.ended_at.isoformat() if session.ended_at else None,
        "checklist": {"code": session.checklist, "title": CHECKLISTS[session.checklist][0]}
        if session.checklist
        else None,
        "steps": [
            {
                "position": s.position,
                "label": s.label,
                "done_at": s.done_at.isoformat() if s.done_at else None,
            }
            for s in steps
        ],
        "captures": [
            {
                "id": c.id,
                "document_id": c.document_id,
                "source": c.source,
                "marks": c.marks,
                "taken_at": c.created_at.isoformat(),
            }
            for c in shots
        ],
        "incidents": session.incidents,
        "report_document_id": session.report_document_id,
    }


@router.get("/checklists")
async def checklists(actor: CurrentActor) -> list[dict[str, Any]]:
    return [{"code": code, "title": title, "steps": steps} for code, (title, steps) in CHECKLISTS.items()]


@router.post("/sessions", status_code=status.HTTP_201_CREATED)
async def start(data: StartIn, request: Request, db: DbSession, actor: CurrentActor) -> dict[str, Any]:
    session = await service.start(db, bus_of(request), actor, data)
    return await view(db, actor, session)


@router.get("/calls")
async def ringing_me(db: DbSession, actor: CurrentActor) -> list[dict[str, Any]]:
    """The calls ringing for this doctor now."""
    return [await view(db, actor, s) for s in await service.calls_for(db, actor)]


@router.get("/sessions/{session_id}")
async def read(session_id: str, db: DbSession, actor: CurrentActor) -> dict[str, Any]:
    return await view(db, actor, await service.session_for(db, actor, session_id))


@router.post("/sessions/{session_id}/accept")
async def accept(session_id: str, request: Request, db: DbSession, actor: CurrentActor) -> dict[str, Any]:
    session = await service.session_for(db, actor, session_id, action="update")
    return await view(db, actor, await service.accept(db, bus_of(request), actor, session))


@router.post("/sessions/{session_id}/cancel")
async def cancel(session_id: str, request: Request, db: DbSession, actor: CurrentActor) -> dict[str, Any]:
    session = await service.session_for(db, actor, session_id, action="update")
    return await view(db, actor, await service.cancel(db, bus_of(request), actor, session))


@router.post("/sessions/{session_id}/checklist")
async def pick_checklist(
    session_id: str, data: ChecklistIn, db: DbSession, actor: CurrentActor
) -> dict[str, Any]:
    session = await _taking_part(db, actor, session_id)
    await service.pick_checklist(db, actor, session, data.checklist)
    return await view(db, actor, session)


@router.post("/sessions/{session_id}/steps/{position}")
async def tick(session_id: str, position: int, db: DbSession, actor: CurrentActor) -> dict[str, Any]:
    session = await _taking_part(db, actor, session_id)
    await service.tick(db, actor, session, position)
    return await view(db, actor, session)


@router.post(
    "/sessions/{session_id}/captures", status_code=status.HTTP_201_CREATED, openapi_extra=CAPTURE_BODY
)
async def capture(
    session_id: str,
    request: Request,
    db: DbSession,
    actor: CurrentActor,
    source: Annotated[str, Query(pattern=r"^[a-z]{3,20}$")] = "camera",
) -> dict[str, Any]:
    session = await _taking_part(db, actor, session_id)
    check_declared_length(request.headers.get("content-length"))  # the documents' size limit
    marks = _marks(request.headers.get("x-marks", "[]"))
    data = await read_limited(request.stream())
    shot = await service.capture(
        db, actor, session, data, request.headers.get("content-type", ""), source, marks
    )
    return {"id": shot.id, "document_id": shot.document_id, "marks": shot.marks}


def _marks(raw: str) -> list[Mark]:
    try:
        return MARKS.validate_python(json.loads(raw))
    except (ValueError, ValidationError) as invalid:
        detail = invalid.errors()[0]["msg"] if isinstance(invalid, ValidationError) else "JSON illisible"
        raise Invalid.field("X-Marks", f"annotations invalides : {detail}") from None


@router.get("/sessions/{session_id}/captures/{capture_id}", response_class=Response)
async def capture_image(session_id: str, capture_id: str, db: DbSession, actor: CurrentActor) -> Response:
    session = await _taking_part(db, actor, session_id)
    shot = next((c for c in await service.captures_of(db, session) if c.id == capture_id), None)
    document = await db.get(Document, shot.document_id) if shot else None
    if document is None:
        raise NotFound("image introuvable")
    return Response(document.content, media_type=document.content_type, headers=download_headers(document))


@router.post("/sessions/{session_id}/incidents", status_code=status.HTTP_201_CREATED)
async def incident(session_id: str, data: IncidentIn, db: DbSession, actor: CurrentActor) -> dict[str, Any]:
    session = await _taking_part(db, actor, session_id)
    service.add_incident(session, data.kind, data.at)
    return await view(db, actor, session)


@router.post("/sessions/{session_id}/end")
async def end(session_id: str, db: DbSession, actor: CurrentActor) -> dict[str, Any]:
    session = await _taking_part(db, actor, session_id)
    await service.end(db, actor, session)
    return await view(db, actor, session)


@router.get("/sessions/{session_id}/report.pdf", response_class=Response)
async def report(session_id: str, db: DbSession, actor: CurrentActor) -> Response:
    session = await _taking_part(db, actor, session_id)
    document = await db.get(Document, session.report_document_id) if session.report_document_id else None
    if document is None:
        raise Conflict("le compte rendu est produit à la fin de la session")
    return Response(document.content, media_type="application/pdf", headers=download_headers(document))


async def _taking_part(db: DbSession, actor: CurrentActor, session_id: str) -> AssistanceSession:
    """A session the actor is in (the assisted professional or the doctor), not one ringing them."""
    session = await service.session_for(db, actor, session_id, action="update")
    if service.role_in(actor, session) == "rung":
        raise Conflict("acceptez d'abord l'appel")
    return session
