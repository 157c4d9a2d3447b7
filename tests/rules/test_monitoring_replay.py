"""The replay proof, at rule level: a month of generated data for 50 patients (seeded), delivered
hour by hour the way ingestion will, with some hours held back and delivered after newer ones
(late data), batches shuffled (out of order) and some batches sent twice (dedupe); every injected
anomaly raises exactly one alert of its rule, at its reading's moment, on that reading, and
nothing else raises anything.

The harness plays ingestion's part: it stores readings once (by id), converts them with
measures.to_canonical, and calls rules.evaluate_all with the readings each rule's window needs,
the ids that just arrived, the stored rule states, and `now` = the delivery time; an hour with
nothing delivered is a timer tick (missing-data rules).
"""

import bisect
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from random import Random

import pytest

from telesante.monitoring import simulation
from telesante.monitoring.defaults import rules_for
from telesante.monitoring.measures import MeasureKind, to_canonical
from telesante.monitoring.rules import (
    CombinedRule,
    Measurement,
    MissingDataRule,
    Rule,
    RuleState,
    Status,
    Transition,
    TrendRule,
    evaluate_all,
)
from telesante.monitoring.simulation import Anomaly, AnomalyKind, Reading, SimulatedPatient

SEED = "replay-2026-03"
START = datetime(2026, 3, 9, tzinfo=UTC)  # the month spans the spring DST change (29 March)
END = START + timedelta(days=30)
HOUR = timedelta(hours=1)
HOURS = round((END - START) / HOUR)
PATIENTS = 50


@dataclass(frozen=True)
class Delivery:
    tick: int  # hours after START at which it arrives
    readings: tuple[Reading, ...]


@dataclass
class PatientReplay:
    """One patient's ingestion: readings stored once per kind in effective order, rule states."""

    rules: tuple[Rule, ...]
    lookback: dict[MeasureKind, timedelta]
    times: dict[MeasureKind, list[datetime]] = field(default_factory=lambda: defaultdict(list))
    stored: dict[MeasureKind, list[Measurement]] = field(default_factory=lambda: defaultdict(list))
    seen: set[str] = field(default_factory=set)
    states: dict[str, RuleState] = field(default_factory=dict)
    raises: list[tuple[str, Transition]] = field(default_factory=list)

    def deliver(self, batch: tuple[Reading, ...], now: datetime) -> None:
        new = [canonical(r) for r in batch if r.id not in self.seen]  # a re-sent reading is stored once
        if not new:
            self.tick(now)
            return
        for measurement in new:
            self._store(measurement)
        self._evaluate(self.rules, self._recent(min(m.at for m in new)), now, {m.id for m in new})

    def tick(self, now: datetime) -> None:
        """The missing-data timer: due at a rule's delay after the last data known, as the engine
        schedules it (engine.next_missing_check); it evaluates the missing-data rules only."""
        due = [rule for rule in self.rules if isinstance(rule, MissingDataRule) and self._due(rule) <= now]
        if due:
            self._evaluate(tuple(due), self._latest(), now, set())

    def _due(self, rule: MissingDataRule) -> datetime:
        state = self.states.get(rule.code, RuleState())
        if state.status is Status.RAISED:
            return datetime.max.replace(tzinfo=UTC)  # it clears with the next reading: no timer
        return max(START, state.through or START) + rule.after

    def _evaluate(
        self, rules: tuple[Rule, ...], context: list[Measurement], now: datetime, arrived: set[str]
    ) -> None:
        decisions = evaluate_all(
            rules, context, self.states, now=now, arrived=arrived, monitoring_since=START
        )
        for decision in decisions:
            self.states[decision.rule.code] = decision.state
            self.raises += [
                (decision.rule.code, t) for t in decision.transitions if t.status is Status.RAISED
            ]

    def _store(self, measurement: Measurement) -> None:
        self.seen.add(measurement.id)
        times, stored = self.times[measurement.kind], self.stored[measurement.kind]
        index = bisect.bisect_right(times, measurement.at)
        times.insert(index, measurement.at)
        stored.insert(index, measurement)

    def _latest(self) -> list[Measurement]:
        """A timer tick: the newest reading of each kind, all a missing-data rule needs as evidence."""
        return [stored[-1] for stored in self.stored.values() if stored]

    def _recent(self, earliest: datetime) -> list[Measurement]:
        """From the earliest arrival back over each rule's window (an hour at least)."""
        recent: list[Measurement] = []
        for kind, lookback in self.lookback.items():
            recent += self.stored[kind][bisect.bisect_left(self.times[kind], earliest - lookback) :]
        return recent


