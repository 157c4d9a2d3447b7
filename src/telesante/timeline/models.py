from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from telesante.db import Base, IdMixin, TimestampMixin
from telesante.kit.encrypted import EncryptedText


class TimelineEntry(IdMixin, TimestampMixin, Base):
    __tablename__ = "timeline_entries"
    __table_args__ = (Index("ix_timeline_entries_patient_time", "patient_id", "occurred_at"),)

    patient_id: Mapped[str] = mapped_column(String(36))
    occurred_at: Mapped[datetime]
    # identity, care_relation, teleconsultation, teleexpertise, telemonitoring,
    # teleassistance, regulation, note...
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str | None] = mapped_column(EncryptedText)  # clinical free text: encrypted at rest
    source_type: Mapped[str | None] = mapped_column(String(40))
    source_id: Mapped[str | None] = mapped_column(String(36))
    author_professional_id: Mapped[str | None] = mapped_column(String(36))
