"""Télésurveillance timers that fall due while the server is down fire once after it restarts."""

import asyncio
import os
import subprocess
import sys
import time

import httpx
import pytest
from httpx import AsyncClient
from sqlalchemy import select

from telesante.jobs.models import Job
from telesante.runtime import Runtime
from tests.fixtures.app import free_port
from tests.monitoring.conftest import Followed, ago, alerts, glucose, send
from tests.monitoring.test_timers import ESCALATE, MISSING, fast_forward
from tests.processes.servers import stop, wait_ready

pytestmark = pytest.mark.processes
CALL = "Alerte de télésurveillance à traiter"


def start(port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "telesante", "serve", "--port", str(port)],
        env={**os.environ, "TELESANTE_WORKER_POLL_SECONDS": "0.2"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def test_escalation_and_missing_data_due_during_a_crash_fire_once_after_it(
    client: AsyncClient, followed: Followed, runtime: Runtime
) -> None:
    await send(client, followed, glucose(62, ago(minutes=5)))
    [hypo] = await alerts(client, followed.doctor)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    first = start(port)
    wait_ready(base, first)
    stop(first, kill=True)  # a crash, not a clean shutdown
    await fast_forward(runtime, ESCALATE)  # both timers fall due while nothing runs
    await fast_forward(runtime, MISSING)
    second = start(port)
    try:
        wait_ready(base, second)
        deadline = time.monotonic() + 15
        calls: list[dict[str, str]] = []
        while not calls and time.monotonic() < deadline:
            calls = [
                n
                for n in httpx.get(f"{base}/api/notifications", headers=followed.second.headers).json()
                if n["title"] == CALL
            ]
            await asyncio.sleep(0.2)
        await asyncio.sleep(1)  # several more worker polls: nothing may fire again
        calls = [
            n
            for n in httpx.get(f"{base}/api/notifications", headers=followed.second.headers).json()
            if n["title"] == CALL
        ]
    finally:
        stop(second)
    assert [c["link"] for c in calls] == [f"/monitoring/alerts/{hypo['id']}"]
    assert sorted(a["rule_code"] for a in await alerts(client, followed.doctor)) == [
        "glucose.hypo",
        "glucose.missing",
    ]
    async with runtime.sessionmaker() as db:
        fired = list(
            await db.execute(
                select(Job.kind, Job.status, Job.attempts).where(
                    Job.kind.in_([ESCALATE, MISSING]), Job.status == "done"
                )
            )
        )
    assert sorted(tuple(row) for row in fired) == [(ESCALATE, "done", 1), (MISSING, "done", 1)]
