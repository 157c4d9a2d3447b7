"""The CGM summary (glucose.py): consensus ranges (Battelino 2019), GMI (Bergenstal 2018), CV,
data sufficiency and the AGP in Europe/Paris time, on series small enough to compute by hand."""

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from telesante.monitoring.glucose import AgpBin, GlucoseSummary, agp, gmi, percentile, summarize

PARIS = ZoneInfo("Europe/Paris")
T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
FIVE = timedelta(minutes=5)


def summary(values: list[float], start: datetime = T0, days: float = 14) -> GlucoseSummary:
    points = [(start + i * FIVE, Decimal(str(v))) for i, v in enumerate(values)]
    return summarize(points, start=start, end=start + timedelta(days=days))


def buckets(s: GlucoseSummary) -> tuple[float | None, ...]:
    return (s.below_54, s.below_70, s.in_range, s.above_180, s.above_250)


# --- ranges, at their exact boundaries --------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [  # (< 54, < 70, 70–180, > 180, > 250), % of one reading
        (40, (100, 100, 0, 0, 0)),
        ("53.9", (100, 100, 0, 0, 0)),
        (54, (0, 100, 0, 0, 0)),  # level 1, not level 2
        ("69.9", (0, 100, 0, 0, 0)),
        (70, (0, 0, 100, 0, 0)),  # "70–180": both ends in range
        (180, (0, 0, 100, 0, 0)),
        ("180.1", (0, 0, 0, 100, 0)),
        (250, (0, 0, 0, 100, 0)),  # above 180, not above 250
        ("250.1", (0, 0, 0, 100, 100)),
        (400, (0, 0, 0, 100, 100)),
    ],
)
def test_each_reading_falls_in_the_consensus_range(value: float | str, expected: tuple[int, ...]) -> None:
    assert buckets(summary([float(value)])) == expected


def test_a_small_series_by_hand() -> None:
    s = summary([50, 65, 70, 100, 180, 200, 260, 300])
    # < 54: 50; < 70: 50, 65; in range: 70, 100, 180; > 180: 200, 260, 300; > 250: 260, 300 (of 8).
    assert buckets(s) == (12.5, 25, 37.5, 37.5, 25)
    assert s.readings == 8
    assert s.mean == 153.125  # 1225 / 8
    # Σ(x − mean)² = 64046.875; sample SD = √(64046.875 / 7) = 95.6533
    assert s.sd == pytest.approx(95.6533, abs=1e-4)
    assert s.cv == pytest.approx(62.4675, abs=1e-4)  # 95.6533 / 153.125
    assert s.gmi == pytest.approx(6.97275)  # 3.31 + 0.02392 × 153.125


# --- GMI and CV -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mean", "expected"),
    [  # 3.31 + 0.02392 × mean: a mean of 154 mg/dL is a GMI of 7.0 %
        (100, 5.702),
        (150, 6.898),
        (154, 6.99368),
        (200, 8.094),
        (250, 9.29),
    ],
)
def test_gmi(mean: float, expected: float) -> None:
    assert gmi(mean) == pytest.approx(expected)
    assert summary([mean] * 3).gmi == pytest.approx(expected)


@pytest.mark.parametrize(
    ("values", "sd", "cv"),
    [
        ([120, 120, 120], 0, 0),
        ([100, 200], 70.7107, 47.1405),  # SD √5000; above the 36 % target
        ([90, 100, 110], 10, 10),
        ([150], None, None),  # one reading has no spread
    ],
)
def test_sd_and_cv(values: list[float], sd: float | None, cv: float | None) -> None:
    s = summary(values)
    assert s.sd == (pytest.approx(sd, abs=1e-4) if sd is not None else None)
    assert s.cv == (pytest.approx(cv, abs=1e-4) if cv is not None else None)


