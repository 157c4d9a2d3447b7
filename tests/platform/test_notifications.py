"""Notifications: the in-app inbox, e-mail over real SMTP, live push over WebSocket."""

import asyncio
import json
from email import message_from_bytes, policy

import websockets
from httpx import AsyncClient

from telesante.db import transaction
from telesante.jobs.worker import Worker
from telesante.notifications.service import notify
from telesante.runtime import Runtime
from tests.fixtures.world import World


async def test_a_notification_lands_in_the_inbox_and_goes_out_by_email(
    client: AsyncClient, world: World, runtime: Runtime, smtp_server: list[object]
) -> None:
    doctor = await world.professional()
    async with transaction(runtime.sessionmaker) as db:
        await notify(
            db, runtime.bus, doctor.user.id, "Nouvelle demande de téléexpertise", "Patient X, photo jointe"
        )
    inbox = (await client.get("/api/notifications", headers=doctor.headers)).json()
    assert [n["title"] for n in inbox] == ["Nouvelle demande de téléexpertise"]
    assert await Worker(runtime).run_until_idle() == 1
    [envelope] = smtp_server
    assert envelope.rcpt_tos == [doctor.user.email]  # type: ignore[attr-defined]
    mail = message_from_bytes(envelope.content, policy=policy.default)  # type: ignore[attr-defined]
    assert "téléexpertise" in mail["Subject"]
    assert "photo jointe" not in mail.get_content()  # health details stay in the app
    read = await client.post(f"/api/notifications/{inbox[0]['id']}/read", headers=doctor.headers)
    assert read.status_code == 204


async def test_nobody_marks_someone_elses_notification(
    client: AsyncClient, world: World, runtime: Runtime
) -> None:
    doctor, other = await world.professional(), await world.professional("Autre")
    async with transaction(runtime.sessionmaker) as db:
        notification = await notify(db, None, doctor.user.id, "Privé", "x", email=False)
    response = await client.post(f"/api/notifications/{notification.id}/read", headers=other.headers)
    assert response.status_code == 404


async def test_a_websocket_client_receives_its_notifications_live(
    live_server: str, world: World, runtime: Runtime
) -> None:
    doctor, other = await world.professional(), await world.professional("Autre")
    url = live_server.replace("http", "ws") + "/ws"
    async with websockets.connect(url, additional_headers=doctor.headers) as socket:
        assert json.loads(await socket.recv()) == {"type": "ready"}
        async with transaction(runtime.sessionmaker) as db:
            await notify(db, runtime.bus, other.user.id, "Pas pour vous", "x", email=False)
            await notify(db, runtime.bus, doctor.user.id, "Alerte glycémie", "x", email=False)
        message = json.loads(await asyncio.wait_for(socket.recv(), 5))
    assert message["type"] == "notification" and message["title"] == "Alerte glycémie"


async def test_an_unauthenticated_websocket_is_refused(live_server: str) -> None:
    url = live_server.replace("http", "ws") + "/ws"
    try:
        async with websockets.connect(url) as socket:
            await socket.recv()
        raise AssertionError("connection should have been refused")
    except websockets.exceptions.InvalidStatus as refused:
        assert refused.response.status_code == 403
    except websockets.exceptions.ConnectionClosedError as closed:
        assert closed.rcvd is not None and closed.rcvd.code == 1008