def lookbacks(rules: tuple[Rule, ...]) -> dict[MeasureKind, timedelta]:
    """Per kind, how far before the earliest arrival to read: the longest window of a rule on that
    kind, plus an hour of readings already evaluated (which the rules must skip, not re-raise on)."""
    spans: dict[MeasureKind, timedelta] = {}
    for rule in rules:
        window = timedelta(0)
        if isinstance(rule, TrendRule):
            window = rule.window
        elif isinstance(rule, CombinedRule):
            window = rule.within
        for kind in rule.kinds:
            spans[kind] = max(spans.get(kind, HOUR), window + HOUR)
    return spans


_canonical: dict[tuple[MeasureKind, Decimal, str], Decimal] = {}


def canonical(reading: Reading) -> Measurement:
    key = (reading.kind, reading.value, reading.unit)
    if key not in _canonical:
        _canonical[key] = to_canonical(*key)
    return Measurement(reading.id, reading.kind, _canonical[key], reading.effective_at)


# --- the delivery schedule ------------------------------------------------------------------


def hour_of(at: datetime) -> int:
    return int((at - START) / HOUR)


def deliveries(
    readings: list[Reading], anomalies: list[Anomaly], rng: Random
) -> tuple[list[Delivery], list[range]]:
    """Each hour delivered at the end of the hour, shuffled; some blocks of 1–3 hours held back and
    delivered after the next hour (which therefore overtakes them); some hours sent again."""
    by_hour: dict[int, list[Reading]] = defaultdict(list)
    for reading in readings:
        by_hour[hour_of(reading.effective_at)].append(reading)
    blocks = held_back(by_hour, anomalies, rng)
    held = {h for block in blocks for h in block}
    schedule: list[Delivery] = []
    for hour in range(HOURS):
        if hour not in held:
            schedule.append(Delivery(hour + 1, shuffled(by_hour[hour], rng)))
        for block in blocks:
            if block.stop == hour:  # overtaken by this hour: delivered right after it
                schedule.append(Delivery(hour + 1, shuffled([r for h in block for r in by_hour[h]], rng)))
        if hour % 53 == 7:  # the uploader sends this hour again five hours later
            schedule.append(Delivery(min(hour + 6, HOURS), shuffled(by_hour[hour], rng)))
    schedule.sort(key=lambda d: d.tick)  # stable: the order within a tick is kept
    return schedule, blocks


def shuffled(items: list[Reading], rng: Random) -> tuple[Reading, ...]:
    copy = list(items)
    rng.shuffle(copy)
    return tuple(copy)


def held_back(by_hour: dict[int, list[Reading]], anomalies: list[Anomaly], rng: Random) -> list[range]:
    """Blocks over a quarter of the anomalies (so late raises happen) and four at random. A block
    that would split an anomaly while the overtaking hour holds readings of its kinds is left out:
    the overtaking readings would raise before the anomaly's first reading has arrived, which is
    right for the rules but not the moment the anomaly list gives."""
    times = {r.id: r for readings in by_hour.values() for r in readings}
    candidates = []
    for anomaly in anomalies:
        hours = sorted({hour_of(times[i].effective_at) for i in anomaly.readings})
        if rng.random() < 0.25 and hours[-1] - hours[0] < 3:
            candidates.append(range(hours[0], hours[-1] + 1))
    for _ in range(4):
        first = rng.randrange(1, HOURS - 5)
        candidates.append(range(first, first + rng.randint(1, 3)))
    blocks: list[range] = []
    for block in candidates:
        apart = all(block.stop + 1 < b.start or b.stop + 1 < block.start for b in blocks)
        if apart and block.start >= 1 and block.stop <= HOURS - 2 and safe(block, by_hour, anomalies, times):
            blocks.append(block)
    return blocks


def safe(
    block: range, by_hour: dict[int, list[Reading]], anomalies: list[Anomaly], times: dict[str, Reading]
) -> bool:
    overtaking = {r.kind for r in by_hour[block.stop]}
    for anomaly in anomalies:
        hours = [hour_of(times[i].effective_at) in block for i in anomaly.readings]
        kinds = {times[i].kind for i in anomaly.readings}
        if any(hours) and not all(hours) and kinds & overtaking:
            return False
    return True


# --- the replay -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    patient: SimulatedPatient
    anomalies: list[Anomaly]
    raises: list[tuple[str, Transition]]
    late: set[str]  # ids of the expected raising readings that must arrive late


