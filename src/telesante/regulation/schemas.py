"""What the room's API takes and gives. French messages come from the services; shapes here."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from telesante.identifiers import IdentifierError, validate_nir
from telesante.prescriptions.schemas import LineIn

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Priority = Literal["P0", "P1", "P2", "P3", "NR"]
Line = Literal["15", "112", "116117", "SAS"]


class Intake(BaseModel):
    """What the ARM captures; every field may be completed later while the file is open."""

    model_config = ConfigDict(extra="forbid")

    caller_type: Literal["SUJET", "FAMILLE", "TIERS", "PROFSANTE", "AUTRE"] | None = None
    caller_phone: (
        Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9 .]{3,20}$")] | None
    ) = None
    caller_name: Short | None = None
    caller_language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")] | None = None
    communication_issue: Short | None = None
    address: Short | None = None
    city: Short | None = None
    latitude: Annotated[float, Field(ge=-90, le=90)] | None = None
    longitude: Annotated[float, Field(ge=-180, le=180)] | None = None
    access_details: Text | None = None
    motive: Short | None = None
    whats_happen: Text | None = None
    patient_ins: str | None = Field(None, max_length=20, description="INS matricule (NIR with its key)")
    patient_name: Short | None = None
    patient_age: Annotated[int, Field(ge=0, le=130)] | None = None
    patient_sex: Literal["M", "F", "O", "UN"] | None = None
    priority: Priority | None = None
    perimeter: Literal["AMU", "SNP"] | None = None

    @field_validator("patient_ins")
    @classmethod
    def nir_key_and_structure(cls, value: str | None) -> str | None:
        try:
            return None if value is None else validate_nir(value)
        except IdentifierError as exc:
            raise ValueError(str(exc)) from None


class FileOpen(Intake):
    origin: Line = "15"
    priority: Priority = "P2"
    perimeter: Literal["AMU", "SNP"] = "AMU"
    call_id: str | None = None


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]


class CareLevelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    care_level: Literal["R1", "R2", "R3", "R4"]


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["CONSEIL", "PMT", "INTER", "ORIENT", "PASPLUS"]
    details: Text | None = None
    resource_id: str | None = None  # INTER
    orientation: Literal["URGENCES", "REA-USI", "SANTE", "CABINET", "DOMICILE", "EPHAD", "AUTRE"] | None = (
        None
    )
    destination: Short | None = None
    medical_transport: bool | None = None
    prescription: list[LineIn] | None = Field(None, max_length=30)  # PMT: the drug lines


class SasBookingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    professional_id: str = Field(max_length=36)
    type_id: str = Field(max_length=36)
    starts_at: datetime


class StateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    state: Literal["ACHEVE", "VALIDE", "CLASSE", "ARCHIVE"]


class TelephonyEvent(BaseModel):
    """Posted by the centre's telephony connector (docs/regulation-telephony.md)."""

    model_config = ConfigDict(extra="forbid")

    event: Literal["incoming", "answered", "hung_up"]
    call_id: Annotated[str, StringConstraints(min_length=1, max_length=80, pattern=r"^[\w.:@-]+$")]
    centre_finess: Annotated[str, StringConstraints(pattern=r"^[0-9AB]{9}$")]
    line: Line = "15"
    caller_number: Annotated[str, StringConstraints(pattern=r"^\+?[0-9]{3,20}$")] | None = None
    agent_rpps: Annotated[str, StringConstraints(pattern=r"^[0-9]{11}$")] | None = None  # who answered
    at: datetime | None = None
    recording_ref: Annotated[str, StringConstraints(max_length=200)] | None = None


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: str


class BilanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    heart_rate: Annotated[int, Field(ge=0, le=300)] | None = None
    systolic: Annotated[int, Field(ge=0, le=300)] | None = None
    diastolic: Annotated[int, Field(ge=0, le=200)] | None = None
    respiratory_rate: Annotated[int, Field(ge=0, le=80)] | None = None
    spo2: Annotated[int, Field(ge=0, le=100)] | None = None
    temperature: Annotated[float, Field(ge=25, le=45)] | None = None
    glasgow: Annotated[int, Field(ge=3, le=15)] | None = None
    glucose_mg_dl: Annotated[int, Field(ge=10, le=1000)] | None = None
    observations: Text | None = None
