"""Deterministic device streams for demos, benchmarks and the replay proof: values in, no I/O.

A simulated patient carries the devices of their indications (CGM for diabetes, a scale for
heart failure, a cuff for hypertension, an oximeter for chronic respiratory failure). Every value
is a pure function of (seed, patient, local day), so the same seed gives the same stream, and a
stream can be produced lazily, day by day, for any length.

The normal signal stays clear of every default threshold *and* its recovery margin (defaults.py),
so it raises nothing by itself: glucose in 80–230 mg/dL (clear at ≥ 75 and ≤ 240), at most
0.6 kg of apparent weight change over 3 days, BP below 160/95 mmHg, SpO2 93–99 %, a CGM gap of at
most 3 h. Anomalies are injected on top, each with the alerts it must raise (rule, moment, the
reading that raises it); each one recovers beyond the margin before the next one starts.

Daily rhythms (meals, dawn rise, weighing, BP and oximetry routines) follow Europe/Paris wall-clock
time, so a DST day is 23 or 25 hours long like the patient's. Device clocks may live in another
zone: `Reading.utc_offset` is the offset the device writes its timestamps with.

Use: `simulate(patient, start, end)` for one patient's readings and anomalies (tests);
`paced(stream(cohort(n, seed), start, end), rate=r)` for `telesante simulate devices`: `rate`
readings per second for a benchmark, or no rate and `start=now` for a live demo in real time.
Values are sent as devices send them (`unit`); `measures.to_canonical` accepts every one.
"""

import heapq
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from random import Random
from zoneinfo import ZoneInfo

from telesante.monitoring import defaults
from telesante.monitoring.defaults import Indication
from telesante.monitoring.measures import GLUCOSE_MG_DL_PER_MMOL_L, MeasureKind

PARIS = ZoneInfo("Europe/Paris")
CGM_INTERVAL = timedelta(minutes=5)
CGM_SECONDS = 300
NOISE_SPAN = 2 * math.sqrt(3) * 2.0  # a uniform on ±√3·σ has SD σ = 2 mg/dL
K = MeasureKind
PROFILES: tuple[tuple[Indication, ...], ...] = (
    (Indication.DIABETES,),
    (Indication.DIABETES, Indication.HYPERTENSION),
    (Indication.HEART_FAILURE, Indication.HYPERTENSION),
    (Indication.CHRONIC_RESPIRATORY_FAILURE,),
    (Indication.DIABETES, Indication.HEART_FAILURE),
    (Indication.HEART_FAILURE, Indication.CHRONIC_RESPIRATORY_FAILURE),
)
CLOCK_ZONES = ("Europe/Paris", "UTC", "America/Martinique", "Indian/Reunion")
MG_PER_MMOL = float(GLUCOSE_MG_DL_PER_MMOL_L)


class AnomalyKind(StrEnum):
    HYPOGLYCAEMIA = "hypoglycaemia"  # 54–69 mg/dL for 20–60 min
    SEVERE_HYPOGLYCAEMIA = "severe_hypoglycaemia"  # < 54 mg/dL for 20–60 min
    HYPERGLYCAEMIA = "hyperglycaemia"  # > 250 mg/dL for 30–120 min
    GLUCOSE_GAP = "glucose_gap"  # no CGM reading for 13–16 h
    WEIGHT_GAIN = "weight_gain"  # > 2 kg within 3 days (fluid retention)
    BP_GRADE_3 = "bp_grade_3"  # ≥ 180 and/or ≥ 110 mmHg, re-measured
    DESATURATION = "desaturation"  # SpO2 84–89 %, re-checked, with tachycardia


@dataclass(frozen=True, slots=True)
class Reading:
    id: str  # stable: patient, kind and second, so a re-sent reading keeps its id
    patient: str
    kind: MeasureKind
    value: Decimal
    unit: str  # UCUM, as the device sends it
    effective_at: datetime  # UTC
    utc_offset: timedelta | None = None  # the device clock's offset from UTC

    def device_time(self) -> datetime:
        """The timestamp as the device writes it, in its own clock's offset."""
        return self.effective_at.astimezone(timezone(self.utc_offset or timedelta(0)))


