"""Téléexpertise timers that fall due while the server is down fire once after it restarts."""

import asyncio
import time

import httpx
import pytest
from httpx import AsyncClient
from sqlalchemy import select

from telesante.jobs.models import Job
from telesante.runtime import Runtime
from tests.fixtures.app import free_port
from tests.monitoring.test_timer_restart import start
from tests.processes.servers import stop, wait_ready
from tests.teleexpertise.conftest import Team, created
from tests.teleexpertise.test_timers import fast_forward

pytestmark = pytest.mark.processes
REMINDER = "Téléexpertise : réponse attendue"


async def test_reminders_and_escalation_due_during_a_crash_fire_once_after_it(
    client: AsyncClient, team: Team, runtime: Runtime
) -> None:
    request = await created(client, team)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    first = start(port)
    wait_ready(base, first)
    stop(first, kill=True)  # a crash, not a clean shutdown
    for which in ("half", "nine_tenths", "escalate"):
        await fast_forward(runtime, f"teleexpertise:{request['id']}:1:{which}")
    second = start(port)
    try:
        wait_ready(base, second)
        deadline = time.monotonic() + 15
        escalated: list[str] = []
        while not escalated and time.monotonic() < deadline:
            notes = httpx.get(f"{base}/api/notifications", headers=team.requester.headers).json()
            escalated = [
                n["title"] for n in notes if n["title"] == "Téléexpertise sans réponse dans le délai"
            ]
            await asyncio.sleep(0.2)
        await asyncio.sleep(1)  # several more worker polls: nothing may fire again
        expert = [
            n["title"] for n in httpx.get(f"{base}/api/notifications", headers=team.expert.headers).json()
        ]
        requester = [
            n["title"] for n in httpx.get(f"{base}/api/notifications", headers=team.requester.headers).json()
        ]
    finally:
        stop(second)
    assert expert.count(REMINDER) == 2
    assert requester.count("Téléexpertise sans réponse dans le délai") == 1
    async with runtime.sessionmaker() as db:
        done = list(
            await db.execute(
                select(Job.dedupe_key, Job.attempts).where(
                    Job.dedupe_key.like(f"teleexpertise:{request['id']}:%"), Job.status == "done"
                )
            )
        )
    assert sorted((key.rsplit(":", 1)[1], attempts) for key, attempts in done) == [
        ("escalate", 1),
        ("half", 1),
        ("nine_tenths", 1),
    ]
