"""Running a program's rules (rules.evaluate) over stored measurements, and what follows: rule
states kept, alerts opened or updated, the missing-data timer moved, escalation scheduled.

Called by ingestion (every transport) and by the missing-data timer, always inside the caller's
transaction, with the program locked first (`lock_program`) so two deliveries for one patient are
deduplicated and evaluated one after the other. Ingestion evaluates many programs at once
(`evaluate_programs`): what the rules need is read for all of them in a few queries.
"""

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.auth.models import User
from telesante.db import after_commit, utcnow
from telesante.jobs.models import Job
from telesante.jobs.queue import schedule
from telesante.monitoring import alerts as alert_service
from telesante.monitoring import history, rule_codec
from telesante.monitoring import notify as notifying
from telesante.monitoring.models import Alert, Measurement, Program, ProgramRule, RuleStateRow
from telesante.monitoring.rules import (
    CombinedRule,
    Decision,
    MissingDataRule,
    Rule,
    RuleState,
    Status,
    ThresholdRule,
    Transition,
    TrendRule,
    evaluate_all,
)
from telesante.realtime.bus import Bus, user_channel
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


async def lock_programs(db: AsyncSession, program_ids: Collection[str]) -> dict[str, Program]:
    """`lock_program` for several programs in one statement; PostgreSQL visits the rows of an
    IN list in index order, so two processes lock common programs in the same order."""
    ids = sorted(program_ids)
    if not ids:
        return {}
    await db.execute(update(Program).where(Program.id.in_(ids)).values(missing_job_id=Program.missing_job_id))
    found = await db.scalars(
        select(Program).where(Program.id.in_(ids)).execution_options(populate_existing=True)
    )
    return {program.id: program for program in found}


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
    return await evaluate_programs(
        db, bus, [program], now=now, arrived={program.id: arrived}, missing_only=missing_only
    )


async def evaluate_programs(
    db: AsyncSession,
    bus: Bus | None,
    programs: Sequence[Program],
    *,
    now: datetime,
    arrived: Mapping[str, Sequence[Measurement]],
    missing_only: bool = False,
) -> list[Alert]:
    """Evaluate each program's rules over what arrived for it; returns the alerts opened or changed."""
    rules = await _rules_of(db, [p.id for p in programs], missing_only)
    programs = [p for p in programs if rules[p.id]]
    if not programs:
        return []
    ids = [p.id for p in programs]
    states = await _states_of(db, ids)
    unresolved = await _unresolved_of(db, ids)
    watchers: dict[str, list[str]] | None = None  # read once, and only if an alert changed
    wanted = {p.id: _wanted(p, rules[p.id], states[p.id], arrived.get(p.id, ())) for p in programs}
    series = await history.rule_series(db, [w for w in wanted.values() if w is not None])
    changed: list[Alert] = []
    for program in programs:
        came = arrived.get(program.id, ())
        eligible = {m.id for m in came if m.effective_at >= program.starts_at}  # history raises nothing
        decisions = evaluate_all(
            rules[program.id],
            series.get(program.id, []),
            {code: _state(row) for code, row in states[program.id].items()},
            now=now,
            arrived=eligible,
            monitoring_since=program.starts_at,
        )
        altered = await _apply(db, bus, program, decisions, states[program.id], now, unresolved[program.id])
        if altered and bus is not None:
            watchers = watchers if watchers is not None else await team_users(db, programs)
            _publish_alerts(db, bus, altered, watchers[program.id])
        changed += altered
    await _reschedule_missing_checks(db, programs, rules, states)
    return changed


async def team_users(db: AsyncSession, programs: Sequence[Program]) -> dict[str, list[str]]:
    """alerts.team_users for several programs in one query: the prescriber and the operator team,
    who receive the programs' live events."""
    teams = {p.id: {p.prescriber_id, *p.operator_team} for p in programs}
    rows = await db.execute(
        select(User.id, User.professional_id).where(User.professional_id.in_(set().union(*teams.values())))
    )
    users = [(user_id, professional_id) for user_id, professional_id in rows]
    return {pid: [u for u, professional in users if professional in team] for pid, team in teams.items()}


def _publish_alerts(db: AsyncSession, bus: Bus, alerts: list[Alert], watchers: list[str]) -> None:
    """alerts.publish with the watchers already known: each changed alert's event, after the commit."""
    for alert in alerts:
        message = alert_service.event(alert)
        for user_id in watchers:
            channel = user_channel(user_id)
            after_commit(db, lambda channel=channel, message=message: bus.publish(channel, message))  # type: ignore[misc]


