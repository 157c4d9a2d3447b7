"""What one program's month holds: its measurements, alerts and how they were handled, the rules in
force, the glucose summary, and the days of follow-up with and without data. The monthly report
and the operator forfait both read it.

Takes a Program already handed out (by the access gate for a prescriber's request, or by the
monthly job, which acts for the platform).
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.billing import months
from telesante.directory.models import Professional
from telesante.monitoring import alerts as alert_service
from telesante.monitoring import engine, glucose
from telesante.monitoring.dashboard import names_of_users
from telesante.monitoring.forfait import MonthFacts
from telesante.monitoring.glucose import GlucoseSummary
from telesante.monitoring.measures import MeasureKind
from telesante.monitoring.models import Alert, Measurement, Program
from telesante.monitoring.rules import Rule
from telesante.patients.models import Patient

PARIS = ZoneInfo("Europe/Paris")


@dataclass
class MonthData:
    program: Program
    patient: Patient
    prescriber: str
    team: list[str]
    month: str
    start: datetime  # the month's first Paris midnight, UTC
    end: datetime  # the next month's
    until: datetime  # the end, or now for a month still running
    measurements: list[Measurement]
    rules: list[Rule]
    alerts: list[Alert]
    evidence: dict[str, list[Measurement]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # user id → professional's name
    followed_days: int = 0
    days_with_data: int = 0
    glucose: GlucoseSummary | None = None

    @property
    def complete(self) -> bool:
        return self.until >= self.end

    def facts(self, now: datetime) -> MonthFacts:
        return MonthFacts(
            month=self.month,
            month_start=self.start,
            month_end=self.end,
            indication=self.program.indication,
            program_starts=self.program.starts_at,
            followed_days=self.followed_days,
            days_with_data=self.days_with_data,
            now=now,
        )


async def month_data(db: AsyncSession, program: Program, month: str, now: datetime) -> MonthData:
    start, end = months.bounds(month)
    until = min(end, now)
    patient = await db.get(Patient, program.patient_id)
    assert patient is not None  # the program's foreign key
    people = await _people(db, program)
    data = MonthData(
        program=program,
        patient=patient,
        prescriber=people.get(program.prescriber_id, ""),
        team=[people.get(p, p) for p in program.operator_team],
        month=month,
        start=start,
        end=end,
        until=until,
        measurements=await _measurements(db, program, start, until),
        rules=await engine.enabled_rules(db, program),
        alerts=await _alerts(db, program, start, until),
    )
    for alert in data.alerts:
        data.evidence[alert.id] = await alert_service.evidence_of(db, alert)
    handlers = {u for a in data.alerts for u in (a.acknowledged_by_user_id, a.resolved_by_user_id) if u}
    data.names = await names_of_users(db, handlers)
    followed = followed_days(program, start, end, until)
    data.followed_days = len(followed)
    data.days_with_data = len({m.effective_at.astimezone(PARIS).date() for m in data.measurements} & followed)
    cgm = [(m.effective_at, m.value) for m in data.measurements if m.kind == MeasureKind.GLUCOSE_CGM]
    if cgm:
        data.glucose = glucose.summarize(cgm, start=max(start, program.starts_at), end=until)
    return data


def followed_days(program: Program, start: datetime, end: datetime, until: datetime) -> set[date]:
    """The Paris calendar days of [start, end) on which the program ran, up to `until`."""
    first, last = max(start, program.starts_at), min(end, program.ends_at, until)
    days: set[date] = set()
    day = first.astimezone(PARIS).date()
    while (midnight := datetime(day.year, day.month, day.day, tzinfo=PARIS)) < last:
        if midnight + timedelta(days=1) > first:
            days.add(day)
        day += timedelta(days=1)
    return days


async def _people(db: AsyncSession, program: Program) -> dict[str, str]:
    wanted = {program.prescriber_id, *program.operator_team}
    rows = await db.scalars(select(Professional).where(Professional.id.in_(wanted)))
    return {p.id: p.display_name for p in rows}


async def _measurements(
    db: AsyncSession, program: Program, start: datetime, until: datetime
) -> list[Measurement]:
    rows = await db.scalars(
        select(Measurement)
        .where(
            Measurement.program_id == program.id,
            Measurement.effective_at >= max(start, program.starts_at),
            Measurement.effective_at < until,
        )
        .order_by(Measurement.effective_at, Measurement.id)
    )
    return list(rows)


async def _alerts(db: AsyncSession, program: Program, start: datetime, until: datetime) -> list[Alert]:
    """The month's alerts: those about a moment of the month, and those handled during it."""
    in_month = or_(
        and_(Alert.occurred_at >= start, Alert.occurred_at < until),
        and_(Alert.resolved_at >= start, Alert.resolved_at < until),
    )
    rows = await db.scalars(
        select(Alert).where(Alert.program_id == program.id, in_month).order_by(Alert.occurred_at, Alert.id)
    )
    return list(rows)
