"""A timer that falls due while the server is down fires once after it restarts."""

import asyncio
import os
import subprocess
import sys
import time
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from telesante.db import transaction, utcnow
from telesante.jobs.models import Job
from telesante.jobs.queue import schedule
from telesante.notifications.service import TIMER_JOB
from telesante.runtime import Runtime
from tests.fixtures.app import free_port
from tests.fixtures.world import World
from tests.processes.servers import stop, wait_ready

pytestmark = pytest.mark.processes


def start(port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "telesante", "serve", "--port", str(port)],
        env={**os.environ, "TELESANTE_WORKER_POLL_SECONDS": "0.2"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def test_a_timer_due_during_a_restart_fires_once_after_it(world: World, runtime: Runtime) -> None:
    doctor = await world.professional()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    first = start(port)
    wait_ready(base, first)
    async with transaction(runtime.sessionmaker) as db:
        job = await schedule(
            db,
            TIMER_JOB,
            {"user_id": doctor.user.id, "title": "Rappel : téléconsultation"},
            due_at=utcnow() + timedelta(seconds=2),
        )
    stop(first, kill=True)  # a crash, not a clean shutdown
    await asyncio.sleep(2.5)  # the timer falls due while nothing runs
    async with runtime.sessionmaker() as db:
        assert (await db.scalar(select(Job.status).where(Job.id == job.id))) == "pending"

    second = start(port)
    try:
        wait_ready(base, second)
        deadline = time.monotonic() + 15
        inbox: list[dict[str, str]] = []
        while not inbox and time.monotonic() < deadline:
            inbox = httpx.get(f"{base}/api/notifications", headers=doctor.headers).json()
            await asyncio.sleep(0.2)
        await asyncio.sleep(1)  # several more worker polls: it must not fire again
        inbox = httpx.get(f"{base}/api/notifications", headers=doctor.headers).json()
    finally:
        stop(second)
    assert [n["title"] for n in inbox] == ["Rappel : téléconsultation"]
    async with runtime.sessionmaker() as db:
        stored = await db.get(Job, job.id)
        assert stored is not None and (stored.status, stored.attempts) == ("done", 1)
