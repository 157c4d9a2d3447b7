"""The operator's dashboard: the patients a professional watches, most urgent first.

Order: the most severe alert still awaiting acknowledgement (critical, warning, info), then the
oldest such alert (it has waited longest), then patients whose alerts are already taken into
account, then the quiet ones by name. Every row comes through the access gate: programs and
alerts are read with `visible_programs` / `visible_alerts`, which audit each one.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.auth.actor import Actor
from telesante.auth.models import User
from telesante.db import utcnow
from telesante.directory.models import Professional
from telesante.monitoring import alerts as alert_service
from telesante.monitoring import programs as program_service
from telesante.monitoring.models import Alert, Measurement, Program
from telesante.patients.access import visible_patients
from telesante.patients.models import Patient

SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}
QUIET = len(SEVERITY_RANK)
RECENT = timedelta(days=7)  # how far back "last measurements" look
SEVERITY_LABELS = {"critical": "critique", "warning": "alerte", "info": "information"}


@dataclass
class AlertRow:
    alert: Alert
    evidence: list[Measurement] = field(default_factory=list)


@dataclass
class PatientRow:
    patient: Patient
    programs: list[Program]
    alerts: list[AlertRow] = field(default_factory=list)
    latest: list[Measurement] = field(default_factory=list)  # the newest of each measure

    @property
    def waiting(self) -> list[Alert]:
        """Alerts nobody has acknowledged yet."""
        return [row.alert for row in self.alerts if row.alert.status == "open"]

    @property
    def most_severe(self) -> str | None:
        ranked = sorted(self.waiting, key=lambda a: SEVERITY_RANK.get(a.severity, QUIET))
        return ranked[0].severity if ranked else None


def urgency(row: PatientRow) -> tuple[int, datetime, int, str]:
    """The dashboard's sort key (see the module docstring)."""
    waiting = row.waiting
    worst = min((SEVERITY_RANK.get(a.severity, QUIET) for a in waiting), default=QUIET)
    oldest = min((a.raised_at for a in waiting), default=datetime.max.replace(tzinfo=utcnow().tzinfo))
    handled = min((SEVERITY_RANK.get(r.alert.severity, QUIET) for r in row.alerts), default=QUIET)
    return worst, oldest, handled, row.patient.display_name


def watches(actor: Actor, program: Program) -> bool:
    """The operator team watches; the prescriber receives the same live events and sees it too."""
    me = actor.professional_id
    return me is not None and (me in program.operator_team or me == program.prescriber_id)


async def dashboard(db: AsyncSession, actor: Actor) -> list[PatientRow]:
    programs = [
        p for p in await program_service.visible_programs(db, actor, status="active") if watches(actor, p)
    ]
    if not programs:
        return []
    patients = await db.scalars(
        select(Patient).where(Patient.id.in_({p.patient_id for p in programs}), visible_patients(actor))
    )
    rows = {
        patient.id: PatientRow(patient, [p for p in programs if p.patient_id == patient.id])
        for patient in patients
    }
    program_ids = {p.id for p in programs}
    unresolved = await alert_service.visible_alerts(db, actor, statuses=["open", "acknowledged"])
    for alert in unresolved:
        if alert.program_id in program_ids and alert.patient_id in rows:
            rows[alert.patient_id].alerts.append(AlertRow(alert))
    await _attach_evidence(db, [a for row in rows.values() for a in row.alerts])
    for row in rows.values():
        row.latest = await latest_measurements(db, row.patient)
    return sorted(rows.values(), key=urgency)


async def _attach_evidence(db: AsyncSession, rows: list[AlertRow]) -> None:
    wanted = {measurement_id for row in rows for measurement_id in row.alert.evidence}
    if not wanted:
        return
    found = {m.id: m for m in await db.scalars(select(Measurement).where(Measurement.id.in_(wanted)))}
    for row in rows:
        row.evidence = sorted(
            (found[i] for i in row.alert.evidence if i in found), key=lambda m: (m.effective_at, m.id)
        )


async def latest_measurements(
    db: AsyncSession, patient: Patient, since: timedelta = RECENT
) -> list[Measurement]:
    """The newest measurement of each measure over the recent days. Takes a Patient from the gate."""
    newest_per_kind = (
        select(Measurement.kind, func.max(Measurement.effective_at).label("at"))
        .where(Measurement.patient_id == patient.id, Measurement.effective_at >= utcnow() - since)
        .group_by(Measurement.kind)
        .subquery()
    )
    rows = await db.scalars(
        select(Measurement)
        .join(
            newest_per_kind,
            and_(
                Measurement.kind == newest_per_kind.c.kind, Measurement.effective_at == newest_per_kind.c.at
            ),
        )
        .where(Measurement.patient_id == patient.id)
        .order_by(Measurement.kind, Measurement.id)
    )
    newest: dict[str, Measurement] = {}
    for measurement in rows:
        newest.setdefault(measurement.kind, measurement)  # two devices at one instant: either
    return list(newest.values())


async def names_of_users(db: AsyncSession, user_ids: set[str]) -> dict[str, str]:
    """Who acknowledged or resolved: the professional's name behind each user id."""
    if not user_ids:
        return {}
    rows = await db.execute(
        select(User.id, Professional)
        .join(Professional, Professional.id == User.professional_id)
        .where(User.id.in_(user_ids))
    )
    return {user_id: professional.display_name for user_id, professional in rows}
