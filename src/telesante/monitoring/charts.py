"""Charts as geometry: a measured value over time with its alert thresholds, the Ambulatory
Glucose Profile, and the time-in-ranges bar. Pure: values in, shapes out.

A `Figure` is a list of simple shapes in a y-down coordinate system. The web page draws it as
inline SVG (chart_svg.py) and the monthly PDF draws the very same shapes with reportlab
(report_pdf.py), so both show the same picture.
"""

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median
from zoneinfo import ZoneInfo

from telesante.monitoring.glucose import AgpBin, GlucoseSummary

PARIS = ZoneInfo("Europe/Paris")
INK, MUTED, GRID = "#1b1b1f", "#55575d", "#e3e5ea"
TARGET, TARGET_FILL = "#0b6b2f", "#d6efdc"
VERY_LOW, LOW, HIGH, VERY_HIGH = "#7a0014", "#d1342f", "#f5a623", "#b45f06"
MEDIAN = "#0b4f9c"


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    color: str
    width: float = 1.0
    dash: str | None = None


@dataclass(frozen=True)
class Path:
    points: tuple[tuple[float, float], ...]
    color: str
    width: float = 1.5


@dataclass(frozen=True)
class Area:
    points: tuple[tuple[float, float], ...]
    fill: str
    opacity: float = 1.0


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float
    fill: str


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    r: float
    fill: str


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str
    size: float = 10
    anchor: str = "start"  # start, middle, end
    color: str = MUTED


Shape = Line | Path | Area | Box | Dot | Label


@dataclass(frozen=True)
class Figure:
    width: float
    height: float
    title: str
    description: str
    shapes: tuple[Shape, ...]


@dataclass(frozen=True)
class Trace:
    label: str
    points: Sequence[tuple[datetime, float]]  # time-sorted
    color: str


@dataclass(frozen=True)
class Limit:
    value: float
    label: str
    color: str = LOW


@dataclass(frozen=True)
class TimeChart:
    title: str
    unit: str
    start: datetime
    end: datetime
    traces: tuple[Trace, ...]
    limits: tuple[Limit, ...] = ()
    target: tuple[float, float] | None = None  # a range drawn as a band (glucose 70–180 mg/dL)


