"""Alert rules over one patient's recent measurements: values in, decisions out, no I/O.

A rule's state (raised or clear) is an input and an output, so "one open alert per rule and
patient" and "no flapping" are decided here: a clear rule raises when its condition holds; a
raised rule clears only once the value is back beyond a recovery margin (hypo raised below 70
clears at 75 mg/dL), never merely because the condition stopped holding.

Measurements are taken in effective-time order, whatever their arrival order. The state keeps
`through`, the newest effective time already evaluated. A measurement at or before it that has
just arrived is late: it may raise an alert for the moment it describes (a hypoglycaemia at 3 am
uploaded at 9 am must still be seen) but never clears one, because newer readings already
speak for the present.
"""

import operator
from abc import ABC, abstractmethod
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from telesante.monitoring.measures import MeasureKind, display_unit, french


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


class Status(StrEnum):
    CLEAR = "clear"
    RAISED = "raised"


class Op(StrEnum):
    LT = "<"
    LE = "≤"
    GT = ">"
    GE = "≥"

    def holds(self, value: Decimal, limit: Decimal) -> bool:
        return COMPARE[self](value, limit)

    @property
    def is_low(self) -> bool:
        return self in (Op.LT, Op.LE)


COMPARE: dict[Op, Callable[[Decimal, Decimal], bool]] = {
    Op.LT: operator.lt,
    Op.LE: operator.le,
    Op.GT: operator.gt,
    Op.GE: operator.ge,
}


@dataclass(frozen=True)
class Measurement:
    id: str
    kind: MeasureKind
    value: Decimal  # in the kind's canonical unit (measures.to_canonical)
    at: datetime  # effective time, timezone-aware

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise ValueError(f"measurement {self.id}: naive effective time; use timezone-aware datetimes")


@dataclass(frozen=True)
class Check:
    """A rule's verdict at one moment, with the measurements it rests on."""

    holds: bool
    recovered: bool  # back beyond the recovery margin: a raised rule may clear
    evidence: tuple[str, ...] = ()


NOTHING = Check(holds=False, recovered=False)


class Series:
    """One patient's measurements sorted by effective time, with the lookups rules need."""

    def __init__(self, measurements: Iterable[Measurement]) -> None:
        unique = {m.id: m for m in measurements}
        self.items = sorted(unique.values(), key=lambda m: (m.at, m.id))
        self._times = [m.at for m in self.items]

    def latest(self, kinds: Collection[MeasureKind], at: datetime | None = None) -> Measurement | None:
        """The newest measurement of these kinds at or before `at` (at all if `at` is None)."""
        end = len(self.items) if at is None else bisect_right(self._times, at)
        return next((self.items[i] for i in range(end - 1, -1, -1) if self.items[i].kind in kinds), None)

    def between(self, kinds: Collection[MeasureKind], start: datetime, end: datetime) -> list[Measurement]:
        """Measurements of these kinds from `start` to `end`, both included, oldest first."""
        window = self.items[bisect_left(self._times, start) : bisect_right(self._times, end)]
        return [m for m in window if m.kind in kinds]

    def times(self) -> list[datetime]:
        return sorted(set(self._times))


@dataclass(frozen=True)
class Threshold:
    """`kinds op limit`, in the canonical unit; several kinds form one series (CGM and meter)."""

    kinds: frozenset[MeasureKind]
    op: Op
    limit: Decimal
    margin: Decimal = Decimal(0)  # recovery: the condition must fail with the limit moved this much

    def __post_init__(self) -> None:
        if self.margin < 0:
            raise ValueError("a recovery margin cannot be negative")

    def holds(self, value: Decimal) -> bool:
        return self.op.holds(value, self.limit)

    def recovered(self, value: Decimal) -> bool:
        shifted = self.limit + self.margin if self.op.is_low else self.limit - self.margin
        return not self.op.holds(value, shifted)

    def describe(self) -> str:
        spec = min(self.kinds).spec
        return f"{spec.label} {self.op} {french(self.limit)} {display_unit(spec.unit)}"


@dataclass(frozen=True, kw_only=True)
class Rule(ABC):
    """What every rule carries for the screens: a stable code (the key of its state), a French
    label, a severity, and the source of its numbers with whether that source was checked."""

    code: str
    label: str
    severity: Severity
    source: str
    verified: bool = False

    @property
    @abstractmethod
    def kinds(self) -> frozenset[MeasureKind]: ...

    @abstractmethod
    def check(self, series: Series, at: datetime) -> Check: ...


