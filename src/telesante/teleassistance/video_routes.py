"""The téléassistance call: a participant's join token and the call's socket (the shared call layer)."""

from typing import Annotated

from fastapi import APIRouter, Query, WebSocket
from pydantic import BaseModel

from telesante.deps import CurrentActor, DbSession
from telesante.errors import PROBLEM_RESPONSES, NotFound
from telesante.teleassistance import service
from telesante.teleassistance.call import AssistanceCall, room_key
from telesante.teleassistance.lifecycle import Status, require
from telesante.teleconsultation.call.joining import serve_call
from telesante.teleconsultation.call.participants import professional_name
from telesante.teleconsultation.call.tokens import JOIN_TTL, Role, issue_join_token

router = APIRouter()
api = APIRouter(prefix="/api/teleassistance", tags=["teleassistance"], responses=PROBLEM_RESPONSES)
ROLE_NAMES = {"assisted": "professionnel assisté", "doctor": "médecin qui assiste"}


class JoinOut(BaseModel):
    token: str
    expires_in: int
    socket: str


def socket_path(session_id: str) -> str:
    return f"/ws/teleassistance/{session_id}"


@api.post("/sessions/{session_id}/join")
async def join(session_id: str, db: DbSession, actor: CurrentActor) -> JoinOut:
    """The assisted professional's or the accepted doctor's token for the session's call."""
    session = await service.session_for(db, actor, session_id, action="update")
    role = service.role_in(actor, session)
    if role not in ROLE_NAMES:  # a doctor still being rung is no participant yet
        raise NotFound(service.NOT_FOUND)
    require(session.status, Status.active)
    assert actor.professional_id is not None  # session_for lets professionals only in
    name = f"{await professional_name(db, actor.professional_id)} ({ROLE_NAMES[role]})"
    # Both are professionals to the call layer: either may end the call for both.
    token = await issue_join_token(db, room_key(session.id), actor.user, Role.professional, name, JOIN_TTL)
    return JoinOut(token=token, expires_in=int(JOIN_TTL.total_seconds()), socket=socket_path(session.id))


@router.websocket("/ws/teleassistance/{session_id}")
async def call_socket(websocket: WebSocket, session_id: str, token: Annotated[str, Query()] = "") -> None:
    await serve_call(websocket, AssistanceCall(session_id), token)


router.include_router(api)