def test_no_reading_at_all() -> None:
    s = summary([])
    assert (s.readings, s.mean, s.sd, s.cv, s.gmi, *buckets(s)) == (0, *[None] * 9)
    assert not s.sufficiency.sufficient and s.sufficiency.share == 0


# --- data sufficiency: 14 days, 70 % of the expected readings --------------------------------


def every_five_minutes(start: datetime, days: float, keep: float = 1.0) -> list[tuple[datetime, float]]:
    """Readings over `days` of real time, the first `keep` share of them."""
    count = round(timedelta(days=days) / FIVE)
    return [(start + i * FIVE, 120.0) for i in range(math.ceil(count * keep))]


@pytest.mark.parametrize(
    ("days", "keep", "sufficient", "reason"),
    [
        (14, 1.0, True, None),
        (14, 0.70, True, None),
        (
            14,
            0.69,
            False,
            "données insuffisantes : 69 % des mesures attendues (70 % au moins sont nécessaires)",
        ),
        (30, 0.70, True, None),
        (13, 1.0, False, "période de 13 jours : 14 jours au moins sont nécessaires"),
        (7, 1.0, False, "période de 7 jours : 14 jours au moins sont nécessaires"),
    ],
)
def test_sufficiency(days: int, keep: float, sufficient: bool, reason: str | None) -> None:
    s = summarize(every_five_minutes(T0, days, keep), start=T0, end=T0 + timedelta(days=days))
    assert (s.sufficiency.sufficient, s.sufficiency.reason) == (sufficient, reason)
    assert s.sufficiency.share == pytest.approx(keep, abs=1e-3)
    assert s.mean == 120  # metrics are still given, with the reason


