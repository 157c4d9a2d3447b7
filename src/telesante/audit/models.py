from datetime import datetime

from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from telesante.db import Base, IdMixin, utcnow
from telesante.kit.encrypted import EncryptedText


class AuditEvent(IdMixin, Base):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_patient_at", "patient_id", "at"),)

    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_user_id: Mapped[str | None] = mapped_column(String(36))
    actor_role: Mapped[str] = mapped_column(String(40))
    patient_id: Mapped[str | None] = mapped_column(String(36))
    action: Mapped[str] = mapped_column(String(20))  # read, search, create, update
    resource_type: Mapped[str] = mapped_column(String(40))
    resource_id: Mapped[str | None] = mapped_column(String(36))
    outcome: Mapped[str] = mapped_column(String(10))  # success, denied
    purpose: Mapped[str] = mapped_column(String(40))
    request_id: Mapped[str | None] = mapped_column(String(36))
    reason: Mapped[str | None] = mapped_column(
        EncryptedText
    )  # stated by the actor (break-glass): may be clinical
    # The hash chain, filled in by the sealer (audit/chain.py) in insertion order.
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))
