"""Enrolment in télésurveillance, the program's access gate, and the doctor's rule adjustments.

A program is prescribed by a doctor for at most one year (R162-100, acts.md) with the patient's
consent to télésurveillance, watched by an operator team with at least one doctor. Its rules start
as the indication's defaults (defaults.py) and every adjustment keeps the values before and after.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.audit.service import record
from telesante.auth.actor import Actor
from telesante.consent.service import require_consent
from telesante.db import utcnow
from telesante.directory.models import Professional
from telesante.errors import Conflict, Forbidden, Invalid, NotFound
from telesante.monitoring import engine, monthly, rule_codec
from telesante.monitoring.defaults import DEFAULT_RULES, INDICATION_LABELS, Indication
from telesante.monitoring.models import Program, ProgramRule, RuleChange, RuleStateRow
from telesante.monitoring.rules import Status
from telesante.patients.access import access_patient, visible_patients
from telesante.patients.models import CareRelation, Patient
from telesante.timeline.service import add_entry

CONSENT_ACT = "telemonitoring"  # consent/service.py's name for télésurveillance
MAX_DURATION = timedelta(days=366)  # a prescription lasts at most one year (R162-100)
NOT_FOUND = "programme de télésurveillance introuvable"


@dataclass(frozen=True)
class Enrolment:
    patient_id: str
    indication: Indication
    operator_team: list[str]  # professional ids, escalation order
    starts_at: datetime
    duration: timedelta
    escalation_minutes: int


async def require_doctor(db: AsyncSession, actor: Actor, what: str) -> Professional:
    professional = await db.get(Professional, actor.professional_id) if actor.professional_id else None
    if actor.role != "professional" or professional is None or professional.profession != "physician":
        raise Forbidden(f"seul un médecin peut {what}")
    return professional


async def enrol(db: AsyncSession, actor: Actor, data: Enrolment) -> Program:
    prescriber = await require_doctor(db, actor, "prescrire une télésurveillance")
    patient = await access_patient(
        db, actor, data.patient_id, action="create", resource_type="MonitoringProgram"
    )
    consent = await require_consent(db, patient.id, CONSENT_ACT)
    await _check_team(db, data.operator_team)
    if not timedelta(days=1) <= data.duration <= MAX_DURATION:
        raise Invalid.field("duration_days", "de 1 à 366 jours : une prescription dure au plus un an")
    program = await _insert(db, actor, data, prescriber.id, consent.id)
    _materialise_rules(db, program)
    _open_team_access(db, actor, program)
    add_entry(
        db,
        patient.id,
        kind="telemonitoring",
        title=f"Inclusion en télésurveillance : {INDICATION_LABELS[data.indication]}",
        occurred_at=program.starts_at,
        source_type="MonitoringProgram",
        source_id=program.id,
        author_professional_id=prescriber.id,
    )
    record(
        db,
        actor,
        action="create",
        resource_type="MonitoringProgram",
        resource_id=program.id,
        patient_id=patient.id,
    )
    await db.flush()
    await engine.reschedule_missing_check(db, program)
    await monthly.ensure_scheduled(db)  # the month's report and forfait, for every program
    return program


async def _insert(
    db: AsyncSession, actor: Actor, data: Enrolment, prescriber_id: str, consent_id: str
) -> Program:
    program = Program(
        patient_id=data.patient_id,
        indication=data.indication.value,
        prescriber_id=prescriber_id,
        operator_team=list(data.operator_team),
        escalation_minutes=data.escalation_minutes,
        starts_at=data.starts_at,
        ends_at=data.starts_at + data.duration,
        status="active",
        consent_id=consent_id,
        created_by_user_id=actor.user.id,
    )
    db.add(program)
    try:
        await db.flush()  # the partial unique index settles two enrolments racing
    except IntegrityError:
        raise Conflict("ce patient est déjà suivi en télésurveillance pour cette indication") from None
    return program


async def _check_team(db: AsyncSession, team: list[str]) -> None:
    if not team or len(set(team)) != len(team):
        raise Invalid.field("operator_team", "au moins un professionnel, chacun une seule fois")
    found = {p.id: p for p in await db.scalars(select(Professional).where(Professional.id.in_(team)))}
    if missing := [pid for pid in team if pid not in found]:
        raise Invalid.field("operator_team", f"professionnel inconnu : {missing[0]}")
    if not any(p.profession == "physician" for p in found.values()):
        raise Invalid.field("operator_team", "l'équipe de l'opérateur compte au moins un médecin")


def _materialise_rules(db: AsyncSession, program: Program) -> None:
    """The indication's defaults, copied for this patient; history before enrolment raises nothing."""
    for rule in DEFAULT_RULES[Indication(program.indication)]:
        db.add(
            ProgramRule(
                program_id=program.id,
                code=rule.code,
                definition=rule_codec.to_json(rule),
                enabled=True,
                updated_at=program.created_at or utcnow(),
            )
        )
        db.add(
            RuleStateRow(
                program_id=program.id,
                rule_code=rule.code,
                status=Status.CLEAR.value,
                since=None,
                through=program.starts_at,
            )
        )