@dataclass(frozen=True)
class Replay:
    outcomes: list[Outcome]
    seconds: dict[str, float]  # CPU time generating and evaluating, shown when an assertion fails


def replay_patient(patient: SimulatedPatient, rng: Random, clock: dict[str, float]) -> Outcome:
    started = time.process_time()
    generated = simulation.simulate(patient, START, END)
    clock["generate"] += time.process_time() - started
    started = time.process_time()
    schedule, blocks = deliveries(generated.readings, generated.anomalies, rng)
    rules = rules_for(patient.indications)
    ingestion = PatientReplay(rules, lookbacks(rules))
    delivered_at = defaultdict(list)
    for delivery in schedule:
        delivered_at[delivery.tick].append(delivery.readings)
    for tick in range(1, HOURS + 1):
        now = START + tick * HOUR
        for batch in delivered_at[tick]:
            ingestion.deliver(batch, now)
        if not delivered_at[tick]:
            ingestion.tick(now)
    clock["evaluate"] += time.process_time() - started
    return Outcome(patient, generated.anomalies, ingestion.raises, late_readings(generated, blocks, rules))


def late_readings(generated: simulation.Simulation, blocks: list[range], rules: tuple[Rule, ...]) -> set[str]:
    """Raising readings held back while a newer reading of their rule's kinds went ahead."""
    by_id = {r.id: r for r in generated.readings}
    overtaking: dict[int, set[MeasureKind]] = {block.stop: set() for block in blocks}
    for reading in generated.readings:
        if (hour := hour_of(reading.effective_at)) in overtaking:
            overtaking[hour].add(reading.kind)
    kinds = {rule.code: rule.kinds for rule in rules}
    late = set()
    for alert in (a for anomaly in generated.anomalies for a in anomaly.alerts):
        hour = hour_of(by_id[alert.reading].effective_at)
        if any(hour in block and overtaking[block.stop] & kinds[alert.rule] for block in blocks):
            late.add(alert.reading)
    return late


@pytest.fixture(scope="module")
def replay() -> Replay:
    clock: dict[str, float] = defaultdict(float)
    outcomes = [
        replay_patient(patient, Random(f"{SEED}|{patient.id}|delivery"), clock)
        for patient in simulation.cohort(PATIENTS, SEED)
    ]
    return Replay(outcomes, dict(clock))


def test_every_anomaly_raises_exactly_one_alert_and_nothing_else_raises(replay: Replay) -> None:
    missed, spurious, total = [], [], 0
    for outcome in replay.outcomes:
        expected = {(a.rule, a.at) for anomaly in outcome.anomalies for a in anomaly.alerts}
        raised = [(code, t.at) for code, t in outcome.raises]
        total += len(expected)
        missed += [(outcome.patient.id, *e) for e in expected if raised.count(e) == 0]
        spurious += [(outcome.patient.id, *r) for r in raised if r not in expected or raised.count(r) > 1]
    assert (missed, spurious) == ([], [])
    assert total > 500  # hundreds of anomalies, not a handful


def test_each_alert_rests_on_the_reading_that_raised_it(replay: Replay) -> None:
    for outcome in replay.outcomes:
        raised = {(code, t.at): t for code, t in outcome.raises}
        for alert in (a for anomaly in outcome.anomalies for a in anomaly.alerts):
            assert alert.reading in raised[alert.rule, alert.at].evidence, (outcome.patient.id, alert)


def test_held_back_readings_raise_late_for_their_own_moment(replay: Replay) -> None:
    late_seen = 0
    for outcome in replay.outcomes:
        raised = {(code, t.at): t for code, t in outcome.raises}
        for alert in (a for anomaly in outcome.anomalies for a in anomaly.alerts):
            transition = raised[alert.rule, alert.at]
            assert transition.late is (alert.reading in outcome.late), (outcome.patient.id, alert)
            late_seen += transition.late
    assert late_seen >= 10  # the late path is exercised, not merely allowed


def test_the_month_covers_every_anomaly_and_rule(replay: Replay) -> None:
    kinds = {anomaly.kind for outcome in replay.outcomes for anomaly in outcome.anomalies}
    rules = {code for outcome in replay.outcomes for code, _ in outcome.raises}
    assert kinds == set(AnomalyKind)
    assert rules == {
        "glucose.hypo",
        "glucose.hypo_severe",
        "glucose.hyper",
        "glucose.missing",
        "weight.gain_3d",
        "bp.grade3",
        "spo2.low",
    }  # the three other missing-data rules never fire: no such gap is injected