@dataclass(frozen=True)
class ExpectedAlert:
    rule: str  # the default rule's code
    at: datetime  # the moment the rule must raise for
    reading: str  # the reading that raises it (missing data: the last one before the gap)


@dataclass(frozen=True)
class Anomaly:
    kind: AnomalyKind
    patient: str
    start: datetime  # the first reading it alters (a gap: the last reading before it)
    end: datetime  # the last reading it alters, ramps included (a gap: when readings may resume)
    alerts: tuple[ExpectedAlert, ...]
    readings: tuple[str, ...]  # the readings whose values it set


@dataclass(frozen=True)
class SimulatedPatient:
    id: str
    indications: tuple[Indication, ...]
    seed: str
    glucose_unit: str  # "mg/dL" or "mmol/L"
    clock_zone: str  # IANA zone of the devices' clocks
    cgm_phase: int  # seconds after the period start of the first CGM reading (sensors are unsynchronised)
    glucose: float  # overnight baseline, mg/dL
    dawn: float  # dawn-phenomenon rise, mg/dL
    weight: float  # kg
    weight_swing: float  # amplitude of the slow drift, kg (≤ 0.4: ≤ 0.1 kg a day)
    weight_period: float  # days
    weight_phase: float  # radians
    systolic: float
    diastolic: float
    spo2: float
    heart_rate: float

    def devices(self) -> set[MeasureKind]:
        return {kind for indication in self.indications for kind in DEVICES[indication]}


DEVICES: dict[Indication, tuple[MeasureKind, ...]] = {
    Indication.DIABETES: (K.GLUCOSE_CGM,),
    Indication.HEART_FAILURE: (K.WEIGHT,),
    Indication.HYPERTENSION: (K.SYSTOLIC, K.DIASTOLIC),
    Indication.CHRONIC_RESPIRATORY_FAILURE: (K.SPO2, K.HEART_RATE),
}


def cohort(count: int, seed: int | str = 0) -> list[SimulatedPatient]:
    """`count` patients, their indications cycling through PROFILES so every rule set is present."""
    return [_patient(f"sim-{i:04d}", PROFILES[i % len(PROFILES)], f"{seed}") for i in range(count)]


def _patient(pid: str, indications: tuple[Indication, ...], seed: str) -> SimulatedPatient:
    rng = Random(f"{seed}|{pid}|patient")
    return SimulatedPatient(
        id=pid,
        indications=indications,
        seed=seed,
        glucose_unit="mmol/L" if rng.random() < 0.2 else "mg/dL",
        clock_zone=rng.choices(CLOCK_ZONES, weights=(70, 15, 10, 5))[0],
        cgm_phase=rng.randrange(300),
        glucose=rng.uniform(100, 125),
        dawn=rng.uniform(10, 25),
        weight=rng.uniform(55, 110),
        weight_swing=rng.uniform(0.1, 0.4),
        weight_period=rng.uniform(25, 40),
        weight_phase=rng.uniform(0, 2 * math.pi),
        systolic=rng.uniform(120, 140),
        diastolic=rng.uniform(70, 84),
        spo2=rng.uniform(94, 97),
        heart_rate=rng.uniform(62, 80),
    )


# --- the plan: where anomalies and sensor gaps go ----------------------------------------------


@dataclass
class Plan:
    patient: SimulatedPatient
    start: datetime
    end: datetime
    anomalies: list[Anomaly] = field(default_factory=list)
    cgm_gaps: list[tuple[datetime, datetime]] = field(default_factory=list)  # [from, to): no reading
    cgm: dict[int, tuple[float, float]] = field(default_factory=dict)  # epoch s: (target, weight 0–1)
    weight_gain: dict[date, float] = field(default_factory=dict)  # kg added on that local day
    pressure: dict[datetime, tuple[int, int]] = field(default_factory=dict)  # at: (systolic, diastolic)
    oximetry: dict[datetime, tuple[int, int]] = field(default_factory=dict)  # at: (SpO2, heart rate)
    busy: list[tuple[datetime, datetime]] = field(default_factory=list)  # CGM gaps and episodes

    def free(self, start: datetime, end: datetime, margin: timedelta = timedelta(0)) -> bool:
        inside = self.start <= start - margin and end + margin < self.end
        return inside and all(end + margin < a or b < start - margin for a, b in self.busy)


