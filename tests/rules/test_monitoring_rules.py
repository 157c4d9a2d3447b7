"""Télésurveillance alert rules and their defaults (monitoring.md §2), table-driven."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import count

import pytest

from telesante.monitoring.defaults import (
    BP_GRADE_3,
    DEFAULT_RULES,
    GLUCOSE_MISSING,
    HYPERGLYCAEMIA,
    HYPOGLYCAEMIA,
    LOW_SPO2,
    SEVERE_HYPOGLYCAEMIA,
    WEIGHT_GAIN,
    WEIGHT_MISSING,
    Indication,
    rules_for,
)
from telesante.monitoring.measures import MeasureKind, to_canonical
from telesante.monitoring.rules import (
    CombinedRule,
    Decision,
    Measurement,
    Op,
    Rule,
    RuleState,
    Severity,
    Status,
    Threshold,
    TrendRule,
    evaluate,
    evaluate_all,
)

K = MeasureKind
R, C = Status.RAISED, Status.CLEAR
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
_ids = count(1)


def reading(kind: MeasureKind, value: float | str | Decimal, at: datetime) -> Measurement:
    return Measurement(f"m{next(_ids)}", kind, Decimal(str(value)), at)


def glucose(value: float | str | Decimal, at: datetime = T0) -> Measurement:
    return reading(K.GLUCOSE_CGM, value, at)


def bp(systolic: float | str, diastolic: float | str, at: datetime = T0) -> list[Measurement]:
    return [reading(K.SYSTOLIC, systolic, at), reading(K.DIASTOLIC, diastolic, at)]


@dataclass
class Patient:
    """What the ingestion layer will keep between evaluations: the series and the rule's state."""

    rule: Rule
    series: list[Measurement] = field(default_factory=list)
    state: RuleState = field(default_factory=RuleState)

    def receive(self, *arrived: Measurement, now: datetime | None = None) -> Decision:
        self.series.extend(arrived)
        moment = now or max(m.at for m in self.series)
        decision = evaluate(self.rule, self.series, self.state, now=moment, arrived={m.id for m in arrived})
        self.state = decision.state
        return decision


# --- thresholds at their exact boundaries ---------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "kind", "value", "holds"),
    [
        (HYPOGLYCAEMIA, K.GLUCOSE_CGM, 69, True),
        (HYPOGLYCAEMIA, K.GLUCOSE_CGM, "69.9", True),
        (HYPOGLYCAEMIA, K.GLUCOSE_CGM, 70, False),  # "< 70": 70 is in range
        (HYPOGLYCAEMIA, K.GLUCOSE_METER, 60, True),  # a meter reading counts too
        (SEVERE_HYPOGLYCAEMIA, K.GLUCOSE_CGM, 53, True),
        (SEVERE_HYPOGLYCAEMIA, K.GLUCOSE_CGM, "53.9", True),
        (SEVERE_HYPOGLYCAEMIA, K.GLUCOSE_CGM, 54, False),
        (HYPERGLYCAEMIA, K.GLUCOSE_CGM, 250, False),
        (HYPERGLYCAEMIA, K.GLUCOSE_CGM, "250.1", True),
        (LOW_SPO2, K.SPO2, 89, True),
        (LOW_SPO2, K.SPO2, 90, False),
        (HYPOGLYCAEMIA, K.HEART_RATE, 60, False),  # other kinds are ignored
    ],
)
def test_threshold_boundaries(rule: Rule, kind: MeasureKind, value: int | str, holds: bool) -> None:
    measurement = reading(kind, value, T0)
    decision = evaluate(rule, [measurement], now=T0)
    assert decision.holds is holds
    assert decision.raised is holds
    assert decision.evidence == ((measurement.id,) if holds else ())
    assert [t.status for t in decision.transitions] == ([R] if holds else [])


