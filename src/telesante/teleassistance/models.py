"""A téléassistance session, its guided steps and the stills captured during it."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from telesante.db import Base, IdMixin, TimestampMixin
from telesante.kit.encrypted import EncryptedText


class AssistanceSession(IdMixin, TimestampMixin, Base):
    """The assisted professional calls a named doctor, or a team (first to accept gets it).

    A team is a specialty within an organisation, as téléexpertise's pools (ADR 0010).
    """

    __tablename__ = "assistance_sessions"

    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    consent_id: Mapped[str] = mapped_column(ForeignKey("consents.id"))
    assisted_id: Mapped[str] = mapped_column(ForeignKey("professionals.id"), index=True)
    assisted_user_id: Mapped[str] = mapped_column(String(36))
    act: Mapped[str] = mapped_column(EncryptedText)  # the gesture, in the professional's words
    status: Mapped[str] = mapped_column(String(10), index=True)  # lifecycle.Status
    called_id: Mapped[str | None] = mapped_column(ForeignKey("professionals.id"))  # a named doctor
    team_organisation_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"))
    team_specialty: Mapped[str | None] = mapped_column(String(120))
    doctor_id: Mapped[str | None] = mapped_column(ForeignKey("professionals.id"), index=True)
    appointment_id: Mapped[str | None] = mapped_column(
        ForeignKey("appointments.id")
    )  # from a téléconsultation
    checklist: Mapped[str | None] = mapped_column(String(40))
    accepted_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    incidents: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    report_document_id: Mapped[str | None] = mapped_column(ForeignKey("documents.id"))


class AssistanceStep(IdMixin, Base):
    """One step of the checklist the doctor picked, ticked with its time."""

    __tablename__ = "assistance_steps"
    __table_args__ = (UniqueConstraint("session_id", "position"),)

    session_id: Mapped[str] = mapped_column(
        ForeignKey("assistance_sessions.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(200))
    done_at: Mapped[datetime | None]
    done_by_user_id: Mapped[str | None] = mapped_column(String(36))


class AssistanceCapture(IdMixin, TimestampMixin, Base):
    """A still from the professional's camera, with the doctor's marks; the image is a document of
    the patient (encrypted, on the timeline), the marks are kept as drawn (normalised 0–1)."""

    __tablename__ = "assistance_captures"

    session_id: Mapped[str] = mapped_column(
        ForeignKey("assistance_sessions.id", ondelete="CASCADE"), index=True
    )
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"))
    taken_by_user_id: Mapped[str] = mapped_column(String(36))
    source: Mapped[str] = mapped_column(String(20))  # camera, dermatoscope, otoscope…
    marks: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
