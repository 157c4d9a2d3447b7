"""A patient's measurements over a period, for the professionals' API and screens."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.monitoring.measures import MeasureKind
from telesante.monitoring.models import Measurement
from telesante.patients.models import Patient

MAX_ROWS = 10_000


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
