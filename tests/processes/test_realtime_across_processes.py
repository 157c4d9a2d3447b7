"""Two server processes on one PostgreSQL and one Redis: an event published in one
reaches a WebSocket client of the other."""

import asyncio
import json

import pytest
import websockets

from telesante.db import transaction, utcnow
from telesante.jobs.queue import schedule
from telesante.notifications.service import TIMER_JOB
from telesante.runtime import Runtime
from tests.fixtures.world import World
from tests.processes.servers import server

pytestmark = pytest.mark.processes


async def test_an_event_from_process_a_reaches_a_websocket_client_of_process_b(
    postgres_url: str, redis_url: str, world: World, runtime: Runtime
) -> None:
    doctor = await world.professional()
    with (
        server(worker=True, TELESANTE_REDIS_URL=redis_url) as process_a,
        server(worker=False, TELESANTE_REDIS_URL=redis_url) as process_b,
    ):
        assert process_a != process_b
        url = process_b.replace("http", "ws") + "/ws"
        async with websockets.connect(url, additional_headers=doctor.headers) as socket:
            assert json.loads(await socket.recv()) == {"type": "ready"}
            # Only process A runs a worker: the notification is created and published there.
            async with transaction(runtime.sessionmaker) as db:
                await schedule(
                    db, TIMER_JOB, {"user_id": doctor.user.id, "title": "Alerte SpO2 < 90 %"}, due_at=utcnow()
                )
            message = json.loads(await asyncio.wait_for(socket.recv(), 15))
    assert message["type"] == "notification" and message["title"] == "Alerte SpO2 < 90 %"
