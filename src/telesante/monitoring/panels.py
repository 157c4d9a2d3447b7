"""What the screens and the monthly report plot: one chart per measured value (blood pressure's two
components together), with the program's alert thresholds drawn, and the rules said in French.
Pure: measurements and rules in, chart specifications and sentences out."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from telesante.monitoring import charts
from telesante.monitoring.charts import Limit, TimeChart, Trace
from telesante.monitoring.measures import MeasureKind, display_unit, french
from telesante.monitoring.rules import (
    CombinedRule,
    MissingDataRule,
    Rule,
    Threshold,
    ThresholdRule,
    TrendRule,
)

K = MeasureKind
CONSENSUS_RANGE = (70.0, 180.0)  # mg/dL, International Consensus on Time in Range (monitoring.md §2)


@dataclass(frozen=True)
class Group:
    title: str
    kinds: tuple[MeasureKind, ...]
    colors: tuple[str, ...]


GROUPS = (
    Group("Glycémie", (K.GLUCOSE_CGM, K.GLUCOSE_METER), ("#0b4f9c", "#b45f06")),
    Group("Pression artérielle", (K.SYSTOLIC, K.DIASTOLIC), ("#7a0014", "#0b4f9c")),
    Group("Poids", (K.WEIGHT,), ("#0b4f9c",)),
    Group("SpO2", (K.SPO2,), ("#0b4f9c",)),
    Group("Fréquence cardiaque", (K.HEART_RATE,), ("#7a0014",)),
    Group("Température", (K.TEMPERATURE,), ("#b45f06",)),
    Group("Fréquence respiratoire", (K.RESPIRATORY_RATE,), ("#0b6b2f",)),
)
TRACE_LABELS = {K.GLUCOSE_CGM: "capteur", K.GLUCOSE_METER: "glycémie capillaire"}


@dataclass(frozen=True)
class Point:
    """A stored measurement reduced to what a chart needs."""

    kind: MeasureKind
    value: Decimal
    at: datetime


def time_charts(
    points: Iterable[Point], rules: Sequence[Rule], start: datetime, end: datetime
) -> list[TimeChart]:
    """One chart per group that has measurements in [start, end), thresholds of the rules drawn."""
    by_kind: dict[MeasureKind, list[tuple[datetime, float]]] = {}
    for point in sorted(points, key=lambda p: p.at):
        if start <= point.at < end:
            by_kind.setdefault(point.kind, []).append((point.at, float(point.value)))
    found = []
    for group in GROUPS:
        traces = tuple(
            Trace(TRACE_LABELS.get(kind, kind.spec.label), by_kind[kind], color)
            for kind, color in zip(group.kinds, group.colors, strict=True)
            if kind in by_kind
        )
        if traces:
            unit = display_unit(group.kinds[0].spec.unit)
            target = CONSENSUS_RANGE if K.GLUCOSE_CGM in group.kinds else None
            found.append(
                TimeChart(group.title, unit, start, end, traces, limits_for(group.kinds, rules), target)
            )
    return found


def limits_for(kinds: Iterable[MeasureKind], rules: Sequence[Rule]) -> tuple[Limit, ...]:
    """Every fixed threshold of the rules on these measures, each value once."""
    wanted = set(kinds)
    limits: dict[float, Limit] = {}
    for rule in rules:
        color = charts.VERY_LOW if rule.severity.value == "critical" else charts.LOW
        for threshold in _thresholds(rule):
            if threshold.kinds & wanted:
                label = f"{threshold.op} {french(threshold.limit)} ({rule.label})"
                limits.setdefault(float(threshold.limit), Limit(float(threshold.limit), label, color))
    return tuple(limits.values())


def _thresholds(rule: Rule) -> tuple[Threshold, ...]:
    if isinstance(rule, ThresholdRule):
        return rule.any_of
    if isinstance(rule, CombinedRule):
        return rule.all_of
    return ()


def duration(span: timedelta) -> str:
    """12 h, 3 jours, 90 min: the way a French screen says a delay."""
    minutes = int(span.total_seconds() // 60)
    if minutes % (24 * 60) == 0 and minutes >= 2 * 24 * 60:
        return f"{minutes // (24 * 60)} jours"
    if minutes % 60 == 0:
        return f"{minutes // 60} h"
    return f"{minutes} min"


def describe_rule(rule: Rule) -> str:
    """The rule's condition in French, with its numbers and units."""
    if isinstance(rule, ThresholdRule):
        text = " ou ".join(t.describe() for t in rule.any_of)
        return text + _margin(rule.any_of)
    if isinstance(rule, CombinedRule):
        return (
            " et ".join(t.describe() for t in rule.all_of) + f", à moins de {duration(rule.within)} d'écart"
        )
    if isinstance(rule, TrendRule):
        kind = min(rule.measures)
        way = "hausse" if rule.rise else "baisse"
        return (
            f"{kind.spec.label} : {way} de plus de {french(rule.delta)} {display_unit(kind.spec.unit)} "
            f"en {duration(rule.window)}"
        )
    if isinstance(rule, MissingDataRule):
        labels = ", ".join(sorted({k.spec.label for k in rule.measures}))
        return f"aucune mesure ({labels}) pendant {duration(rule.after)}"
    return rule.label


def _margin(thresholds: tuple[Threshold, ...]) -> str:
    margins = {t.margin for t in thresholds if t.margin}
    if not margins:
        return ""
    unit = display_unit(min(thresholds[0].kinds).spec.unit)
    return f" (fin de l'épisode à {french(max(margins))} {unit} au-delà du seuil)"