def plan(patient: SimulatedPatient, start: datetime, end: datetime, *, anomalies: bool = True) -> Plan:
    """Where the anomalies (if asked) and the ordinary sensor gaps of [start, end) go."""
    result = Plan(patient, start, end)
    days = _local_days(start, end)
    devices = patient.devices()
    if K.GLUCOSE_CGM in devices:
        _plan_sensor_gaps(result, days)  # first: the ordinary day is the same with or without anomalies
    if anomalies:
        if K.GLUCOSE_CGM in devices:
            _plan_glucose_gap(result, days)
            for day in days:
                _plan_glucose_day(result, day)
        if K.WEIGHT in devices:
            _plan_weight(result, days)
        if K.SYSTOLIC in devices:
            _plan_pressure(result, days)
        if K.SPO2 in devices:
            _plan_oximetry(result, days)
    result.anomalies.sort(key=lambda a: (a.start, a.kind))
    return result


def _plan_glucose_gap(plan: Plan, days: list[date]) -> None:
    """A sensor that stopped for longer than the missing-data delay: one per patient and period,
    where it fits between the ordinary gaps."""
    rng = _rng(plan.patient, "glucose-gap")
    if len(days) < 5:
        return
    day = days[rng.randrange(2, len(days) - 2)]
    last = _grid(plan, _local(day, 9 * 60 + rng.randrange(360)))
    length = GLUCOSE_GAP_MIN + CGM_INTERVAL * rng.randrange(37)  # 13 h to 16 h
    if not plan.free(last, last + length, timedelta(hours=2)):
        return
    plan.cgm_gaps.append((last + CGM_INTERVAL, last + length))
    plan.busy.append((last - timedelta(hours=2), last + length + timedelta(hours=2)))
    rule = defaults.GLUCOSE_MISSING
    alert = ExpectedAlert(rule.code, last + rule.after, _id(plan.patient, K.GLUCOSE_CGM, last))
    plan.anomalies.append(
        Anomaly(AnomalyKind.GLUCOSE_GAP, plan.patient.id, last, last + length, (alert,), (alert.reading,))
    )


GLUCOSE_GAP_MIN = timedelta(hours=13)  # longer than glucose.missing's 12 h


def _plan_glucose_day(plan: Plan, day: date) -> None:
    """At most three episodes a day, in windows far enough apart to be distinct (ramps included)."""
    rng = _rng(plan.patient, "glucose-plan", day)
    night, afternoon, dinner = rng.random(), rng.random(), rng.random()
    if night < 0.3:
        kind = AnomalyKind.SEVERE_HYPOGLYCAEMIA if night < 0.08 else AnomalyKind.HYPOGLYCAEMIA
        _glucose_episode(plan, rng, kind, _local(day, 120 + rng.randrange(150)))
    if afternoon < 0.18:
        _glucose_episode(plan, rng, AnomalyKind.HYPERGLYCAEMIA, _local(day, 13 * 60 + 45 + rng.randrange(45)))
    elif afternoon < 0.33:
        _glucose_episode(plan, rng, AnomalyKind.HYPOGLYCAEMIA, _local(day, 16 * 60 + 30 + rng.randrange(60)))
    if dinner < 0.2:
        _glucose_episode(plan, rng, AnomalyKind.HYPERGLYCAEMIA, _local(day, 20 * 60 + 45 + rng.randrange(45)))


