"""One patient's télésurveillance at a glance, for the professionals' page and the patient's own
view: the programs, the last 14 days charted with the thresholds, the glucose summary and AGP, the
rules with their sources, the change log, the alerts and the monthly reports.

Takes a Patient, which only the access gate hands out; programs and alerts are read through
`visible_programs` / `visible_alerts`, which audit each row.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.auth.actor import Actor
from telesante.directory.models import Professional
from telesante.monitoring import alerts as alert_service
from telesante.monitoring import chart_svg, charts, glucose, history, panels, rule_codec
from telesante.monitoring import programs as program_service
from telesante.monitoring.dashboard import AlertRow, names_of_users
from telesante.monitoring.measures import MeasureKind
from telesante.monitoring.models import Alert, Measurement, Program
from telesante.monitoring.rules import Rule
from telesante.patients.models import Patient
from telesante.timeline.models import TimelineEntry

WINDOW = timedelta(days=14)  # the consensus period for CGM metrics (monitoring.md §2)
SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class RuleView:
    code: str
    label: str
    severity: str
    condition: str
    source: str
    verified: bool
    enabled: bool
    raised: bool


@dataclass(frozen=True)
class ChangeView:
    at: datetime
    rule_code: str
    who: str
    before: str
    after: str
    reason: str | None


@dataclass(frozen=True)
class Chart:
    title: str
    svg: Markup
    description: str


@dataclass
class ProgramView:
    program: Program
    prescriber: str
    team: list[str]
    rules: list[RuleView] = field(default_factory=list)
    changes: list[ChangeView] = field(default_factory=list)
    definitions: dict[str, Rule] = field(default_factory=dict)  # by code
    enabled: set[str] = field(default_factory=set)


@dataclass
class Overview:
    patient: Patient
    start: datetime
    end: datetime
    programs: list[ProgramView]
    measurements: list[Measurement]
    charts: list[Chart]
    glucose: glucose.GlucoseSummary | None
    agp: Chart | None
    ranges: Chart | None
    alerts: list[AlertRow]
    rules: dict[str, Rule]  # by code, for the alerts' explanations
    reports: list[TimelineEntry]
    names: dict[str, str]  # user id → professional's name

    @property
    def latest(self) -> list[Measurement]:
        newest: dict[str, Measurement] = {}
        for measurement in reversed(self.measurements):
            newest.setdefault(measurement.kind, measurement)
        return sorted(newest.values(), key=lambda m: list(MeasureKind).index(MeasureKind(m.kind)))


async def overview(db: AsyncSession, actor: Actor, patient: Patient, now: datetime) -> Overview:
    start = now - WINDOW
    found = await program_service.visible_programs(db, actor, patient_id=patient.id)
    views = [await _program_view(db, program) for program in found]
    rules = {code: rule for view in views for code, rule in view.definitions.items()}
    drawn_rules = [view.definitions[code] for view in views for code in sorted(view.enabled)]
    measurements = await history.measurements_of(db, patient, start=start, end=now, limit=history.MAX_ROWS)
    points = [panels.Point(MeasureKind(m.kind), m.value, m.effective_at) for m in measurements]
    specs = panels.time_charts(points, drawn_rules, start, now)
    drawn = [_chart(charts.time_figure(spec), f"courbe-{index}") for index, spec in enumerate(specs)]
    cgm = [(m.effective_at, m.value) for m in measurements if m.kind == MeasureKind.GLUCOSE_CGM]
    summary = glucose.summarize(cgm, start=start, end=now) if cgm else None
    alert_rows = await _alerts(db, actor, patient, start)
    users = {
        u for row in alert_rows for u in (row.alert.acknowledged_by_user_id, row.alert.resolved_by_user_id)
    }
    users |= {c.who for v in views for c in v.changes}
    names = await names_of_users(db, {u for u in users if u})
    for view in views:
        view.changes = [_named(c, names) for c in view.changes]
    return Overview(
        patient=patient,
        start=start,
        end=now,
        programs=views,
        measurements=measurements,
        charts=drawn,
        glucose=summary,
        agp=_chart(charts.agp_figure(summary.agp), "agp") if summary else None,
        ranges=_chart(charts.ranges_figure(summary), "cibles") if summary else None,
        alerts=alert_rows,
        rules=rules,
        reports=await reports_of(db, patient),
        names=names,
    )


def _chart(figure: charts.Figure, key: str) -> Chart:
    return Chart(figure.title, chart_svg.svg(figure, key), figure.description)


async def _program_view(db: AsyncSession, program: Program) -> ProgramView:
    people = {
        p.id: p.display_name
        for p in await db.scalars(
            select(Professional).where(Professional.id.in_({program.prescriber_id, *program.operator_team}))
        )
    }
    view = ProgramView(
        program, people.get(program.prescriber_id, ""), [people.get(p, p) for p in program.operator_team]
    )
    for row, state in await program_service.rules_of(db, program):
        rule = rule_codec.from_json(row.definition)
        view.definitions[row.code] = rule
        if row.enabled:
            view.enabled.add(row.code)
        view.rules.append(
            RuleView(
                code=row.code,
                label=rule.label,
                severity=rule.severity.value,
                condition=panels.describe_rule(rule),
                source=rule.source,
                verified=rule.verified,
                enabled=row.enabled,
                raised=state is not None and state.status == "raised",
            )
        )
    view.changes = [
        ChangeView(c.changed_at, c.rule_code, c.changed_by_user_id, _said(c.old), _said(c.new), c.reason)
        for c in await program_service.rule_changes(db, program)
    ]
    return view


def _said(state: dict[str, Any]) -> str:
    """A rule's state in a change record, in French."""
    try:
        text = panels.describe_rule(rule_codec.from_json(state["definition"]))
    except (KeyError, ValueError, TypeError):
        return "—"
    severity = state["definition"].get("severity", "")
    return f"{text} ; gravité {severity}" + ("" if state.get("enabled", True) else " ; désactivée")


def _named(change: ChangeView, names: dict[str, str]) -> ChangeView:
    return ChangeView(
        change.at, change.rule_code, names.get(change.who, "—"), change.before, change.after, change.reason
    )


async def _alerts(db: AsyncSession, actor: Actor, patient: Patient, since: datetime) -> list[AlertRow]:
    """Unresolved alerts, and those resolved within the window; most severe, then newest first."""
    found = await alert_service.visible_alerts(db, actor, patient_id=patient.id)
    kept = [a for a in found if a.status != "resolved" or (a.resolved_at and a.resolved_at >= since)]
    rows = [AlertRow(alert, await alert_service.evidence_of(db, alert)) for alert in kept]
    return sorted(rows, key=lambda r: (r.alert.status == "resolved", SEVERITY_ORDER.get(r.alert.severity, 9)))


async def reports_of(db: AsyncSession, patient: Patient) -> list[TimelineEntry]:
    """The monthly reports filed on the timeline (each points at its document), newest first."""
    rows = await db.scalars(
        select(TimelineEntry)
        .where(
            TimelineEntry.patient_id == patient.id,
            TimelineEntry.kind == "telemonitoring",
            TimelineEntry.source_type == "Document",
        )
        .order_by(TimelineEntry.occurred_at.desc())
        .limit(36)
    )
    return list(rows)


def alert_rule(rules: dict[str, Rule], alert: Alert) -> Rule | None:
    return rules.get(alert.rule_code)
