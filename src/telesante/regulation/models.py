"""A SAMU centre's room: its staff, the calls, the regulation files (DR/DRM), their notes and
decisions, the resources, their missions and statuses, and the Hub Santé messages.

Free text about a person (caller, patient, notes, bilan) is encrypted like the rest of the
record; codes (priority, care level, statuses, Hub nomenclatures) stay readable for the queue.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from telesante.db import Base, IdMixin, TimestampMixin
from telesante.kit.encrypted import EncryptedText


class RegulationStaff(IdMixin, TimestampMixin, Base):
    """Who works in a centre's room, and as what: ARM, médecin régulateur urgentiste (MRU) or
    libéral (MRL, the SAS GP line), OSNP, superviseur. Only they see the centre's files."""

    __tablename__ = "regulation_staff"
    __table_args__ = (UniqueConstraint("centre_id", "professional_id"),)

    centre_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    professional_id: Mapped[str] = mapped_column(ForeignKey("professionals.id"), index=True)
    function: Mapped[str] = mapped_column(String(12))  # roles.Function


class RegulationFile(IdMixin, TimestampMixin, Base):
    """A dossier de régulation: DR when opened by the ARM, DRM once a regulator took it.

    `case_id` is the Hub's shared id `{country}.{domain}.{organisation}.{senderCaseId}`.
    """

    __tablename__ = "regulation_files"

    centre_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    case_id: Mapped[str] = mapped_column(String(80), unique=True)
    number: Mapped[int] = mapped_column(Integer)  # the centre's running number of the day's files
    state: Mapped[str] = mapped_column(String(10), index=True)  # states.CaseState
    perimeter: Mapped[str] = mapped_column(String(6))  # AMU (urgentist) or SNP (GP line)
    origin: Mapped[str] = mapped_column(String(8))  # line: 15, 112, 116117, SAS, or another SAMU
    priority: Mapped[str] = mapped_column(String(2))  # P0 P1 P2 P3 NR
    care_level: Mapped[str | None] = mapped_column(String(2))  # R1..R4, set by the regulator
    caller_type: Mapped[str | None] = mapped_column(String(12))  # SUJET, FAMILLE, TIERS, PROFSANTE…
    caller_phone: Mapped[str | None] = mapped_column(EncryptedText)
    caller_name: Mapped[str | None] = mapped_column(EncryptedText)
    caller_language: Mapped[str | None] = mapped_column(String(8))
    communication_issue: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str | None] = mapped_column(EncryptedText)
    city: Mapped[str | None] = mapped_column(String(120))
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    access_details: Mapped[str | None] = mapped_column(EncryptedText)
    motive: Mapped[str | None] = mapped_column(String(200))
    whats_happen: Mapped[str | None] = mapped_column(EncryptedText)
    patient_id: Mapped[str | None] = mapped_column(ForeignKey("patients.id"), index=True)
    patient_name: Mapped[str | None] = mapped_column(EncryptedText)
    patient_age: Mapped[int | None]
    patient_sex: Mapped[str | None] = mapped_column(String(2))  # M F O UN (Hub)
    opened_by_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    regulator_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    received_at: Mapped[datetime]  # when the call came in: the queue's clock starts here
    regulation_started_at: Mapped[datetime | None]
    validated_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]
    shared_from: Mapped[str | None] = mapped_column(String(60))  # the Hub id of the SAMU that sent it


Index("ix_regulation_files_queue", RegulationFile.centre_id, RegulationFile.state, RegulationFile.received_at)


class RegulationCall(IdMixin, TimestampMixin, Base):
    """A call as the telephony connector reported it. The audio stays in the telephony system:
    only its reference and retention are kept here."""

    __tablename__ = "regulation_calls"
    __table_args__ = (UniqueConstraint("centre_id", "external_id"),)

    centre_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    external_id: Mapped[str] = mapped_column(String(80))
    line: Mapped[str] = mapped_column(String(8))
    caller_number: Mapped[str | None] = mapped_column(EncryptedText)
    state: Mapped[str] = mapped_column(String(10))  # ringing, answered, ended
    received_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    answered_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    file_id: Mapped[str | None] = mapped_column(ForeignKey("regulation_files.id"), index=True)
    recording_ref: Mapped[str | None] = mapped_column(String(200))
    recording_kept_until: Mapped[datetime | None]