@dataclass(frozen=True, kw_only=True)
class ThresholdRule(Rule):
    """Holds when any threshold holds on its latest value (BP: systolic ≥ 180 or diastolic ≥ 110);
    recovers when every threshold with a value has recovered."""

    any_of: tuple[Threshold, ...]

    @property
    def kinds(self) -> frozenset[MeasureKind]:
        return frozenset().union(*(t.kinds for t in self.any_of))

    def check(self, series: Series, at: datetime) -> Check:
        latest = [(t, m) for t in self.any_of if (m := series.latest(t.kinds, at)) is not None]
        holding = tuple(m.id for t, m in latest if t.holds(m.value))
        if holding:
            return Check(holds=True, recovered=False, evidence=holding)
        recovered = bool(latest) and all(t.recovered(m.value) for t, m in latest)
        return Check(holds=False, recovered=recovered, evidence=tuple(m.id for _, m in latest))


@dataclass(frozen=True, kw_only=True)
class TrendRule(Rule):
    """Holds when the latest value moved by more than `delta` from the lowest (a rise) or highest
    (a fall) value within `window` before it, window ends included."""

    measures: frozenset[MeasureKind]
    delta: Decimal
    window: timedelta
    rise: bool = True
    margin: Decimal = Decimal(0)

    @property
    def kinds(self) -> frozenset[MeasureKind]:
        return self.measures

    def check(self, series: Series, at: datetime) -> Check:
        latest = series.latest(self.measures, at)
        if latest is None:
            return NOTHING
        window = series.between(self.measures, latest.at - self.window, latest.at)
        pick = min if self.rise else max
        reference = pick(window, key=lambda m: m.value)  # the earliest among equals: list is time-sorted
        change = latest.value - reference.value if self.rise else reference.value - latest.value
        evidence = tuple(dict.fromkeys((reference.id, latest.id)))
        return Check(change > self.delta, change <= self.delta - self.margin, evidence)


@dataclass(frozen=True, kw_only=True)
class CombinedRule(Rule):
    """Holds when every threshold holds on its latest value, all of them within `within` of the
    moment evaluated (SpO2 < 90 % and heart rate > 120/min); recovers when any one has recovered."""

    all_of: tuple[Threshold, ...]
    within: timedelta

    @property
    def kinds(self) -> frozenset[MeasureKind]:
        return frozenset().union(*(t.kinds for t in self.all_of))

    def check(self, series: Series, at: datetime) -> Check:
        latest = [(t, series.latest(t.kinds, at)) for t in self.all_of]
        present = [(t, m) for t, m in latest if m is not None]
        holds = len(present) == len(latest) and all(
            at - m.at <= self.within and t.holds(m.value) for t, m in present
        )
        if holds:
            return Check(holds=True, recovered=False, evidence=tuple(m.id for _, m in present))
        recovering = tuple(m.id for t, m in present if t.recovered(m.value))
        return Check(holds=False, recovered=bool(recovering), evidence=recovering)


@dataclass(frozen=True, kw_only=True)
class MissingDataRule(Rule):
    """Holds when no measurement of these kinds came for `after` (at that exact age included).
    Evaluated at the clock's `now`, not at the measurements' times."""

    measures: frozenset[MeasureKind]
    after: timedelta

    @property
    def kinds(self) -> frozenset[MeasureKind]:
        return self.measures

    def check(self, series: Series, at: datetime) -> Check:
        return self.check_now(series, at, anchor=None)

    def check_now(self, series: Series, now: datetime, anchor: datetime | None) -> Check:
        """`anchor` is the last moment known to have data (or the start of monitoring)."""
        last = series.latest(self.measures)
        start = max((t for t in (anchor, last.at if last else None) if t is not None), default=None)
        evidence = (last.id,) if last else ()
        # Nothing ever received and no start given: the team cannot see this patient, say so.
        holds = start is None or now - start >= self.after
        return Check(holds=holds, recovered=not holds, evidence=evidence)


@dataclass(frozen=True)
class RuleState:
    """One rule for one patient, as stored between evaluations."""

    status: Status = Status.CLEAR
    since: datetime | None = None  # effective time the current status began
    through: datetime | None = None  # newest effective time evaluated: an arrival at or before it is late


@dataclass(frozen=True)
class Transition:
    status: Status  # the status entered
    at: datetime  # the moment it is about (for a late raise, the late measurement's moment)
    evidence: tuple[str, ...]
    late: bool = False


