"""The device simulator (simulation.py): deterministic, plausible, quiet when normal, and its
anomalies exactly where its list says."""

import hashlib
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise

import pytest

from telesante.monitoring import defaults, simulation
from telesante.monitoring.defaults import rules_for
from telesante.monitoring.measures import MeasureKind, check_blood_pressure, to_canonical
from telesante.monitoring.rules import Measurement, MissingDataRule, Rule, Series, Status, evaluate_all
from telesante.monitoring.simulation import (
    PROFILES,
    AnomalyKind,
    Reading,
    SimulatedPatient,
    Simulation,
    cohort,
    paced,
    simulate,
    stream,
)

K = MeasureKind
SEED = "simulation-tests"
START = datetime(2026, 3, 9, tzinfo=UTC)  # over the spring DST change
END = START + timedelta(days=30)
PATIENTS = cohort(2 * len(PROFILES), SEED)  # every profile twice


@pytest.fixture(scope="module")
def injected() -> dict[str, Simulation]:
    return {p.id: simulate(p, START, END) for p in PATIENTS}


@pytest.fixture(scope="module")
def normal() -> dict[str, Simulation]:
    return {p.id: simulate(p, START, END, anomalies=False) for p in PATIENTS}


_canonical: dict[tuple[MeasureKind, Decimal, str], Decimal] = {}


def canonical(reading: Reading) -> Measurement:
    key = (reading.kind, reading.value, reading.unit)
    if key not in _canonical:
        _canonical[key] = to_canonical(*key)  # raises on an impossible value
    return Measurement(reading.id, reading.kind, _canonical[key], reading.effective_at)


def series(readings: list[Reading], rule: Rule) -> Series:
    return Series(canonical(r) for r in readings if r.kind in rule.kinds)


# --- determinism ----------------------------------------------------------------------------


@pytest.mark.parametrize("patient", PATIENTS[: len(PROFILES)], ids=lambda p: "+".join(p.indications))
def test_same_seed_same_stream(patient: SimulatedPatient, injected: dict[str, Simulation]) -> None:
    again = simulate(cohort(len(PROFILES), SEED)[PATIENTS.index(patient)], START, END)
    assert again == injected[patient.id]
    other = simulate(cohort(len(PROFILES), "another seed")[PATIENTS.index(patient)], START, END)
    assert [r.value for r in other.readings] != [r.value for r in again.readings]


def digest(seed: str) -> str:
    readings = stream(cohort(6, seed), START, START + timedelta(days=3))
    return hashlib.sha256(repr(list(readings)).encode()).hexdigest()


def test_the_stream_does_not_depend_on_the_process() -> None:
    """Seeds are strings hashed by `random` itself, never by Python's per-process hash."""
    code = f"from tests.rules.test_monitoring_simulation import digest; print(digest({SEED!r}))"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    other = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert other.stdout.strip() == digest(SEED)


# --- plausibility ---------------------------------------------------------------------------


def test_every_value_is_plausible(injected: dict[str, Simulation]) -> None:
    for patient in PATIENTS:
        readings = injected[patient.id].readings
        assert {r.kind for r in readings} == patient.devices()
        assert len({r.id for r in readings}) == len(readings)
        assert [r.effective_at for r in readings] == sorted(r.effective_at for r in readings)
        assert all(START <= r.effective_at < END and r.effective_at.tzinfo is UTC for r in readings)
        values = {(r.effective_at, r.kind): canonical(r).value for r in readings}
        for at, kind in values:
            if kind is K.SYSTOLIC:
                check_blood_pressure(values[at, K.SYSTOLIC], values[at, K.DIASTOLIC])


@pytest.mark.parametrize(
    ("unit", "value"),
    [("mg/dL", Decimal(118)), ("mmol/L", Decimal("6.5"))],  # a meter in mmol/L sends one decimal
)
def test_glucose_is_sent_in_the_patients_unit(unit: str, value: Decimal) -> None:
    patient = replace(PATIENTS[0], glucose_unit=unit)
    first = simulate(patient, START, START + timedelta(hours=1)).readings[0]
    assert (first.unit, first.value.as_tuple().exponent) == (unit, value.as_tuple().exponent)


@pytest.mark.parametrize(
    ("zone", "at", "offset"),
    [
        ("Europe/Paris", datetime(2026, 3, 29, 0, 55, tzinfo=UTC), timedelta(hours=1)),
        ("Europe/Paris", datetime(2026, 3, 29, 1, 5, tzinfo=UTC), timedelta(hours=2)),  # DST began
        ("America/Martinique", datetime(2026, 3, 29, 1, 5, tzinfo=UTC), timedelta(hours=-4)),
        ("UTC", datetime(2026, 3, 29, 1, 5, tzinfo=UTC), timedelta(0)),
    ],
)
def test_device_clocks_write_their_own_offset(zone: str, at: datetime, offset: timedelta) -> None:
    patient = replace(PATIENTS[0], clock_zone=zone)
    reading = next(
        r for r in simulate(patient, at - timedelta(minutes=5), at + timedelta(minutes=5)).readings
    )
    assert reading.utc_offset == offset
    assert reading.device_time() == reading.effective_at
    assert reading.device_time().utcoffset() == offset


