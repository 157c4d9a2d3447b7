"""Durable jobs and timers: due times, one claim, retries with back-off, no rerun after success."""

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.db import commit, transaction, utcnow
from telesante.jobs.models import Job
from telesante.jobs.queue import job_handler, schedule
from telesante.jobs.worker import Worker
from telesante.realtime.bus import Bus
from telesante.runtime import Runtime

calls: list[dict[str, Any]] = []


@job_handler("test.record")
async def record_call(db: AsyncSession, payload: dict[str, Any], _bus: Bus) -> None:
    await asyncio.sleep(0.01)  # long enough for a concurrent worker to try the same job
    calls.append(payload)


@job_handler("test.flaky")
async def flaky(db: AsyncSession, payload: dict[str, Any], _bus: Bus) -> None:
    calls.append(payload)
    raise RuntimeError("SMTP down")


async def _schedule(runtime: Runtime, kind: str, **options: Any) -> str:
    async with transaction(runtime.sessionmaker) as db:
        return (await schedule(db, kind, {"n": 1}, **options)).id


async def _job(runtime: Runtime, job_id: str) -> Job:
    async with runtime.sessionmaker() as db:
        job = await db.get(Job, job_id)
        assert job is not None
        return job


async def test_a_timer_waits_for_its_due_time_then_runs_once(runtime: Runtime) -> None:
    calls.clear()
    job_id = await _schedule(runtime, "test.record", due_at=utcnow() + timedelta(seconds=0.3))
    worker = Worker(runtime)
    assert await worker.run_until_idle() == 0
    await asyncio.sleep(0.35)
    assert await worker.run_until_idle() == 1
    assert await worker.run_until_idle() == 0
    assert calls == [{"n": 1}]
    job = await _job(runtime, job_id)
    assert (job.status, job.attempts) == ("done", 1)


async def test_two_workers_racing_run_a_job_once(runtime: Runtime) -> None:
    calls.clear()
    for _ in range(10):
        await _schedule(runtime, "test.record")
    workers = [Worker(runtime, name=f"w{i}") for i in range(3)]
    await asyncio.gather(*(w.run_until_idle() for w in workers))
    assert len(calls) == 10
    async with runtime.sessionmaker() as db:
        statuses = list(await db.scalars(select(Job.status)))
    assert statuses == ["done"] * 10


async def test_a_failing_job_is_retried_with_back_off_then_marked_failed(runtime: Runtime) -> None:
    calls.clear()
    job_id = await _schedule(runtime, "test.flaky", max_attempts=2)
    worker = Worker(runtime)
    await worker.run_until_idle()
    job = await _job(runtime, job_id)
    assert (job.status, job.attempts) == ("pending", 1)
    assert "SMTP down" in (job.last_error or "")
    assert job.due_at > utcnow() + timedelta(seconds=1)  # backed off, not retried at once
    async with runtime.sessionmaker() as db:
        stored = await db.get(Job, job_id)
        assert stored is not None
        stored.due_at = utcnow()
        await commit(db)
    await worker.run_until_idle()
    assert (await _job(runtime, job_id)).status == "failed"
    assert len(calls) == 2


async def test_a_job_whose_worker_died_is_taken_over_after_its_lease(runtime: Runtime) -> None:
    calls.clear()
    job_id = await _schedule(runtime, "test.record")
    async with runtime.sessionmaker() as db:
        job = await db.get(Job, job_id)
        assert job is not None
        job.status, job.locked_by, job.locked_until = (
            "running",
            "dead-worker",
            utcnow() - timedelta(seconds=1),
        )
        await commit(db)
    assert await Worker(runtime).run_until_idle() == 1
    assert (await _job(runtime, job_id)).status == "done"


async def test_the_same_dedupe_key_schedules_one_job(runtime: Runtime) -> None:
    first = await _schedule(runtime, "test.record", dedupe_key="reminder:42")
    second = await _schedule(runtime, "test.record", dedupe_key="reminder:42")
    assert first == second


async def test_a_job_scheduled_in_a_rolled_back_transaction_does_not_exist(runtime: Runtime) -> None:
    async with runtime.sessionmaker() as db:
        await schedule(db, "test.record", {})
        await db.rollback()
    async with runtime.sessionmaker() as db:
        assert list(await db.scalars(select(Job.id))) == []
