"""What the API takes and returns. Output schemas carry no defaults."""

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from telesante.teleexpertise.rules import MAX_EXPERTS

Urgency = Literal["normal", "urgent"]
SeePatient = Literal["none", "routine", "soon", "urgent"]


class PoolIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    specialty: str = Field(min_length=2, max_length=120, description="as written in the directory")
    organisation_id: str = Field(max_length=36)


class RequestCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    patient_id: str = Field(max_length=36)
    question: str = Field(min_length=10, max_length=8000)
    urgency: Urgency = "normal"
    expert_ids: list[str] = Field(default_factory=list, max_length=MAX_EXPERTS)
    pool: PoolIn | None = Field(default=None, description="a specialty within an organisation")
    document_ids: list[str] = Field(default_factory=list, max_length=50)
    measurement_ids: list[str] = Field(default_factory=list, max_length=500)


class MessageCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    body: str = Field(min_length=1, max_length=8000)


class AnswerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    opinion: str = Field(min_length=10, max_length=16000)
    management: str = Field(min_length=1, max_length=8000, description="suggested management")
    see_patient: SeePatient = Field(description="whether the patient should be seen, and how soon")


class ReassignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expert_id: str = Field(max_length=36)


class ProposeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    consultation_type_id: str = Field(max_length=36)
    starts_at: datetime


class ExpertOut(BaseModel):
    professional_id: str
    display_name: str
    specialty: str | None
    via: str
    status: str


class AttachmentOut(BaseModel):
    document_id: str
    filename: str
    content_type: str
    size: int
    sha256: str


class MeasurementOut(BaseModel):
    id: str
    kind: str
    value: Decimal
    effective_at: datetime


class MessageOut(BaseModel):
    id: str
    author_professional_id: str
    author: str
    body: str
    created_at: datetime


class AnswerOut(BaseModel):
    id: str
    professional_id: str
    expert: str
    opinion: str
    management: str
    see_patient: SeePatient
    signed_at: datetime
    content_sha256: str
    billing: list[dict[str, Any]]


class RequestSummary(BaseModel):
    id: str
    patient_id: str
    requester_id: str
    urgency: Urgency
    status: str
    due_at: datetime
    seconds_left: int
    at_risk: bool
    pool: PoolIn | None
    pool_open: bool
    claimed_by_id: str | None
    role: str
    created_at: datetime


class RequestOut(RequestSummary):
    question: str
    experts: list[ExpertOut]
    attachments: list[AttachmentOut]
    measurements: list[MeasurementOut]
    messages: list[MessageOut]
    answers: list[AnswerOut]
    appointment_id: str | None
    escalated_at: datetime | None
