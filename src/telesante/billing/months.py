"""Billing months ('YYYY-MM'): French calendar months, so their bounds are Paris midnights."""

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from telesante.errors import Invalid

PARIS = ZoneInfo("Europe/Paris")
MONTH_PATTERN = r"^[0-9]{4}-[0-9]{2}$"  # ASCII digits: \d would take any script's digits
YEARS = (2000, 2999)  # far from the edges where a Paris midnight overflows a datetime


def first_day(month: str) -> date:
    try:
        if not re.fullmatch(MONTH_PATTERN, month):
            raise ValueError(month)
        first = date.fromisoformat(f"{month}-01")
    except ValueError:
        raise Invalid.field("month", "mois attendu au format AAAA-MM") from None
    if not YEARS[0] <= first.year <= YEARS[1]:
        raise Invalid.field("month", f"année entre {YEARS[0]} et {YEARS[1]}")
    return first


def bounds(month: str) -> tuple[datetime, datetime]:
    """The month's start and the next month's start, in UTC."""
    first = first_day(month)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return _paris_midnight(first), _paris_midnight(following)


def year_to(month: str) -> list[str]:
    """January of the month's year up to the month itself."""
    first = first_day(month)
    return [f"{first.year}-{m:02d}" for m in range(1, first.month + 1)]


def month_of(moment: datetime) -> str:
    return moment.astimezone(PARIS).strftime("%Y-%m")


def current_month() -> str:
    return month_of(datetime.now(UTC))


def require_not_future(month: str) -> None:
    if first_day(month) > first_day(current_month()):
        raise Invalid.field("month", "mois à venir : on ne déclare que le mois en cours ou un mois passé")


def _paris_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=PARIS).astimezone(UTC)
