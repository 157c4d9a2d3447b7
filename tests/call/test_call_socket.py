"""The call socket through a real server: who may join, what is relayed, what is recorded."""

import asyncio
import json
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
import websockets
from sqlalchemy import select
from websockets.asyncio.client import ClientConnection

from telesante.billing.models import BillingLine
from telesante.db import transaction
from telesante.runtime import Runtime
from telesante.teleconsultation.call.tokens import Role, invite_companion, issue_join_token
from telesante.teleconsultation.models import Appointment
from telesante.timeline.models import TimelineEntry
from tests.call.conftest import Call, make_call
from tests.fixtures.world import World

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI


async def token_for(
    runtime: Runtime, call: Call, role: Role = Role.patient, ttl: timedelta = timedelta(minutes=2)
) -> str:
    person = call.doctor if role is Role.professional else call.patient
    async with transaction(runtime.sessionmaker) as db:
        appointment = await db.get(Appointment, call.appointment.id)
        assert appointment
        return await issue_join_token(db, appointment, person.user, role, f"{role} name", ttl)


async def guest_token(runtime: Runtime, call: Call, name: str) -> str:
    async with transaction(runtime.sessionmaker) as db:
        appointment = await db.get(Appointment, call.appointment.id)
        assert appointment
        return await issue_join_token(db, appointment, None, Role.companion, name)


def url(live_server: str, appointment_id: str, token: str) -> str:
    return f"{live_server.replace('http', 'ws')}/ws/call/{appointment_id}?token={token}"


async def receive(socket: ClientConnection, kind: str) -> dict[str, Any]:
    while True:
        message = json.loads(await asyncio.wait_for(socket.recv(), 15))
        if message["type"] == kind:
            return message  # type: ignore[no-any-return]


async def refused(live_server: str, appointment_id: str, token: str) -> str:
    """The close reason of a refused socket (code 1008)."""
    async with websockets.connect(url(live_server, appointment_id, token)) as socket:
        with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
            await socket.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    return closed.value.rcvd.reason


async def test_a_used_token_is_worthless(live_server: str, runtime: Runtime, call: Call) -> None:
    token = await token_for(runtime, call)
    async with websockets.connect(url(live_server, call.appointment.id, token)) as socket:
        welcome = await receive(socket, "welcome")
        assert welcome["you"]["role"] == "patient" and welcome["rejoin"]
    assert "déjà utilisé" in await refused(live_server, call.appointment.id, token)


async def test_expired_unknown_and_missing_tokens_are_refused(
    live_server: str, runtime: Runtime, call: Call
) -> None:
    expired = await token_for(runtime, call, ttl=timedelta(seconds=-1))
    await refused(live_server, call.appointment.id, expired)
    await refused(live_server, call.appointment.id, "tsj_forged")
    await refused(live_server, call.appointment.id, "")


async def test_another_appointments_token_is_refused(
    live_server: str, runtime: Runtime, world: World, call: Call
) -> None:
    other = await make_call(world, runtime)
    token = await token_for(runtime, other)
    await refused(live_server, call.appointment.id, token)
    async with websockets.connect(url(live_server, other.appointment.id, token)) as socket:
        await receive(socket, "welcome")  # refused above without being spent


async def test_a_fifth_participant_is_refused(live_server: str, runtime: Runtime, call: Call) -> None:
    tokens = [await token_for(runtime, call, Role.professional), await token_for(runtime, call)]
    tokens += [await guest_token(runtime, call, name) for name in ("Infirmière Petit", "Pharmacien Roux")]
    sockets = [await websockets.connect(url(live_server, call.appointment.id, t)) for t in tokens]
    try:
        for socket in sockets:
            await receive(socket, "welcome")
        fifth = await guest_token(runtime, call, "Psychologue Blanc")
        assert "au plus 4" in await refused(live_server, call.appointment.id, fifth)
    finally:
        for socket in sockets:
            await socket.close()


async def test_invitations_stop_at_four_participants(runtime: Runtime, call: Call) -> None:
    from telesante.errors import Conflict

    async with transaction(runtime.sessionmaker) as db:
        appointment = await db.get(Appointment, call.appointment.id)
        assert appointment
        await invite_companion(db, appointment, "Infirmière Petit")
        await invite_companion(db, appointment, "Pharmacien Roux")
        with pytest.raises(Conflict):
            await invite_companion(db, appointment, "Psychologue Blanc")


