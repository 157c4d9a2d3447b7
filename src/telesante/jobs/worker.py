"""The worker: claims due jobs one at a time and runs each in its own transaction.

Claiming is an UPDATE guarded by the job's state, so two workers (or two
processes) never both win the same job, on SQLite and PostgreSQL alike. The
handler's effects and the job's `done` mark commit together: a job that
succeeded never runs again. A worker that dies mid-job leaves a lease that
expires, and the job is retried with back-off.
"""

import asyncio
import contextlib
import os
import socket
import traceback
from datetime import timedelta

import structlog
from sqlalchemy import or_, select, update

from telesante.audit.chain import seal
from telesante.db import commit, transaction, utcnow
from telesante.jobs.models import Job
from telesante.jobs.queue import HANDLERS
from telesante.runtime import Runtime

log = structlog.get_logger()
LEASE = timedelta(minutes=5)


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(2**attempts, 3600))


class Worker:
    def __init__(self, runtime: Runtime, name: str | None = None) -> None:
        self.runtime = runtime
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self._stopping = asyncio.Event()

    async def run_forever(self) -> None:
        log.info("worker.started", worker=self.name)
        while not self._stopping.is_set():
            try:
                ran = await self.run_one()
            except Exception:
                log.exception("worker.loop_error")
                ran = False
            if not ran:
                await self._maintenance()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self.runtime.settings.worker_poll_seconds)

    async def _maintenance(self) -> None:
        """Idle-time upkeep: chain the new audit events."""
        try:
            async with transaction(self.runtime.sessionmaker) as db:
                await seal(db)
        except Exception:
            log.exception("worker.maintenance_error")

    def stop(self) -> None:
        self._stopping.set()

    async def run_until_idle(self) -> int:
        count = 0
        while await self.run_one():
            count += 1
        return count

    async def run_one(self) -> bool:
        job_id = await self._claim()
        if job_id is None:
            return False
        await self._run(job_id)
        return True

    async def _claim(self) -> str | None:
        now = utcnow()
        claimable = or_(Job.status == "pending", (Job.status == "running") & (Job.locked_until < now))
        async with transaction(self.runtime.sessionmaker) as db:
            candidates = await db.scalars(
                select(Job.id).where(claimable, Job.due_at <= now).order_by(Job.due_at).limit(5)
            )
            for job_id in candidates:
                result = await db.execute(
                    update(Job)
                    .where(Job.id == job_id, claimable)
                    .values(
                        status="running",
                        locked_by=self.name,
                        locked_until=now + LEASE,
                        attempts=Job.attempts + 1,
                    )
                )
                if result.rowcount == 1:  # type: ignore[attr-defined]
                    return job_id
        return None

    async def _run(self, job_id: str) -> None:
        async with self.runtime.sessionmaker() as db:
            job = await db.get(Job, job_id)
            assert job is not None
            handler = HANDLERS.get(job.kind)
            try:
                if handler is None:
                    raise LookupError(f"no handler for job kind {job.kind!r}")
                await handler(db, dict(job.payload), self.runtime.bus)
                job.status, job.done_at, job.locked_until = "done", utcnow(), None
                await commit(db)
                log.info("job.done", kind=job.kind, job_id=job_id, attempts=job.attempts)
            except Exception as exc:
                await db.rollback()
                await self._failed(job_id, exc)

    async def _failed(self, job_id: str, exc: Exception) -> None:
        async with transaction(self.runtime.sessionmaker) as db:
            job = await db.get(Job, job_id)
            assert job is not None
            job.last_error = "".join(traceback.format_exception_only(exc))[-2000:]
            job.locked_until = None
            if job.attempts >= job.max_attempts:
                job.status = "failed"
            else:
                job.status, job.due_at = "pending", utcnow() + backoff(job.attempts)
            log.warning(
                "job.failed",
                kind=job.kind,
                job_id=job_id,
                attempts=job.attempts,
                final=job.status == "failed",
                error=type(exc).__name__,
            )
