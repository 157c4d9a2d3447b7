"""An alert's states, the professional's acknowledgement and resolution, and its readers.

open → acknowledged → resolved, or open → resolved. Acknowledging stops the escalation; only
resolving closes the alert, after which the rule may open a new one.
"""

from enum import StrEnum
from typing import Any

from sqlalchemy import case, select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.audit.service import record
from telesante.auth.actor import Actor
from telesante.auth.models import User
from telesante.db import after_commit, utcnow
from telesante.errors import Conflict, Forbidden, NotFound
from telesante.monitoring.models import Alert, Measurement, Program
from telesante.patients.access import access_patient, visible_patients
from telesante.patients.models import Patient
from telesante.realtime.bus import Bus, user_channel
from telesante.timeline.service import add_entry

NOT_FOUND = "alerte introuvable"
SEVERITY_RANK = case({"critical": 0, "warning": 1, "info": 2}, value=Alert.severity, else_=3)


class AlertStatus(StrEnum):
    open = "open"
    acknowledged = "acknowledged"
    resolved = "resolved"


ALLOWED = {
    AlertStatus.open: {AlertStatus.acknowledged, AlertStatus.resolved},
    AlertStatus.acknowledged: {AlertStatus.resolved},
    AlertStatus.resolved: set(),
}
STATUS_LABELS = {"open": "ouverte", "acknowledged": "prise en compte", "resolved": "résolue"}


def move(alert: Alert, to: AlertStatus) -> None:
    """Refuse an illegal move with a message saying what was expected and what came."""
    current = AlertStatus(alert.status)
    if to not in ALLOWED[current]:
        expected = ", ".join(STATUS_LABELS[s] for s in sorted(ALLOWED[current])) or "aucun (état final)"
        raise Conflict(
            f"alerte « {STATUS_LABELS[current]} » : passage à « {STATUS_LABELS[to]} » impossible "
            f"(attendu : {expected})"
        )
    alert.status = to.value


async def alert_for(db: AsyncSession, actor: Actor, alert_id: str, *, action: str = "read") -> Alert:
    """An alert of a patient the actor may see (gate, audited); one 404 whether missing or forbidden."""
    alert = await db.get(Alert, alert_id)
    if alert is None:
        raise NotFound(NOT_FOUND)
    try:
        await access_patient(
            db, actor, alert.patient_id, action=action, resource_type="MonitoringAlert", resource_id=alert.id
        )
    except NotFound:
        raise NotFound(NOT_FOUND) from None
    return alert


async def visible_alerts(
    db: AsyncSession,
    actor: Actor,
    *,
    statuses: list[str] | None = None,
    patient_id: str | None = None,
    limit: int = 200,
) -> list[Alert]:
    """Most severe first, then newest first; every row read is audited."""
    query = select(Alert).join(Patient, Patient.id == Alert.patient_id).where(visible_patients(actor))
    if statuses:
        query = query.where(Alert.status.in_(statuses))
    if patient_id:
        query = query.where(Alert.patient_id == patient_id)
    query = query.order_by(SEVERITY_RANK, Alert.raised_at.desc(), Alert.id).limit(limit)
    rows = list(await db.scalars(query))
    for alert in rows:
        record(
            db,
            actor,
            action="search",
            resource_type="MonitoringAlert",
            resource_id=alert.id,
            patient_id=alert.patient_id,
        )
    return rows


async def evidence_of(db: AsyncSession, alert: Alert) -> list[Measurement]:
    """The measurements that raised the alert (and its later episodes), oldest first."""
    if not alert.evidence:
        return []
    rows = await db.scalars(select(Measurement).where(Measurement.id.in_(alert.evidence)))
    return sorted(rows, key=lambda m: (m.effective_at, m.id))


def _require_professional(actor: Actor) -> None:
    if actor.role != "professional":
        raise Forbidden("seul un professionnel de l'équipe traite une alerte")


async def acknowledge(db: AsyncSession, bus: Bus | None, actor: Actor, alert: Alert, comment: str) -> Alert:
    _require_professional(actor)
    move(alert, AlertStatus.acknowledged)
    alert.acknowledged_at, alert.acknowledged_by_user_id, alert.acknowledgement = (
        utcnow(),
        actor.user.id,
        comment,
    )
    record(
        db,
        actor,
        action="update",
        resource_type="MonitoringAlert",
        resource_id=alert.id,
        patient_id=alert.patient_id,
    )
    await publish(db, bus, alert)
    return alert


async def resolve(
    db: AsyncSession, bus: Bus | None, actor: Actor, alert: Alert, comment: str | None
) -> Alert:
    _require_professional(actor)
    move(alert, AlertStatus.resolved)
    alert.resolved_at, alert.resolved_by_user_id, alert.resolution = utcnow(), actor.user.id, comment
    add_entry(
        db,
        alert.patient_id,
        kind="telemonitoring",
        title=f"Alerte de télésurveillance résolue : {alert.label}",
        summary=comment,
        source_type="MonitoringAlert",
        source_id=alert.id,
        author_professional_id=actor.professional_id,
    )
    record(
        db,
        actor,
        action="update",
        resource_type="MonitoringAlert",
        resource_id=alert.id,
        patient_id=alert.patient_id,
    )
    await publish(db, bus, alert)
    return alert


def event(alert: Alert) -> dict[str, Any]:
    """The live event: enough for a dashboard to place the patient, no free text."""
    return {
        "type": "monitoring_alert",
        "alert_id": alert.id,
        "program_id": alert.program_id,
        "patient_id": alert.patient_id,
        "rule_code": alert.rule_code,
        "label": alert.label,
        "severity": alert.severity,
        "status": alert.status,
        "condition_active": alert.condition_active,
        "episodes": alert.episodes,
        "escalation_level": alert.escalation_level,
        "raised_at": alert.raised_at.isoformat(),
        "occurred_at": alert.occurred_at.isoformat(),
    }


async def team_users(db: AsyncSession, program: Program) -> list[str]:
    """The user ids of the prescriber and the operator team: they receive the program's live events."""
    professionals = {program.prescriber_id, *program.operator_team}
    return list(await db.scalars(select(User.id).where(User.professional_id.in_(professionals))))


async def publish(db: AsyncSession, bus: Bus | None, alert: Alert, program: Program | None = None) -> None:
    """Queue the alert's live event for after the commit, to everyone who watches the program."""
    if bus is None:
        return
    program = program or await db.get(Program, alert.program_id)
    if program is None:
        return
    message = event(alert)
    for user_id in await team_users(db, program):
        channel = user_channel(user_id)
        after_commit(db, lambda channel=channel: bus.publish(channel, message))  # type: ignore[misc]
