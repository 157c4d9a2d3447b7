"""Running a program's rules (rules.evaluate) over stored measurements, and what follows: rule
states kept, alerts opened or updated, the missing-data timer moved, escalation scheduled.

Called by ingestion (every transport) and by the missing-data timer, always inside the caller's
transaction, with the program locked first (`lock_program`) so two deliveries for one patient are
deduplicated and evaluated one after the other.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.db import utcnow
from telesante.jobs.models import Job
from telesante.jobs.queue import schedule
from telesante.monitoring import alerts as alert_service
from telesante.monitoring import notify as notifying
from telesante.monitoring import rule_codec
from telesante.monitoring.measures import MeasureKind
from telesante.monitoring.models import Alert, Measurement, Program, ProgramRule, RuleStateRow
from telesante.monitoring.rules import (
    CombinedRule,
    Decision,
    MissingDataRule,
    Rule,
    RuleState,
    Status,
    Transition,
    TrendRule,
    evaluate_all,
)
from telesante.monitoring.rules import Measurement as Reading
from telesante.realtime.bus import Bus
from telesante.timeline.service import add_entry

MISSING_JOB = "monitoring.missing_check"
ESCALATE_JOB = "monitoring.escalate"
LOOKBACK = timedelta(days=1)  # the latest value of each measure before a new one (BP components)
MAX_EVIDENCE = 50


async def lock_program(db: AsyncSession, program_id: str) -> Program | None:
    """The program, locked until the commit: a no-op UPDATE takes PostgreSQL's row lock and SQLite's
    write lock before anything is read, so the reads that follow see the previous delivery's writes."""
    await db.execute(
        update(Program).where(Program.id == program_id).values(missing_job_id=Program.missing_job_id)
    )
    return await db.get(Program, program_id, populate_existing=True)


async def enabled_rules(db: AsyncSession, program: Program) -> list[Rule]:
    rows = await db.scalars(
        select(ProgramRule)
        .where(ProgramRule.program_id == program.id, ProgramRule.enabled)
        .order_by(ProgramRule.code)
    )
    return [rule_codec.from_json(row.definition) for row in rows]


async def evaluate_program(
    db: AsyncSession,
    bus: Bus | None,
    program: Program,
    *,
    now: datetime,
    arrived: Sequence[Measurement] = (),
    missing_only: bool = False,
) -> list[Alert]:
    """Evaluate the program's rules; returns the alerts opened or changed."""
    rules = [
        r for r in await enabled_rules(db, program) if isinstance(r, MissingDataRule) or not missing_only
    ]
    if not rules:
        return []
    states = {
        row.rule_code: row
        for row in await db.scalars(select(RuleStateRow).where(RuleStateRow.program_id == program.id))
    }
    series = await _series(db, program, rules, states, arrived)
    eligible = {m.id for m in arrived if m.effective_at >= program.starts_at}  # history raises nothing
    decisions = evaluate_all(
        rules,
        series,
        {code: _state(row) for code, row in states.items()},
        now=now,
        arrived=eligible,
        monitoring_since=program.starts_at,
    )
    changed = await _apply(db, bus, program, decisions, states, now)
    await reschedule_missing_check(db, program, rules, states)
    return changed


async def _series(
    db: AsyncSession,
    program: Program,
    rules: list[Rule],
    states: dict[str, RuleStateRow],
    arrived: Sequence[Measurement],
) -> list[Reading]:
    """The measurements the rules need: from the earliest arrival (or the oldest state) back over
    the longest rule window, so trends and late arrivals see their context."""
    kinds: set[MeasureKind] = set().union(*(r.kinds for r in rules))
    starts = [m.effective_at for m in arrived] or [
        s.through for code, s in states.items() if s.through and code in {r.code for r in rules}
    ]
    if not starts:
        return []
    since = min(starts) - max([LOOKBACK, *(_window(r) for r in rules)])
    rows = await db.execute(
        select(Measurement.id, Measurement.kind, Measurement.value, Measurement.effective_at).where(
            Measurement.program_id == program.id,
            Measurement.kind.in_([k.value for k in kinds]),
            Measurement.effective_at >= since,
        )
    )
    return [Reading(id_, MeasureKind(kind), value, at) for id_, kind, value, at in rows]


def _window(rule: Rule) -> timedelta:
    if isinstance(rule, TrendRule):
        return rule.window
    if isinstance(rule, CombinedRule):
        return rule.within
    return timedelta(0)


def _state(row: RuleStateRow) -> RuleState:
    return RuleState(Status(row.status), row.since, row.through)


async def _apply(
    db: AsyncSession,
    bus: Bus | None,
    program: Program,
    decisions: list[Decision],
    states: dict[str, RuleStateRow],
    now: datetime,
) -> list[Alert]:
    unresolved = {
        a.rule_code: a
        for a in await db.scalars(
            select(Alert).where(Alert.program_id == program.id, Alert.status != "resolved")
        )
    }
    changed: dict[str, Alert] = {}
    for decision in decisions:
        _keep_state(db, program, decision, states)
        for transition in decision.transitions:
            current = unresolved.get(decision.rule.code)
            alert = await _follow(db, bus, program, decision.rule, transition, current, now)
            if alert is not None:
                unresolved[decision.rule.code] = changed[alert.id] = alert
    for alert in changed.values():
        await alert_service.publish(db, bus, alert, program)
    return list(changed.values())


