from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from telesante.directory.professions import OrganisationKind, Profession
from telesante.identifiers import IdentifierError, validate_finess, validate_rpps


class OrganisationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    kind: OrganisationKind
    finess: str | None = Field(default=None, examples=["750000002"])
    city: str | None = Field(default=None, max_length=120)
    phone: str | None = Field(default=None, max_length=30)

    @field_validator("finess")
    @classmethod
    def finess_key(cls, value: str | None) -> str | None:
        try:
            return validate_finess(value) if value else None
        except IdentifierError as exc:
            raise ValueError(str(exc)) from None


class OrganisationOut(BaseModel):
    id: str
    name: str
    kind: str
    finess: str | None
    city: str | None
    phone: str | None


class ProfessionalCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    rpps: str = Field(examples=["10000000009"])
    family_name: str = Field(min_length=1, max_length=120)
    given_name: str = Field(min_length=1, max_length=120)
    profession: Profession
    specialty: str | None = Field(default=None, max_length=120)
    email: EmailStr | None = None
    phone: str | None = Field(default=None, max_length=30)
    organisation_ids: list[str] = Field(default_factory=list, max_length=20)

    @field_validator("rpps")
    @classmethod
    def rpps_format(cls, value: str) -> str:
        try:
            return validate_rpps(value)
        except IdentifierError as exc:
            raise ValueError(str(exc)) from None


class ProfessionalOut(BaseModel):
    id: str
    rpps: str
    family_name: str
    given_name: str
    display_name: str
    profession: str
    specialty: str | None
    is_medical: bool
    organisation_ids: list[str]
