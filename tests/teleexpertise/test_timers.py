"""Reminders at half and nine tenths of the delay, escalation at the due time: once each.

The clock is moved as tests/monitoring/test_timers.py does: the job is made due now; each timer
acts at the moment it was set for.
"""

from datetime import datetime, timedelta

from httpx import AsyncClient
from sqlalchemy import select, update

from telesante.db import transaction, utcnow
from telesante.jobs.models import Job
from telesante.jobs.worker import Worker
from telesante.runtime import Runtime
from telesante.teleexpertise.timers import ESCALATE_JOB, REMINDER_JOB
from tests.teleexpertise.conftest import Team, created, pool_of, titles

REMINDER = "Téléexpertise : réponse attendue"


async def jobs(runtime: Runtime, request_id: str) -> list[Job]:
    async with runtime.sessionmaker() as db:
        rows = await db.scalars(
            select(Job).where(Job.dedupe_key.like(f"teleexpertise:{request_id}:%")).order_by(Job.due_at)
        )
        return list(rows)


async def fast_forward(runtime: Runtime, key: str) -> None:
    async with transaction(runtime.sessionmaker) as db:
        await db.execute(
            update(Job).where(Job.dedupe_key == key, Job.status == "pending").values(due_at=utcnow())
        )


async def test_timers_are_set_at_half_nine_tenths_and_the_due_time(
    client: AsyncClient, team: Team, runtime: Runtime
) -> None:
    request = await created(client, team, urgency="urgent")
    due = datetime.fromisoformat(request["due_at"])
    assert [(j.kind, j.due_at) for j in await jobs(runtime, request["id"])] == [
        (REMINDER_JOB, due - timedelta(hours=2)),
        (REMINDER_JOB, due - timedelta(minutes=24)),
        (ESCALATE_JOB, due),
    ]


async def test_reminders_then_escalation_to_the_pool_then_to_the_requester_once_each(
    client: AsyncClient, team: Team, runtime: Runtime
) -> None:
    request = await created(client, team, pool=pool_of(team))
    rid = request["id"]
    await Worker(runtime).run_until_idle()
    assert REMINDER not in await titles(client, team.expert)  # nothing due yet
    await fast_forward(runtime, f"teleexpertise:{rid}:1:half")
    await Worker(runtime).run_until_idle()
    assert (await titles(client, team.expert)).count(REMINDER) == 1
    await fast_forward(runtime, f"teleexpertise:{rid}:1:nine_tenths")
    await fast_forward(runtime, f"teleexpertise:{rid}:1:escalate")
    await Worker(runtime).run_until_idle()
    await Worker(runtime).run_until_idle()
    assert (await titles(client, team.expert)).count(REMINDER) == 2
    # Escalated to the pool: open to its members, a new due time and a new round of timers.
    assert "Téléexpertise à prendre en charge" in await titles(client, team.pool[0])
    escalated = (await client.get(f"/api/expert-requests/{rid}", headers=team.pool[0].headers)).json()
    assert escalated["pool_open"] is True and escalated["escalated_at"] is not None
    assert len([j for j in await jobs(runtime, rid) if j.status == "pending"]) == 3
    await fast_forward(runtime, f"teleexpertise:{rid}:2:escalate")
    await Worker(runtime).run_until_idle()
    assert (await titles(client, team.requester)).count("Téléexpertise sans réponse dans le délai") == 1
    await Worker(runtime).run_until_idle()
    fired = [(j.dedupe_key, j.status, j.attempts) for j in await jobs(runtime, rid) if j.status == "done"]
    assert all(attempts == 1 for _, _, attempts in fired) and len(fired) == 4


async def test_an_answered_request_is_not_reminded(client: AsyncClient, team: Team, runtime: Runtime) -> None:
    from tests.teleexpertise.conftest import ANSWER

    request = await created(client, team)
    answered = await client.post(
        f"/api/expert-requests/{request['id']}/answers", json=ANSWER, headers=team.expert.headers
    )
    assert answered.status_code == 201
    for which in ("half", "nine_tenths", "escalate"):
        await fast_forward(runtime, f"teleexpertise:{request['id']}:1:{which}")
    await Worker(runtime).run_until_idle()
    assert REMINDER not in await titles(client, team.expert)
    assert "Téléexpertise sans réponse dans le délai" not in await titles(client, team.requester)
