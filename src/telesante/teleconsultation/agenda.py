"""Free slots of a professional's agenda, computed in Europe/Paris wall-clock time.

Opening hours are wall-clock times ("Monday 09:00-12:00"), so a 09:00 slot stays at 09:00 in
Paris across daylight-saving changes while its UTC instant moves by an hour. A wall-clock time
that does not exist (the spring-forward hour) is skipped; one that exists twice (the
fall-back hour) is offered once, at its first occurrence.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


@dataclass(frozen=True)
class Period:
    weekday: int  # 0 = Monday
    opens: time
    closes: time


@dataclass(frozen=True)
class Busy:
    starts_at: datetime
    ends_at: datetime


def paris_instant(day: date, clock: time) -> datetime | None:
    """The UTC instant of a Paris wall-clock time, or None if that time does not exist that day."""
    local = datetime.combine(day, clock, tzinfo=PARIS)  # fold=0: the first of two, if ambiguous
    instant = local.astimezone(UTC)
    if instant.astimezone(PARIS).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    return instant


def free_slots(
    periods: Iterable[Period],
    busy: Iterable[Busy],
    duration: timedelta,
    first_day: date,
    last_day: date,
    now: datetime,
) -> list[datetime]:
    periods, busy = list(periods), list(busy)
    slots = []
    day = first_day
    while day <= last_day:
        for period in (p for p in periods if p.weekday == day.weekday()):
            slots += _day_slots(day, period, duration, busy, now)
        day += timedelta(days=1)
    return sorted(set(slots))


def _day_slots(
    day: date, period: Period, duration: timedelta, busy: list[Busy], now: datetime
) -> list[datetime]:
    out = []
    clock = datetime.combine(day, period.opens)
    end = datetime.combine(day, period.closes)
    while clock + duration <= end:
        start = paris_instant(day, clock.time())
        if start is not None and start > now:
            finish = start + duration
            if not any(b.starts_at < finish and start < b.ends_at for b in busy):
                out.append(start)
        clock += duration
    return out


def paris_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants of a Paris calendar day (23 or 25 hours long on DST days)."""
    start = datetime.combine(day, time(0), tzinfo=PARIS).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=PARIS).astimezone(UTC)
    return start, end
