from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from telesante.db import Base, IdMixin, TimestampMixin
from telesante.kit.encrypted import EncryptedText


class Prescription(IdMixin, TimestampMixin, Base):
    __tablename__ = "prescriptions"

    public_id: Mapped[str] = mapped_column(String(40), unique=True)  # printed and in the QR code
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    prescriber_id: Mapped[str] = mapped_column(ForeignKey("professionals.id"))
    appointment_id: Mapped[str | None] = mapped_column(ForeignKey("appointments.id"))
    content: Mapped[str] = mapped_column(EncryptedText)  # the canonical JSON that was signed
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    key_id: Mapped[str] = mapped_column(String(40))
    issued_at: Mapped[datetime]


class Dispensation(IdMixin, TimestampMixin, Base):
    __tablename__ = "dispensations"

    prescription_id: Mapped[str] = mapped_column(ForeignKey("prescriptions.id"), index=True)
    line: Mapped[int]
    pharmacist_id: Mapped[str] = mapped_column(ForeignKey("professionals.id"))
    dispensed_at: Mapped[datetime]
    quantity: Mapped[str | None] = mapped_column(String(60))