@pytest.mark.parametrize(
    ("value", "unit", "hypo", "hyper"),
    [
        ("3.9", "mmol/L", False, False),  # 70.26 mg/dL
        ("3.8", "mmol/L", True, False),  # 68.46 mg/dL
        ("13.8", "mmol/L", False, False),  # 248.6 mg/dL
        ("13.9", "mmol/L", False, True),  # 250.4 mg/dL: the consensus' "13.9" is rounded
    ],
)
def test_molar_glucose_meets_the_thresholds_in_mg_dl(value: str, unit: str, hypo: bool, hyper: bool) -> None:
    measurement = glucose(to_canonical(K.GLUCOSE_CGM, Decimal(value), unit))
    assert evaluate(HYPOGLYCAEMIA, [measurement], now=T0).holds is hypo
    assert evaluate(HYPERGLYCAEMIA, [measurement], now=T0).holds is hyper


@pytest.mark.parametrize(
    ("systolic", "diastolic", "holds", "because"),
    [
        (180, 90, True, [K.SYSTOLIC]),
        (120, 110, True, [K.DIASTOLIC]),
        (185, 115, True, [K.SYSTOLIC, K.DIASTOLIC]),
        (179, 109, False, []),
        ("179.9", "109.9", False, []),
    ],
)
def test_blood_pressure_grade_3_is_systolic_or_diastolic(
    systolic: int | str, diastolic: int | str, holds: bool, because: list[MeasureKind]
) -> None:
    panel = bp(systolic, diastolic)
    decision = evaluate(BP_GRADE_3, panel, now=T0)
    assert decision.holds is holds
    assert decision.evidence == tuple(m.id for m in panel if m.kind in because)


# --- hysteresis: one open alert, no flapping ------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "kind", "values", "statuses"),
    [
        (HYPOGLYCAEMIA, K.GLUCOSE_CGM, [69, 71, 69, 71, 69], [R, R, R, R, R]),  # no flapping around 70
        (HYPOGLYCAEMIA, K.GLUCOSE_CGM, [69, 74, "74.9", 75], [R, R, R, C]),  # clears at 75 mg/dL
        (HYPOGLYCAEMIA, K.GLUCOSE_CGM, [69, 75, 69], [R, C, R]),  # back in range, then a new episode
        (HYPOGLYCAEMIA, K.GLUCOSE_CGM, [80, 70, 72], [C, C, C]),
        (HYPOGLYCAEMIA, K.GLUCOSE_METER, [65, 80], [R, C]),
        (SEVERE_HYPOGLYCAEMIA, K.GLUCOSE_CGM, [50, 58, 59], [R, R, C]),
        (HYPERGLYCAEMIA, K.GLUCOSE_CGM, [251, 245, "240.1", 240], [R, R, R, C]),
        (LOW_SPO2, K.SPO2, [89, 91, 92], [R, R, C]),
    ],
)
def test_hysteresis(rule: Rule, kind: MeasureKind, values: list[int | str], statuses: list[Status]) -> None:
    patient = Patient(rule)
    seen = [patient.receive(reading(kind, v, T0 + i * HOUR)).state.status for i, v in enumerate(values)]
    assert seen == statuses


def test_one_open_alert_per_rule_however_low_it_goes() -> None:
    patient = Patient(HYPOGLYCAEMIA)
    transitions = [patient.receive(glucose(v, T0 + i * HOUR)).transitions for i, v in enumerate([69, 60, 55])]
    assert [len(t) for t in transitions] == [1, 0, 0]


@pytest.mark.parametrize(
    ("readings", "statuses"),
    [
        ([(185, 95), (175, 105), (169, 100), (169, 99)], [R, R, R, C]),  # both must recover
        ([(120, 112), (165, 100), (165, 99)], [R, R, C]),
    ],
)
def test_blood_pressure_clears_when_both_components_recovered(
    readings: list[tuple[int, int]], statuses: list[Status]
) -> None:
    patient = Patient(BP_GRADE_3)
    seen = [patient.receive(*bp(s, d, T0 + i * HOUR)).state.status for i, (s, d) in enumerate(readings)]
    assert seen == statuses


# --- order of arrival, late measurements ---------------------------------------------------


