"""A téléexpertise request, the experts it is addressed to, what is attached, the thread, the answers."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from telesante.db import Base, IdMixin, TimestampMixin
from telesante.kit.encrypted import EncryptedText


class ExpertRequest(IdMixin, TimestampMixin, Base):
    """The requérant's question about a patient, addressed to named experts and/or a pool.

    A pool is a specialty within an organisation (ADR 0010). `round` counts the due times the
    request has had (escalation to the pool, another expert): timers of an older round do nothing.
    """

    __tablename__ = "expert_requests"

    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    requester_id: Mapped[str] = mapped_column(ForeignKey("professionals.id"), index=True)
    requester_user_id: Mapped[str] = mapped_column(String(36))
    consent_id: Mapped[str] = mapped_column(ForeignKey("consents.id"))
    question: Mapped[str] = mapped_column(EncryptedText)
    urgency: Mapped[str] = mapped_column(String(10))  # normal, urgent
    status: Mapped[str] = mapped_column(String(12), index=True)  # lifecycle.Status
    due_at: Mapped[datetime] = mapped_column(index=True)
    round: Mapped[int] = mapped_column(default=1)
    pool_specialty: Mapped[str | None] = mapped_column(String(120))
    pool_organisation_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"))
    # Pool members may see and claim the request only while this is set (at once for a pool-only
    # request, at escalation when named experts did not answer in time).
    pool_open: Mapped[bool] = mapped_column(server_default=false(), default=False)
    claimed_by_id: Mapped[str | None] = mapped_column(ForeignKey("professionals.id"))
    escalated_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    appointment_id: Mapped[str | None] = mapped_column(ForeignKey("appointments.id", ondelete="SET NULL"))


class ExpertAssignment(IdMixin, TimestampMixin, Base):
    """One expert the request is addressed to: named by the requérant, or the pool's claimer."""

    __tablename__ = "expert_assignments"
    __table_args__ = (UniqueConstraint("request_id", "professional_id"),)

    request_id: Mapped[str] = mapped_column(ForeignKey("expert_requests.id", ondelete="CASCADE"), index=True)
    professional_id: Mapped[str] = mapped_column(ForeignKey("professionals.id"), index=True)
    via: Mapped[str] = mapped_column(String(10))  # named, pool
    status: Mapped[str] = mapped_column(String(12))  # active, answered, reassigned


class ExpertAttachment(IdMixin, TimestampMixin, Base):
    """A document or a measurement of the record, shown to the experts with the request."""

    __tablename__ = "expert_attachments"

    request_id: Mapped[str] = mapped_column(ForeignKey("expert_requests.id", ondelete="CASCADE"), index=True)
    document_id: Mapped[str | None] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    measurement_id: Mapped[str | None] = mapped_column(
        ForeignKey("monitoring_measurements.id", ondelete="CASCADE")
    )


class ExpertMessage(IdMixin, TimestampMixin, Base):
    """A message of the thread between the requis and the requérant, encrypted at rest."""

    __tablename__ = "expert_messages"

    request_id: Mapped[str] = mapped_column(ForeignKey("expert_requests.id", ondelete="CASCADE"), index=True)
    author_professional_id: Mapped[str] = mapped_column(ForeignKey("professionals.id"))
    body: Mapped[str] = mapped_column(EncryptedText)


class ExpertAnswer(IdMixin, TimestampMixin, Base):
    """One expert's signed, structured opinion; one per expert and request."""

    __tablename__ = "expert_answers"
    __table_args__ = (UniqueConstraint("request_id", "professional_id"),)

    request_id: Mapped[str] = mapped_column(ForeignKey("expert_requests.id", ondelete="CASCADE"), index=True)
    professional_id: Mapped[str] = mapped_column(ForeignKey("professionals.id"))
    opinion: Mapped[str] = mapped_column(EncryptedText)
    management: Mapped[str] = mapped_column(EncryptedText)
    see_patient: Mapped[str] = mapped_column(String(10))  # none, routine, soon, urgent
    signed_at: Mapped[datetime]
    content_sha256: Mapped[str] = mapped_column(String(64))
    # What billing made of it: each line produced or not, and why (billing.md caps).
    billing: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
