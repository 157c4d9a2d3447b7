from sqlalchemy import Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from telesante.db import Base, IdMixin, TimestampMixin, new_id
from telesante.directory.professions import is_medical

professional_organisations = Table(
    "professional_organisations",
    Base.metadata,
    Column("professional_id", ForeignKey("professionals.id", ondelete="CASCADE"), primary_key=True),
    Column("organisation_id", ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True),
    # The FHIR PractitionerRole id of this (professional, organisation) pair.
    Column("role_id", String(36), default=new_id, unique=True, nullable=False),
)


class Organisation(IdMixin, TimestampMixin, Base):
    __tablename__ = "organisations"

    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    finess: Mapped[str | None] = mapped_column(String(9), unique=True)
    city: Mapped[str | None] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(30))


class Professional(IdMixin, TimestampMixin, Base):
    __tablename__ = "professionals"

    rpps: Mapped[str] = mapped_column(String(11), unique=True)
    family_name: Mapped[str] = mapped_column(String(120), index=True)
    given_name: Mapped[str] = mapped_column(String(120))
    profession: Mapped[str] = mapped_column(String(40))
    specialty: Mapped[str | None] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(30))

    organisations: Mapped[list[Organisation]] = relationship(
        secondary=professional_organisations, lazy="raise"
    )

    @property
    def is_medical(self) -> bool:
        return is_medical(self.profession)

    @property
    def display_name(self) -> str:
        prefix = "Dr " if self.profession == "physician" else ""
        return f"{prefix}{self.given_name} {self.family_name}"