async def _rules_of(db: AsyncSession, ids: list[str], missing_only: bool) -> dict[str, list[Rule]]:
    rows = await db.scalars(
        select(ProgramRule)
        .where(ProgramRule.program_id.in_(ids), ProgramRule.enabled)
        .order_by(ProgramRule.program_id, ProgramRule.code)
    )
    found: dict[str, list[Rule]] = {pid: [] for pid in ids}
    for row in rows:
        rule = rule_codec.from_json(row.definition)
        if isinstance(rule, MissingDataRule) or not missing_only:
            found[row.program_id].append(rule)
    return found


async def _states_of(db: AsyncSession, ids: list[str]) -> dict[str, dict[str, RuleStateRow]]:
    found: dict[str, dict[str, RuleStateRow]] = {pid: {} for pid in ids}
    for row in await db.scalars(select(RuleStateRow).where(RuleStateRow.program_id.in_(ids))):
        found[row.program_id][row.rule_code] = row
    return found


async def _unresolved_of(db: AsyncSession, ids: list[str]) -> dict[str, dict[str, Alert]]:
    found: dict[str, dict[str, Alert]] = {pid: {} for pid in ids}
    for alert in await db.scalars(select(Alert).where(Alert.program_id.in_(ids), Alert.status != "resolved")):
        found[alert.program_id][alert.rule_code] = alert
    return found


def _wanted(
    program: Program, rules: list[Rule], states: dict[str, RuleStateRow], arrived: Sequence[Measurement]
) -> history.Wanted | None:
    """The measurements the rules need: from the earliest arrival (or the oldest state) back over
    the longest rule window, so trends and late arrivals see their context; before that, only the
    latest value of each measure a rule reads beside another (a blood-pressure component, the pulse
    next to the SpO2), within LOOKBACK."""
    codes = {r.code for r in rules}
    starts = [m.effective_at for m in arrived] or [
        s.through for c, s in states.items() if s.through and c in codes
    ]
    if not starts:
        return None
    since = min(starts) - max([timedelta(0), *(_window(r) for r in rules)])
    side_by_side = [
        r.kinds
        for r in rules
        if isinstance(r, CombinedRule) or (isinstance(r, ThresholdRule) and len(r.any_of) > 1)
    ]
    return history.Wanted(
        program.id,
        frozenset().union(*(r.kinds for r in rules)),
        since,
        frozenset().union(*side_by_side),
        min(since, min(starts) - LOOKBACK),
    )


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
    unresolved: dict[str, Alert],
) -> list[Alert]:
    changed: dict[str, Alert] = {}
    for decision in decisions:
        _keep_state(db, program, decision, states)
        for transition in decision.transitions:
            current = unresolved.get(decision.rule.code)
            alert = await _follow(db, bus, program, decision.rule, transition, current, now)
            if alert is not None:
                unresolved[decision.rule.code] = changed[alert.id] = alert
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


async def _reschedule_missing_checks(
    db: AsyncSession,
    programs: Sequence[Program],
    rules: dict[str, list[Rule]],
    states: dict[str, dict[str, RuleStateRow]],
) -> None:
    """`reschedule_missing_check` for many programs: the pending timers moved in one statement; a
    program without a pending timer (new, or its timer running right now) takes the one-by-one way."""
    moves = {
        p.missing_job_id: (p, due)
        for p in programs
        if p.missing_job_id
        and p.status == "active"
        and (due := next_missing_check(p, rules[p.id], states[p.id]))
    }
    pending = (
        set(await db.scalars(select(Job.id).where(Job.id.in_(list(moves)), Job.status == "pending")))
        if moves
        else set()
    )
    table = cast(Table, Job.__table__)
    params = [
        {"job": job_id, "due": due, "new_payload": {"program_id": p.id, "at": due.isoformat()}}
        for job_id, (p, due) in moves.items()
        if job_id in pending
    ]
    if params:
        await db.execute(
            update(table)
            .where(table.c.id == bindparam("job"), table.c.status == "pending")
            .values(due_at=bindparam("due"), payload=bindparam("new_payload")),
            params,
        )
    for program in programs:
        if program.missing_job_id not in pending:
            await reschedule_missing_check(db, program, rules[program.id], states[program.id])


def effective_now(payload: dict[str, Any]) -> datetime:
    """A timer acts at its own moment or later: never before what it was set for, even if run early."""
    return max(utcnow(), datetime.fromisoformat(payload["at"]))
