from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from telesante.db import Base, IdMixin, TimestampMixin


class Consent(IdMixin, TimestampMixin, Base):
    """Informed consent (or refusal) to one kind of act, collected before it (acts.md, security.md §3)."""

    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_patient_act", "patient_id", "act"),)

    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    act: Mapped[str] = mapped_column(
        String(30)
    )  # teleconsultation, teleexpertise, telemonitoring, teleassistance
    decision: Mapped[str] = mapped_column(String(10))  # granted, refused
    method: Mapped[str] = mapped_column(String(20))  # in_person, in_app
    information: Mapped[str] = mapped_column(Text)  # what the patient was told
    recorded_by_user_id: Mapped[str] = mapped_column(String(36))
    recorded_at: Mapped[datetime]
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by_user_id: Mapped[str | None] = mapped_column(String(36))
