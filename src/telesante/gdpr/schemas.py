from datetime import date, datetime

from pydantic import BaseModel, Field

from telesante.gdpr.service import Scope


class ErasureCreate(BaseModel):
    """`all`: the account is erased and the record kept for its retention period; `account`: the
    account only; `record`: the medical record only (refused while its retention period runs)."""

    scope: Scope = "all"
    password: str = Field(min_length=1, max_length=200, description="the account's password, re-entered")


class RetentionOut(BaseModel):
    rule: str
    last_activity: date
    kept_until: date


class ErasureOut(BaseModel):
    id: str
    status: str = Field(description="done, partial or refused")
    detail: str
    created_at: datetime
    completed_at: datetime | None


class ErasureResult(ErasureOut):
    erased: list[str]
    retention: RetentionOut | None
