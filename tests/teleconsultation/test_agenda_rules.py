"""Slots in Europe/Paris wall-clock time, across daylight-saving changes (table-driven)."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from telesante.teleconsultation.agenda import Busy, Period, free_slots, paris_day_bounds, paris_instant

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("day", "clock", "utc"),
    [
        (date(2026, 3, 27), time(9), datetime(2026, 3, 27, 8, tzinfo=UTC)),  # winter: UTC+1
        (date(2026, 3, 30), time(9), datetime(2026, 3, 30, 7, tzinfo=UTC)),  # after the spring change: UTC+2
        (date(2026, 10, 23), time(9), datetime(2026, 10, 23, 7, tzinfo=UTC)),
        (date(2026, 10, 26), time(9), datetime(2026, 10, 26, 8, tzinfo=UTC)),  # after the autumn change
        (date(2026, 3, 29), time(2, 30), None),  # does not exist: clocks jump from 02:00 to 03:00
        (
            date(2026, 10, 25),
            time(2, 30),
            datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
        ),  # exists twice: the first
    ],
)
def test_paris_wall_clock_to_utc(day: date, clock: time, utc: datetime | None) -> None:
    assert paris_instant(day, clock) == utc


def test_a_monday_morning_keeps_its_wall_clock_across_the_spring_change() -> None:
    monday_9_to_10 = [Period(0, time(9), time(10))]
    slots = free_slots(
        monday_9_to_10, [], timedelta(minutes=30), date(2026, 3, 23), date(2026, 3, 30), LONG_AGO
    )
    assert slots == [
        datetime(2026, 3, 23, 8, tzinfo=UTC),
        datetime(2026, 3, 23, 8, 30, tzinfo=UTC),
        datetime(2026, 3, 30, 7, tzinfo=UTC),
        datetime(2026, 3, 30, 7, 30, tzinfo=UTC),
    ]


def test_the_night_of_the_spring_change_skips_the_missing_hour() -> None:
    sunday_night = [Period(6, time(1), time(4))]
    slots = free_slots(
        sunday_night, [], timedelta(minutes=30), date(2026, 3, 29), date(2026, 3, 29), LONG_AGO
    )
    paris = [s.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Paris")).strftime("%H:%M") for s in slots]
    assert paris == ["01:00", "01:30", "03:00", "03:30"]


def test_the_night_of_the_autumn_change_offers_the_repeated_hour_once() -> None:
    sunday_night = [Period(6, time(1), time(4))]
    slots = free_slots(
        sunday_night, [], timedelta(minutes=60), date(2026, 10, 25), date(2026, 10, 25), LONG_AGO
    )
    assert len(slots) == len(set(slots)) == 3  # 01:00, 02:00 (first), 03:00


def test_busy_times_and_the_past_are_not_offered() -> None:
    day = [Period(2, time(9), time(11))]  # Wednesday
    busy = [Busy(datetime(2026, 4, 1, 7, 30, tzinfo=UTC), datetime(2026, 4, 1, 8, tzinfo=UTC))]
    now = datetime(2026, 4, 1, 7, 10, tzinfo=UTC)
    slots = free_slots(day, busy, timedelta(minutes=30), date(2026, 4, 1), date(2026, 4, 1), now)
    assert slots == [datetime(2026, 4, 1, 8, tzinfo=UTC), datetime(2026, 4, 1, 8, 30, tzinfo=UTC)]


@pytest.mark.parametrize(
    ("day", "hours"), [(date(2026, 3, 29), 23), (date(2026, 10, 25), 25), (date(2026, 6, 1), 24)]
)
def test_paris_days_are_23_24_or_25_hours_long(day: date, hours: int) -> None:
    start, end = paris_day_bounds(day)
    assert end - start == timedelta(hours=hours)
