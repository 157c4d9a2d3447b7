"""Opening a call's socket, whatever the act: the join token is spent, the act says whether the
call is live, the room must have a place, and the leg gets its ICE servers and a rejoin token."""

import contextlib
from typing import Any

from fastapi import WebSocket, status

from telesante.db import new_id, transaction
from telesante.errors import AppError
from telesante.runtime import Runtime
from telesante.teleconsultation.call.acts import CallAct
from telesante.teleconsultation.call.settings import TurnSettings, get_turn_settings
from telesante.teleconsultation.call.signaling import Leg, Rooms, rooms_of, serve_leg
from telesante.teleconsultation.call.tokens import REJOIN_TTL, Role, consume_join_token, reissue
from telesante.teleconsultation.call.turn import ice_config


def turn_settings(app: Any) -> TurnSettings:
    """The app's TURN settings (a test may set its own coturn on app.state.call_turn)."""
    settings: TurnSettings | None = getattr(app.state, "call_turn", None)
    return settings or get_turn_settings()


async def serve_call(websocket: WebSocket, call: CallAct, token: str) -> None:
    """Accepted first, so that a refusal is a close frame 1008 with its reason, not an HTTP 403."""
    runtime: Runtime = websocket.app.state.runtime
    rooms = rooms_of(websocket.app)
    await websocket.accept()
    try:
        leg, welcome, participant = await _join(runtime, rooms, call, token)
    except AppError as error:
        with contextlib.suppress(RuntimeError):
            await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason=error.detail[:120])
        return
    leg.websocket = websocket
    welcome["ice"] = ice_config(turn_settings(websocket.app), participant)
    await serve_leg(websocket, runtime, rooms, leg, welcome)


async def _join(runtime: Runtime, rooms: Rooms, call: CallAct, token: str) -> tuple[Leg, dict[str, Any], str]:
    """The leg, its welcome (with a token for a reconnection) and whom its TURN credential names."""
    async with transaction(runtime.sessionmaker) as db:
        used = await consume_join_token(db, call.key, token)
        await call.require_live(db)
        key = f"user:{used.user_id}" if used.user_id else f"guest:{used.display_name}"
        rooms.check_room(call.key, key)
        rejoin = await reissue(db, used, REJOIN_TTL)
    leg = Leg(new_id(), call, key, Role(used.role), used.display_name, token_id=used.id)
    welcome = {"rejoin": rejoin, "rejoinExpiresIn": int(REJOIN_TTL.total_seconds())}
    return leg, welcome, used.user_id or leg.id
