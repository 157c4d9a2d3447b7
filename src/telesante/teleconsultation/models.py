from datetime import datetime, time
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, false, text
from sqlalchemy.orm import Mapped, mapped_column

from telesante.db import Base, IdMixin, TimestampMixin
from telesante.kit.encrypted import EncryptedText


class ConsultationType(IdMixin, TimestampMixin, Base):
    """What a professional offers: duration, video or not, tariff (dated tariffs live in billing/)."""

    __tablename__ = "consultation_types"

    professional_id: Mapped[str] = mapped_column(ForeignKey("professionals.id"), index=True)
    label: Mapped[str] = mapped_column(String(120))
    duration_minutes: Mapped[int]
    video: Mapped[bool] = mapped_column(default=True)
    billing_code: Mapped[str | None] = mapped_column(String(10))  # TCG, TC…
    # The professional's rule: a patient cancels or moves at least this long before.
    cancel_notice_hours: Mapped[int] = mapped_column(default=2)
    active: Mapped[bool] = mapped_column(default=True)


class OpeningHours(IdMixin, Base):
    """A weekly opening period, in Europe/Paris wall-clock time."""

    __tablename__ = "opening_hours"

    professional_id: Mapped[str] = mapped_column(ForeignKey("professionals.id"), index=True)
    weekday: Mapped[int]  # 0 = Monday
    opens: Mapped[time]
    closes: Mapped[time]


class Absence(IdMixin, TimestampMixin, Base):
    __tablename__ = "absences"

    professional_id: Mapped[str] = mapped_column(ForeignKey("professionals.id"), index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    label: Mapped[str | None] = mapped_column(String(120))


class Appointment(IdMixin, TimestampMixin, Base):
    __tablename__ = "appointments"
    __table_args__ = (
        # One live appointment per professional and start time: the booking race has one winner.
        Index(
            "uq_appointments_live_slot",
            "professional_id",
            "starts_at",
            unique=True,
            sqlite_where=text("status != 'cancelled'"),
            postgresql_where=text("status != 'cancelled'"),
        ),
        Index("ix_appointments_patient", "patient_id", "starts_at"),
    )

    professional_id: Mapped[str] = mapped_column(ForeignKey("professionals.id"))
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))
    consultation_type_id: Mapped[str] = mapped_column(ForeignKey("consultation_types.id"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    # booked, waiting, in_call, done, cancelled, no_show
    status: Mapped[str] = mapped_column(String(12), default="booked")
    reason: Mapped[str | None] = mapped_column(EncryptedText)  # motif de consultation
    booked_by_user_id: Mapped[str] = mapped_column(String(36))
    # Adressé par le médecin traitant: one of the parcours conditions of reimbursement (billing.md).
    referred_by_gp: Mapped[bool] = mapped_column(default=False, server_default=false())
    cancelled_at: Mapped[datetime | None]
    waiting_since: Mapped[datetime | None]
    admitted_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    # Drops, reconnections, relay fallback… recorded for the compte rendu (CSP R6316-4).
    incidents: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class JoinToken(IdMixin, TimestampMixin, Base):
    """A short-lived right to join one call, for one participant, used once.

    A call is its room key (call/acts.py): an appointment's id for a téléconsultation, whose
    tokens also keep `appointment_id` (they go with it, and its report lists the companions);
    another act's room, such as ``reg-video:<session id>``, has no appointment.
    """

    __tablename__ = "join_tokens"

    call_key: Mapped[str] = mapped_column(String(80), index=True)
    appointment_id: Mapped[str | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str | None] = mapped_column(String(36))  # None for an invited guest's one-time link
    role: Mapped[str] = mapped_column(String(20))  # professional, patient, companion
    display_name: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class Report(IdMixin, TimestampMixin, Base):
    """The compte rendu: structured sections, then signed and locked (CSP R6316-4)."""

    __tablename__ = "reports"

    appointment_id: Mapped[str] = mapped_column(ForeignKey("appointments.id"), unique=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    author_id: Mapped[str] = mapped_column(ForeignKey("professionals.id"))
    sections: Mapped[str] = mapped_column(
        EncryptedText
    )  # JSON: motif, anamnèse, examen, conclusion, conduite
    status: Mapped[str] = mapped_column(String(10), default="draft")  # draft, signed
    signed_at: Mapped[datetime | None]
    # Frozen at signing: who took part, when, and the technical incidents of the call.
    record: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    content_sha256: Mapped[str | None] = mapped_column(String(64))
