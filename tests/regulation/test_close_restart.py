"""A validated file closes itself 24 h later by a durable timer: due while the server was down
(killed, not stopped), it closes once after the restart."""

import asyncio
import time

import httpx
import pytest
from httpx import AsyncClient
from sqlalchemy import select, update

from telesante.db import transaction, utcnow
from telesante.jobs.models import Job
from telesante.regulation.files import CLOSE_JOB
from telesante.runtime import Runtime
from tests.fixtures.app import free_port
from tests.monitoring.test_timer_restart import start
from tests.processes.servers import stop, wait_ready
from tests.regulation.conftest import Room, ok, opened, taken

pytestmark = pytest.mark.processes


async def test_closing_due_during_a_crash_happens_once_after_it(
    client: AsyncClient, room: Room, runtime: Runtime
) -> None:
    file = await opened(client, room)
    await taken(client, room, file["id"])
    headers = room.urgentist.headers
    ok(
        await client.put(
            f"/api/regulation/files/{file['id']}/care-level", json={"care_level": "R3"}, headers=headers
        )
    )
    ok(
        await client.post(
            f"/api/regulation/files/{file['id']}/state", json={"state": "VALIDE"}, headers=headers
        )
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    first = start(port)
    wait_ready(base, first)
    stop(first, kill=True)
    key = f"{CLOSE_JOB}:{file['id']}"
    async with transaction(runtime.sessionmaker) as db:  # 24 h pass while the server is down
        await db.execute(update(Job).where(Job.dedupe_key == key).values(due_at=utcnow()))
    second = start(port)
    try:
        wait_ready(base, second)
        deadline, state = time.monotonic() + 15, "VALIDE"
        while state == "VALIDE" and time.monotonic() < deadline:
            state = httpx.get(f"{base}/api/regulation/files/{file['id']}", headers=headers).json()["state"]
            await asyncio.sleep(0.2)
        await asyncio.sleep(1)  # more worker polls: nothing fires again
    finally:
        stop(second)
    assert state == "CLOTURE"
    async with runtime.sessionmaker() as db:
        job = await db.scalar(select(Job).where(Job.dedupe_key == key))
    assert job is not None and (job.status, job.attempts) == ("done", 1)