async def test_relay_chat_incidents_and_end(live_server: str, runtime: Runtime, call: Call) -> None:
    doctor_token, patient_token = (
        await token_for(runtime, call, Role.professional),
        await token_for(runtime, call),
    )
    async with websockets.connect(url(live_server, call.appointment.id, doctor_token)) as doctor:
        me = (await receive(doctor, "welcome"))["you"]  # in the call before the patient comes
        patient = await websockets.connect(url(live_server, call.appointment.id, patient_token))
        patient_me = (await receive(patient, "welcome"))["you"]
        assert (await receive(doctor, "joined"))["peer"] == patient_me
        await doctor.send(
            json.dumps({"type": "signal", "to": patient_me["id"], "data": {"sdp": {"type": "offer"}}})
        )
        signal = await receive(patient, "signal")
        assert signal["from"] == me["id"] and signal["data"] == {"sdp": {"type": "offer"}}
        await patient.send(json.dumps({"type": "chat", "text": "J'ai de la fièvre depuis hier."}))
        chat = await receive(doctor, "chat")
        assert chat["text"] == "J'ai de la fièvre depuis hier." and chat["name"] == "patient name"
        await patient.send(json.dumps({"type": "incident", "kind": "ice_restart", "detail": "wifi"}))
        await patient.send(json.dumps({"type": "end"}))
        assert "seul le professionnel" in (await receive(patient, "error"))["detail"]
        await doctor.send(json.dumps({"type": "end"}))
        assert (await receive(patient, "ended"))["from"] == me["id"]
        await patient.close()
    async with transaction(runtime.sessionmaker) as db:
        appointment = await db.get(Appointment, call.appointment.id)
        assert appointment and appointment.status == "done" and appointment.ended_at
        assert [(i["kind"], i["role"], i["detail"]) for i in appointment.incidents] == [
            ("ice_restart", "patient", "wifi")
        ]
        entry = await db.scalar(
            TimelineEntry.__table__.select().where(TimelineEntry.source_id == call.appointment.id)
        )
        assert entry is not None
        line = await db.scalar(select(BillingLine).where(BillingLine.act_id == call.appointment.id))
        assert line is not None and line.code in ("TCG", "TC")  # the act held is billed once, rules attached
        assert {rule["name"] for rule in line.rules} >= {"video", "parcours", "known_patient"}
    rejoin = await token_for(runtime, call)
    assert "pas en cours" in await refused(live_server, call.appointment.id, rejoin)


async def test_a_reconnection_replaces_the_old_leg(live_server: str, runtime: Runtime, call: Call) -> None:
    doctor_url = url(live_server, call.appointment.id, await token_for(runtime, call, Role.professional))
    async with websockets.connect(doctor_url) as doctor:
        await receive(doctor, "welcome")  # in the call before the patient comes
        first = await websockets.connect(
            url(live_server, call.appointment.id, await token_for(runtime, call))
        )
        rejoin = (await receive(first, "welcome"))["rejoin"]
        old = (await receive(doctor, "joined"))["peer"]["id"]
        async with websockets.connect(url(live_server, call.appointment.id, rejoin)) as second:
            await receive(second, "welcome")
            assert (await receive(doctor, "left"))["from"] == old
            with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
                await receive(first, "never")
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4000


def test_turn_credentials_follow_coturns_rest_scheme() -> None:
    import base64
    import hashlib
    import hmac
    from datetime import UTC, datetime

    from telesante.teleconsultation.call.settings import TurnSettings
    from telesante.teleconsultation.call.turn import ice_config

    settings = TurnSettings(
        urls="stun:t.fr:3478,turn:t.fr:3478?transport=tcp", secret="s3cret", ttl_seconds=600, relay_only=True
    )
    config = ice_config(settings, "user-1", datetime(2026, 1, 1, tzinfo=UTC))
    stun, turn = config["iceServers"]
    assert stun == {"urls": ["stun:t.fr:3478"]} and config["iceTransportPolicy"] == "relay"
    assert turn["username"] == f"{int(datetime(2026, 1, 1, tzinfo=UTC).timestamp()) + 600}:user-1"
    expected = base64.b64encode(
        hmac.new(b"s3cret", turn["username"].encode(), hashlib.sha1).digest()
    ).decode()
    assert turn["credential"] == expected
    assert ice_config(TurnSettings(urls="turn:t.fr:3478"), "u")["iceServers"] == []  # no secret, no TURN


async def test_ice_servers_and_join_tokens_for_the_participants_only(
    client: "httpx.AsyncClient", app: "FastAPI", world: World, call: Call
) -> None:
    from telesante.teleconsultation.call.settings import TurnSettings

    app.state.call_turn = TurnSettings(urls="turn:turn.test:3478", secret="s")
    ice = await client.get(
        f"/api/teleconsultations/{call.appointment.id}/call/ice", headers=call.patient.headers
    )
    assert ice.status_code == 200
    assert ice.json()["iceServers"][0]["username"].endswith(f":{call.patient.user.id}")
    token = await client.post(
        f"/api/teleconsultations/{call.appointment.id}/call/token", headers=call.doctor.headers
    )
    assert token.status_code == 200 and token.json()["token"].startswith("tsj_")
    stranger = await world.professional("Inconnu")
    for path in ("call/ice", "call/token"):
        method = client.get if path.endswith("ice") else client.post
        response = await method(
            f"/api/teleconsultations/{call.appointment.id}/{path}", headers=stranger.headers
        )
        assert response.status_code == 404
    invitation = await client.post(
        f"/api/teleconsultations/{call.appointment.id}/call/invitations",
        headers=call.patient.headers,
        json={"display_name": "Voisin"},
    )
    assert invitation.status_code == 403
