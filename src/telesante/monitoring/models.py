"""Télésurveillance tables: programs and their rules, devices, measurements, alerts, rule states.

The dedupe key of a measurement is (device, kind, effective time in UTC): the same reading sent
twice by one device, by any path (FHIR, MQTT, Nightscout, which dedupes on sysTime + type alike),
is stored once. Two devices measuring at the same instant are two measurements.
"""

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Numeric, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from telesante.db import Base, IdMixin, TimestampMixin
from telesante.kit.encrypted import EncryptedText


class Program(IdMixin, TimestampMixin, Base):
    """One patient followed for one indication by an operator team, for a prescribed period."""

    __tablename__ = "monitoring_programs"
    __table_args__ = (
        # One live program per patient and indication: a second enrolment is a conflict.
        Index(
            "uq_monitoring_programs_live_indication",
            "patient_id",
            "indication",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    indication: Mapped[str] = mapped_column(String(40))  # defaults.Indication
    prescriber_id: Mapped[str] = mapped_column(ForeignKey("professionals.id"))
    # Professional ids in escalation order: the first watches, the next is called when nobody acknowledges.
    operator_team: Mapped[list[str]] = mapped_column(JSON)
    escalation_minutes: Mapped[int]
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(10))  # active, ended
    consent_id: Mapped[str] = mapped_column(ForeignKey("consents.id"))
    created_by_user_id: Mapped[str] = mapped_column(String(36))
    # The pending missing-data timer (a row of `jobs`), moved rather than multiplied as data arrives.
    missing_job_id: Mapped[str | None] = mapped_column(String(36))


class ProgramRule(IdMixin, Base):
    """A default rule materialised for one program, adjustable by a doctor (rule_codec.py)."""

    __tablename__ = "monitoring_rules"
    __table_args__ = (UniqueConstraint("program_id", "code"),)

    program_id: Mapped[str] = mapped_column(ForeignKey("monitoring_programs.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(60))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    enabled: Mapped[bool]
    updated_at: Mapped[datetime]
    updated_by_user_id: Mapped[str | None] = mapped_column(String(36))


class RuleChange(IdMixin, Base):
    """Every adjustment of a rule, with the values before and after (the audit event points here)."""

    __tablename__ = "monitoring_rule_changes"

    program_id: Mapped[str] = mapped_column(
        ForeignKey("monitoring_programs.id", ondelete="CASCADE"), index=True
    )
    rule_code: Mapped[str] = mapped_column(String(60))
    changed_at: Mapped[datetime]
    changed_by_user_id: Mapped[str] = mapped_column(String(36))
    old: Mapped[dict[str, Any]] = mapped_column(JSON)
    new: Mapped[dict[str, Any]] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(EncryptedText)


class RuleStateRow(IdMixin, Base):
    """rules.RuleState of one rule of one program, kept between evaluations."""

    __tablename__ = "monitoring_rule_states"
    __table_args__ = (UniqueConstraint("program_id", "rule_code"),)

    program_id: Mapped[str] = mapped_column(ForeignKey("monitoring_programs.id", ondelete="CASCADE"))
    rule_code: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(10))  # clear, raised
    since: Mapped[datetime | None]
    through: Mapped[datetime | None]


class Device(IdMixin, TimestampMixin, Base):
    """A connected device of one patient, authenticated by its own token (never a user's)."""

    __tablename__ = "monitoring_devices"

    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    program_id: Mapped[str] = mapped_column(ForeignKey("monitoring_programs.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # cgm, glucometer, bp_monitor, scale, oximeter…
    model: Mapped[str] = mapped_column(String(120))
    serial: Mapped[str] = mapped_column(String(120))
    # The token is shown once; its SHA-256 authenticates FHIR/MQTT, its SHA-1 and SHA-512 are what
    # Nightscout uploaders send as `api-secret` (the token serves as their API_SECRET).
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    secret_sha1: Mapped[str] = mapped_column(String(40), unique=True)
    secret_sha512: Mapped[str] = mapped_column(String(128), unique=True)
    registered_by_user_id: Mapped[str] = mapped_column(String(36))
    revoked_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime | None]


class Measurement(IdMixin, Base):
    __tablename__ = "monitoring_measurements"
    __table_args__ = (
        UniqueConstraint("device_id", "kind", "effective_at", name="uq_monitoring_measurements_dedupe"),
        Index("ix_monitoring_measurements_patient_time", "patient_id", "effective_at"),
        Index("ix_monitoring_measurements_program_kind_time", "program_id", "kind", "effective_at"),
    )

    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))
    program_id: Mapped[str] = mapped_column(ForeignKey("monitoring_programs.id"))
    device_id: Mapped[str] = mapped_column(ForeignKey("monitoring_devices.id"))
    kind: Mapped[str] = mapped_column(String(30))  # measures.MeasureKind
    value: Mapped[Decimal] = mapped_column(Numeric(12, 4))  # in the kind's canonical UCUM unit
    value_sent: Mapped[str] = mapped_column(String(40))  # exactly as the device wrote it
    unit_sent: Mapped[str] = mapped_column(String(30))
    effective_at: Mapped[datetime]  # UTC, whatever offset the device clock used
    received_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(12))  # fhir, mqtt, nightscout
    # Components of one panel (blood pressure) share this id, which is the FHIR Observation's id.
    panel_id: Mapped[str | None] = mapped_column(String(36), index=True)


class Alert(IdMixin, Base):
    """An alert for one rule of one program: open until a professional resolves it.

    The rule clearing (values back beyond the recovery margin) does not close the alert: an episode
    at 3 am must still be seen at 9 am. A new episode of the same rule while the alert is unresolved
    updates it (`episodes`), so there is never more than one unresolved alert per rule.
    """

    __tablename__ = "monitoring_alerts"
    __table_args__ = (
        Index(
            "uq_monitoring_alerts_open_rule",
            "program_id",
            "rule_code",
            unique=True,
            sqlite_where=text("status != 'resolved'"),
            postgresql_where=text("status != 'resolved'"),
        ),
        Index("ix_monitoring_alerts_patient_status", "patient_id", "status"),
    )

    program_id: Mapped[str] = mapped_column(ForeignKey("monitoring_programs.id"))
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))
    rule_code: Mapped[str] = mapped_column(String(60))
    label: Mapped[str] = mapped_column(String(200))  # the rule's label when raised
    severity: Mapped[str] = mapped_column(String(10))  # info, warning, critical
    status: Mapped[str] = mapped_column(String(14))  # open, acknowledged, resolved
    raised_at: Mapped[datetime]  # when the platform raised it
    occurred_at: Mapped[datetime]  # the moment the measurements describe
    late: Mapped[bool]  # raised by measurements that arrived after newer ones
    evidence: Mapped[list[str]] = mapped_column(JSON)  # measurement ids, oldest episode first
    episodes: Mapped[int]
    condition_active: Mapped[bool]  # the rule is still raised (false once values recovered)
    condition_cleared_at: Mapped[datetime | None]
    escalation_level: Mapped[int]  # index in the operator team of the last one called
    escalated_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_user_id: Mapped[str | None] = mapped_column(String(36))
    acknowledgement: Mapped[str | None] = mapped_column(EncryptedText)
    resolved_at: Mapped[datetime | None]
    resolved_by_user_id: Mapped[str | None] = mapped_column(String(36))
    resolution: Mapped[str | None] = mapped_column(EncryptedText)
