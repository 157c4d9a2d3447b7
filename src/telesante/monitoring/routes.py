"""The professionals' API of télésurveillance: programs and their rules, devices, measurements, alerts.

Every read of patient data goes through the access gate (programs.program_for, alerts.alert_for,
patients.access), which audits it; errors are problem+json.
"""

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from pydantic import AwareDatetime

from telesante.audit.service import record
from telesante.db import utcnow
from telesante.deps import CurrentActor, DbSession
from telesante.errors import PROBLEM_RESPONSES
from telesante.monitoring import alerts as alert_service
from telesante.monitoring import devices, history, programs
from telesante.monitoring.fhir_routes import bus_of
from telesante.monitoring.measures import MeasureKind
from telesante.monitoring.models import Alert, Device, Measurement, Program
from telesante.monitoring.schemas import (
    AcknowledgeIn,
    AlertOut,
    DeviceCreated,
    DeviceIn,
    DeviceOut,
    MeasurementOut,
    ProgramIn,
    ProgramOut,
    ResolveIn,
    RuleChangeOut,
    RuleOut,
    RulePatch,
)
from telesante.patients.access import access_patient

router = APIRouter(prefix="/api/monitoring", tags=["monitoring"], responses=PROBLEM_RESPONSES)


def program_out(program: Program) -> ProgramOut:
    return ProgramOut.model_validate(program, from_attributes=True)


def device_out(device: Device) -> DeviceOut:
    return DeviceOut.model_validate(device, from_attributes=True)


def alert_out(alert: Alert) -> AlertOut:
    return AlertOut.model_validate(alert, from_attributes=True)


def measurement_out(measurement: Measurement) -> MeasurementOut:
    return MeasurementOut(
        id=measurement.id,
        kind=measurement.kind,
        value=float(measurement.value),
        unit=MeasureKind(measurement.kind).spec.unit,
        value_sent=measurement.value_sent,
        unit_sent=measurement.unit_sent,
        effective_at=measurement.effective_at,
        received_at=measurement.received_at,
        source=measurement.source,
        device_id=measurement.device_id,
        panel_id=measurement.panel_id,
    )


@router.post("/programs", status_code=status.HTTP_201_CREATED)
async def enrol(data: ProgramIn, db: DbSession, actor: CurrentActor) -> ProgramOut:
    """A doctor enrols a patient who consented to télésurveillance; the indication's default rules apply."""
    program = await programs.enrol(
        db,
        actor,
        programs.Enrolment(
            patient_id=data.patient_id,
            indication=data.indication,
            operator_team=data.operator_team,
            starts_at=data.starts_at or utcnow(),
            duration=timedelta(days=data.duration_days),
            escalation_minutes=data.escalation_minutes,
        ),
    )
    return program_out(program)


@router.get("/programs")
async def list_programs(
    db: DbSession,
    actor: CurrentActor,
    patient_id: Annotated[str | None, Query(max_length=36)] = None,
    status_: Annotated[str | None, Query(alias="status", max_length=10)] = None,
) -> list[ProgramOut]:
    return [program_out(p) for p in await programs.visible_programs(db, actor, patient_id, status_)]


@router.get("/programs/{program_id}")
async def read_program(program_id: str, db: DbSession, actor: CurrentActor) -> ProgramOut:
    return program_out(await programs.program_for(db, actor, program_id))


@router.get("/programs/{program_id}/rules")
async def read_rules(program_id: str, db: DbSession, actor: CurrentActor) -> list[RuleOut]:
    program = await programs.program_for(db, actor, program_id)
    return [
        RuleOut(
            code=rule.code,
            enabled=rule.enabled,
            definition=rule.definition,
            status=state.status if state else "clear",
            since=state.since if state else None,
            updated_at=rule.updated_at,
            updated_by_user_id=rule.updated_by_user_id,
        )
        for rule, state in await programs.rules_of(db, program)
    ]


@router.patch("/programs/{program_id}/rules/{code}")
async def adjust_rule(
    program_id: str, code: str, data: RulePatch, db: DbSession, actor: CurrentActor
) -> RuleOut:
    """A doctor adjusts a rule for this patient (threshold, margin, delay, severity, on/off); audited."""
    program = await programs.program_for(db, actor, program_id, action="update")
    rule = await programs.adjust_rule(db, actor, program, code, data.changes(), data.reason)
    state = next(s for r, s in await programs.rules_of(db, program) if r.code == rule.code)
    return RuleOut(
        code=rule.code,
        enabled=rule.enabled,
        definition=rule.definition,
        status=state.status if state else "clear",
        since=state.since if state else None,
        updated_at=rule.updated_at,
        updated_by_user_id=rule.updated_by_user_id,
    )


