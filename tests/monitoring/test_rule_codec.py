"""A program's rules as JSON, and a doctor's adjustments (pure, table-driven)."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from telesante.monitoring.defaults import (
    BP_GRADE_3,
    DEFAULT_RULES,
    GLUCOSE_MISSING,
    HYPOGLYCAEMIA,
    WEIGHT_GAIN,
)
from telesante.monitoring.rule_codec import RuleChangeRefused, adjust, from_json, to_json
from telesante.monitoring.rules import Rule, Severity, ThresholdRule, TrendRule

EVERY_DEFAULT = sorted(
    {r.code: r for rules in DEFAULT_RULES.values() for r in rules}.values(), key=lambda r: r.code
)


@pytest.mark.parametrize("rule", EVERY_DEFAULT, ids=lambda r: r.code)
def test_every_default_survives_the_round_trip(rule: Rule) -> None:
    assert from_json(to_json(rule)) == rule


@pytest.mark.parametrize(
    ("rule", "changes", "check"),
    [
        (HYPOGLYCAEMIA, {"limit": "65"}, lambda r: r.any_of[0].limit == Decimal(65)),
        (HYPOGLYCAEMIA, {"limit": 65, "margin": 3}, lambda r: r.any_of[0].margin == Decimal(3)),
        (BP_GRADE_3, {"threshold": 1, "limit": 100}, lambda r: [t.limit for t in r.any_of] == [180, 100]),
        (
            WEIGHT_GAIN,
            {"delta": "1.5", "margin": "0.3"},
            lambda r: (r.delta, r.margin) == (Decimal("1.5"), Decimal("0.3")),
        ),
        (WEIGHT_GAIN, {"window_hours": 24}, lambda r: r.window == timedelta(hours=24)),
        (GLUCOSE_MISSING, {"after_hours": 6}, lambda r: r.after == timedelta(hours=6)),
        (HYPOGLYCAEMIA, {"severity": "critical"}, lambda r: r.severity is Severity.CRITICAL),
    ],
)
def test_adjustments(rule: Rule, changes: dict[str, Any], check: Any) -> None:
    adjusted = adjust(rule, changes)
    assert check(adjusted)
    assert adjusted.source == rule.source and adjusted.code == rule.code


@pytest.mark.parametrize(
    ("rule", "changes", "field", "reason"),
    [
        (
            HYPOGLYCAEMIA,
            {"limit": "5"},
            "limit",
            "seuil 5 mg/dL hors des valeurs possibles pour glycémie (40–500 mg/dL)",
        ),
        (HYPOGLYCAEMIA, {"limit": "abc"}, "limit", "nombre attendu, reçu « abc »"),
        (HYPOGLYCAEMIA, {"limit": "-1"}, "limit", "nombre positif attendu"),
        (BP_GRADE_3, {"threshold": 2, "limit": 100}, "threshold", "numéro de seuil de 0 à 1"),
        (WEIGHT_GAIN, {"delta": "0.4"}, "margin", "la marge de retour doit rester inférieure à la variation"),
        (GLUCOSE_MISSING, {"after_hours": 1000}, "after_hours", "au plus 720 heures (30 jours)"),
        (
            GLUCOSE_MISSING,
            {"limit": 60},
            "limit",
            "ne s'applique pas à cette règle (modifiables : after_hours, severity)",
        ),
        (HYPOGLYCAEMIA, {"severity": "urgent"}, "severity", "info, warning ou critical"),
    ],
)
def test_refused_adjustments_say_why(rule: Rule, changes: dict[str, Any], field: str, reason: str) -> None:
    with pytest.raises(RuleChangeRefused) as refused:
        adjust(rule, changes)
    assert (refused.value.field, refused.value.reason) == (field, reason)


def test_adjusting_leaves_the_original_untouched() -> None:
    adjust(HYPOGLYCAEMIA, {"limit": 60})
    assert isinstance(HYPOGLYCAEMIA, ThresholdRule) and HYPOGLYCAEMIA.any_of[0].limit == 70
    assert isinstance(WEIGHT_GAIN, TrendRule)
