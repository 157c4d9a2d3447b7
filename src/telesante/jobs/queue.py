"""Scheduling jobs and timers: a row in the `jobs` table with a due time."""

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.db import utcnow
from telesante.jobs.models import Job
from telesante.realtime.bus import Bus

# A handler gets the job's transaction, its payload and the bus for live events.
Handler = Callable[[AsyncSession, dict[str, Any], Bus], Awaitable[None]]
HANDLERS: dict[str, Handler] = {}


def job_handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the function that runs jobs of `kind` (inside the job's transaction)."""

    def register(handler: Handler) -> Handler:
        HANDLERS[kind] = handler
        return handler

    return register


async def schedule(
    db: AsyncSession,
    kind: str,
    payload: dict[str, Any] | None = None,
    *,
    due_at: datetime | None = None,
    dedupe_key: str | None = None,
    max_attempts: int = 8,
) -> Job:
    """Queue a job in the caller's transaction: it exists only if the caller commits."""
    if dedupe_key:
        existing = await db.scalar(select(Job).where(Job.dedupe_key == dedupe_key))
        if existing:
            return existing
    job = Job(
        kind=kind,
        payload=payload or {},
        due_at=due_at or utcnow(),
        dedupe_key=dedupe_key,
        max_attempts=max_attempts,
        status="pending",
        attempts=0,
    )
    db.add(job)
    await db.flush()
    return job
