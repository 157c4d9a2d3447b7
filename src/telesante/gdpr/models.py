from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from telesante.db import Base, IdMixin, TimestampMixin


class ErasureRequest(IdMixin, TimestampMixin, Base):
    """A request to erase data (GDPR art. 17) and what was done with it."""

    __tablename__ = "erasure_requests"

    user_id: Mapped[str] = mapped_column(String(36), index=True)
    patient_id: Mapped[str | None] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(10))  # done, partial, refused
    detail: Mapped[str] = mapped_column(Text)  # what was erased, and why the rest is kept
    completed_at: Mapped[datetime | None]
