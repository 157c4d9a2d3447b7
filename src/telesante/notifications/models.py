from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from telesante.db import Base, IdMixin, TimestampMixin
from telesante.kit.encrypted import EncryptedText


class Notification(IdMixin, TimestampMixin, Base):
    __tablename__ = "notifications"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(EncryptedText)  # may name a patient or a result
    link: Mapped[str | None] = mapped_column(String(300))
    read_at: Mapped[datetime | None]
    # none: in-app only; pending: an e-mail job is queued; sent; failed.
    email_status: Mapped[str] = mapped_column(String(10), default="none")