# Targets kept ≥ 2 mg/dL from every threshold and recovery limit, so that a value sent in mmol/L
# (rounded to 0.1, i.e. 1.8 mg/dL) falls on the same side.
HYPO_ENTRY, HYPO_EXIT = 72.0, 80.0  # not yet < 70; back ≥ 75
HYPER_ENTRY, HYPER_EXIT = 244.0, 232.0  # not yet > 250; back ≤ 240
RAMP = 6  # readings (30 min) blending the normal signal into and out of an episode
# Recoveries wobble inside the recovery margin: back over the threshold, over it again, still short
# of the margin. With hysteresis that is one alert; without, a second one.
HYPO_WOBBLE = (71.0, 68.0, 72.0)  # < 75
SEVERE_WOBBLE = (56.0, 53.0, 57.0)  # < 59
HYPER_WOBBLE = (248.0, 252.0, 246.0)  # > 240


def _glucose_episode(plan: Plan, rng: Random, kind: AnomalyKind, around: datetime) -> None:
    first = _grid(plan, around)
    values, alerts = _episode_values(plan, rng, kind, first)
    times = [first + i * CGM_INTERVAL for i in range(len(values))]
    before, after = first - RAMP * CGM_INTERVAL, times[-1] + RAMP * CGM_INTERVAL
    if not plan.free(before, after, timedelta(minutes=30)):
        return
    entry, exit_ = (
        (HYPER_ENTRY, HYPER_EXIT) if kind is AnomalyKind.HYPERGLYCAEMIA else (HYPO_ENTRY, HYPO_EXIT)
    )
    for j in range(RAMP):
        plan.cgm[_epoch(before + j * CGM_INTERVAL)] = (entry, (j + 1) / (RAMP + 1))
        plan.cgm[_epoch(times[-1] + (j + 1) * CGM_INTERVAL)] = (exit_, (RAMP - j) / (RAMP + 1))
    plan.cgm.update({_epoch(t): (v, 1.0) for t, v in zip(times, values, strict=True)})
    plan.busy.append((before, after))
    ids = tuple(_id(plan.patient, K.GLUCOSE_CGM, t) for t in times)
    plan.anomalies.append(Anomaly(kind, plan.patient.id, first, after, alerts, ids))


def _episode_values(
    plan: Plan, rng: Random, kind: AnomalyKind, first: datetime
) -> tuple[list[float], tuple[ExpectedAlert, ...]]:
    """The readings beyond the threshold, and the alerts they raise."""
    n = rng.randrange(4, 13) if kind is not AnomalyKind.HYPERGLYCAEMIA else rng.randrange(6, 25)

    def alert(rule: str, at: datetime) -> ExpectedAlert:
        return ExpectedAlert(rule, at, _id(plan.patient, K.GLUCOSE_CGM, at))

    if kind is AnomalyKind.HYPERGLYCAEMIA:  # 256 → 270–340 → 256: every reading > 250
        hyper = [*_vee(256, rng.uniform(270, 340), n), *HYPER_WOBBLE]
        return hyper, (alert(defaults.HYPERGLYCAEMIA.code, first),)
    if kind is AnomalyKind.HYPOGLYCAEMIA:  # 67 → 56–64 → 67: < 70, never < 54
        return [*_vee(67, rng.uniform(56, 64), n), *HYPO_WOBBLE], (alert(defaults.HYPOGLYCAEMIA.code, first),)
    # < 70 for 15 min, < 54 for n readings, its wobble, 62 (level 2 clears), 67, the level-1 wobble.
    severe = [66.0, 61.0, 57.0, *_vee(52, rng.uniform(42, 50), n), *SEVERE_WOBBLE, 62.0, 67.0, *HYPO_WOBBLE]
    alerts = (
        alert(defaults.HYPOGLYCAEMIA.code, first),
        alert(defaults.SEVERE_HYPOGLYCAEMIA.code, first + 3 * CGM_INTERVAL),
    )
    return severe, alerts


def _vee(edge: float, apex: float, n: int) -> list[float]:
    """`n` values from `edge` to `apex` and back, straight lines (one crossing each way)."""
    half = (n - 1) / 2
    return [round(apex + (edge - apex) * abs(i - half) / half) for i in range(n)]