# --- the normal signal raises nothing --------------------------------------------------------


def test_the_normal_signal_stays_beyond_every_recovery_margin(normal: dict[str, Simulation]) -> None:
    """At every reading, every rule is not only quiet but recovered: no hysteresis band is touched."""
    for patient in PATIENTS:
        readings = normal[patient.id].readings
        for rule in (r for r in rules_for(patient.indications) if not isinstance(r, MissingDataRule)):
            history = series(readings, rule)
            assert history.items, rule.code
            for at in history.times():
                check = rule.check(history, at)
                assert check.recovered and not check.holds, (patient.id, rule.code, at, check)


def test_the_normal_signal_never_goes_missing(normal: dict[str, Simulation]) -> None:
    for patient in PATIENTS:
        for rule in (r for r in rules_for(patient.indications) if isinstance(r, MissingDataRule)):
            times = [
                START,
                *(r.effective_at for r in normal[patient.id].readings if r.kind in rule.kinds),
                END,
            ]
            assert max(b - a for a, b in pairwise(times)) < rule.after, (patient.id, rule.code)


def test_the_normal_signal_raises_no_alert(normal: dict[str, Simulation]) -> None:
    for patient in PATIENTS:
        measurements = [canonical(r) for r in normal[patient.id].readings]
        decisions = evaluate_all(
            rules_for(patient.indications),
            measurements,
            {},
            now=END,
            arrived={m.id for m in measurements},
            monitoring_since=START,
        )
        assert [(d.rule.code, t.at) for d in decisions for t in d.transitions] == []
        assert not any(d.raised for d in decisions)


# --- the anomalies --------------------------------------------------------------------------


def test_every_kind_of_anomaly_is_injected(injected: dict[str, Simulation]) -> None:
    assert {a.kind for s in injected.values() for a in s.anomalies} == set(AnomalyKind)


def test_each_alert_starts_at_the_reading_the_list_names(injected: dict[str, Simulation]) -> None:
    """The named reading meets the rule's condition at the named moment; the reading before it
    (of the rule's kinds) does not: the episode begins exactly there."""
    for patient in PATIENTS:
        readings = injected[patient.id].readings
        by_id = {r.id: r for r in readings}
        rules = {r.code: r for r in rules_for(patient.indications)}
        histories = {code: series(readings, rule) for code, rule in rules.items()}
        for anomaly in injected[patient.id].anomalies:
            assert set(anomaly.readings) <= by_id.keys()
            assert all(anomaly.start <= by_id[i].effective_at <= anomaly.end for i in anomaly.readings)
            for alert in anomaly.alerts:
                rule = rules[alert.rule]
                if isinstance(rule, MissingDataRule):
                    continue  # below
                history = histories[alert.rule]
                assert by_id[alert.reading].effective_at == alert.at
                check = rule.check(history, alert.at)
                assert check.holds and alert.reading in check.evidence, (patient.id, alert)
                before = history.latest(rule.kinds, alert.at - timedelta(seconds=1))
                assert before is not None and not rule.check(history, before.at).holds, (patient.id, alert)


def test_a_missing_data_gap_outlasts_the_rule(injected: dict[str, Simulation]) -> None:
    gaps = 0
    for patient in PATIENTS:
        cgm = [r for r in injected[patient.id].readings if r.kind is K.GLUCOSE_CGM]
        for anomaly in (a for a in injected[patient.id].anomalies if a.kind is AnomalyKind.GLUCOSE_GAP):
            (alert,) = anomaly.alerts
            last = next(i for i, r in enumerate(cgm) if r.id == alert.reading)
            silence = cgm[last + 1].effective_at - cgm[last].effective_at
            assert timedelta(hours=13) <= silence <= timedelta(hours=16, minutes=5)
            assert alert == simulation.ExpectedAlert(
                "glucose.missing", cgm[last].effective_at + defaults.GLUCOSE_MISSING.after, cgm[last].id
            )
            gaps += 1
    assert gaps >= 3