def _keep_state(
    db: AsyncSession, program: Program, decision: Decision, states: dict[str, RuleStateRow]
) -> None:
    state, row = decision.state, states.get(decision.rule.code)
    if row is None:
        row = states[decision.rule.code] = RuleStateRow(program_id=program.id, rule_code=decision.rule.code)
        db.add(row)
    row.status, row.since, row.through = state.status.value, state.since, state.through


async def _follow(
    db: AsyncSession,
    bus: Bus | None,
    program: Program,
    rule: Rule,
    transition: Transition,
    alert: Alert | None,
    now: datetime,
) -> Alert | None:
    """One transition of a rule: raise opens (or re-opens an episode of) the alert; clear marks the
    condition over, leaving the alert for the team to resolve."""
    if transition.status is Status.CLEAR:
        if alert is not None:
            alert.condition_active, alert.condition_cleared_at = False, transition.at
        return alert
    if alert is not None:
        alert.episodes += 1
        alert.condition_active, alert.condition_cleared_at = True, None
        alert.evidence = list(dict.fromkeys([*alert.evidence, *transition.evidence]))[-MAX_EVIDENCE:]
        return alert
    return await _open(db, bus, program, rule, transition, now)


async def _open(
    db: AsyncSession, bus: Bus | None, program: Program, rule: Rule, transition: Transition, now: datetime
) -> Alert:
    alert = Alert(
        program_id=program.id,
        patient_id=program.patient_id,
        rule_code=rule.code,
        label=rule.label,
        severity=rule.severity.value,
        status=alert_service.AlertStatus.open.value,
        raised_at=now,
        occurred_at=transition.at,
        late=transition.late,
        evidence=list(transition.evidence),
        episodes=1,
        condition_active=True,
        escalation_level=0,
    )
    db.add(alert)
    await db.flush()
    add_entry(
        db,
        program.patient_id,
        kind="telemonitoring",
        title=f"Alerte de télésurveillance : {rule.label}",
        occurred_at=transition.at,
        source_type="MonitoringAlert",
        source_id=alert.id,
    )
    await notifying.call_operator(db, bus, program, alert, 0)
    await schedule_escalation(db, program, alert, level=1, after=now)
    return alert


async def schedule_escalation(
    db: AsyncSession, program: Program, alert: Alert, *, level: int, after: datetime
) -> None:
    """Call operator number `level` if the alert is still unacknowledged `escalation_minutes` later.
    The key holds the level: each step of an alert's escalation exists once, whatever restarts."""
    if level >= len(program.operator_team):
        return
    due = after + timedelta(minutes=program.escalation_minutes)
    await schedule(
        db,
        ESCALATE_JOB,
        {"alert_id": alert.id, "level": level, "at": due.isoformat()},
        due_at=due,
        dedupe_key=f"{ESCALATE_JOB}:{alert.id}:{level}",
    )


def next_missing_check(
    program: Program, rules: Sequence[Rule], states: dict[str, RuleStateRow]
) -> datetime | None:
    """The next moment a missing-data rule could fire: its delay after the last data known (or the
    start of the program), for every such rule not already raised; none after the program ends."""
    moments = []
    for rule in rules:
        if not isinstance(rule, MissingDataRule):
            continue
        state = states.get(rule.code)
        if state is not None and state.status == Status.RAISED.value:
            continue  # it clears with the next reading, which needs no timer
        anchor = max(t for t in (program.starts_at, state.through if state else None) if t is not None)
        moments.append(anchor + rule.after)
    due = min(moments, default=None)
    return due if due is not None and due <= program.ends_at else None


async def reschedule_missing_check(
    db: AsyncSession,
    program: Program,
    rules: Sequence[Rule] | None = None,
    states: dict[str, RuleStateRow] | None = None,
) -> None:
    """Keep one pending missing-data timer per program, moved (not multiplied) as data arrives."""
    if rules is None or states is None:
        rules = await enabled_rules(db, program)
        states = {
            row.rule_code: row
            for row in await db.scalars(select(RuleStateRow).where(RuleStateRow.program_id == program.id))
        }
    due = next_missing_check(program, rules, states)
    if due is None or program.status != "active":
        return
    payload: dict[str, Any] = {"program_id": program.id, "at": due.isoformat()}
    if program.missing_job_id:
        moved = await db.execute(
            update(Job)
            .where(Job.id == program.missing_job_id, Job.status == "pending")
            .values(due_at=due, payload=payload)
        )
        if moved.rowcount == 1:  # type: ignore[attr-defined]
            return
    job = await schedule(db, MISSING_JOB, payload, due_at=due)
    program.missing_job_id = job.id


def effective_now(payload: dict[str, Any]) -> datetime:
    """A timer acts at its own moment or later: never before what it was set for, even if run early."""
    return max(utcnow(), datetime.fromisoformat(payload["at"]))