def _plan_sensor_gaps(plan: Plan, days: list[date]) -> None:
    """Ordinary losses of signal (15 min to 3 h); anomalies are then placed away from them."""
    for day in days:
        rng = _rng(plan.patient, "cgm-gaps", day)
        if rng.random() >= 0.35:
            continue
        start = _grid(plan, _local(day, rng.randrange(24 * 60)))
        end = start + CGM_INTERVAL * rng.randrange(3, 37)
        if plan.free(start, end, timedelta(minutes=30)):
            plan.cgm_gaps.append((start, end))
            plan.busy.append((start, end))


# Fluid retention, kg above the baseline from the day before the rise (d0) on: +0.2–0.5, +0.9–1.2,
# then +3.2–3.5 on d+3. With ±0.15 kg of noise and rounding and ≤ 0.3 kg of drift over 3 days, the
# apparent 3-day gain stays ≤ 1.8 kg until d+3 and is ≥ 2.1 kg on d+3, whichever reading of the
# window is lowest; it stays > 1.5 kg on d+4 (no clear, so no second raise) and falls back after.
def _gain_profile(rng: Random) -> list[float]:
    rise = [rng.uniform(0.2, 0.5), rng.uniform(0.9, 1.2), rng.uniform(3.2, 3.5), rng.uniform(3.5, 3.8)]
    return [*rise, 2.4, 1.3, 0.5]


def _plan_weight(plan: Plan, days: list[date]) -> None:
    rng = _rng(plan.patient, "weight-plan")
    index = 3 + rng.randrange(6)
    while index + 9 < len(days):
        d0 = index
        profile = _gain_profile(rng)
        gain_days = days[d0 + 1 : d0 + 1 + len(profile)]
        plan.weight_gain.update(zip(gain_days, profile, strict=True))
        times = [_weigh_time(plan.patient, day) for day in gain_days]
        raising = times[2]
        ids = tuple(_id(plan.patient, K.WEIGHT, t) for t in times)
        alert = ExpectedAlert(defaults.WEIGHT_GAIN.code, raising, ids[2])
        plan.anomalies.append(
            Anomaly(AnomalyKind.WEIGHT_GAIN, plan.patient.id, times[0], times[-1], (alert,), ids)
        )
        index = d0 + 12 + rng.randrange(5)


REMEASURE = timedelta(minutes=2)


def _plan_pressure(plan: Plan, days: list[date]) -> None:
    """Every 2 to 6 days a grade-3 reading (systolic only, diastolic only, or both), re-measured
    twice two minutes apart as home protocols ask: once within the recovery margin, once grade 3
    again. The next routine reading, hours later, clears it."""
    rng = _rng(plan.patient, "pressure-plan")
    index = 1 + rng.randrange(3)
    while index < len(days) - 2:  # the routine reading that clears it falls inside the period
        at = _pressure_times(plan.patient, days[index])[rng.randrange(2)]
        variant = rng.randrange(3)
        plan.pressure[at] = _grade_3(rng, variant)
        plan.pressure[at + REMEASURE] = (rng.randint(171, 178), rng.randint(101, 108))  # < 180/110, ≥ 170/100
        plan.pressure[at + 2 * REMEASURE] = _grade_3(rng, variant)
        raising = K.DIASTOLIC if variant == 1 else K.SYSTOLIC
        alert = ExpectedAlert(defaults.BP_GRADE_3.code, at, _id(plan.patient, raising, at))
        times = (at, at + REMEASURE, at + 2 * REMEASURE)
        ids = tuple(_id(plan.patient, kind, t) for t in times for kind in (K.SYSTOLIC, K.DIASTOLIC))
        plan.anomalies.append(Anomaly(AnomalyKind.BP_GRADE_3, plan.patient.id, at, times[-1], (alert,), ids))
        index += 2 + rng.randrange(5)


def _grade_3(rng: Random, variant: int) -> tuple[int, int]:
    systolic = rng.randint(182, 205) if variant != 1 else rng.randint(150, 168)
    diastolic = rng.randint(112, 120) if variant != 0 else rng.randint(90, 105)
    return systolic, diastolic


RECHECK = timedelta(minutes=10)


