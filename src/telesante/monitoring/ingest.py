"""Ingestion, the one entrance of measurements whatever the transport (FHIR, MQTT, Nightscout).

A reading is one moment of one device: a single value, or the components of a panel (blood
pressure) that stand or fall together. Each reading is converted to its canonical unit, refused
with a French reason if impossible (nothing of it is stored), deduplicated on (device, kind,
effective time) and stored; then the program's rules run over what arrived, late or not.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.db import after_commit, new_id, utcnow
from telesante.errors import Conflict, Invalid, Unauthorized
from telesante.monitoring import alerts as alert_service
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
    now = now or utcnow()
    if device.revoked_at is not None:
        raise Unauthorized("appareil révoqué")
    program = await engine.lock_program(db, device.program_id)
    if program is None or program.status != "active" or now > program.ends_at:
        raise Conflict("aucun programme de télésurveillance en cours pour cet appareil")
    prepared = [_prepare(reading, now) for reading in readings]
    outcomes: list[Outcome | None] = [
        Outcome(Result.REFUSED, reason=p) if isinstance(p, str) else None for p in prepared
    ]
    existing = await _existing(db, device, [p for p in prepared if isinstance(p, _Prepared)])
    created: list[Measurement] = []
    for index, item in enumerate(prepared):
        if isinstance(item, _Prepared):
            outcomes[index] = _store(db, device, item, existing, created, now)
    final = [o for o in outcomes if o is not None]
    if all_or_nothing:
        _refuse_transaction(final)
    device.last_seen_at = now
    if created:
        await db.flush()
        await _publish(db, bus, program, created)  # queued first: the measurement, then its alerts
        await engine.evaluate_program(db, bus, program, now=now, arrived=created)
    return final


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
    db: AsyncSession, device: Device, prepared: list[_Prepared]
) -> dict[tuple[str, datetime], Measurement]:
    """What this device already sent at these moments, by dedupe key (kind, effective time)."""
    moments = list({p.at for p in prepared})
    found: dict[tuple[str, datetime], Measurement] = {}
    for start in range(0, len(moments), 500):
        rows = await db.scalars(
            select(Measurement).where(
                Measurement.device_id == device.id, Measurement.effective_at.in_(moments[start : start + 500])
            )
        )
        found.update({(m.kind, m.effective_at): m for m in rows})
    return found


def _store(
    db: AsyncSession,
    device: Device,
    item: _Prepared,
    existing: dict[tuple[str, datetime], Measurement],
    created: list[Measurement],
    now: datetime,
) -> Outcome:
    known = [existing.get((kind.value, item.at)) for kind, _, _ in item.rows]
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
    panel_id = new_id() if len(item.rows) > 1 else None
    stored = []
    for kind, value, sent in item.rows:
        measurement = Measurement(
            id=new_id(),
            patient_id=device.patient_id,
            program_id=device.program_id,
            device_id=device.id,
            kind=kind.value,
            value=value,
            value_sent=str(sent.value)[:40],
            unit_sent=sent.unit[:30],
            effective_at=item.at,
            received_at=now,
            source=item.reading.source.value,
            panel_id=panel_id,
        )
        existing[(kind.value, item.at)] = measurement  # the same key later in this batch is a duplicate
        stored.append(measurement)
    db.add_all(stored)
    created.extend(stored)
    return Outcome(Result.CREATED, stored)


async def _publish(db: AsyncSession, bus: Bus | None, program: Program, created: list[Measurement]) -> None:
    if bus is None:
        return
    message: dict[str, Any] = {
        "type": "monitoring_measurement",
        "program_id": program.id,
        "patient_id": program.patient_id,
        "measurements": [
            {"id": m.id, "kind": m.kind, "value": str(m.value), "effective_at": m.effective_at.isoformat()}
            for m in sorted(created, key=lambda m: m.effective_at)[-100:]
        ],
    }
    for user_id in await alert_service.team_users(db, program):
        channel = user_channel(user_id)
        after_commit(db, lambda channel=channel: bus.publish(channel, message))  # type: ignore[misc]
