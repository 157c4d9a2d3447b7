"""The CGM summary of a period: the consensus metrics and the Ambulatory Glucose Profile.

Sources (shared/domain/monitoring.md §2):
- Battelino T. et al., "Clinical Targets for Continuous Glucose Monitoring Data Interpretation:
  Recommendations From the International Consensus on Time in Range", Diabetes Care 2019;42:1593
  [ICTIR]: TIR 70–180 mg/dL, TBR < 70 and < 54, TAR > 180 and > 250 mg/dL, each as a share of the
  readings; CV = SD / mean (target ≤ 36 %); 14 days with ≥ 70 % of the expected readings make a
  sufficient period (Riddlesworth, DTT 2018 [CGM14]); the AGP as the standard one-page report.
- Bergenstal R. M. et al., "Glucose Management Indicator (GMI): A New Term for Estimating A1C From
  Continuous Glucose Monitoring", Diabetes Care 2018;41:2275 [GMI]:
  GMI (%) = 3.31 + 0.02392 × mean glucose (mg/dL). Not a laboratory HbA1c.

Choices (not fixed by the sources):
- Boundaries go where the consensus writes them: 70 and 180 are in range, 54 is in "< 70" but
  not in "< 54", 250 is in "> 180" but not in "> 250".
- SD is the sample standard deviation (n − 1), as the iglu and AGP reference implementations do.
- Sufficiency counts the 5-minute slots (the sensor's interval) holding at least one reading,
  against the slots of the period, so duplicates or a 1-minute sensor cannot exceed 100 %.
- The AGP has 24 hourly bins of Europe/Paris wall-clock time (the patient's day: on the spring
  DST day the 02:00 bin gets no reading, on the autumn one twice as many). An hourly bin holds
  about 12 readings a day, ~170 over 14 days, enough for stable 5th and 95th percentiles without
  smoothing; the chart draws a line through the bin centres. Percentiles interpolate linearly
  between the closest ranks (Hyndman–Fan type 7: NumPy's default, Excel's PERCENTILE.INC).
"""

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from statistics import fmean, stdev
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
CGM_INTERVAL = timedelta(minutes=5)
SUFFICIENT_DAYS = 14
SUFFICIENT_SHARE = 0.70
PERCENTILES = (5, 25, 50, 75, 95)
AGP_BIN_MINUTES = 60


@dataclass(frozen=True)
class AgpBin:
    start_minute: int  # minutes after local midnight
    count: int
    percentiles: dict[int, float] | None  # 5, 25, 50, 75, 95 → mg/dL; None when the bin is empty


@dataclass(frozen=True)
class Sufficiency:
    sufficient: bool
    share: float  # of the expected readings (one per sensor interval of real time), 0–1
    days: float  # length of the period on the Paris calendar
    reason: str | None  # French, for the screen, when insufficient


@dataclass(frozen=True)
class GlucoseSummary:
    readings: int
    sufficiency: Sufficiency
    mean: float | None  # mg/dL
    sd: float | None  # mg/dL
    cv: float | None  # %
    gmi: float | None  # %
    in_range: float | None  # % of readings, 70–180 mg/dL
    below_70: float | None  # < 70, level 2 included
    below_54: float | None
    above_180: float | None  # > 180, level 2 included
    above_250: float | None
    agp: tuple[AgpBin, ...]


def gmi(mean_mg_dl: float) -> float:
    """Glucose Management Indicator, % (Bergenstal 2018)."""
    return 3.31 + 0.02392 * mean_mg_dl


def summarize(
    readings: Iterable[tuple[datetime, Decimal | float]],
    *,
    start: datetime,
    end: datetime,
    interval: timedelta = CGM_INTERVAL,
) -> GlucoseSummary:
    """CGM readings (effective time, mg/dL) of [start, end): metrics, sufficiency and AGP.

    Only sensor readings belong here: meter readings are sparse and would bias every share.
    Metrics are computed even when the data is insufficient; the screen shows them with the reason.
    """
    points = [(at, float(value)) for at, value in readings if start <= at < end]
    values = [value for _, value in points]
    sufficiency = _sufficiency([at for at, _ in points], start, end, interval)
    mean = fmean(values) if values else None
    sd = stdev(values) if len(values) > 1 else None
    return GlucoseSummary(
        readings=len(values),
        sufficiency=sufficiency,
        mean=mean,
        sd=sd,
        cv=100 * sd / mean if sd is not None and mean else None,
        gmi=gmi(mean) if mean is not None else None,
        in_range=_share(values, lambda v: 70 <= v <= 180),
        below_70=_share(values, lambda v: v < 70),
        below_54=_share(values, lambda v: v < 54),
        above_180=_share(values, lambda v: v > 180),
        above_250=_share(values, lambda v: v > 250),
        agp=agp(points),
    )


def agp(points: Iterable[tuple[datetime, float]], bin_minutes: int = AGP_BIN_MINUTES) -> tuple[AgpBin, ...]:
    """Percentiles per time of day, binned on Europe/Paris wall-clock time."""
    if bin_minutes <= 0 or (24 * 60) % bin_minutes:
        raise ValueError("bin_minutes must divide a day")
    bins: list[list[float]] = [[] for _ in range(24 * 60 // bin_minutes)]
    for at, value in points:
        local = at.astimezone(PARIS)
        bins[(local.hour * 60 + local.minute) // bin_minutes].append(value)
    return tuple(
        AgpBin(i * bin_minutes, len(values), _percentiles(sorted(values)) if values else None)
        for i, values in enumerate(bins)
    )


def percentile(ordered: Sequence[float], p: float) -> float:
    """Linear interpolation between the closest ranks (type 7) of an ascending, non-empty list."""
    rank = (len(ordered) - 1) * p / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _percentiles(ordered: Sequence[float]) -> dict[int, float]:
    return {p: percentile(ordered, p) for p in PERCENTILES}


def _share(values: Sequence[float], test: Callable[[float], bool]) -> float | None:
    if not values:
        return None
    return 100 * sum(1 for v in values if test(v)) / len(values)


def _sufficiency(
    times: Sequence[datetime], start: datetime, end: datetime, interval: timedelta
) -> Sufficiency:
    expected = max(1, math.ceil((end - start) / interval))
    filled = len({(at - start) // interval for at in times})
    share = filled / expected
    days = _wall_clock_days(start, end)
    if days < SUFFICIENT_DAYS:
        reason = f"période de {_french(days)} jours : {SUFFICIENT_DAYS} jours au moins sont nécessaires"
    elif share < SUFFICIENT_SHARE:
        reason = (
            f"données insuffisantes : {_french(100 * share)} % des mesures attendues "
            f"({round(100 * SUFFICIENT_SHARE)} % au moins sont nécessaires)"
        )
    else:
        reason = None
    return Sufficiency(reason is None, share, days, reason)


def _wall_clock_days(start: datetime, end: datetime) -> float:
    """Days on the Paris calendar: 14 days across a DST change are 14, though 335 or 337 hours."""
    local_start, local_end = (t.astimezone(PARIS).replace(tzinfo=None) for t in (start, end))
    return (local_end - local_start) / timedelta(days=1)


def _french(number: float) -> str:
    return f"{number:.1f}".rstrip("0").rstrip(".").replace(".", ",")