def _plan_oximetry(plan: Plan, days: list[date]) -> None:
    """Every 2 to 6 days a desaturation with tachycardia: a low reading, a re-check 10 min later at
    91 % (within the recovery margin), a low one again; the next routine reading (≥ 93 %) clears it."""
    rng = _rng(plan.patient, "oximetry-plan")
    index = 1 + rng.randrange(3)
    while index < len(days) - 2:
        at = _oximetry_times(plan.patient, days[index])[rng.randrange(3)]
        times = (at, at + RECHECK, at + 2 * RECHECK)
        plan.oximetry[times[0]] = (rng.randint(84, 88), rng.randint(100, 125))
        plan.oximetry[times[1]] = (91, rng.randint(95, 115))
        plan.oximetry[times[2]] = (rng.randint(85, 89), rng.randint(100, 120))
        ids = tuple(_id(plan.patient, kind, t) for t in times for kind in (K.SPO2, K.HEART_RATE))
        alert = ExpectedAlert(defaults.LOW_SPO2.code, at, _id(plan.patient, K.SPO2, at))
        plan.anomalies.append(
            Anomaly(AnomalyKind.DESATURATION, plan.patient.id, at, times[-1], (alert,), ids)
        )
        index += 2 + rng.randrange(5)


# --- the readings -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Simulation:
    readings: list[Reading]
    anomalies: list[Anomaly]


def simulate(
    patient: SimulatedPatient, start: datetime, end: datetime, *, anomalies: bool = True
) -> Simulation:
    """Every reading of [start, end) in effective-time order, and the anomalies injected."""
    planned = plan(patient, start, end, anomalies=anomalies)
    return Simulation(list(readings(planned)), planned.anomalies)


def readings(plan: Plan) -> Iterator[Reading]:
    """The plan's readings in effective-time order, produced one local day at a time."""
    for day in _local_days(plan.start, plan.end):
        for reading in _day(plan, day):
            if plan.start <= reading.effective_at < plan.end:
                yield reading


def stream(
    patients: Iterable[SimulatedPatient], start: datetime, end: datetime, *, anomalies: bool = True
) -> Iterator[Reading]:
    """Every patient's readings merged in effective-time order, lazily (one day per patient held)."""
    streams = [readings(plan(p, start, end, anomalies=anomalies)) for p in patients]
    return heapq.merge(*streams, key=lambda r: (r.effective_at, r.id))


def paced(
    items: Iterable[Reading], *, rate: float | None = None, start: datetime | None = None
) -> Iterator[tuple[float, Reading]]:
    """(seconds after the first send at which to send it, reading), for `simulate devices`.

    `rate` readings per second across all patients (a benchmark: the simulated clock runs as fast
    as asked); without it, real time: a reading is due when the wall clock reaches its effective
    time, counted from `start` (the moment the stream begins, by default the first reading's).
    """
    if rate is not None and rate <= 0:
        raise ValueError("rate must be positive")
    origin = start
    for index, reading in enumerate(items):
        origin = origin or reading.effective_at
        due = index / rate if rate else max(0.0, (reading.effective_at - origin).total_seconds())
        yield due, reading


def _day(plan: Plan, day: date) -> list[Reading]:
    devices = plan.patient.devices()
    produced: list[Reading] = []
    if K.GLUCOSE_CGM in devices:
        produced += _cgm_day(plan, day)
    if K.WEIGHT in devices:
        produced.append(_weight(plan, day))
    if K.SYSTOLIC in devices:
        produced += _pressure_day(plan, day)
    if K.SPO2 in devices:
        produced += _oximetry_day(plan, day)
    if len(devices) > 1:  # one kind of reading comes out in order already
        produced.sort(key=lambda r: (r.effective_at, r.id))
    return produced


