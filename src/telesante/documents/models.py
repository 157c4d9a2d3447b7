from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from telesante.db import Base, IdMixin, TimestampMixin
from telesante.kit.encrypted import EncryptedBytes, EncryptedText


class Document(IdMixin, TimestampMixin, Base):
    __tablename__ = "documents"

    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    uploaded_by_user_id: Mapped[str] = mapped_column(String(36))
    filename: Mapped[str] = mapped_column(EncryptedText)  # a file name can name a diagnosis
    content_type: Mapped[str] = mapped_column(String(60))  # the type sniffed from the bytes
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(EncryptedBytes)
    # Set when the file was shared during a téléconsultation: it belongs to that encounter.
    appointment_id: Mapped[str | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="SET NULL"), index=True
    )