@pytest.mark.parametrize(
    ("kind", "beyond", "minutes"),
    [
        (AnomalyKind.HYPOGLYCAEMIA, lambda v: v < 70, (20, 60)),
        (AnomalyKind.SEVERE_HYPOGLYCAEMIA, lambda v: v < 54, (20, 60)),
        (AnomalyKind.HYPERGLYCAEMIA, lambda v: v > 250, (30, 120)),
    ],
)
def test_glucose_episodes_last_as_announced(
    kind: AnomalyKind,
    beyond: Callable[[Decimal], bool],
    minutes: tuple[int, int],
    injected: dict[str, Simulation],
) -> None:
    """The first run of readings beyond the threshold, each reading counting for 5 minutes."""
    episodes = 0
    for patient in PATIENTS:
        by_id = {r.id: r for r in injected[patient.id].readings}
        for anomaly in (a for a in injected[patient.id].anomalies if a.kind is kind):
            values = [canonical(by_id[i]).value for i in anomaly.readings]
            first = next(i for i, v in enumerate(values) if beyond(v))
            run = next((i for i, v in enumerate(values[first:]) if not beyond(v)), len(values) - first)
            assert minutes[0] <= 5 * run <= minutes[1], (patient.id, anomaly.start, values)
            episodes += 1
    assert episodes >= 3


def test_glucose_episodes_are_apart(injected: dict[str, Simulation]) -> None:
    for patient in PATIENTS:
        cgm = [a for a in injected[patient.id].anomalies if a.alerts[0].rule.startswith("glucose.")]
        for earlier, later in pairwise(cgm):
            assert later.start - earlier.end >= timedelta(hours=1), (patient.id, earlier.start, later.start)


def test_outside_its_anomalies_the_stream_is_the_normal_one(
    injected: dict[str, Simulation], normal: dict[str, Simulation]
) -> None:
    ramp = simulation.RAMP * simulation.CGM_INTERVAL
    for patient in PATIENTS:
        usual = {r.id: r.value for r in normal[patient.id].readings}
        windows = [(a.start - ramp, a.end) for a in injected[patient.id].anomalies]
        altered = {i for a in injected[patient.id].anomalies for i in a.readings}
        changed = [
            r
            for r in injected[patient.id].readings
            if r.id in usual and usual[r.id] != r.value and r.id not in altered
        ]
        assert all(any(a <= r.effective_at <= b for a, b in windows) for r in changed), patient.id
        extra = {r.id for r in injected[patient.id].readings} - usual.keys()
        assert extra <= altered  # re-measures and re-checks belong to an anomaly
        lost = usual.keys() - {r.id for r in injected[patient.id].readings}
        gaps = [a for a in injected[patient.id].anomalies if a.kind is AnomalyKind.GLUCOSE_GAP]
        assert all(any(a.start < normal_at(normal, patient, i) < a.end for a in gaps) for i in lost)


def normal_at(normal: dict[str, Simulation], patient: SimulatedPatient, reading: str) -> datetime:
    return next(r.effective_at for r in normal[patient.id].readings if r.id == reading)


# --- streaming --------------------------------------------------------------------------------


def test_stream_merges_patients_in_time_order() -> None:
    patients, end = PATIENTS[:4], START + timedelta(days=2)
    merged = list(stream(patients, START, end))
    separately = [r for p in patients for r in simulate(p, START, end).readings]
    assert merged == sorted(separately, key=lambda r: (r.effective_at, r.id))


def test_paced_at_a_rate() -> None:
    readings = list(stream(PATIENTS[:2], START, START + timedelta(hours=1)))
    assert [due for due, _ in paced(readings, rate=4)] == [i / 4 for i in range(len(readings))]
    assert [r for _, r in paced(readings, rate=4)] == readings


def test_paced_in_real_time() -> None:
    readings = list(stream(PATIENTS[:2], START, START + timedelta(hours=1)))
    dues = [due for due, _ in paced(readings, start=START)]
    assert dues == [(r.effective_at - START).total_seconds() for r in readings]
    assert dues == sorted(dues) and dues[-1] < 3600


@pytest.mark.parametrize("rate", [0, -1])
def test_paced_refuses_a_rate_that_is_not_positive(rate: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        next(paced([], rate=rate), None)


def test_raised_states_are_cleared_by_the_end_of_each_anomaly(injected: dict[str, Simulation]) -> None:
    """Evaluated in one batch, the month raises exactly the listed alerts and ends with every
    threshold and trend rule clear: each anomaly recovers inside the period."""
    for patient in PATIENTS:
        sim = injected[patient.id]
        measurements = [canonical(r) for r in sim.readings]
        rules = [r for r in rules_for(patient.indications) if not isinstance(r, MissingDataRule)]
        decisions = evaluate_all(rules, measurements, {}, now=END, arrived={m.id for m in measurements})
        raised = sorted(
            (d.rule.code, t.at) for d in decisions for t in d.transitions if t.status is Status.RAISED
        )
        expected = sorted(
            (a.rule, a.at) for x in sim.anomalies for a in x.alerts if a.rule != "glucose.missing"
        )
        assert raised == expected, patient.id
        assert not any(d.raised for d in decisions), patient.id
