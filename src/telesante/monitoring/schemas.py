"""What the professionals' API accepts and answers (output schemas carry no defaults)."""

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from telesante.monitoring.defaults import Indication
from telesante.monitoring.devices import KINDS


class ProgramIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    patient_id: str = Field(max_length=36)
    indication: Indication
    operator_team: list[str] = Field(
        min_length=1, max_length=10, description="professional ids in escalation order: the first watches"
    )
    starts_at: datetime | None = Field(default=None, description="now when omitted")
    duration_days: int = Field(ge=1, le=366, description="a prescription lasts at most one year")
    escalation_minutes: int = Field(
        default=30, ge=5, le=24 * 60, description="unacknowledged this long: next operator"
    )


class ProgramOut(BaseModel):
    id: str
    patient_id: str
    indication: str
    prescriber_id: str
    operator_team: list[str]
    escalation_minutes: int
    starts_at: datetime
    ends_at: datetime
    status: str
    consent_id: str


class RuleOut(BaseModel):
    code: str
    enabled: bool
    definition: dict[str, Any]
    status: str  # clear, raised
    since: datetime | None
    updated_at: datetime
    updated_by_user_id: str | None


class RulePatch(BaseModel):
    """A doctor's change: the fields that apply to the rule's kind (see rule_codec.adjust)."""

    model_config = ConfigDict(extra="forbid")

    threshold: int | None = Field(default=None, ge=0, le=10, description="which threshold (0 = first)")
    limit: Decimal | None = None
    margin: Decimal | None = None
    delta: Decimal | None = None
    window_hours: Decimal | None = None
    after_hours: Decimal | None = None
    severity: Literal["info", "warning", "critical"] | None = None
    enabled: bool | None = None
    reason: str | None = Field(
        default=None, max_length=2000, description="why (kept encrypted with the change)"
    )

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True, exclude={"reason"})


class RuleChangeOut(BaseModel):
    id: str
    rule_code: str
    changed_at: datetime
    changed_by_user_id: str
    old: dict[str, Any]
    new: dict[str, Any]
    reason: str | None


class DeviceIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: Literal[KINDS]  # type: ignore[valid-type]
    model: str = Field(min_length=1, max_length=120)
    serial: str = Field(min_length=1, max_length=120)


class DeviceOut(BaseModel):
    id: str
    patient_id: str
    program_id: str
    kind: str
    model: str
    serial: str
    created_at: datetime
    revoked_at: datetime | None
    last_seen_at: datetime | None


class DeviceCreated(DeviceOut):
    token: str = Field(description="shown once: FHIR/MQTT bearer token, and Nightscout API_SECRET")


class MeasurementOut(BaseModel):
    id: str
    kind: str
    value: float  # in the canonical unit
    unit: str
    value_sent: str
    unit_sent: str
    effective_at: datetime
    received_at: datetime
    source: str
    device_id: str
    panel_id: str | None


class AlertOut(BaseModel):
    id: str
    program_id: str
    patient_id: str
    rule_code: str
    label: str
    severity: str
    status: str
    raised_at: datetime
    occurred_at: datetime
    late: bool
    evidence: list[str]
    episodes: int
    condition_active: bool
    condition_cleared_at: datetime | None
    escalation_level: int
    escalated_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by_user_id: str | None
    acknowledgement: str | None
    resolved_at: datetime | None
    resolved_by_user_id: str | None
    resolution: str | None


class AcknowledgeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    comment: str = Field(min_length=1, max_length=4000)


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    comment: str | None = Field(default=None, max_length=4000)