def test_a_batch_is_read_in_effective_time_order_whatever_its_order() -> None:
    values = [80, 65, 68, 76, 90]
    batch = [glucose(v, T0 + i * HOUR) for i, v in enumerate(values)]
    for arrival in (batch, batch[::-1], [batch[3], batch[0], batch[4], batch[1], batch[2]]):
        decision = evaluate(HYPOGLYCAEMIA, arrival, now=T0 + 5 * HOUR, arrived={m.id for m in arrival})
        assert [(t.status, t.at, t.evidence) for t in decision.transitions] == [
            (R, T0 + HOUR, (batch[1].id,)),
            (C, T0 + 3 * HOUR, (batch[3].id,)),
        ]
        assert decision.state == RuleState(C, since=T0 + 3 * HOUR, through=T0 + 4 * HOUR)


def test_a_late_measurement_raises_an_alert_for_its_time() -> None:
    patient = Patient(HYPOGLYCAEMIA)
    patient.receive(glucose(110, T0))
    night = glucose(60, T0 - 5 * HOUR)  # uploaded after the morning reading
    decision = patient.receive(night, now=T0 + HOUR)
    assert [(t.status, t.at, t.evidence, t.late) for t in decision.transitions] == [
        (R, T0 - 5 * HOUR, (night.id,), True)
    ]
    assert decision.raised and not decision.holds  # open for the team, though the newest is fine
    assert decision.state.through == T0
    later = patient.receive(glucose(100, T0 + 2 * HOUR))
    assert [(t.status, t.late) for t in later.transitions] == [(C, False)]


def test_a_late_measurement_cannot_clear_a_current_alert() -> None:
    patient = Patient(HYPOGLYCAEMIA)
    low = glucose(65, T0)
    patient.receive(low)
    decision = patient.receive(glucose(90, T0 - HOUR), now=T0 + HOUR)
    assert decision.transitions == ()
    assert decision.raised and decision.holds
    assert decision.evidence == (low.id,)


def test_a_late_measurement_does_not_open_a_second_alert() -> None:
    patient = Patient(HYPOGLYCAEMIA)
    patient.receive(glucose(65, T0))
    assert patient.receive(glucose(50, T0 - HOUR), now=T0 + HOUR).transitions == ()


def test_an_episode_already_evaluated_does_not_raise_again() -> None:
    patient = Patient(HYPOGLYCAEMIA)
    patient.receive(glucose(60, T0), glucose(80, T0 + HOUR))
    assert patient.state.status is C
    assert patient.receive(glucose(100, T0 + 2 * HOUR)).transitions == ()
    again = evaluate(HYPOGLYCAEMIA, patient.series, patient.state, now=T0 + 3 * HOUR)
    assert again.transitions == () and again.state == patient.state


def test_a_late_normal_reading_does_not_reopen_a_past_episode() -> None:
    patient = Patient(HYPOGLYCAEMIA)
    patient.receive(glucose(60, T0), glucose(80, T0 + HOUR))
    decision = patient.receive(glucose(100, T0 - HOUR), now=T0 + 2 * HOUR)  # older than the episode
    assert decision.transitions == () and not decision.raised


def test_a_late_weight_can_complete_a_trend() -> None:
    patient = Patient(WEIGHT_GAIN)
    patient.receive(reading(K.WEIGHT, 81, T0 + 24 * HOUR))
    latest = reading(K.WEIGHT, "82.1", T0 + 48 * HOUR)
    assert patient.receive(latest).transitions == ()  # +1.1 kg
    first = reading(K.WEIGHT, 80, T0)  # day 0 arrives last
    decision = patient.receive(first, now=T0 + 49 * HOUR)
    assert [(t.status, t.at, t.evidence, t.late) for t in decision.transitions] == [
        (R, T0 + 48 * HOUR, (first.id, latest.id), True)
    ]


