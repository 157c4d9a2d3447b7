from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.db import utcnow
from telesante.patients.models import Patient
from telesante.timeline.models import TimelineEntry


def add_entry(
    db: AsyncSession,
    patient_id: str,
    *,
    kind: str,
    title: str,
    summary: str | None = None,
    occurred_at: datetime | None = None,
    source_type: str | None = None,
    source_id: str | None = None,
    author_professional_id: str | None = None,
) -> TimelineEntry:
    """Acts call this to write their step into the patient's one history."""
    entry = TimelineEntry(
        patient_id=patient_id,
        occurred_at=occurred_at or utcnow(),
        kind=kind,
        title=title,
        summary=summary,
        source_type=source_type,
        source_id=source_id,
        author_professional_id=author_professional_id,
    )
    db.add(entry)
    return entry


async def entries_for(db: AsyncSession, patient: Patient, limit: int = 200) -> list[TimelineEntry]:
    """Newest first. Takes a Patient, which only the access gate hands out."""
    rows = await db.scalars(
        select(TimelineEntry)
        .where(TimelineEntry.patient_id == patient.id)
        .order_by(TimelineEntry.occurred_at.desc(), TimelineEntry.created_at.desc())
        .limit(limit)
    )
    return list(rows)
