"""WebSocket endpoint: a logged-in user receives their live events."""

import asyncio
import contextlib

from fastapi import APIRouter, WebSocket, WebSocketDisconnect, status

from telesante.auth import service as auth
from telesante.auth.actor import Actor
from telesante.db import transaction
from telesante.deps import SESSION_COOKIE
from telesante.realtime.bus import user_channel
from telesante.runtime import Runtime

router = APIRouter()


async def websocket_actor(websocket: WebSocket, runtime: Runtime) -> Actor | None:
    async with transaction(runtime.sessionmaker) as db:
        header = websocket.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            actor = await auth.token_actor(db, header[7:].strip())
        elif cookie := websocket.cookies.get(SESSION_COOKIE):
            actor = await auth.session_actor(db, cookie, runtime.settings)
        else:
            actor = None
    return actor if actor and actor.fully_authenticated else None


@router.websocket("/ws")
async def live_events(websocket: WebSocket) -> None:
    runtime: Runtime = websocket.app.state.runtime
    actor = await websocket_actor(websocket, runtime)
    if actor is None:
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION)
        return
    async with runtime.bus.subscribe(user_channel(actor.user.id)) as messages:
        await websocket.accept()
        await websocket.send_json({"type": "ready"})
        forward = asyncio.create_task(_forward(websocket, messages))
        try:
            while True:  # the client only listens; reading detects its departure
                await websocket.receive_text()
        except WebSocketDisconnect:
            pass
        finally:
            forward.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await forward


async def _forward(websocket: WebSocket, messages: object) -> None:
    async for message in messages:  # type: ignore[attr-defined]
        await websocket.send_json(message)