@router.get("/programs/{program_id}/rule-changes")
async def read_rule_changes(program_id: str, db: DbSession, actor: CurrentActor) -> list[RuleChangeOut]:
    program = await programs.program_for(db, actor, program_id)
    return [
        RuleChangeOut.model_validate(c, from_attributes=True)
        for c in await programs.rule_changes(db, program)
    ]


@router.post("/programs/{program_id}/devices", status_code=status.HTTP_201_CREATED)
async def register_device(
    program_id: str, data: DeviceIn, db: DbSession, actor: CurrentActor
) -> DeviceCreated:
    """Register a device; its token is in this answer only (keep it: it is stored hashed)."""
    program = await programs.program_for(db, actor, program_id, action="update")
    device, token = await devices.register(
        db, actor, program, devices.Registration(data.kind, data.model, data.serial)
    )
    return DeviceCreated(**device_out(device).model_dump(), token=token)


@router.get("/programs/{program_id}/devices")
async def list_devices(program_id: str, db: DbSession, actor: CurrentActor) -> list[DeviceOut]:
    program = await programs.program_for(db, actor, program_id)
    return [device_out(d) for d in await devices.devices_of(db, program)]


@router.post("/programs/{program_id}/devices/{device_id}/revoke")
async def revoke_device(program_id: str, device_id: str, db: DbSession, actor: CurrentActor) -> DeviceOut:
    program = await programs.program_for(db, actor, program_id, action="update")
    device = await devices.device_in(db, program, device_id)
    return device_out(await devices.revoke(db, actor, device))


@router.get("/patients/{patient_id}/measurements")
async def read_measurements(
    patient_id: str,
    db: DbSession,
    actor: CurrentActor,
    kind: Annotated[list[MeasureKind] | None, Query()] = None,
    from_: Annotated[AwareDatetime | None, Query(alias="from")] = None,
    to: AwareDatetime | None = None,
    limit: Annotated[int, Query(ge=1, le=history.MAX_ROWS)] = 1000,
) -> list[MeasurementOut]:
    """Measurements oldest first, `from` included, `to` excluded (ISO 8601 with offset)."""
    patient = await access_patient(
        db, actor, patient_id, action="search", resource_type="MonitoringMeasurement"
    )
    rows = await history.measurements_of(db, patient, kinds=kind, start=from_, end=to, limit=limit)
    return [measurement_out(m) for m in rows]


@router.get("/alerts")
async def list_alerts(
    db: DbSession,
    actor: CurrentActor,
    status_: Annotated[list[alert_service.AlertStatus] | None, Query(alias="status")] = None,
    patient_id: Annotated[str | None, Query(max_length=36)] = None,
) -> list[AlertOut]:
    """Alerts of the patients the actor may see: critical first, then newest first."""
    statuses = [s.value for s in status_] if status_ else None
    rows = await alert_service.visible_alerts(db, actor, statuses=statuses, patient_id=patient_id)
    return [alert_out(a) for a in rows]


@router.get("/alerts/{alert_id}")
async def read_alert(alert_id: str, db: DbSession, actor: CurrentActor) -> AlertOut:
    return alert_out(await alert_service.alert_for(db, actor, alert_id))


@router.get("/alerts/{alert_id}/measurements")
async def read_alert_evidence(alert_id: str, db: DbSession, actor: CurrentActor) -> list[MeasurementOut]:
    """The measurements that raised the alert."""
    alert = await alert_service.alert_for(db, actor, alert_id)
    rows = await alert_service.evidence_of(db, alert)
    record(
        db,
        actor,
        action="read",
        resource_type="MonitoringMeasurement",
        resource_id=alert.id,
        patient_id=alert.patient_id,
    )
    return [measurement_out(m) for m in rows]


@router.post("/alerts/{alert_id}/acknowledge")
async def acknowledge(
    alert_id: str, data: AcknowledgeIn, request: Request, db: DbSession, actor: CurrentActor
) -> AlertOut:
    """Take the alert into account (stops the escalation); the comment is kept encrypted."""
    alert = await alert_service.alert_for(db, actor, alert_id, action="update")
    return alert_out(await alert_service.acknowledge(db, bus_of(request), actor, alert, data.comment))


@router.post("/alerts/{alert_id}/resolve")
async def resolve(
    alert_id: str, data: ResolveIn, request: Request, db: DbSession, actor: CurrentActor
) -> AlertOut:
    alert = await alert_service.alert_for(db, actor, alert_id, action="update")
    return alert_out(await alert_service.resolve(db, bus_of(request), actor, alert, data.comment))