class MedicalNote(IdMixin, TimestampMixin, Base):
    __tablename__ = "regulation_notes"

    file_id: Mapped[str] = mapped_column(ForeignKey("regulation_files.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    role: Mapped[str] = mapped_column(String(12))  # Hub operator role: ARM, MEDECIN…
    text: Mapped[str] = mapped_column(EncryptedText)


class Decision(IdMixin, TimestampMixin, Base):
    """A regulator's timestamped decision (Hub `decisionType`)."""

    __tablename__ = "regulation_decisions"

    file_id: Mapped[str] = mapped_column(ForeignKey("regulation_files.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(8))  # CONSEIL PMT INTER ORIENT PASPLUS
    decided_at: Mapped[datetime]
    details: Mapped[str | None] = mapped_column(EncryptedText)
    resource_type: Mapped[str | None] = mapped_column(String(20))
    orientation: Mapped[str | None] = mapped_column(String(12))  # URGENCES, REA-USI, DOMICILE…
    destination: Mapped[str | None] = mapped_column(String(200))
    medical_transport: Mapped[bool | None]
    prescription_id: Mapped[str | None] = mapped_column(ForeignKey("prescriptions.id"))
    appointment_id: Mapped[str | None] = mapped_column(ForeignKey("appointments.id"))
    mission_id: Mapped[str | None] = mapped_column(String(36))


class Resource(IdMixin, TimestampMixin, Base):
    """A resource the centre can engage: a SMUR team, an ambulance, a VSAV, a GP on call…"""

    __tablename__ = "regulation_resources"

    centre_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    resource_type: Mapped[str] = mapped_column(String(20))  # Hub resourceType: SMUR, TSU, SIS, LIBERAL…
    vehicle_type: Mapped[str | None] = mapped_column(String(20))  # SMUR.VLM, TSU.AMB, SIS.VSAV…
    team_level: Mapped[str | None] = mapped_column(String(8))  # MED, PARAMED, SECOURS, SANS
    base: Mapped[str | None] = mapped_column(String(120))
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    available: Mapped[bool] = mapped_column(default=True)
    phone: Mapped[str | None] = mapped_column(String(30))
    email: Mapped[str | None] = mapped_column(String(254))


class Mission(IdMixin, TimestampMixin, Base):
    """A resource engaged on a file. The crew reaches it, and only it, with `token_hash`'s token."""

    __tablename__ = "regulation_missions"

    file_id: Mapped[str] = mapped_column(ForeignKey("regulation_files.id"), index=True)
    resource_id: Mapped[str] = mapped_column(ForeignKey("regulation_resources.id"), index=True)
    status: Mapped[str] = mapped_column(String(10))  # missions.Status (Hub RS-SR)
    status_at: Mapped[datetime]
    engaged_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))  # None: a P0 reflex
    reflex: Mapped[bool] = mapped_column(default=False)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    ended_at: Mapped[datetime | None]


class MissionStatus(IdMixin, Base):
    """Each status the mission went through, timestamped, and who set it."""

    __tablename__ = "regulation_mission_statuses"

    mission_id: Mapped[str] = mapped_column(
        ForeignKey("regulation_missions.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(10))
    at: Mapped[datetime]
    by: Mapped[str] = mapped_column(String(12))  # crew, room, hub


class Bilan(IdMixin, TimestampMixin, Base):
    """The crew's patient assessment (RS-BPV): vital signs and observations."""

    __tablename__ = "regulation_bilans"

    mission_id: Mapped[str] = mapped_column(ForeignKey("regulation_missions.id"), index=True)
    file_id: Mapped[str] = mapped_column(ForeignKey("regulation_files.id"), index=True)
    vitals: Mapped[dict[str, Any]] = mapped_column(JSON)  # numbers only, validated on the way in
    observations: Mapped[str | None] = mapped_column(EncryptedText)


class HubMessage(IdMixin, TimestampMixin, Base):
    """A Hub Santé message, sent (the outbox) or received (deduplicated on its distribution id)."""

    __tablename__ = "hub_messages"
    __table_args__ = (UniqueConstraint("direction", "distribution_id"),)

    direction: Mapped[str] = mapped_column(String(3))  # out, in
    distribution_id: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(12))  # RS-EDA, RC-EDA, RS-SR, RS-BPV, RC-REF, RS-ERROR
    peer: Mapped[str] = mapped_column(String(60))  # recipient (out) or sender (in) Hub id
    file_id: Mapped[str | None] = mapped_column(ForeignKey("regulation_files.id"), index=True)
    envelope: Mapped[str] = mapped_column(EncryptedText)  # the EDXL-DE JSON as sent or received
    status: Mapped[str] = mapped_column(
        String(10), index=True
    )  # out: pending sent acked error; in: done error
    attempts: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[datetime | None]
    acked_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(String(400))