def _open_team_access(db: AsyncSession, actor: Actor, program: Program) -> None:
    """The operators read the patient's record for the program's length (a care relation of the act)."""
    for professional_id in dict.fromkeys([program.prescriber_id, *program.operator_team]):
        db.add(
            CareRelation(
                patient_id=program.patient_id,
                professional_id=professional_id,
                reason="act",
                starts_at=utcnow(),
                ends_at=program.ends_at,
                created_by_user_id=actor.user.id,
            )
        )


async def program_for(db: AsyncSession, actor: Actor, program_id: str, *, action: str = "read") -> Program:
    """A program whose patient the actor may see (gate, audited); one 404 whether missing or forbidden."""
    program = await db.get(Program, program_id)
    if program is None:
        raise NotFound(NOT_FOUND)
    try:
        await access_patient(
            db,
            actor,
            program.patient_id,
            action=action,
            resource_type="MonitoringProgram",
            resource_id=program.id,
        )
    except NotFound:
        raise NotFound(NOT_FOUND) from None
    return program


async def visible_programs(
    db: AsyncSession, actor: Actor, patient_id: str | None = None, status: str | None = None
) -> list[Program]:
    query = select(Program).join(Patient, Patient.id == Program.patient_id).where(visible_patients(actor))
    if patient_id:
        query = query.where(Program.patient_id == patient_id)
    if status:
        query = query.where(Program.status == status)
    rows = list(await db.scalars(query.order_by(Program.starts_at.desc(), Program.id).limit(500)))
    for program in rows:
        record(
            db,
            actor,
            action="search",
            resource_type="MonitoringProgram",
            resource_id=program.id,
            patient_id=program.patient_id,
        )
    return rows


async def rules_of(db: AsyncSession, program: Program) -> list[tuple[ProgramRule, RuleStateRow | None]]:
    rows = await db.execute(
        select(ProgramRule, RuleStateRow)
        .outerjoin(
            RuleStateRow,
            and_(
                RuleStateRow.program_id == ProgramRule.program_id, RuleStateRow.rule_code == ProgramRule.code
            ),
        )
        .where(ProgramRule.program_id == program.id)
        .order_by(ProgramRule.code)
    )
    return [(rule, state) for rule, state in rows]


async def adjust_rule(
    db: AsyncSession, actor: Actor, program: Program, code: str, changes: dict[str, Any], reason: str | None
) -> ProgramRule:
    """A doctor changes a rule for this patient; the old and new values are kept and audited."""
    await require_doctor(db, actor, "modifier les seuils d'alerte")
    row = await db.scalar(
        select(ProgramRule).where(ProgramRule.program_id == program.id, ProgramRule.code == code)
    )
    if row is None:
        raise NotFound("règle d'alerte introuvable pour ce programme")
    old = {"enabled": row.enabled, "definition": row.definition}
    try:
        definition = rule_codec.to_json(rule_codec.adjust(rule_codec.from_json(row.definition), changes))
    except rule_codec.RuleChangeRefused as refused:
        raise Invalid.field(refused.field, refused.reason) from None
    new = {"enabled": changes.get("enabled", row.enabled), "definition": definition}
    if new == old:
        return row
    row.definition, row.enabled = definition, bool(new["enabled"])
    row.updated_at, row.updated_by_user_id = utcnow(), actor.user.id
    change = RuleChange(
        program_id=program.id,
        rule_code=code,
        changed_at=row.updated_at,
        changed_by_user_id=actor.user.id,
        old=old,
        new=new,
        reason=reason,
    )
    db.add(change)
    await db.flush()
    record(
        db,
        actor,
        action="update",
        resource_type="MonitoringRule",
        resource_id=change.id,
        patient_id=program.patient_id,
    )
    await engine.reschedule_missing_check(db, program)
    return row


async def rule_changes(db: AsyncSession, program: Program) -> list[RuleChange]:
    rows = await db.scalars(
        select(RuleChange)
        .where(RuleChange.program_id == program.id)
        .order_by(RuleChange.changed_at, RuleChange.id)
    )
    return list(rows)
