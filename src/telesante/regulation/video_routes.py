"""Video with the caller: the regulator's page and API, the caller's page (no account), the socket."""

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, WebSocket, status
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from telesante.deps import CurrentActor, DbSession
from telesante.documents.intake import TooLarge
from telesante.documents.routes import BINARY
from telesante.errors import PROBLEM_JSON, PROBLEM_RESPONSES
from telesante.realtime.bus import Bus
from telesante.regulation import video
from telesante.regulation.files import require_regulator
from telesante.regulation.staff import file_for
from telesante.regulation.views import user_names
from telesante.teleconsultation.call.joining import serve_call
from telesante.teleconsultation.call.tokens import JOIN_TTL
from telesante.web.guard import PageActor
from telesante.web.render import page

router = APIRouter()
api = APIRouter(prefix="/api/regulation", tags=["regulation"], responses=PROBLEM_RESPONSES)
CAPTURE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": f"the image itself (PNG or JPEG), at most {video.MAX_CAPTURE // (1024 * 1024)} MB",
        "content": {"image/png": BINARY, "image/jpeg": BINARY},
    }
}
CAPTURE_ERRORS: dict[int | str, dict[str, Any]] = {
    413: {"description": "Image larger than the limit", "content": {PROBLEM_JSON: {}}},
}


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: Literal["email", "sms"]
    contact: str = Field(min_length=3, max_length=254, description="the caller's e-mail address or phone")


class SessionOut(BaseModel):
    id: str
    channel: str
    contact: str
    started_at: datetime
    started_by: str | None
    link_expires_at: datetime
    sent_at: datetime | None
    used_at: datetime | None
    ended_at: datetime | None


class LinkOut(BaseModel):
    session: SessionOut
    link: str
    expires_in: int


class CaptureOut(BaseModel):
    id: str
    session_id: str
    taken_at: datetime
    taken_by: str | None
    content_type: str
    size: int
    sha256: str
    url: str


class VideoOut(BaseModel):
    sessions: list[SessionOut]
    captures: list[CaptureOut]


class JoinIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=200, description="the link's token (its fragment)")


class JoinOut(BaseModel):
    token: str
    expires_in: int
    socket: str


def _bus(request: Request) -> Bus:
    bus: Bus = request.app.state.runtime.bus
    return bus


def _socket(session_id: str) -> str:
    return f"/ws/regulation/video/{session_id}"


def _session_out(session: video.RegulationVideoSession, names: dict[str, str]) -> SessionOut:
    return SessionOut(
        id=session.id,
        channel=session.channel,
        contact=session.contact,
        started_at=session.started_at,
        started_by=names.get(session.started_by_id),
        link_expires_at=session.link_expires_at,
        sent_at=session.sent_at,
        used_at=session.used_at,
        ended_at=session.ended_at,
    )


def _capture_out(file_id: str, taken: video.RegulationCapture, names: dict[str, str]) -> CaptureOut:
    return CaptureOut(
        id=taken.id,
        session_id=taken.session_id,
        taken_at=taken.taken_at,
        taken_by=names.get(taken.taken_by_id),
        content_type=taken.content_type,
        size=taken.size,
        sha256=taken.sha256,
        url=f"/api/regulation/files/{file_id}/video/captures/{taken.id}",
    )


@api.post("/files/{file_id}/video", status_code=status.HTTP_201_CREATED)
async def send_link(
    file_id: str, data: LinkIn, request: Request, db: DbSession, actor: CurrentActor
) -> LinkOut:
    """The file's regulator sends the caller a one-time link (30 min), returned too, to be read out."""
    member, file = await file_for(db, actor, file_id, action="update")
    session, link = await video.start(db, _bus(request), member, file, data.channel, data.contact)
    names = await user_names(db, {session.started_by_id})
    expires_in = int(video.LINK_TTL.total_seconds())
    return LinkOut(session=_session_out(session, names), link=link, expires_in=expires_in)


