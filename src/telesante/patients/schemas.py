from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from telesante.identifiers import IdentifierError, validate_nir
from telesante.identifiers.systems import INS_NIA, INS_NIR, INS_NIR_DEMO, INS_NIR_TEST

IdentityStatus = Literal["PROV", "RECUP", "VALI", "QUAL"]
Sex = Literal["M", "F", "U"]
InsOid = Literal[
    "urn:oid:1.2.250.1.213.1.4.8",
    "urn:oid:1.2.250.1.213.1.4.9",
    "urn:oid:1.2.250.1.213.1.4.10",
    "urn:oid:1.2.250.1.213.1.4.11",
]
assert {INS_NIR, INS_NIA, INS_NIR_TEST, INS_NIR_DEMO} == set(InsOid.__args__)  # type: ignore[attr-defined]  # one source of truth
CareReason = Literal["gp_of_record", "care_team", "act"]
IDENTITY_STATUS_LABELS = {"PROV": "provisoire", "RECUP": "récupérée", "VALI": "validée", "QUAL": "qualifiée"}


class Ins(BaseModel):
    """The INS matricule (NIR, or NIA while registration is pending) and its OID."""

    matricule: str = Field(examples=["185057505612388"])
    oid: InsOid = "urn:oid:1.2.250.1.213.1.4.8"  # INS-NIR

    @field_validator("matricule")
    @classmethod
    def key_and_structure(cls, value: str) -> str:
        try:
            return validate_nir(value)
        except IdentifierError as exc:
            raise ValueError(str(exc)) from None


class PatientCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    ins: Ins | None = None
    identity_status: IdentityStatus = "PROV"
    birth_family_name: str = Field(min_length=1, max_length=120)
    birth_given_names: str = Field(min_length=1, max_length=240, description="space-separated")
    used_family_name: str | None = Field(default=None, max_length=120)
    used_given_name: str | None = Field(default=None, max_length=120)
    sex: Sex
    birth_date: date
    birth_place_code: str | None = Field(default=None, pattern=r"^(\d{5}|2[AB]\d{3})$")
    email: EmailStr | None = None
    phone: str | None = Field(default=None, max_length=30)
    address: str | None = Field(default=None, max_length=300)
    gp_of_record_id: str | None = None


class InsOut(BaseModel):
    matricule: str
    oid: str


class PatientOut(BaseModel):
    id: str
    ins: InsOut | None
    identity_status: str
    birth_family_name: str
    birth_given_names: str
    used_family_name: str | None
    used_given_name: str | None
    display_name: str
    sex: str
    birth_date: date
    birth_place_code: str | None
    email: str | None
    phone: str | None
    address: str | None
    gp_of_record_id: str | None


class CareRelationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    professional_id: str
    reason: CareReason
    ends_at: datetime | None = None


class CareRelationOut(BaseModel):
    id: str
    patient_id: str
    professional_id: str
    professional_name: str
    reason: str
    starts_at: datetime
    ends_at: datetime | None


class TimelineEntryOut(BaseModel):
    id: str
    occurred_at: datetime
    kind: str
    title: str
    summary: str | None
    source_type: str | None
    source_id: str | None
