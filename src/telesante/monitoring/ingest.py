"""Ingestion, the one entrance of measurements whatever the transport (FHIR, MQTT, Nightscout).

A reading is one moment of one device: a single value, or the components of a panel (blood
pressure) that stand or fall together. Each reading is converted to its canonical unit, refused
with a French reason if impossible (nothing of it is stored), deduplicated on (device, kind,
effective time) and stored; then the program's rules run over what arrived, late or not.
"""

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import ARRAY, ColumnElement, Table, any_, bindparam, insert, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.db import after_commit, utcnow
from telesante.errors import AppError, Conflict, Invalid, Unauthorized
from telesante.monitoring import engine
from telesante.monitoring.measures import MeasureError, MeasureKind, check_blood_pressure, to_canonical
from telesante.monitoring.models import Device, Measurement, Program
from telesante.realtime.bus import Bus, user_channel

CLOCK_TOLERANCE = timedelta(minutes=10)  # a device clock a little ahead is not an error
QUANTUM = Decimal("0.0001")  # the stored scale (Numeric(12, 4)): rules see what is stored


class Source(StrEnum):
    FHIR = "fhir"
    MQTT = "mqtt"
    NIGHTSCOUT = "nightscout"


class Result(StrEnum):
    CREATED = "created"
    DUPLICATE = "duplicate"
    REFUSED = "refused"


@dataclass(frozen=True)
class Value:
    kind: MeasureKind
    value: Decimal | int | float
    unit: str  # UCUM code (common spellings accepted, measures.ALIASES)


@dataclass(frozen=True)
class Reading:
    values: tuple[Value, ...]
    effective_at: datetime  # timezone-aware, any offset
    source: Source

    @classmethod
    def single(
        cls, kind: MeasureKind, value: Decimal | int | float, unit: str, at: datetime, source: Source
    ) -> "Reading":
        return cls((Value(kind, value, unit),), at, source)


@dataclass
class Outcome:
    result: Result
    measurements: list[Measurement] = field(default_factory=list)
    reason: str | None = None

    @property
    def resource_id(self) -> str | None:
        """The FHIR Observation id: the panel's for several components, else the measurement's."""
        if not self.measurements:
            return None
        first = self.measurements[0]
        return first.panel_id or first.id


class EntryRefused(Invalid):
    """A transaction's entry that cannot be stored: nothing of the transaction is."""

    def __init__(self, index: int, reason: str) -> None:
        super().__init__(
            f"entrée {index} : {reason}", errors=[{"field": f"entry[{index}]", "reason": reason}]
        )
        self.index, self.reason = index, reason


@dataclass
class _Prepared:
    reading: Reading
    rows: list[tuple[MeasureKind, Decimal, Value]]
    at: datetime


async def ingest(
    db: AsyncSession,
    bus: Bus | None,
    device: Device,
    readings: Sequence[Reading],
    *,
    all_or_nothing: bool = False,
    now: datetime | None = None,
) -> list[Outcome]:
    """Store what is valid and new, evaluate the program's rules; one outcome per reading, in order.

    `all_or_nothing` (a FHIR transaction): the first refused reading raises EntryRefused and
    nothing is stored. Otherwise (a batch) the good readings are kept and each refusal says why.
    """
    [result] = await ingest_many(db, bus, [(device, readings)], all_or_nothing=all_or_nothing, now=now)
    if isinstance(result, AppError):
        raise result
    return result


async def ingest_many(
    db: AsyncSession,
    bus: Bus | None,
    deliveries: Sequence[tuple[Device, Sequence[Reading]]],
    *,
    all_or_nothing: bool = False,
    now: datetime | None = None,
) -> list[list[Outcome] | AppError]:
    """`ingest` for several devices at once (an MQTT batch): the same result per device, or the
    error that refused all of its readings, for a handful of queries whatever the number of devices.
    Each program is evaluated once, over everything that arrived for it."""
    now = now or utcnow()
    programs = await engine.lock_programs(db, {d.program_id for d, _ in deliveries if d.revoked_at is None})
    refusals = [_refusal(device, programs, now) for device, _ in deliveries]
    results: list[list[Outcome] | AppError] = [refusal or [] for refusal in refusals]
    live = [
        (index, device, [_prepare(reading, now) for reading in readings])
        for index, (device, readings) in enumerate(deliveries)
        if refusals[index] is None
    ]
    existing = await _existing(db, [(d, [p for p in ps if isinstance(p, _Prepared)]) for _, d, ps in live])
    created: dict[str, list[Measurement]] = {}
    for index, device, prepared in live:
        outcomes = [
            Outcome(Result.REFUSED, reason=p)
            if isinstance(p, str)
            else _store(device, p, existing, created.setdefault(device.program_id, []), now)
            for p in prepared
        ]
        if all_or_nothing:
            _refuse_transaction(outcomes)
        device.last_seen_at = now
        results[index] = outcomes
    arrived = {pid: rows for pid, rows in created.items() if rows}
    if arrived:
        await _insert(db, [m for rows in arrived.values() for m in rows])
        await _publish(db, bus, [programs[pid] for pid in arrived], arrived)  # before their alerts
        await engine.evaluate_programs(db, bus, [programs[pid] for pid in arrived], now=now, arrived=arrived)
    return results


