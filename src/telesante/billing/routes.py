from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import select

from telesante.billing.models import BillingLine
from telesante.deps import CurrentActor, DbSession
from telesante.errors import PROBLEM_RESPONSES, Forbidden, Invalid

router = APIRouter(prefix="/api/billing", tags=["billing"], responses=PROBLEM_RESPONSES)


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


def month_bounds(month: str) -> tuple[datetime, datetime]:
    try:
        first = date.fromisoformat(f"{month}-01")
    except ValueError:
        raise Invalid.field("month", "expected YYYY-MM") from None
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return (
        datetime(first.year, first.month, 1, tzinfo=UTC),
        datetime(following.year, following.month, 1, tzinfo=UTC),
    )


@router.get("/lines")
async def my_lines(
    db: DbSession, actor: CurrentActor, month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$")]
) -> MonthOut:
    """The professional's billing lines of a month, each with the rules checked and why."""
    if not actor.professional_id:
        raise Forbidden("réservé aux professionnels")
    start, end = month_bounds(month)
    rows = list(
        await db.scalars(
            select(BillingLine)
            .where(
                BillingLine.professional_id == actor.professional_id,
                BillingLine.created_at >= start,
                BillingLine.created_at < end,
            )
            .order_by(BillingLine.created_at)
        )
    )
    lines = [BillingLineOut.model_validate(r, from_attributes=True) for r in rows]
    return MonthOut(
        month=month, lines=lines, reimbursable_total_cents=sum(r.amount_cents for r in rows if r.reimbursable)
    )
