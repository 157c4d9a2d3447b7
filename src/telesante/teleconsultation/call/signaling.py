"""Signaling of a call: one socket per participant ("leg"), relayed through the realtime bus.

Every message goes through the bus channel ``call:<room key>``, even between two legs
of the same process, so two server processes (Redis bus) serve one call. The server never
reads SDP: it checks who may send what, addresses it, and hands incidents and the end to the
call's act (acts.py).
Files never cross the socket: they are uploaded over HTTP (files.py), which announces them here.

Mesh rule, without glare: a newcomer waits; every leg already present offers to it.
"""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect, status

from telesante.db import transaction, utcnow
from telesante.errors import AppError, Conflict, Forbidden, Invalid
from telesante.runtime import Runtime
from telesante.teleconsultation.call.acts import CallAct
from telesante.teleconsultation.call.passes import HEADER, RENEW_EVERY, pass_for
from telesante.teleconsultation.call.state import LegState, advance, require
from telesante.teleconsultation.call.tokens import MAX_PARTICIPANTS, Role

MAX_MESSAGE = 64_000  # an SDP with four m-lines is ~10 kB
MAX_CHAT = 2000
MAX_INCIDENTS_PER_LEG = 30
INCIDENT_KINDS = frozenset({"reconnection", "ice_restart", "relay_fallback", "poor_network", "media_error"})
REPLACED = 4000  # close code: the same participant reconnected elsewhere


def channel(call_key: str) -> str:
    return f"call:{call_key}"


@dataclass
class Leg:
    id: str
    call: CallAct
    key: str  # the participant: a reconnection replaces the older leg with the same key
    role: Role
    name: str
    websocket: WebSocket | None = None  # None for a leg served by another process
    token_id: str = ""  # the join token that admitted it: a guest's identity in the records
    state: LegState = LegState.connecting
    incidents: int = 0
    transcript: list[dict[str, str]] = field(default_factory=list)  # the professional's legs only

    def public(self) -> dict[str, str]:
        return {"id": self.id, "role": self.role, "name": self.name}


class Rooms:
    """The legs this process knows of, per call: its own and those the bus told it about.

    Another process's legs are learned from "joined"/"present" messages, so the limit of
    four is exact within a process and eventually exact across processes (see ADR 0007).
    """

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, Leg]] = {}

    def legs(self, call_key: str) -> list[Leg]:
        return list(self._rooms.get(call_key, {}).values())

    def check_room(self, call_key: str, key: str) -> None:
        others = {leg.key for leg in self.legs(call_key) if leg.key != key}
        if len(others) >= MAX_PARTICIPANTS:
            raise Conflict(f"appel complet : au plus {MAX_PARTICIPANTS} participants")

    def add(self, leg: Leg) -> None:
        self._rooms.setdefault(leg.call.key, {})[leg.id] = leg

    def remove(self, call_key: str, leg_id: str) -> None:
        room = self._rooms.get(call_key, {})
        room.pop(leg_id, None)
        if not room:
            self._rooms.pop(call_key, None)


def rooms_of(app: Any) -> Rooms:
    rooms: Rooms | None = getattr(app.state, "call_rooms", None)
    if rooms is None:
        rooms = app.state.call_rooms = Rooms()
    return rooms


async def serve_leg(
    websocket: WebSocket, runtime: Runtime, rooms: Rooms, leg: Leg, welcome: dict[str, Any]
) -> None:
    """Accept, announce, relay until the socket closes, then say goodbye."""
    bus, name = runtime.bus, channel(leg.call.key)
    async with bus.subscribe(name) as messages:  # the socket is already accepted
        rooms.add(leg)
        leg.state = advance(leg.state, LegState.joined)
        peers = [other.public() for other in rooms.legs(leg.call.key) if other.key != leg.key]
        await websocket.send_json({**welcome, "type": "welcome", "you": leg.public(), "peers": peers})
        await bus.publish(name, {"type": "joined", "from": leg.id, "key": leg.key, "peer": leg.public()})
        tasks = [asyncio.create_task(_forward(runtime, rooms, leg, messages))]
        if leg.role is Role.companion:
            tasks.append(asyncio.create_task(_hand_passes(runtime, leg)))
        try:
            while leg.state is LegState.joined:
                await _receive(runtime, leg, await websocket.receive_text())
        except WebSocketDisconnect:
            pass
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            rooms.remove(leg.call.key, leg.id)
            if leg.state is LegState.joined:
                leg.state = advance(leg.state, LegState.left)
                await bus.publish(name, {"type": "left", "from": leg.id, "peer": leg.public()})


async def _forward(runtime: Runtime, rooms: Rooms, leg: Leg, messages: AsyncIterator[dict[str, Any]]) -> None:
    async for message in messages:
        kind, sender = message.get("type"), message.get("from")
        if sender == leg.id or message.get("to") not in (None, leg.id):
            continue
        if kind in ("joined", "present"):
            if await _learn(runtime, rooms, leg, message):
                return  # replaced by our own reconnection
            if kind == "present":
                continue
        elif kind == "left" and sender and _is_remote(rooms, leg, sender):
            rooms.remove(leg.call.key, sender)
        elif kind in ("chat", "file") and leg.role is Role.professional:
            leg.transcript.append({k: str(message[k]) for k in ("name", "text", "at")})
        assert leg.websocket is not None
        await leg.websocket.send_json(message)
        if kind == "ended":
            await _close(leg, LegState.ended, status.WS_1000_NORMAL_CLOSURE)
            return


