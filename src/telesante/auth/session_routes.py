"""The user's own login sessions: list them, end one, or log out everywhere (JSON and page)."""

from datetime import datetime

from fastapi import APIRouter, Request, status
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from telesante.auth import service as auth
from telesante.auth.models import WebSession
from telesante.deps import SESSION_COOKIE, CurrentActor, DbSession
from telesante.errors import PROBLEM_RESPONSES, NotFound
from telesante.kit.tokens import token_hash
from telesante.web.guard import PageActor
from telesante.web.render import page

router = APIRouter(tags=["security"], responses=PROBLEM_RESPONSES)


class SessionOut(BaseModel):
    id: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    ip: str | None
    user_agent: str | None
    device: str
    mfa_method: str | None
    current: bool


_BROWSERS = (("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari"))
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def device(user_agent: str | None) -> str:
    """A readable guess such as "Firefox sur Windows": enough to recognise one's own devices."""
    ua = user_agent or ""
    browser = next((name for mark, name in _BROWSERS if mark in ua), None)
    system = next((name for mark, name in _SYSTEMS if mark in ua), None)
    if browser and system:
        return f"{browser} sur {system}"
    return browser or system or "Appareil inconnu"


def session_out(session: WebSession, current_hash: str | None) -> SessionOut:
    return SessionOut(
        id=session.id,
        created_at=session.created_at,
        last_seen_at=session.last_seen_at,
        expires_at=session.expires_at,
        ip=session.ip,
        user_agent=session.user_agent,
        device=device(session.user_agent),
        mfa_method=session.mfa_method,
        current=session.token_hash == current_hash,
    )


def _current_hash(request: Request) -> str | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    return token_hash(cookie) if cookie else None


@router.get("/api/me/sessions")
async def list_sessions(request: Request, db: DbSession, actor: CurrentActor) -> list[SessionOut]:
    current = _current_hash(request) if actor.via == "session" else None
    return [session_out(s, current) for s in await auth.active_sessions(db, actor.user.id)]


@router.delete("/api/me/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
async def end_session(session_id: str, db: DbSession, actor: CurrentActor) -> Response:
    """End one of your sessions. Someone else's session id answers 404, like an unknown one."""
    if not await auth.end_session(db, actor.user.id, session_id):
        raise NotFound("session inconnue")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/api/me/sessions", status_code=status.HTTP_204_NO_CONTENT)
async def end_all_sessions(db: DbSession, actor: CurrentActor) -> Response:
    """Log out everywhere: every browser session of the account ends, this one included."""
    await auth.end_all_sessions(db, actor.user.id)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/security/sessions", include_in_schema=False)
async def sessions_page(request: Request, db: DbSession, actor: PageActor) -> Response:
    current = _current_hash(request)
    return page(
        request,
        "security_sessions.html",
        actor=actor,
        csrf_token=actor.csrf_token,
        totp=actor.user.totp_enabled_at is not None,
        sessions=[session_out(s, current) for s in await auth.active_sessions(db, actor.user.id)],
    )


@router.post("/security/sessions/{session_id}/end", include_in_schema=False)
async def end_session_page(
    request: Request,
    session_id: str,
    db: DbSession,
    actor: PageActor,
) -> Response:
    ended_current = any(
        s.id == session_id and s.token_hash == _current_hash(request)
        for s in await auth.active_sessions(db, actor.user.id)
    )
    if not await auth.end_session(db, actor.user.id, session_id):
        raise NotFound("session inconnue")
    return _to_login() if ended_current else RedirectResponse("/security/sessions", status_code=303)


@router.post("/security/sessions/end-all", include_in_schema=False)
async def end_all_page(db: DbSession, actor: PageActor) -> Response:
    await auth.end_all_sessions(db, actor.user.id)
    return _to_login()


def _to_login() -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