def test_sufficiency_counts_slots_not_readings() -> None:
    """A 1-minute sensor, or the same reading sent twice, cannot exceed 100 % or hide a gap."""
    start = T0
    minute_by_minute = [(start + timedelta(minutes=i), 120.0) for i in range(14 * 24 * 60 // 2)]  # 7 days
    s = summarize(minute_by_minute * 2, start=start, end=start + timedelta(days=14))
    assert s.sufficiency.share == pytest.approx(0.5)
    assert not s.sufficiency.sufficient


def test_readings_outside_the_period_are_left_out() -> None:
    inside, before, after = (T0, 100.0), (T0 - FIVE, 300.0), (T0 + timedelta(days=14), 40.0)
    s = summarize([before, inside, after], start=T0, end=T0 + timedelta(days=14))
    assert (s.readings, s.mean) == (1, 100)


def test_fourteen_calendar_days_across_the_spring_change_are_fourteen_days() -> None:
    start = datetime(2026, 3, 22, tzinfo=PARIS).astimezone(UTC)  # DST begins on Sunday 29 March
    end = datetime(2026, 4, 5, tzinfo=PARIS).astimezone(UTC)
    assert end - start == timedelta(days=14, hours=-1)
    readings = [(start + i * FIVE, 120.0) for i in range((end - start) // FIVE)]
    s = summarize(readings, start=start, end=end)
    assert (s.sufficiency.days, s.sufficiency.share, s.sufficiency.sufficient) == (14, 1, True)


# --- AGP ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "p", "expected"),
    [  # type 7: rank (n − 1) × p / 100, linear between neighbours
        ([100, 110, 120, 130, 140], 5, 102),  # rank 0.2
        ([100, 110, 120, 130, 140], 25, 110),
        ([100, 110, 120, 130, 140], 50, 120),
        ([100, 110, 120, 130, 140], 75, 130),
        ([100, 110, 120, 130, 140], 95, 138),  # rank 3.8
        ([100, 200], 50, 150),
        ([100, 200], 95, 195),
        ([90], 5, 90),
        ([90], 95, 90),
    ],
)
def test_percentile(values: list[float], p: int, expected: float) -> None:
    assert percentile(values, p) == pytest.approx(expected)


def test_agp_on_constructed_days() -> None:
    """Day k of 5, hour h (Paris): value 60 + 5h + 10k. Every hourly bin holds 5 readings a day apart,
    so bin h has 60 + 5h + {0, 10, 20, 30, 40}: p5 = +2, p25 = +10, p50 = +20, p75 = +30, p95 = +38."""
    first = datetime(2026, 11, 2, tzinfo=PARIS)  # a Monday, far from a DST change
    points = []
    for k in range(5):
        for h in range(24):
            local = first + timedelta(days=k, hours=h, minutes=30)
            points.append((local.astimezone(UTC), 60.0 + 5 * h + 10 * k))
    bins = agp(points)
    assert len(bins) == 24
    for h, b in enumerate(bins):
        base = 60 + 5 * h
        assert (b.start_minute, b.count) == (h * 60, 5)
        assert b.percentiles == pytest.approx(
            {5: base + 2, 25: base + 10, 50: base + 20, 75: base + 30, 95: base + 38}
        )


def test_summary_carries_the_agp() -> None:
    start = datetime(2026, 11, 2, tzinfo=PARIS).astimezone(UTC)
    s = summarize(every_five_minutes(start, 14), start=start, end=start + timedelta(days=14))
    assert [b.count for b in s.agp] == [12 * 14] * 24
    assert all(b.percentiles == dict.fromkeys((5, 25, 50, 75, 95), 120.0) for b in s.agp)


def hours_elapsed_since_local_midnight(day: datetime) -> list[tuple[datetime, float]]:
    """Every 5 min of one Paris day, valued 100 + hours of real time since its local midnight."""
    start, end = day.astimezone(UTC), (day + timedelta(days=1)).astimezone(UTC)
    return [(start + i * FIVE, 100.0 + i // 12) for i in range((end - start) // FIVE)]


def test_agp_bins_the_short_spring_day_on_paris_time() -> None:
    points = hours_elapsed_since_local_midnight(datetime(2026, 3, 29, tzinfo=PARIS))
    assert len(points) == 23 * 12  # 02:00 to 03:00 does not exist that day
    bins = agp(points)
    assert bins[2] == AgpBin(120, 0, None)
    for h in (0, 1, 3, 12, 23):  # after the change, local hour h is h − 1 hours after midnight
        elapsed = h if h < 2 else h - 1
        assert (bins[h].count, bins[h].percentiles) == (
            12,
            dict.fromkeys((5, 25, 50, 75, 95), 100.0 + elapsed),
        )


def test_agp_bins_the_long_autumn_day_on_paris_time() -> None:
    points = hours_elapsed_since_local_midnight(datetime(2026, 10, 25, tzinfo=PARIS))
    assert len(points) == 25 * 12  # 02:00 to 03:00 happens twice
    bins = agp(points)
    assert bins[2].count == 24  # hours 2 and 3 of real time: 102 twelve times, then 103
    assert bins[2].percentiles == {5: 102, 25: 102, 50: 102.5, 75: 103, 95: 103}
    assert (bins[3].count, bins[3].percentiles) == (12, dict.fromkeys((5, 25, 50, 75, 95), 104.0))
    assert sum(b.count for b in bins) == len(points)


@pytest.mark.parametrize("minutes", [0, -60, 7, 100, 1440 + 60])
def test_agp_bins_must_divide_the_day(minutes: int) -> None:
    with pytest.raises(ValueError, match="divide a day"):
        agp([], bin_minutes=minutes)


def test_agp_half_hour_bins() -> None:
    points = [(datetime(2026, 11, 2, 10, m, tzinfo=PARIS).astimezone(UTC), float(m)) for m in (0, 29, 30, 59)]
    bins = agp(points, bin_minutes=30)
    assert len(bins) == 48
    assert [(b.start_minute, b.count) for b in bins if b.count] == [(600, 2), (630, 2)]
    assert bins[20].percentiles == pytest.approx({5: 1.45, 25: 7.25, 50: 14.5, 75: 21.75, 95: 27.55})
