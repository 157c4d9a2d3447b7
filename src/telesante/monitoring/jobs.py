"""The timers of télésurveillance, run by the worker in their own transaction.

Each acts at the moment it was set for (`engine.effective_now`) and is idempotent: the missing-data
check goes through the rule state machine, which raises once; an escalation step does nothing if
the alert was acknowledged, resolved or already escalated that far. With the worker's guarantees
(a job's effects and its `done` mark commit together), a restart neither loses nor repeats one.
"""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from telesante.jobs.queue import job_handler
from telesante.monitoring import alerts as alert_service
from telesante.monitoring import engine
from telesante.monitoring import notify as notifying
from telesante.monitoring.models import Alert, Program
from telesante.realtime.bus import Bus


@job_handler(engine.MISSING_JOB)
async def missing_check(db: AsyncSession, payload: dict[str, Any], bus: Bus) -> None:
    program = await engine.lock_program(db, payload["program_id"])
    if program is None or program.status != "active":
        return
    now = engine.effective_now(payload)
    if now > program.ends_at:
        return
    await engine.evaluate_program(db, bus, program, now=now, missing_only=True)


@job_handler(engine.ESCALATE_JOB)
async def escalate(db: AsyncSession, payload: dict[str, Any], bus: Bus) -> None:
    """Call the next operator of the team about an alert nobody acknowledged in time."""
    level = int(payload["level"])
    alert = await db.get(Alert, payload["alert_id"], with_for_update=True)
    if alert is None or alert.status != alert_service.AlertStatus.open or alert.escalation_level >= level:
        return
    program = await db.get(Program, alert.program_id)
    if program is None or not await notifying.call_operator(db, bus, program, alert, level):
        return
    now = engine.effective_now(payload)
    alert.escalation_level, alert.escalated_at = level, now
    await alert_service.publish(db, bus, alert, program)
    await engine.schedule_escalation(db, program, alert, level=level + 1, after=now)