# --- trends ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hours", "gain", "holds"),
    [
        (71, "2.1", True),
        (72, "2.1", True),  # "in 3 days": the window's ends are included
        (73, "2.1", False),  # the first weight has left the window
        (48, "2.0", False),  # "more than 2 kg"
        (24, "2.01", True),
        (24, "-3", False),  # a loss is no gain
    ],
)
def test_weight_gain_window(hours: int, gain: str, holds: bool) -> None:
    first = reading(K.WEIGHT, 80, T0)
    last = reading(K.WEIGHT, Decimal(80) + Decimal(gain), T0 + hours * HOUR)
    decision = evaluate(WEIGHT_GAIN, [last, first], now=last.at)
    assert decision.holds is holds
    assert decision.evidence == ((first.id, last.id) if holds else ())


def test_a_gain_is_measured_from_the_lowest_weight_in_the_window() -> None:
    old, low, mid, last = (
        reading(K.WEIGHT, 78, T0 - 24 * HOUR),  # outside the 3 days before `last`
        reading(K.WEIGHT, 80, T0),
        reading(K.WEIGHT, 81, T0 + 24 * HOUR),
        reading(K.WEIGHT, "82.1", T0 + 60 * HOUR),
    )
    decision = evaluate(WEIGHT_GAIN, [old, low, mid, last], now=last.at)
    assert decision.holds and decision.evidence == (low.id, last.id)


@pytest.mark.parametrize(
    ("weights", "statuses"),
    [
        (["80", "82.1", "81.7", "81.5"], [C, R, R, C]),  # clears at +1.5 kg (margin 0.5)
        (["80", "81", "82", "82.5"], [C, C, C, R]),
    ],
)
def test_weight_gain_hysteresis(weights: list[str], statuses: list[Status]) -> None:
    patient = Patient(WEIGHT_GAIN)
    seen = [
        patient.receive(reading(K.WEIGHT, w, T0 + i * 12 * HOUR)).state.status for i, w in enumerate(weights)
    ]
    assert seen == statuses


@pytest.mark.parametrize(("drop", "holds"), [("3.1", True), ("3", False)])
def test_a_falling_trend(drop: str, holds: bool) -> None:
    fall = TrendRule(
        code="spo2.drop",
        label="Chute de SpO2",
        severity=Severity.INFO,
        source="test",
        measures=frozenset({K.SPO2}),
        delta=Decimal(3),
        window=timedelta(hours=6),
        rise=False,
    )
    high, low = reading(K.SPO2, 96, T0), reading(K.SPO2, Decimal(96) - Decimal(drop), T0 + HOUR)
    decision = evaluate(fall, [high, low], now=low.at)
    assert decision.holds is holds
    assert decision.evidence == ((high.id, low.id) if holds else ())


# --- missing data ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("last_reading_age", "holds"),
    [
        (timedelta(hours=11, minutes=59), False),
        (timedelta(hours=12), True),  # "no glucose for 12 h": at 12 h exactly, it is missing
        (timedelta(hours=30), True),
    ],
)
def test_missing_glucose(last_reading_age: timedelta, holds: bool) -> None:
    last = glucose(110, T0)
    decision = evaluate(GLUCOSE_MISSING, [last], now=T0 + last_reading_age)
    assert decision.holds is holds
    assert decision.evidence == ((last.id,) if holds else ())
    assert [(t.status, t.at) for t in decision.transitions] == ([(R, T0 + 12 * HOUR)] if holds else [])


@pytest.mark.parametrize(
    ("since_ago", "holds", "at"),
    [
        (timedelta(hours=11), False, None),  # a new patient gets the delay to send a first reading
        (timedelta(hours=12), True, T0),
        (None, True, T0),  # nothing ever received and no start known: say so
    ],
)
def test_missing_glucose_without_any_reading(
    since_ago: timedelta | None, holds: bool, at: datetime | None
) -> None:
    since = T0 - since_ago if since_ago else None
    decision = evaluate(GLUCOSE_MISSING, [], now=T0, monitoring_since=since)
    assert decision.holds is holds
    assert [t.at for t in decision.transitions] == ([at] if at else [])


