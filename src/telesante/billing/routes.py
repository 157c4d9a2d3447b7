from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from telesante.billing import activity
from telesante.billing.months import MONTH_PATTERN
from telesante.billing.share import Share
from telesante.deps import CurrentActor, DbSession
from telesante.errors import PROBLEM_RESPONSES

router = APIRouter(prefix="/api/billing", tags=["billing"], responses=PROBLEM_RESPONSES)
Month = Annotated[str, Query(pattern=MONTH_PATTERN, description="AAAA-MM")]


class BillingLineOut(BaseModel):
    id: str
    act_type: str
    act_id: str
    code: str
    amount_cents: int
    reimbursable: bool
    rules: list[dict[str, Any]]
    created_at: datetime


class MonthOut(BaseModel):
    month: str
    lines: list[BillingLineOut]
    reimbursable_total_cents: int


class ActivityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    in_person_acts: int = Field(
        ge=0, le=activity.MAX_IN_PERSON_ACTS, description="actes réalisés en présentiel dans le mois"
    )


class ActivityOut(BaseModel):
    month: str
    in_person_acts: int


class ShareOut(BaseModel):
    counted_teleconsultations: int
    excluded_teleconsultations: int  # the médecin traitant's, with their own patients
    in_person_acts: int
    undeclared_months: list[str]
    share_percent: float
    cap_percent: int
    warning: str  # ok, approaching, over
    message: str


class ShareReportOut(BaseModel):
    month: str
    cap_source: str
    month_share: ShareOut
    year_to_date: ShareOut


def share_out(found: Share) -> ShareOut:
    return ShareOut(
        counted_teleconsultations=found.activity.counted_tlc,
        excluded_teleconsultations=found.activity.excluded_tlc,
        in_person_acts=found.activity.in_person_acts,
        undeclared_months=list(found.activity.undeclared_months),
        share_percent=found.percent,
        cap_percent=found.cap_percent,
        warning=found.level.value,
        message=found.message,
    )


@router.get("/lines")
async def my_lines(db: DbSession, actor: CurrentActor, month: Month) -> MonthOut:
    """The professional's billing lines of a month (Paris calendar), each with the rules checked and why."""
    rows = await activity.month_lines(db, activity.professional_of(actor), month)
    lines = [BillingLineOut.model_validate(r, from_attributes=True) for r in rows]
    return MonthOut(
        month=month, lines=lines, reimbursable_total_cents=sum(r.amount_cents for r in rows if r.reimbursable)
    )


@router.put("/activity/{month}")
async def declare_activity(
    month: Annotated[str, Path(pattern=MONTH_PATTERN)], data: ActivityIn, db: DbSession, actor: CurrentActor
) -> ActivityOut:
    """Declare a month's in-person acts (Telesante does not see them); replaces any earlier figure."""
    found = await activity.declare(db, actor, month, data.in_person_acts)
    return ActivityOut(month=found.month, in_person_acts=found.in_person_acts)


@router.get("/share")
async def my_share(db: DbSession, actor: CurrentActor, month: Month) -> ShareReportOut:
    """The téléconsultation share of the month and of the year to date, against the professional's cap."""
    report = await activity.share_report(db, activity.professional_of(actor), month)
    return ShareReportOut(
        month=month,
        cap_source=report.cap.source,
        month_share=share_out(report.month_share),
        year_to_date=share_out(report.year_share),
    )
