from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from telesante.db import Base, IdMixin, TimestampMixin
from telesante.directory.models import Professional
from telesante.kit.encrypted import EncryptedText


class Patient(IdMixin, TimestampMixin, Base):
    __tablename__ = "patients"
    __table_args__ = (
        # text_pattern_ops lets PostgreSQL use the index for LIKE 'prefix%' in any collation.
        Index("ix_patients_search_name", "search_name", postgresql_ops={"search_name": "text_pattern_ops"}),
        Index(
            "ix_patients_search_used_name",
            "search_used_name",
            postgresql_ops={"search_used_name": "text_pattern_ops"},
        ),
        Index("ix_patients_birth_date", "birth_date"),
    )

    # INS: matricule (NIR or NIA) + the OID saying which; null for a provisional identity.
    ins_matricule: Mapped[str | None] = mapped_column(String(15), unique=True)
    ins_oid: Mapped[str | None] = mapped_column(String(64))
    identity_status: Mapped[str] = mapped_column(String(8))  # PROV, RECUP, VALI, QUAL
    birth_family_name: Mapped[str] = mapped_column(String(120))
    birth_given_names: Mapped[str] = mapped_column(String(240))  # space separated, INS trait
    used_family_name: Mapped[str | None] = mapped_column(String(120))
    used_given_name: Mapped[str | None] = mapped_column(String(120))
    sex: Mapped[str] = mapped_column(String(1))  # M, F, U
    birth_date: Mapped[date]
    birth_place_code: Mapped[str | None] = mapped_column(String(5))  # INSEE COG
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(30))
    address: Mapped[str | None] = mapped_column(String(300))
    gp_of_record_id: Mapped[str | None] = mapped_column(ForeignKey("professionals.id"))
    # Lower-case, accent-free birth and used family names for prefix search; derived, never shown.
    search_name: Mapped[str] = mapped_column(String(120))
    search_used_name: Mapped[str | None] = mapped_column(String(120))

    gp_of_record: Mapped[Professional | None] = relationship(lazy="raise")

    @property
    def display_name(self) -> str:
        given = self.used_given_name or self.birth_given_names.split(" ")[0]
        family = self.used_family_name or self.birth_family_name
        return f"{given} {family.upper()}"


class CareRelation(IdMixin, TimestampMixin, Base):
    """Why a professional may see a patient, and for how long."""

    __tablename__ = "care_relations"
    __table_args__ = (Index("ix_care_relations_pro_patient", "professional_id", "patient_id"),)

    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    professional_id: Mapped[str] = mapped_column(ForeignKey("professionals.id"))
    reason: Mapped[str] = mapped_column(String(40))  # gp_of_record, care_team, act
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]
    created_by_user_id: Mapped[str | None] = mapped_column(String(36))

    professional: Mapped[Professional] = relationship(lazy="raise")


class BreakGlassGrant(IdMixin, TimestampMixin, Base):
    """Emergency access outside the care team: a stated reason, a short duration, shown to the patient."""

    __tablename__ = "break_glass_grants"
    __table_args__ = (Index("ix_break_glass_pro_patient", "professional_id", "patient_id"),)

    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    professional_id: Mapped[str] = mapped_column(ForeignKey("professionals.id"))
    user_id: Mapped[str] = mapped_column(String(36))
    reason: Mapped[str] = mapped_column(EncryptedText)  # may describe the emergency: encrypted at rest
    starts_at: Mapped[datetime]
    expires_at: Mapped[datetime]
