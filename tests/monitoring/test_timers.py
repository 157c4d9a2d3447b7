"""Durable timers: missing data and escalation fire through the worker, at their time, once.

The clock is moved the way tests/teleconsultation/test_booking.py does: by making the job due now.
A timer acts at the moment it was set for, so "twelve hours later" is what it evaluates.
"""

from datetime import datetime, timedelta
from typing import Any

from httpx import AsyncClient
from sqlalchemy import select, update

from telesante.db import transaction, utcnow
from telesante.jobs.models import Job
from telesante.jobs.queue import schedule
from telesante.jobs.worker import Worker
from telesante.runtime import Runtime
from tests.fixtures.world import Person
from tests.monitoring.conftest import Followed, ago, alerts, glucose, send

MISSING = "monitoring.missing_check"
ESCALATE = "monitoring.escalate"


async def pending(runtime: Runtime, kind: str) -> list[Job]:
    async with runtime.sessionmaker() as db:
        rows = await db.scalars(
            select(Job).where(Job.kind == kind, Job.status == "pending").order_by(Job.due_at)
        )
        return list(rows)


async def fast_forward(runtime: Runtime, kind: str) -> None:
    """Time passes: the pending timers of this kind are due now."""
    async with transaction(runtime.sessionmaker) as db:
        await db.execute(update(Job).where(Job.kind == kind, Job.status == "pending").values(due_at=utcnow()))


async def inbox(client: AsyncClient, person: Person) -> list[dict[str, Any]]:
    response = await client.get("/api/notifications", headers=person.headers)
    assert response.status_code == 200, response.text
    return [n for n in response.json() if n["title"] == "Alerte de télésurveillance à traiter"]


async def test_missing_data_is_raised_by_the_timer_once(
    client: AsyncClient, followed: Followed, runtime: Runtime
) -> None:
    last = await send(client, followed, glucose(110, ago(minutes=5)))
    [timer] = await pending(runtime, MISSING)
    reading_at = datetime.fromisoformat(last.json()["effectiveDateTime"])
    assert timer.due_at == reading_at + timedelta(hours=12)
    await Worker(runtime).run_until_idle()
    assert await alerts(client, followed.doctor) == []  # not yet due
    await fast_forward(runtime, MISSING)
    await Worker(runtime).run_until_idle()
    [alert] = await alerts(client, followed.doctor)
    assert (alert["rule_code"], alert["severity"], alert["label"]) == (
        "glucose.missing",
        "info",
        "Pas de glycémie depuis 12 h",
    )
    assert alert["evidence"] == [last.json()["id"]]
    assert datetime.fromisoformat(alert["occurred_at"]) == reading_at + timedelta(hours=12)
    assert await pending(runtime, MISSING) == []  # raised: the next reading clears it, no timer needed
    await Worker(runtime).run_until_idle()
    assert len(await alerts(client, followed.doctor)) == 1
    # Data again: the condition is over, and a new timer watches the new reading.
    await send(client, followed, glucose(120, ago(minutes=1)))
    [alert] = await alerts(client, followed.doctor)
    assert alert["condition_active"] is False
    [timer] = await pending(runtime, MISSING)
    assert timer.due_at > utcnow() + timedelta(hours=11)


async def test_one_timer_per_program_moves_with_the_data(
    client: AsyncClient, followed: Followed, runtime: Runtime
) -> None:
    [at_enrolment] = await pending(runtime, MISSING)  # program start + 12 h
    for minutes in (30, 20, 10):
        await send(client, followed, glucose(110, ago(minutes=minutes)))
    [moved] = await pending(runtime, MISSING)
    assert moved.id == at_enrolment.id and moved.due_at > at_enrolment.due_at


async def test_a_patient_who_never_sends_is_missing_from_the_start(
    client: AsyncClient, followed: Followed, runtime: Runtime
) -> None:
    await fast_forward(runtime, MISSING)
    await Worker(runtime).run_until_idle()
    [alert] = await alerts(client, followed.doctor)
    assert alert["rule_code"] == "glucose.missing" and alert["evidence"] == []


async def test_escalation_to_the_second_operator_once(
    client: AsyncClient, followed: Followed, runtime: Runtime
) -> None:
    await send(client, followed, glucose(62, ago(minutes=5)))
    [alert] = await alerts(client, followed.doctor)
    assert len(await inbox(client, followed.doctor)) == 1  # the first operator is called at once
    assert await inbox(client, followed.second) == []
    [timer] = await pending(runtime, ESCALATE)
    assert abs(
        (timer.due_at - datetime.fromisoformat(alert["raised_at"])) - timedelta(minutes=30)
    ) < timedelta(seconds=1)
    await Worker(runtime).run_until_idle()
    assert await inbox(client, followed.second) == []  # 30 minutes have not passed
    await fast_forward(runtime, ESCALATE)
    await Worker(runtime).run_until_idle()
    [call] = await inbox(client, followed.second)
    assert call["link"].endswith(alert["id"])
    escalated = (
        await client.get(f"/api/monitoring/alerts/{alert['id']}", headers=followed.doctor.headers)
    ).json()
    assert escalated["escalation_level"] == 1 and escalated["escalated_at"]
    # The end of the team: nothing more is scheduled; a repeated delivery of the step does nothing.
    assert await pending(runtime, ESCALATE) == []
    async with transaction(runtime.sessionmaker) as db:
        await schedule(db, ESCALATE, {"alert_id": alert["id"], "level": 1, "at": utcnow().isoformat()})
    await Worker(runtime).run_until_idle()
    assert len(await inbox(client, followed.second)) == 1
    assert len(await inbox(client, followed.doctor)) == 1


async def test_an_acknowledged_alert_is_not_escalated(
    client: AsyncClient, followed: Followed, runtime: Runtime
) -> None:
    await send(client, followed, glucose(62, ago(minutes=5)))
    [alert] = await alerts(client, followed.doctor)
    ack = await client.post(
        f"/api/monitoring/alerts/{alert['id']}/acknowledge",
        headers=followed.doctor.headers,
        json={"comment": "appelé"},
    )
    assert ack.status_code == 200
    await fast_forward(runtime, ESCALATE)
    await Worker(runtime).run_until_idle()
    assert await inbox(client, followed.second) == []
    after = (
        await client.get(f"/api/monitoring/alerts/{alert['id']}", headers=followed.doctor.headers)
    ).json()
    assert after["escalation_level"] == 0


async def test_a_shorter_missing_delay_moves_the_timer(
    client: AsyncClient, followed: Followed, runtime: Runtime
) -> None:
    [before] = await pending(runtime, MISSING)
    changed = await client.patch(
        f"/api/monitoring/programs/{followed.program_id}/rules/glucose.missing",
        headers=followed.doctor.headers,
        json={"after_hours": 6},
    )
    assert changed.status_code == 200, changed.text
    [after] = await pending(runtime, MISSING)
    assert before.due_at - after.due_at == timedelta(hours=6)