@api.get("/files/{file_id}/video")
async def filed_video(file_id: str, db: DbSession, actor: CurrentActor) -> VideoOut:
    """The file's video sessions (times) and captured images (when, by whom), oldest first."""
    member, file = await file_for(db, actor, file_id)
    sessions, captures = await video.filed(db, file)
    names = await user_names(db, {s.started_by_id for s in sessions} | {c.taken_by_id for c in captures})
    video.audit_read(db, member, file)
    return VideoOut(
        sessions=[_session_out(s, names) for s in sessions],
        captures=[_capture_out(file.id, c, names) for c in captures],
    )


@api.post("/files/{file_id}/video/token")
async def regulator_token(file_id: str, db: DbSession, actor: CurrentActor) -> JoinOut:
    """The regulator's join token for the file's live session."""
    member, file = await file_for(db, actor, file_id, action="update")
    session, token = await video.regulator_joins(db, member, file)
    return JoinOut(token=token, expires_in=int(JOIN_TTL.total_seconds()), socket=_socket(session.id))


@api.post("/files/{file_id}/video/end")
async def end_session(file_id: str, request: Request, db: DbSession, actor: CurrentActor) -> SessionOut:
    member, file = await file_for(db, actor, file_id, action="update")
    session = await video.end(db, _bus(request), member, file)
    return _session_out(session, await user_names(db, {session.started_by_id}))


@api.post(
    "/files/{file_id}/video/captures",
    status_code=status.HTTP_201_CREATED,
    responses=CAPTURE_ERRORS,
    openapi_extra=CAPTURE_BODY,
)
async def capture(file_id: str, request: Request, db: DbSession, actor: CurrentActor) -> CaptureOut:
    """A still image of the caller's camera, filed in the DRM (checked, re-encoded, encrypted)."""
    member, file = await file_for(db, actor, file_id, action="update")
    require_regulator(member, file)  # before reading a byte of the body
    data = await _read_image(request)
    taken = await video.capture(db, member, file, data, request.headers.get("content-type"))
    return _capture_out(file.id, taken, await user_names(db, {taken.taken_by_id}))


async def _read_image(request: Request) -> bytes:
    """The body in memory, refused as soon as it passes the limit (whatever Content-Length says)."""
    too_large = TooLarge(f"l'image dépasse {video.MAX_CAPTURE // (1024 * 1024)} Mo")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > video.MAX_CAPTURE:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > video.MAX_CAPTURE:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


@api.get("/files/{file_id}/video/captures/{capture_id}", response_class=Response)
async def capture_image(file_id: str, capture_id: str, db: DbSession, actor: CurrentActor) -> Response:
    member, file = await file_for(db, actor, file_id)
    taken = await video.capture_of(db, member, file, capture_id)
    return Response(taken.image, media_type=taken.content_type)


@api.post("/video/join")
async def caller_join(data: JoinIn, db: DbSession) -> JoinOut:
    """The caller's page spends its one-time link for a join token (no account): a second use is refused."""
    session, token = await video.caller_joins(db, data.token)
    return JoinOut(token=token, expires_in=int(video.CALLER_TTL.total_seconds()), socket=_socket(session.id))


router.include_router(api)


@router.get("/regulation/dossiers/{file_id}/video", include_in_schema=False)
async def regulator_page(request: Request, db: DbSession, actor: PageActor, file_id: str) -> HTMLResponse:
    member, file = await file_for(db, actor, file_id)
    require_regulator(member, file)
    live = await video.live_session(db, file)
    return page(request, "video_regulator.html", actor=actor, file=file, live=live)


@router.get("/appel-video", include_in_schema=False)
async def caller_page(request: Request) -> HTMLResponse:
    """The caller's page: the link's token stays in the fragment, read by the page's script only."""
    return page(request, "video_caller.html", actor=None)


@router.websocket("/ws/regulation/video/{session_id}")
async def video_socket(websocket: WebSocket, session_id: str, token: Annotated[str, Query()] = "") -> None:
    await serve_call(websocket, video.RegulationVideoCall(session_id), token)