@dataclass(frozen=True)
class Decision:
    rule: Rule
    holds: bool  # the condition holds at the newest measurement (missing data: at `now`)
    evidence: tuple[str, ...]  # the measurements behind `holds`
    state: RuleState
    transitions: tuple[Transition, ...] = ()

    @property
    def raised(self) -> bool:
        return self.state.status is Status.RAISED


@dataclass
class _Machine:
    state: RuleState
    transitions: list[Transition] = field(default_factory=list)

    def step(self, check: Check, at: datetime) -> None:
        if self.state.status is Status.CLEAR and check.holds:
            self._enter(Status.RAISED, at, check.evidence)
        elif self.state.status is Status.RAISED and check.recovered:
            self._enter(Status.CLEAR, at, check.evidence)

    def raise_late(self, check: Check, at: datetime) -> None:
        if self.state.status is Status.CLEAR and check.holds:
            self._enter(Status.RAISED, at, check.evidence, late=True)

    def _enter(self, status: Status, at: datetime, evidence: tuple[str, ...], late: bool = False) -> None:
        self.state = replace(self.state, status=status, since=at)
        self.transitions.append(Transition(status, at, evidence, late))


def evaluate(
    rule: Rule,
    measurements: Iterable[Measurement],
    state: RuleState | None = None,
    *,
    now: datetime,
    arrived: Collection[str] = (),
    monitoring_since: datetime | None = None,
) -> Decision:
    """Evaluate one rule for one patient.

    `measurements`: the recent series, in any order, covering at least the rule's window and
    including what just arrived; other kinds are ignored. `arrived`: ids of the measurements
    received since the last evaluation, the only way to tell a late one from one already seen.
    `monitoring_since`: when monitoring began, so a new patient is not "missing data" at once.
    With no state, every measurement is new: to enrol a patient without alerts for imported
    history, start from `RuleState(through=<enrolment time>)`.
    """
    kinds = rule.kinds  # a property that builds a set: once per call, not once per measurement
    series = Series(m for m in measurements if m.kind in kinds)
    machine = _Machine(state or RuleState())
    if isinstance(rule, MissingDataRule):
        now_check = _run_missing(rule, series, machine, now, monitoring_since)
    else:
        now_check = _run_readings(rule, series, machine, arrived)
    newest = series.items[-1].at if series.items else None
    through = max((t for t in (machine.state.through, newest) if t is not None), default=None)
    evidence = now_check.evidence if now_check.holds else ()
    final = replace(machine.state, through=through)
    return Decision(rule, now_check.holds, evidence, final, tuple(machine.transitions))


def evaluate_all(
    rules: Sequence[Rule],
    measurements: Sequence[Measurement],
    states: Mapping[str, RuleState],
    *,
    now: datetime,
    arrived: Collection[str] = (),
    monitoring_since: datetime | None = None,
) -> list[Decision]:
    """Every rule of a patient; `states` is keyed by rule code (a missing key: clear, never seen)."""
    return [
        evaluate(
            rule,
            measurements,
            states.get(rule.code),
            now=now,
            arrived=arrived,
            monitoring_since=monitoring_since,
        )
        for rule in rules
    ]


def _run_readings(rule: Rule, series: Series, machine: _Machine, arrived: Collection[str]) -> Check:
    through = machine.state.through
    late = {m.id for m in series.items if m.id in arrived and through is not None and m.at <= through}
    first_late = min((m.at for m in series.items if m.id in late), default=None)
    for at in series.times():
        if through is None or at > through:
            machine.step(rule.check(series, at), at)
        elif first_late is not None and at >= first_late:
            check = rule.check(series, at)
            if late.intersection(check.evidence):  # only the late arrival may raise for the past
                machine.raise_late(check, at)
    return rule.check(series, series.items[-1].at) if series.items else NOTHING


def _run_missing(
    rule: MissingDataRule, series: Series, machine: _Machine, now: datetime, since: datetime | None
) -> Check:
    anchor = max((t for t in (since, machine.state.through) if t is not None), default=None)
    check = rule.check_now(series, now, anchor)
    last_known = _latest_time(series, anchor)
    if check.holds and machine.state.status is Status.CLEAR:
        machine.step(check, last_known + rule.after if last_known else now)  # when the delay ran out
    elif not check.holds and machine.state.status is Status.RAISED and last_known is not None:
        machine.step(check, last_known)
    return check


def _latest_time(series: Series, anchor: datetime | None) -> datetime | None:
    newest = series.items[-1].at if series.items else None
    return max((t for t in (anchor, newest) if t is not None), default=None)