def test_any_glucose_source_counts_and_other_kinds_do_not() -> None:
    cgm, meter = glucose(110, T0), reading(K.GLUCOSE_METER, 120, T0 + 10 * HOUR)
    weight = reading(K.WEIGHT, 80, T0 + 12 * HOUR)
    assert not evaluate(GLUCOSE_MISSING, [cgm, meter, weight], now=T0 + 13 * HOUR).holds
    assert evaluate(GLUCOSE_MISSING, [cgm, weight], now=T0 + 13 * HOUR).holds


def test_missing_data_clears_with_a_new_reading_but_not_with_a_late_one() -> None:
    patient = Patient(WEIGHT_MISSING)
    patient.receive(reading(K.WEIGHT, 80, T0))
    raised = patient.receive(now=T0 + 50 * HOUR)
    assert [(t.status, t.at) for t in raised.transitions] == [(R, T0 + 48 * HOUR)]
    patient.series.clear()  # the caller's window no longer holds the old reading: the state remembers it
    late = patient.receive(reading(K.WEIGHT, 79, T0 - HOUR), now=T0 + 51 * HOUR)
    assert late.transitions == () and late.raised
    fresh = reading(K.WEIGHT, 81, T0 + 52 * HOUR)
    cleared = patient.receive(fresh, now=T0 + 52 * HOUR)
    assert [(t.status, t.at, t.evidence) for t in cleared.transitions] == [(C, fresh.at, (fresh.id,))]
    assert patient.receive(now=T0 + 60 * HOUR).transitions == ()  # raised once only


def test_missing_data_remembers_the_last_reading_beyond_the_callers_window() -> None:
    patient = Patient(WEIGHT_MISSING)
    patient.receive(reading(K.WEIGHT, 80, T0))
    assert not evaluate(WEIGHT_MISSING, [], patient.state, now=T0 + 47 * HOUR).holds
    late = evaluate(WEIGHT_MISSING, [], patient.state, now=T0 + 49 * HOUR)
    assert [(t.status, t.at) for t in late.transitions] == [(R, T0 + 48 * HOUR)]


# --- combined conditions --------------------------------------------------------------------

DESATURATION_TACHYCARDIA = CombinedRule(
    code="spo2_hr",
    label="Désaturation avec tachycardie",
    severity=Severity.CRITICAL,
    source="test",
    all_of=(
        Threshold(frozenset({K.SPO2}), Op.LT, Decimal(90), margin=Decimal(2)),
        Threshold(frozenset({K.HEART_RATE}), Op.GT, Decimal(120), margin=Decimal(10)),
    ),
    within=timedelta(minutes=10),
)


@pytest.mark.parametrize(
    ("spo2", "heart_rate", "minutes_apart", "holds"),
    [
        (88, 125, 0, True),
        (88, 125, 10, True),
        (88, 125, -10, True),  # either may come first
        (88, 125, 11, False),  # not within the window
        (90, 125, 0, False),
        (88, 120, 0, False),
        ("89.9", "120.1", 5, True),
    ],
)
def test_combined_rule(spo2: int | str, heart_rate: int | str, minutes_apart: int, holds: bool) -> None:
    saturation = reading(K.SPO2, spo2, T0)
    pulse = reading(K.HEART_RATE, heart_rate, T0 + timedelta(minutes=minutes_apart))
    decision = evaluate(DESATURATION_TACHYCARDIA, [pulse, saturation], now=T0 + HOUR)
    assert decision.holds is holds
    assert decision.evidence == ((saturation.id, pulse.id) if holds else ())


def test_combined_rule_needs_every_measure() -> None:
    assert not evaluate(DESATURATION_TACHYCARDIA, [reading(K.SPO2, 80, T0)], now=T0).holds


@pytest.mark.parametrize(
    ("after", "statuses"),
    [
        ([(K.SPO2, 91), (K.SPO2, 92)], [R, C]),  # SpO2 back to 92 %: clears
        ([(K.HEART_RATE, 115), (K.HEART_RATE, 110)], [R, C]),  # or heart rate back to 110
        ([(K.SPO2, 95)], [C]),
    ],
)
def test_combined_rule_clears_when_one_condition_recovered(
    after: list[tuple[MeasureKind, int]], statuses: list[Status]
) -> None:
    patient = Patient(DESATURATION_TACHYCARDIA)
    assert patient.receive(reading(K.SPO2, 85, T0), reading(K.HEART_RATE, 130, T0)).raised
    minutes = (T0 + timedelta(minutes=i + 1) for i in range(len(after)))
    assert [
        patient.receive(reading(k, v, at)).state.status for (k, v), at in zip(after, minutes, strict=True)
    ] == (statuses)