def _cgm_day(plan: Plan, day: date) -> list[Reading]:
    """One local day of sensor readings. Works in epoch seconds: this loop makes most readings."""
    patient, planned, kind, unit = plan.patient, plan.cgm, K.GLUCOSE_CGM, plan.patient.glucose_unit
    uniform = _rng(patient, "cgm-noise", day).random
    start, end = _local(day, 0), _local(day + timedelta(days=1), 0)
    bumps = [
        b for b in _bumps(patient, day - timedelta(days=1)) + _bumps(patient, day) if b[0] > _epoch(start)
    ]
    gaps = [(_epoch(a), _epoch(b)) for a, b in plan.cgm_gaps if a < end and start < b]
    first, last = _epoch(_grid(plan, start)), _epoch(end)
    steady = _offset(patient.clock_zone, first) == _offset(patient.clock_zone, last)
    offset = _offset(patient.clock_zone, first)
    prefix = f"{patient.id}:{kind.value}:"
    out: list[Reading] = []
    noise = 0.0
    for t in range(first, last, CGM_SECONDS):
        # Sensor noise, AR(1) with uniform innovations of SD 2 (cheaper than gauss, as good here); drawn
        # in gaps too, so the stream is the same with or without them.
        noise = 0.85 * noise + (uniform() - 0.5) * NOISE_SPAN
        noise = -10.0 if noise < -10 else 10.0 if noise > 10 else noise
        if gaps and any(a <= t < b for a, b in gaps):
            continue
        value = patient.glucose + _sum_bumps(bumps, t) + noise
        value = 80.0 if value < 80 else 230.0 if value > 230 else value
        if t in planned:
            target, weight = planned[t]
            value += (target - value) * weight
        sent = Decimal(f"{value / MG_PER_MMOL:.1f}") if unit == "mmol/L" else Decimal(round(value))
        at = datetime.fromtimestamp(t, UTC)
        out.append(
            Reading(
                f"{prefix}{t}",
                patient.id,
                kind,
                sent,
                unit,
                at,
                offset if steady else _offset(patient.clock_zone, t),
            )
        )
    return out


# A day's bumps: (end of influence, start, height, 1 / tau, is a meal), epoch seconds.
_Bump = tuple[float, float, float, float, bool]


def _bumps(patient: SimulatedPatient, day: date) -> list[_Bump]:
    """A day's dawn rise (a bell around 06:30) and three meals (a rise peaking `height` one tau after
    the meal, fading over ten), in Paris wall-clock time."""
    rng = _rng(patient, "glucose-day", day)

    def meal(minute: int, spread: tuple[int, int], height: tuple[float, float]) -> _Bump:
        onset = _local(day, minute + rng.randint(*spread)).timestamp()
        tau = rng.uniform(45, 70) * 60
        return (onset + 10 * tau, onset, rng.uniform(*height), 1 / tau, True)

    peak, tau = _local(day, 390 + rng.randint(-30, 30)).timestamp(), 5400.0
    dawn = (peak + 4 * tau, peak, patient.dawn * rng.uniform(0.7, 1.2), 1 / tau, False)
    return [
        dawn,
        meal(450, (-20, 45), (35, 65)),
        meal(750, (-20, 60), (40, 70)),
        meal(1185, (-30, 60), (40, 70)),
    ]


def _sum_bumps(bumps: Sequence[_Bump], t: float) -> float:
    total = 0.0
    for end, at, height, rate, meal in bumps:
        if t >= end:
            continue
        x = (t - at) * rate
        if meal:
            if x >= 0:
                total += height * x * math.exp(1 - x)
        elif x > -4:
            total += height * math.exp(-x * x)
    return total


def _weigh_time(patient: SimulatedPatient, day: date) -> datetime:
    return _local(day, 7 * 60 + _rng(patient, "weight-time", day).randrange(60))


def _weight(plan: Plan, day: date) -> Reading:
    patient = plan.patient
    at = _weigh_time(patient, day)
    rng = _rng(patient, "weight", day)
    days = at.timestamp() / 86400
    drift = patient.weight_swing * math.sin(2 * math.pi * days / patient.weight_period + patient.weight_phase)
    kg = patient.weight + drift + rng.uniform(-0.1, 0.1) + plan.weight_gain.get(day, 0.0)
    return _reading(patient, K.WEIGHT, Decimal(f"{kg:.1f}"), "kg", at)


def _pressure_times(patient: SimulatedPatient, day: date) -> list[datetime]:
    rng = _rng(patient, "pressure-time", day)
    return [_local(day, 7 * 60 + 15 + rng.randrange(45)), _local(day, 20 * 60 + rng.randrange(60))]


