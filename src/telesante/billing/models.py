from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
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


class ActivityDeclaration(IdMixin, TimestampMixin, Base):
    """Acts a professional performed outside Telesante in a month (in person, at the practice).

    The téléconsultation cap is a share of the whole activity (billing.md: 20 %, psychiatry 40 %),
    and only the professional knows the part Telesante does not see.
    """

    __tablename__ = "activity_declarations"
    __table_args__ = (UniqueConstraint("professional_id", "month"),)

    professional_id: Mapped[str] = mapped_column(ForeignKey("professionals.id"), index=True)
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    in_person_acts: Mapped[int]
