"""A patient's measurements over a period: for the professionals' API and screens, and for the rules."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.monitoring.measures import MeasureKind
from telesante.monitoring.models import Measurement
from telesante.monitoring.rules import Measurement as Reading
from telesante.patients.models import Patient

MAX_ROWS = 10_000
MAX_SELECTS = 200  # per statement: SQLite allows 500 terms in a compound SELECT
SHARED_SPAN = timedelta(hours=6)
KINDS = {kind.value: kind for kind in MeasureKind}  # a dict lookup: MeasureKind(value) is slow


async def measurements_of(
    db: AsyncSession,
    patient: Patient,
    *,
    kinds: list[MeasureKind] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int = 1000,
) -> list[Measurement]:
    """Oldest first, `start` included, `end` excluded. Takes a Patient, which only the gate hands out."""
    query = select(Measurement).where(Measurement.patient_id == patient.id)
    if kinds:
        query = query.where(Measurement.kind.in_([k.value for k in kinds]))
    if start is not None:
        query = query.where(Measurement.effective_at >= start)
    if end is not None:
        query = query.where(Measurement.effective_at < end)
    rows = await db.scalars(
        query.order_by(Measurement.effective_at, Measurement.id).limit(min(limit, MAX_ROWS))
    )
    return list(rows)


@dataclass(frozen=True)
class Wanted:
    """What one program's rules need: its measures from `since`, and before that the latest value of
    each of `latest_of`, no older than `horizon`."""

    program_id: str
    kinds: frozenset[MeasureKind]
    since: datetime
    latest_of: frozenset[MeasureKind]
    horizon: datetime


async def rule_series(db: AsyncSession, wanted: Sequence[Wanted]) -> dict[str, list[Reading]]:
    """Each program's measurements for its rules, for many programs in a statement or a few. Live
    data starts at about the same moment for every program: those are read in one range query and
    sorted out here; a program far behind (an upload of last week) gets its own."""
    found: dict[str, list[Reading]] = {want.program_id: [] for want in wanted}
    if not wanted:
        return found
    floor = min(want.since for want in wanted)
    shared = {want.program_id: want for want in wanted if want.since - floor <= SHARED_SPAN}
    rows = await db.execute(
        select(*COLUMNS).where(
            Measurement.program_id.in_(list(shared)),
            Measurement.kind.in_(sorted({k.value for want in shared.values() for k in want.kinds})),
            Measurement.effective_at >= floor,
        )
    )
    for program_id, id_, kind, value, at in rows:
        want = shared[program_id]
        if at >= want.since and kind in want.kinds:
            found[program_id].append(Reading(id_, KINDS[kind], value, at))
    others = [_recent(want) for want in wanted if want.program_id not in shared]
    selects = others + [part for want in wanted for part in _before(want)]
    for start in range(0, len(selects), MAX_SELECTS):
        chunk = selects[start : start + MAX_SELECTS]
        for program_id, id_, kind, value, at in await db.execute(
            union_all(*chunk) if len(chunk) > 1 else chunk[0]
        ):
            found[program_id].append(Reading(id_, KINDS[kind], value, at))
    return found


COLUMNS = (
    Measurement.program_id,
    Measurement.id,
    Measurement.kind,
    Measurement.value,
    Measurement.effective_at,
)


def _recent(want: Wanted) -> Select[Any]:
    return select(*COLUMNS).where(  # type: ignore[return-value]
        Measurement.program_id == want.program_id,
        Measurement.kind.in_(sorted(k.value for k in want.kinds)),
        Measurement.effective_at >= want.since,
    )


def _before(want: Wanted) -> list[Select[Any]]:
    """The latest value of each measure of `latest_of` before `since`, back to `horizon`."""
    if want.horizon >= want.since:
        return []
    parts = [
        select(*COLUMNS)
        .where(
            Measurement.program_id == want.program_id,
            Measurement.kind == kind.value,
            Measurement.effective_at >= want.horizon,
            Measurement.effective_at < want.since,
        )
        .order_by(Measurement.effective_at.desc())
        .limit(1)
        .subquery()
        for kind in sorted(want.latest_of)
    ]
    return [select(*part.c) for part in parts]