def _pressure_day(plan: Plan, day: date) -> list[Reading]:
    patient = plan.patient
    gauss = _rng(patient, "pressure", day).gauss
    routine = {
        at: (_clip(gauss(patient.systolic, 6), 105, 158), _clip(gauss(patient.diastolic, 4), 60, 94))
        for at in _pressure_times(patient, day)
    }
    out: list[Reading] = []
    for at, (systolic, diastolic) in sorted((routine | _on_day(plan.pressure, day)).items()):
        out.append(_reading(patient, K.SYSTOLIC, Decimal(systolic), "mm[Hg]", at))
        out.append(_reading(patient, K.DIASTOLIC, Decimal(diastolic), "mm[Hg]", at))
    return out


def _oximetry_times(patient: SimulatedPatient, day: date) -> list[datetime]:
    rng = _rng(patient, "oximetry-time", day)
    return [_local(day, minute + rng.randrange(60)) for minute in (8 * 60, 13 * 60, 20 * 60 + 30)]


def _oximetry_day(plan: Plan, day: date) -> list[Reading]:
    patient = plan.patient
    gauss = _rng(patient, "oximetry", day).gauss
    routine = {
        at: (_clip(gauss(patient.spo2, 1), 93, 99), _clip(gauss(patient.heart_rate, 5), 55, 100))
        for at in _oximetry_times(patient, day)
    }
    out: list[Reading] = []
    for at, (spo2, pulse) in sorted((routine | _on_day(plan.oximetry, day)).items()):
        out.append(_reading(patient, K.SPO2, Decimal(spo2), "%", at))
        out.append(_reading(patient, K.HEART_RATE, Decimal(pulse), "/min", at))
    return out


def _on_day(planned: dict[datetime, tuple[int, int]], day: date) -> dict[datetime, tuple[int, int]]:
    start, end = _local(day, 0), _local(day + timedelta(days=1), 0)
    return {at: values for at, values in planned.items() if start <= at < end}


# --- small helpers ------------------------------------------------------------------------------


def _reading(
    patient: SimulatedPatient, kind: MeasureKind, value: Decimal, unit: str, at: datetime
) -> Reading:
    offset = _offset(patient.clock_zone, _epoch(at))
    return Reading(_id(patient, kind, at), patient.id, kind, value, unit, at, offset)


def _id(patient: SimulatedPatient, kind: MeasureKind, at: datetime) -> str:
    return f"{patient.id}:{kind.value}:{_epoch(at)}"


def _epoch(at: datetime) -> int:
    return int(at.timestamp())


def _offset(zone: str, t: int) -> timedelta | None:
    return _quarter_offset(zone, t // 900)  # zones change offset on a quarter-hour of UTC


@lru_cache(maxsize=4096)
def _quarter_offset(zone: str, quarter: int) -> timedelta | None:
    return datetime.fromtimestamp(quarter * 900, ZoneInfo(zone)).utcoffset()


def _rng(patient: SimulatedPatient, stream: str, day: date | None = None) -> Random:
    return Random(f"{patient.seed}|{patient.id}|{stream}|{day}")


def _local(day: date, minutes: int) -> datetime:
    """Paris wall-clock time on `day`, in UTC (a time skipped by DST lands an hour later)."""
    wall = datetime(day.year, day.month, day.day, tzinfo=PARIS) + timedelta(minutes=minutes)
    return wall.astimezone(UTC)


def _local_days(start: datetime, end: datetime) -> list[date]:
    first, last = start.astimezone(PARIS).date(), end.astimezone(PARIS).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _grid(plan: Plan, at: datetime) -> datetime:
    """The first CGM reading time at or after `at`."""
    origin = plan.start + timedelta(seconds=plan.patient.cgm_phase)
    steps = math.ceil((at - origin) / CGM_INTERVAL)
    return origin + steps * CGM_INTERVAL


def _clip(value: float, low: int, high: int) -> int:
    return max(low, min(high, round(value)))