# --- the defaults ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("indications", "codes"),
    [
        ([Indication.DIABETES], ["glucose.hypo", "glucose.hypo_severe", "glucose.hyper", "glucose.missing"]),
        ([Indication.HEART_FAILURE], ["weight.gain_3d", "weight.missing"]),
        ([Indication.HYPERTENSION], ["bp.grade3", "bp.missing"]),
        ([Indication.CHRONIC_RESPIRATORY_FAILURE], ["spo2.low", "spo2.missing"]),
        (
            [Indication.HEART_FAILURE, Indication.HYPERTENSION, Indication.HEART_FAILURE],
            ["weight.gain_3d", "weight.missing", "bp.grade3", "bp.missing"],
        ),
    ],
)
def test_default_rule_sets(indications: list[Indication], codes: list[str]) -> None:
    assert [rule.code for rule in rules_for(indications)] == codes


@pytest.mark.parametrize(
    ("rule", "severity", "verified"),
    [
        (HYPOGLYCAEMIA, Severity.WARNING, True),
        (SEVERE_HYPOGLYCAEMIA, Severity.CRITICAL, True),
        (HYPERGLYCAEMIA, Severity.WARNING, True),
        (WEIGHT_GAIN, Severity.WARNING, True),
        (BP_GRADE_3, Severity.WARNING, False),  # ESC/ESH not re-read
        (LOW_SPO2, Severity.WARNING, False),  # 90 % is a default, targets are per patient
        (GLUCOSE_MISSING, Severity.INFO, False),
    ],
)
def test_default_severity_and_whether_verified(rule: Rule, severity: Severity, verified: bool) -> None:
    assert (rule.severity, rule.verified) == (severity, verified)


def test_every_default_names_its_source() -> None:
    rules = [rule for rules in DEFAULT_RULES.values() for rule in rules]
    assert len({rule.code for rule in rules}) == len(rules)
    for rule in rules:
        assert rule.source.startswith("monitoring.md §2"), rule.code
        assert rule.verified or "non vérifié" in rule.source, rule.code


@pytest.mark.parametrize(
    ("threshold", "text"),
    [
        (HYPOGLYCAEMIA.any_of[0], "glycémie < 70 mg/dL"),
        (BP_GRADE_3.any_of[0], "pression systolique ≥ 180 mmHg"),
        (BP_GRADE_3.any_of[1], "pression diastolique ≥ 110 mmHg"),
        (LOW_SPO2.any_of[0], "SpO2 < 90 %"),
    ],
)
def test_thresholds_describe_themselves_in_french(threshold: Threshold, text: str) -> None:
    assert threshold.describe() == text


def test_severities_are_ordered() -> None:
    assert sorted(Severity, key=lambda s: s.rank) == [Severity.INFO, Severity.WARNING, Severity.CRITICAL]


def test_evaluate_all_keys_states_by_rule_code() -> None:
    rules = rules_for([Indication.DIABETES])
    low = glucose(50, T0)
    states = {"glucose.hypo": RuleState(R, since=T0 - HOUR, through=T0 - HOUR)}
    decisions = evaluate_all(rules, [low], states, now=T0, arrived={low.id})
    assert [(d.rule.code, d.raised, len(d.transitions)) for d in decisions] == [
        ("glucose.hypo", True, 0),  # already open: no second alert
        ("glucose.hypo_severe", True, 1),
        ("glucose.hyper", False, 0),
        ("glucose.missing", False, 0),
    ]


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        Measurement("m", K.SPO2, Decimal(95), datetime(2026, 11, 23, 8, 0))
