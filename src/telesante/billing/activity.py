"""The activity a professional declares per month, their billing lines, and their share of
téléconsultation against the cap, for the month and the year to date."""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.auth.actor import Actor
from telesante.billing import months
from telesante.billing.caps import Cap, cap_for
from telesante.billing.models import ActivityDeclaration, BillingLine
from telesante.billing.share import Level, Share, activity_of, by_gp_of_record, share
from telesante.directory.models import Professional
from telesante.errors import Forbidden, Invalid

MAX_IN_PERSON_ACTS = 10_000  # a month; far above any real practice, it only stops typing errors


@dataclass(frozen=True)
class ShareReport:
    month: str
    cap: Cap
    month_share: Share
    year_share: Share


def professional_of(actor: Actor) -> str:
    if not actor.professional_id:
        raise Forbidden("réservé aux professionnels")
    return actor.professional_id


async def declare(db: AsyncSession, actor: Actor, month: str, in_person_acts: int) -> ActivityDeclaration:
    """Record (or correct) the month's in-person acts."""
    professional_id = professional_of(actor)
    months.require_not_future(month)
    if not 0 <= in_person_acts <= MAX_IN_PERSON_ACTS:
        raise Invalid.field("in_person_acts", f"entre 0 et {MAX_IN_PERSON_ACTS}")
    found = await _declaration(db, professional_id, month)
    if found is None:  # a racing twin loses on the unique constraint: 409
        found = ActivityDeclaration(professional_id=professional_id, month=month, in_person_acts=0)
        db.add(found)
    found.in_person_acts = in_person_acts
    await db.flush()
    return found


async def declared_in(db: AsyncSession, professional_id: str, month: str) -> int | None:
    found = await _declaration(db, professional_id, month)
    return found.in_person_acts if found else None


async def month_lines(db: AsyncSession, professional_id: str, month: str) -> list[BillingLine]:
    start, end = months.bounds(month)
    rows = await db.scalars(
        select(BillingLine)
        .where(
            BillingLine.professional_id == professional_id,
            BillingLine.created_at >= start,
            BillingLine.created_at < end,
        )
        .order_by(BillingLine.created_at)
    )
    return list(rows)


async def share_report(db: AsyncSession, professional_id: str, month: str) -> ShareReport:
    professional = await db.get(Professional, professional_id)
    assert professional is not None  # the actor's own record
    try:
        cap = cap_for(professional.specialty, months.first_day(month))
    except LookupError:
        raise Invalid.field("month", "aucun plafond de téléconsultation connu à cette date") from None
    period = months.year_to(month)
    tlc = await _teleconsultations_by_month(db, professional_id, period, cap)
    declared = await _declared_by_month(db, professional_id, period)
    return ShareReport(
        month,
        cap,
        share(activity_of([month], tlc, declared), cap.percent),
        share(activity_of(period, tlc, declared), cap.percent),
    )


async def cap_warning(db: AsyncSession, professional_id: str) -> Share | None:
    """The year to date's share when it approaches or passes the cap (an annual cap), else None."""
    year = (await share_report(db, professional_id, months.current_month())).year_share
    return None if year.level is Level.ok else year


async def _teleconsultations_by_month(
    db: AsyncSession, professional_id: str, period: list[str], cap: Cap
) -> dict[str, tuple[int, int]]:
    """Per month: (téléconsultations counted towards the cap, those left out)."""
    start, end = months.bounds(period[0])[0], months.bounds(period[-1])[1]
    rows = await db.execute(
        select(BillingLine.created_at, BillingLine.rules).where(
            BillingLine.professional_id == professional_id,
            BillingLine.act_type == "teleconsultation",
            BillingLine.created_at >= start,
            BillingLine.created_at < end,
        )
    )
    counts: dict[str, tuple[int, int]] = {}
    for created_at, rules in rows:
        left_out = cap.excludes_gp_own_patients and by_gp_of_record(rules)
        month = months.month_of(created_at)
        counted, excluded = counts.get(month, (0, 0))
        counts[month] = (counted, excluded + 1) if left_out else (counted + 1, excluded)
    return counts


async def _declared_by_month(db: AsyncSession, professional_id: str, period: list[str]) -> dict[str, int]:
    rows = await db.execute(
        select(ActivityDeclaration.month, ActivityDeclaration.in_person_acts).where(
            ActivityDeclaration.professional_id == professional_id,
            ActivityDeclaration.month.in_(period),
        )
    )
    return {month: acts for month, acts in rows}


async def _declaration(db: AsyncSession, professional_id: str, month: str) -> ActivityDeclaration | None:
    found: ActivityDeclaration | None = await db.scalar(
        select(ActivityDeclaration).where(
            ActivityDeclaration.professional_id == professional_id, ActivityDeclaration.month == month
        )
    )
    return found