def _refusal(device: Device, programs: dict[str, Program], now: datetime) -> AppError | None:
    if device.revoked_at is not None:
        return Unauthorized("appareil révoqué")
    program = programs.get(device.program_id)
    if program is None or program.status != "active" or now > program.ends_at:
        return Conflict("aucun programme de télésurveillance en cours pour cet appareil")
    return None


def _refuse_transaction(outcomes: list[Outcome]) -> None:
    for index, outcome in enumerate(outcomes):
        if outcome.result is Result.REFUSED:
            raise EntryRefused(index, outcome.reason or "entrée refusée")


def _prepare(reading: Reading, now: datetime) -> _Prepared | str:
    """Converted values, or the French reason the reading is refused."""
    at = reading.effective_at
    if at.tzinfo is None or at.utcoffset() is None:
        return "date de mesure sans fuseau horaire"
    if at - now > CLOCK_TOLERANCE:
        return "date de mesure dans le futur : l'horloge de l'appareil est-elle juste ?"
    if not reading.values or len({v.kind for v in reading.values}) != len(reading.values):
        return "une mesure par type et par instant"
    try:
        rows = [(v.kind, to_canonical(v.kind, v.value, v.unit).quantize(QUANTUM), v) for v in reading.values]
        pressures = {kind: value for kind, value, _ in rows}
        if MeasureKind.SYSTOLIC in pressures and MeasureKind.DIASTOLIC in pressures:
            check_blood_pressure(pressures[MeasureKind.SYSTOLIC], pressures[MeasureKind.DIASTOLIC])
    except MeasureError as refused:
        return str(refused)
    return _Prepared(reading, rows, at.astimezone(now.tzinfo))


async def _existing(
    db: AsyncSession, deliveries: list[tuple[Device, list[_Prepared]]]
) -> dict[tuple[str, str, datetime], Measurement]:
    """What these devices already sent at these moments, by dedupe key (device, kind, effective time)."""
    devices = list({device.id for device, _ in deliveries})
    moments = list({p.at for _, prepared in deliveries for p in prepared})
    found: dict[tuple[str, str, datetime], Measurement] = {}
    arrays = (await db.connection()).dialect.name == "postgresql"
    for start in range(0, len(moments) if devices else 0, 500):
        rows = await db.scalars(
            select(Measurement).where(
                _one_of(Measurement.device_id, devices, arrays),
                _one_of(Measurement.effective_at, moments[start : start + 500], arrays),
            )
        )
        found.update({(m.device_id, m.kind, m.effective_at): m for m in rows})
    return found


def _one_of(column: Any, values: list[Any], arrays: bool) -> ColumnElement[bool]:
    """`column = ANY(array)` on PostgreSQL: one parameter and the same statement whatever the
    count, where IN (…) renders a new statement per length that the driver parses afresh."""
    if arrays:
        return cast(ColumnElement[bool], column == any_(bindparam(None, values, type_=ARRAY(column.type))))
    return cast(ColumnElement[bool], column.in_(values))