@dataclass(frozen=True)
class _Frame:
    """The plotting area inside a figure, and how values map onto it."""

    left: float
    top: float
    right: float
    bottom: float
    x0: float
    x1: float
    y0: float
    y1: float

    def x(self, value: float) -> float:
        return self.left + (value - self.x0) / (self.x1 - self.x0) * (self.right - self.left)

    def y(self, value: float) -> float:
        return self.bottom - (value - self.y0) / (self.y1 - self.y0) * (self.bottom - self.top)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high]: steps of 1, 2, 2.5 or 5 times a power of ten."""
    if high <= low:
        high = low + 1
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(power * m for m in (1, 2, 2.5, 5, 10) if power * m >= raw)
    first = math.floor(low / step) * step
    return [first + i * step for i in range(math.ceil((high - first) / step) + 1)]


def number(value: float) -> str:
    """French decimal writing, no trailing zeros."""
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return text.replace(".", ",").replace("-", "−")


def time_figure(chart: TimeChart, width: float = 720, height: float = 220) -> Figure:
    values = [v for trace in chart.traces for _, v in trace.points]
    bounds = values + [limit.value for limit in chart.limits] + list(chart.target or ())
    ticks = nice_ticks(min(bounds, default=0), max(bounds, default=1))
    frame = _Frame(
        48, 20, width - 12, height - 26, 0, (chart.end - chart.start).total_seconds(), ticks[0], ticks[-1]
    )
    shapes: list[Shape] = []
    if chart.target:
        low, high = chart.target
        shapes.append(
            Box(
                frame.left, frame.y(high), frame.right - frame.left, frame.y(low) - frame.y(high), TARGET_FILL
            )
        )
    shapes += _value_axis(frame, ticks, chart.unit)
    shapes += _day_axis(frame, chart.start, chart.end)
    shapes += _limits(frame, chart.limits)
    for trace in chart.traces:
        shapes += _trace(frame, chart.start, trace)
    return Figure(width, height, chart.title, _describe(chart), tuple(shapes))


def _limits(frame: _Frame, limits: Sequence[Limit]) -> list[Shape]:
    """Dashed threshold lines, labelled above the line, or below it when two would overlap."""
    shapes: list[Shape] = []
    last_label = -100.0
    for limit in sorted(limits, key=lambda item: -item.value):  # top of the chart first
        y = frame.y(limit.value)
        label_y = y - 3 if y - 3 - last_label >= 10 else y + 10
        shapes.append(Line(frame.left, y, frame.right, y, limit.color, 1.2, "6 4"))
        shapes.append(Label(frame.right - 4, label_y, limit.label, 9, "end", limit.color))
        last_label = label_y
    return shapes


def _value_axis(frame: _Frame, ticks: list[float], unit: str) -> list[Shape]:
    shapes: list[Shape] = []
    for tick in ticks:
        y = frame.y(tick)
        shapes.append(Line(frame.left, y, frame.right, y, GRID))
        shapes.append(Label(frame.left - 4, y + 3, number(tick), 9, "end"))
    shapes.append(Label(4, frame.top - 10, unit, 9, "start"))
    return shapes


def _day_axis(frame: _Frame, start: datetime, end: datetime) -> list[Shape]:
    """A tick at each Paris midnight; a label every few days so that at most eight show."""
    midnights = []
    day = start.astimezone(PARIS).date() + timedelta(days=1)
    while (moment := datetime(day.year, day.month, day.day, tzinfo=PARIS)) < end:
        midnights.append(moment)
        day += timedelta(days=1)
    every = max(1, math.ceil(len(midnights) / 8))
    shapes: list[Shape] = []
    for index, moment in enumerate(midnights):
        x = frame.x((moment - start).total_seconds())
        shapes.append(Line(x, frame.top, x, frame.bottom, GRID))
        if index % every == 0:
            shapes.append(Label(x, frame.bottom + 14, moment.strftime("%d/%m"), 9, "middle"))
    shapes.append(Line(frame.left, frame.bottom, frame.right, frame.bottom, MUTED))
    return shapes


def _trace(frame: _Frame, start: datetime, trace: Trace) -> list[Shape]:
    points = [(frame.x((at - start).total_seconds()), frame.y(value), at) for at, value in trace.points]
    shapes: list[Shape] = []
    for segment in _segments(points):
        kept = _thin(segment)
        if len(kept) > 1:
            shapes.append(Path(tuple(kept), trace.color))
    if len(points) <= 120:  # sparse readings (a daily weight): each one visible
        shapes += [Dot(x, y, 2.5, trace.color) for x, y, _ in points]
    return shapes


def _segments(points: list[tuple[float, float, datetime]]) -> list[list[tuple[float, float]]]:
    """Break the line where readings stop for much longer than usual (a sensor gap)."""
    if not points:
        return []
    steps = [(b[2] - a[2]).total_seconds() for a, b in itertools.pairwise(points)]
    gap = max(6 * median(steps), 3600) if steps else 0
    segments: list[list[tuple[float, float]]] = [[points[0][:2]]]
    for step, point in zip(steps, points[1:], strict=True):
        if step > gap:
            segments.append([])
        segments[-1].append(point[:2])
    return segments


def _thin(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """At most the first, lowest, highest and last point per pixel column: spikes survive."""
    columns: dict[int, list[tuple[float, float]]] = {}
    for point in points:
        columns.setdefault(int(point[0]), []).append(point)
    kept: list[tuple[float, float]] = []
    for column in columns.values():
        picks = {0, len(column) - 1, column.index(min(column, key=lambda p: p[1]))}
        picks.add(column.index(max(column, key=lambda p: p[1])))
        kept += [column[i] for i in sorted(picks)]
    return kept


def _describe(chart: TimeChart) -> str:
    parts = []
    for trace in chart.traces:
        values = [v for _, v in trace.points]
        if values:
            parts.append(
                f"{trace.label} : {len(values)} mesure(s), de {number(min(values))} à "
                f"{number(max(values))} {chart.unit}"
            )
    parts += [f"seuil {limit.label}" for limit in chart.limits]
    return " ; ".join(parts) or "aucune mesure sur la période"


def agp_figure(bins: Sequence[AgpBin], width: float = 720, height: float = 260) -> Figure:
    """Median line, 25–75 and 5–95 % bands by time of day (Paris), with the target range 70–180."""
    top = max([300.0] + [b.percentiles[95] for b in bins if b.percentiles])
    ticks = nice_ticks(40, top)
    frame = _Frame(48, 20, width - 12, height - 26, 0, 24 * 60, ticks[0], ticks[-1])
    shapes: list[Shape] = _value_axis(frame, ticks, "mg/dL")
    for hour in range(0, 25, 3):
        x = frame.x(hour * 60)
        shapes.append(Line(x, frame.top, x, frame.bottom, GRID))
        shapes.append(Label(x, frame.bottom + 14, f"{hour:02d} h", 9, "middle"))
    for value, color, dash in (
        (70, TARGET, None),
        (180, TARGET, None),
        (54, VERY_LOW, "4 3"),
        (250, VERY_HIGH, "4 3"),
    ):
        y = frame.y(value)
        shapes.append(Line(frame.left, y, frame.right, y, color, 1.2, dash))
        shapes.append(Label(frame.right - 4, y - 3, f"{value}", 9, "end", color))
    for run in _filled_runs(bins):
        centres = [frame.x(b.start_minute + _bin_width(bins) / 2) for b in run]
        for low, high, opacity in ((5, 95, 0.18), (25, 75, 0.38)):
            upper = [
                (x, frame.y(b.percentiles[high])) for x, b in zip(centres, run, strict=True) if b.percentiles
            ]
            lower = [
                (x, frame.y(b.percentiles[low])) for x, b in zip(centres, run, strict=True) if b.percentiles
            ]
            shapes.append(Area(tuple(upper + lower[::-1]), MEDIAN, opacity))
        middle = tuple(
            (x, frame.y(b.percentiles[50])) for x, b in zip(centres, run, strict=True) if b.percentiles
        )
        shapes.append(Path(middle, MEDIAN, 2.2) if len(middle) > 1 else Dot(*middle[0], 3, MEDIAN))
    filled = sum(1 for b in bins if b.percentiles)
    description = (
        f"Profil glycémique ambulatoire : médiane, percentiles 25–75 et 5–95 par heure de la journée "
        f"(heure de Paris), {filled} heure(s) sur 24 renseignée(s)"
    )
    return Figure(width, height, "Profil glycémique ambulatoire (AGP)", description, tuple(shapes))


def _bin_width(bins: Sequence[AgpBin]) -> float:
    return 24 * 60 / len(bins) if bins else 60


def _filled_runs(bins: Sequence[AgpBin]) -> list[list[AgpBin]]:
    """Consecutive bins holding readings: an hour without any breaks the bands."""
    runs: list[list[AgpBin]] = [[]]
    for item in bins:
        if item.percentiles:
            runs[-1].append(item)
        elif runs[-1]:
            runs.append([])
    return [run for run in runs if run]


def ranges_of(summary: GlucoseSummary) -> list[tuple[str, float, str]]:
    """The five consensus ranges, lowest first: (label, % of readings, colour)."""
    if summary.in_range is None:
        return []
    below_70, below_54 = summary.below_70 or 0, summary.below_54 or 0
    above_180, above_250 = summary.above_180 or 0, summary.above_250 or 0
    return [
        ("< 54 mg/dL", below_54, VERY_LOW),
        ("54–69 mg/dL", below_70 - below_54, LOW),
        ("70–180 mg/dL", summary.in_range, TARGET),
        ("181–250 mg/dL", above_180 - above_250, HIGH),
        ("> 250 mg/dL", above_250, VERY_HIGH),
    ]


def ranges_figure(summary: GlucoseSummary, width: float = 720, height: float = 74) -> Figure:
    """Time in, below and above range as one stacked bar, with its legend underneath."""
    ranges = ranges_of(summary)
    shapes: list[Shape] = []
    x, left, span = 0.0, 8.0, width - 16
    for _, share, color in ranges:
        if share > 0:
            shapes.append(Box(left + x, 6, span * share / 100, 26, color))
        x += span * share / 100
    slot = span / max(1, len(ranges))
    for index, (label, share, color) in enumerate(ranges):
        at = left + index * slot
        shapes.append(Box(at, 44, 10, 10, color))
        shapes.append(Label(at + 14, 53, f"{label} : {number(share)} %", 10, "start", INK))
    description = " ; ".join(f"{label} : {number(share)} %" for label, share, _ in ranges)
    return Figure(width, height, "Temps dans les cibles", description or "aucune mesure", tuple(shapes))
