from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from telesante.db import Base, IdMixin, TimestampMixin


class BillingLine(IdMixin, TimestampMixin, Base):
    __tablename__ = "billing_lines"

    act_type: Mapped[str] = mapped_column(String(30))  # teleconsultation, teleexpertise…
    act_id: Mapped[str] = mapped_column(String(36), index=True)
    professional_id: Mapped[str] = mapped_column(ForeignKey("professionals.id"), index=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"))
    code: Mapped[str] = mapped_column(String(10))
    amount_cents: Mapped[int]
    reimbursable: Mapped[bool]
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # each rule, checked or not, why