def _store(
    device: Device,
    item: _Prepared,
    existing: dict[tuple[str, str, datetime], Measurement],
    created: list[Measurement],
    now: datetime,
) -> Outcome:
    known = [existing.get((device.id, kind.value, item.at)) for kind, _, _ in item.rows]
    if all(m is not None for m in known):
        same = all(
            m is not None and m.value == value for m, (_, value, _) in zip(known, item.rows, strict=True)
        )
        if same:
            return Outcome(Result.DUPLICATE, [m for m in known if m is not None])
        return Outcome(
            Result.REFUSED, reason="une autre valeur est déjà enregistrée pour cet appareil à cet instant"
        )
    if any(m is not None for m in known):
        return Outcome(Result.REFUSED, reason="une partie de ce panel est déjà enregistrée avec cet instant")
    panel_id = quick_id() if len(item.rows) > 1 else None
    stored = []
    for kind, value, sent in item.rows:
        code = kind.value
        measurement = _written(
            id=quick_id(),
            patient_id=device.patient_id,
            program_id=device.program_id,
            device_id=device.id,
            kind=code,
            value=value,
            value_sent=str(sent.value)[:40],
            unit_sent=sent.unit[:30],
            effective_at=item.at,
            received_at=now,
            source=item.reading.source.value,
            panel_id=panel_id,
        )
        existing[(device.id, code, item.at)] = measurement  # the same key later is a duplicate
        stored.append(measurement)
    created.extend(stored)
    return Outcome(Result.CREATED, stored)


def quick_id() -> str:
    """db.new_id's random UUID (version 4) without building a uuid.UUID: one per measurement adds up."""
    raw = bytearray(os.urandom(16))
    raw[6], raw[8] = raw[6] & 0x0F | 0x40, raw[8] & 0x3F | 0x80
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def _written(**row: Any) -> Measurement:
    """A read-only view of a row written with `_insert`: a Measurement outside the session, its
    attributes filled directly (the instrumented constructor costs more than the rest of a reading)."""
    measurement: Measurement = MEASUREMENTS.new_instance()
    measurement.__dict__.update(row)
    return measurement


ROW_COLUMNS = tuple(column.key for column in Measurement.__table__.columns)
MEASUREMENTS = inspect(Measurement).class_manager
MEASUREMENT_TABLE = cast(Table, Measurement.__table__)


async def _insert(db: AsyncSession, measurements: list[Measurement]) -> None:
    """Write the new rows in one go, not through the unit of work's per-object bookkeeping (the
    objects stay outside the session, read-only views of what was written). On PostgreSQL, COPY
    of one text buffer within the transaction: an executemany INSERT costs a round of Python work
    per row in the driver. Elsewhere, the executemany INSERT."""
    connection = await db.connection()
    if connection.dialect.name != "postgresql":
        await db.execute(insert(MEASUREMENT_TABLE), [_row(m) for m in measurements])
        return
    raw = (await connection.get_raw_connection()).driver_connection
    assert raw is not None
    async with raw.cursor() as cursor, cursor.copy(COPY) as copy:
        await copy.write("".join(_copy_line(m.__dict__) for m in measurements))


def _row(measurement: Measurement) -> dict[str, Any]:
    return {key: measurement.__dict__[key] for key in ROW_COLUMNS}


COPY = f"COPY {Measurement.__tablename__} ({', '.join(ROW_COLUMNS)}) FROM STDIN"
COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_line(row: dict[str, Any]) -> str:
    """One row in COPY's text format: tab-separated, \\N for null; what the device wrote is escaped
    (ids, codes, numbers and ISO times never need it)."""
    fields = {
        **row,
        "value_sent": row["value_sent"].translate(COPY_ESCAPES),
        "unit_sent": row["unit_sent"].translate(COPY_ESCAPES),
        "effective_at": row["effective_at"].isoformat(),
        "received_at": row["received_at"].isoformat(),
        "panel_id": row["panel_id"] or "\\N",
    }
    return "\t".join(str(fields[key]) for key in ROW_COLUMNS) + "\n"


async def _publish(
    db: AsyncSession, bus: Bus | None, programs: list[Program], arrived: dict[str, list[Measurement]]
) -> None:
    """Queue each program's new measurements, for after the commit, to everyone who watches it."""
    if bus is None:
        return
    watchers = await engine.team_users(db, programs)
    for program in programs:
        message: dict[str, Any] = {
            "type": "monitoring_measurement",
            "program_id": program.id,
            "patient_id": program.patient_id,
            "measurements": [
                {
                    "id": m.id,
                    "kind": m.kind,
                    "value": str(m.value),
                    "effective_at": m.effective_at.isoformat(),
                }
                for m in sorted(arrived[program.id], key=lambda m: m.effective_at)[-100:]
            ],
        }
        for user_id in watchers[program.id]:
            channel = user_channel(user_id)
            after_commit(db, lambda channel=channel, message=message: bus.publish(channel, message))  # type: ignore[misc]
