"""Rules as JSON (one program's adjustable copy of the defaults) and their adjustment. Pure.

A definition keeps everything the rule carries, its source included, so a program's rules stay
what the doctor saw when the defaults change later. Durations are stored in minutes and numbers
as strings (JSON has no decimals).
"""

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from telesante.monitoring.measures import PLAUSIBLE, MeasureKind, display_unit, french
from telesante.monitoring.rules import (
    CombinedRule,
    MissingDataRule,
    Op,
    Rule,
    Severity,
    Threshold,
    ThresholdRule,
    TrendRule,
)

KIND_NAMES = {
    ThresholdRule: "threshold",
    TrendRule: "trend",
    MissingDataRule: "missing",
    CombinedRule: "combined",
}
ADJUSTABLE = {
    "threshold": {"threshold", "limit", "margin", "severity"},
    "combined": {"threshold", "limit", "margin", "severity"},
    "trend": {"delta", "margin", "window_hours", "severity"},
    "missing": {"after_hours", "severity"},
}


class RuleChangeRefused(ValueError):
    """An adjustment that would make the rule meaningless; the message says why, in French."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def to_json(rule: Rule) -> dict[str, Any]:
    data: dict[str, Any] = {
        "type": KIND_NAMES[type(rule)],
        "code": rule.code,
        "label": rule.label,
        "severity": rule.severity.value,
        "source": rule.source,
        "verified": rule.verified,
    }
    if isinstance(rule, ThresholdRule):
        data["any_of"] = [_threshold_json(t) for t in rule.any_of]
    elif isinstance(rule, CombinedRule):
        data["all_of"] = [_threshold_json(t) for t in rule.all_of]
        data["within_minutes"] = _minutes(rule.within)
    elif isinstance(rule, TrendRule):
        data |= {
            "measures": sorted(rule.measures),
            "delta": str(rule.delta),
            "window_minutes": _minutes(rule.window),
            "rise": rule.rise,
            "margin": str(rule.margin),
        }
    elif isinstance(rule, MissingDataRule):
        data |= {"measures": sorted(rule.measures), "after_minutes": _minutes(rule.after)}
    return data


def from_json(data: dict[str, Any]) -> Rule:
    common = {
        "code": data["code"],
        "label": data["label"],
        "severity": Severity(data["severity"]),
        "source": data["source"],
        "verified": bool(data.get("verified", False)),
    }
    match data["type"]:
        case "threshold":
            return ThresholdRule(**common, any_of=tuple(_threshold(t) for t in data["any_of"]))
        case "combined":
            return CombinedRule(
                **common,
                all_of=tuple(_threshold(t) for t in data["all_of"]),
                within=timedelta(minutes=data["within_minutes"]),
            )
        case "trend":
            return TrendRule(
                **common,
                measures=_kinds(data["measures"]),
                delta=Decimal(data["delta"]),
                window=timedelta(minutes=data["window_minutes"]),
                rise=bool(data["rise"]),
                margin=Decimal(data["margin"]),
            )
        case "missing":
            return MissingDataRule(
                **common, measures=_kinds(data["measures"]), after=timedelta(minutes=data["after_minutes"])
            )
    raise ValueError(f"unknown rule type {data['type']!r}")


def adjust(rule: Rule, changes: dict[str, Any]) -> Rule:
    """The rule with a doctor's changes: `severity`, and per kind `limit`/`margin` of threshold
    number `threshold` (0 first), `delta`/`margin`/`window_hours`, or `after_hours`."""
    allowed = ADJUSTABLE[KIND_NAMES[type(rule)]]
    if unknown := sorted(set(changes) - allowed - {"enabled"}):
        modifiable = ", ".join(sorted(allowed))
        raise RuleChangeRefused(unknown[0], f"ne s'applique pas à cette règle (modifiables : {modifiable})")
    if "severity" in changes:
        rule = replace(rule, severity=_severity(changes["severity"]))
    if isinstance(rule, ThresholdRule):
        return replace(rule, any_of=_adjust_thresholds(rule.any_of, changes))
    if isinstance(rule, CombinedRule):
        return replace(rule, all_of=_adjust_thresholds(rule.all_of, changes))
    if isinstance(rule, TrendRule):
        return _adjust_trend(rule, changes)
    if isinstance(rule, MissingDataRule) and "after_hours" in changes:
        return replace(rule, after=_hours("after_hours", changes["after_hours"]))
    return rule


def _adjust_thresholds(thresholds: tuple[Threshold, ...], changes: dict[str, Any]) -> tuple[Threshold, ...]:
    if "limit" not in changes and "margin" not in changes:
        return thresholds
    index = changes.get("threshold", 0)
    if not isinstance(index, int) or not 0 <= index < len(thresholds):
        raise RuleChangeRefused("threshold", f"numéro de seuil de 0 à {len(thresholds) - 1}")
    old = thresholds[index]
    new = replace(
        old,
        limit=_number("limit", changes.get("limit", old.limit)),
        margin=_number("margin", changes.get("margin", old.margin), positive=False),
    )
    _check_plausible(new)
    return (*thresholds[:index], new, *thresholds[index + 1 :])


def _adjust_trend(rule: TrendRule, changes: dict[str, Any]) -> TrendRule:
    delta = _number("delta", changes.get("delta", rule.delta))
    margin = _number("margin", changes.get("margin", rule.margin), positive=False)
    window = _hours("window_hours", changes["window_hours"]) if "window_hours" in changes else rule.window
    if margin >= delta:
        raise RuleChangeRefused("margin", "la marge de retour doit rester inférieure à la variation")
    return replace(rule, delta=delta, margin=margin, window=window)


def _check_plausible(threshold: Threshold) -> None:
    for kind in sorted(threshold.kinds):
        low, high = PLAUSIBLE[kind]
        if not low <= threshold.limit <= high:
            unit = display_unit(kind.spec.unit)
            raise RuleChangeRefused(
                "limit",
                f"seuil {french(threshold.limit)} {unit} hors des valeurs possibles pour "
                f"{kind.spec.label} ({french(low)}–{french(high)} {unit})",
            )


def _number(field: str, value: Any, *, positive: bool = True) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise RuleChangeRefused(field, f"nombre attendu, reçu « {value} »") from None
    if isinstance(value, bool) or not number.is_finite() or number < 0 or (positive and number == 0):
        raise RuleChangeRefused(field, "nombre positif attendu")
    return number


def _hours(field: str, value: Any) -> timedelta:
    hours = _number(field, value)
    if hours > 24 * 30:
        raise RuleChangeRefused(field, "au plus 720 heures (30 jours)")
    return timedelta(minutes=int(hours * 60))


def _severity(value: Any) -> Severity:
    try:
        return Severity(value)
    except ValueError:
        raise RuleChangeRefused("severity", "info, warning ou critical") from None


def _threshold_json(threshold: Threshold) -> dict[str, Any]:
    return {
        "kinds": sorted(threshold.kinds),
        "op": threshold.op.value,
        "limit": str(threshold.limit),
        "margin": str(threshold.margin),
    }


def _threshold(data: dict[str, Any]) -> Threshold:
    return Threshold(_kinds(data["kinds"]), Op(data["op"]), Decimal(data["limit"]), Decimal(data["margin"]))


def _kinds(names: list[str]) -> frozenset[MeasureKind]:
    return frozenset(MeasureKind(name) for name in names)


def _minutes(duration: timedelta) -> int:
    return int(duration.total_seconds() // 60)