async def _hand_passes(runtime: Runtime, leg: Leg) -> None:
    """A guest's call pass for files (passes.py), now and then afresh until the socket closes."""
    secret = runtime.settings.secret_key
    while True:
        call_pass = pass_for(secret, leg.call.key, leg.id, leg.token_id, leg.name)
        assert leg.websocket is not None
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await leg.websocket.send_json({"type": "pass", "pass": call_pass, "header": HEADER})
        await asyncio.sleep(RENEW_EVERY.total_seconds())


def _is_remote(rooms: Rooms, leg: Leg, leg_id: str) -> bool:
    return any(other.id == leg_id and other.websocket is None for other in rooms.legs(leg.call.key))


async def _learn(runtime: Runtime, rooms: Rooms, leg: Leg, message: dict[str, Any]) -> bool:
    """Keep the roster; answer a newcomer with "present"; give way to our own reconnection (True)."""
    peer, key = message["peer"], str(message["key"])
    if not any(other.id == peer["id"] for other in rooms.legs(leg.call.key)):
        rooms.add(Leg(peer["id"], leg.call, key, Role(peer["role"]), peer["name"]))
    if message["type"] != "joined":
        return False
    if key == leg.key:
        await runtime.bus.publish(
            channel(leg.call.key), {"type": "left", "from": leg.id, "peer": leg.public()}
        )
        await _close(leg, LegState.left, REPLACED)
        return True
    present = {"type": "present", "from": leg.id, "to": peer["id"], "key": leg.key, "peer": leg.public()}
    await runtime.bus.publish(channel(leg.call.key), present)
    return False


async def _close(leg: Leg, to: LegState, code: int) -> None:
    if leg.state is not LegState.joined:
        return  # already closing
    leg.state = advance(leg.state, to)
    assert leg.websocket is not None
    with contextlib.suppress(RuntimeError, WebSocketDisconnect):
        await leg.websocket.close(code=code)


async def _receive(runtime: Runtime, leg: Leg, text: str) -> None:
    assert leg.websocket is not None
    try:
        await _handle(runtime, leg, _parse(text))
    except AppError as error:
        await leg.websocket.send_json({"type": "error", "detail": error.detail})


def _parse(text: str) -> dict[str, Any]:
    if len(text) > MAX_MESSAGE:
        raise Invalid("message trop long")
    try:
        message = json.loads(text)
    except ValueError as exc:
        raise Invalid("message JSON invalide") from exc
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise Invalid("message sans type")
    return message


async def _handle(runtime: Runtime, leg: Leg, message: dict[str, Any]) -> None:
    kind = message["type"]
    require(leg.state, LegState.joined, kind)
    handler = HANDLERS.get(kind)
    if handler is None:
        raise Invalid(f"type de message inconnu : « {kind} »")
    await handler(runtime, leg, message)


async def _signal(runtime: Runtime, leg: Leg, message: dict[str, Any]) -> None:
    to, data = message.get("to"), message.get("data")
    if not isinstance(to, str) or not isinstance(data, dict):
        raise Invalid("signal : « to » et « data » requis")
    await _publish(runtime, leg, {"type": "signal", "to": to, "data": data})


async def _state(runtime: Runtime, leg: Leg, message: dict[str, Any]) -> None:
    flags = {k: bool(message.get(k)) for k in ("audio", "video", "screen")}
    await _publish(runtime, leg, {"type": "state", **flags})


async def _chat(runtime: Runtime, leg: Leg, message: dict[str, Any]) -> None:
    text = message.get("text")
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_CHAT:
        raise Invalid(f"message de 1 à {MAX_CHAT} caractères")
    chat = {
        "type": "chat",
        "name": leg.name,
        "role": leg.role,
        "text": text.strip(),
        "at": utcnow().isoformat(),
    }
    if leg.role is Role.professional:
        leg.transcript.append({k: str(chat[k]) for k in ("name", "text", "at")})
    await _publish(runtime, leg, chat)


async def _incident(runtime: Runtime, leg: Leg, message: dict[str, Any]) -> None:
    kind, detail = message.get("kind"), str(message.get("detail") or "")[:200]
    if kind not in INCIDENT_KINDS:
        raise Invalid(f"incident inconnu : « {kind} »")
    if leg.incidents >= MAX_INCIDENTS_PER_LEG:
        return  # a client in a loop must not fill the act's record
    leg.incidents += 1
    entry = {"kind": kind, "detail": detail, "role": leg.role, "at": utcnow().isoformat()}
    async with transaction(runtime.sessionmaker) as db:
        await leg.call.add_incident(db, entry)


async def _end(runtime: Runtime, leg: Leg, _: dict[str, Any]) -> None:
    if leg.role is not Role.professional:
        raise Forbidden("seul le professionnel termine l'appel")
    async with transaction(runtime.sessionmaker) as db:
        await leg.call.end(db, leg.transcript, leg.name)
    await _publish(runtime, leg, {"type": "ended"})
    await _close(leg, LegState.ended, status.WS_1000_NORMAL_CLOSURE)


async def _publish(runtime: Runtime, leg: Leg, message: dict[str, Any]) -> None:
    await runtime.bus.publish(channel(leg.call.key), {**message, "from": leg.id})


HANDLERS = {"signal": _signal, "state": _state, "chat": _chat, "incident": _incident, "end": _end}
