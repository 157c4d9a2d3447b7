"""A professional's agenda in the database: opening hours, consultation types, absences, free slots."""

from datetime import date, datetime, time, timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.auth.actor import Actor
from telesante.db import utcnow
from telesante.errors import Forbidden, Invalid, NotFound
from telesante.teleconsultation.agenda import Busy, Period, free_slots, paris_day_bounds
from telesante.teleconsultation.models import Absence, Appointment, ConsultationType, OpeningHours

MAX_DAYS = 62


class PeriodIn(BaseModel):
    weekday: int = Field(ge=0, le=6, description="0 = lundi")
    opens: time
    closes: time

    @model_validator(mode="after")
    def ordered(self) -> "PeriodIn":
        if self.closes <= self.opens:
            raise ValueError("closes must be after opens")
        return self


class ConsultationTypeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    label: str = Field(min_length=2, max_length=120)
    duration_minutes: int = Field(ge=5, le=240)
    video: bool = True
    billing_code: str | None = Field(default=None, max_length=10)
    cancel_notice_hours: int = Field(default=2, ge=0, le=168)


def own_agenda(actor: Actor) -> str:
    if actor.role != "professional" or not actor.professional_id:
        raise Forbidden("seul le professionnel gère son agenda")
    return actor.professional_id


async def set_opening_hours(db: AsyncSession, actor: Actor, periods: list[PeriodIn]) -> list[OpeningHours]:
    professional_id = own_agenda(actor)
    await db.execute(delete(OpeningHours).where(OpeningHours.professional_id == professional_id))
    rows = [
        OpeningHours(professional_id=professional_id, weekday=p.weekday, opens=p.opens, closes=p.closes)
        for p in periods
    ]
    db.add_all(rows)
    await db.flush()
    return rows


async def add_consultation_type(db: AsyncSession, actor: Actor, data: ConsultationTypeIn) -> ConsultationType:
    kind = ConsultationType(professional_id=own_agenda(actor), **data.model_dump())
    db.add(kind)
    await db.flush()
    return kind


async def add_absence(
    db: AsyncSession, actor: Actor, starts_at: datetime, ends_at: datetime, label: str | None
) -> Absence:
    if ends_at <= starts_at:
        raise Invalid.field("ends_at", "must be after starts_at")
    absence = Absence(professional_id=own_agenda(actor), starts_at=starts_at, ends_at=ends_at, label=label)
    db.add(absence)
    await db.flush()
    return absence


async def consultation_type(db: AsyncSession, professional_id: str, type_id: str) -> ConsultationType:
    kind = await db.get(ConsultationType, type_id)
    if kind is None or kind.professional_id != professional_id or not kind.active:
        raise Invalid.field("consultation_type_id", "no such consultation type for this professional")
    return kind


async def types_of(db: AsyncSession, professional_id: str) -> list[ConsultationType]:
    rows = await db.scalars(
        select(ConsultationType).where(
            ConsultationType.professional_id == professional_id, ConsultationType.active.is_(True)
        )
    )
    return list(rows)


async def slots(
    db: AsyncSession, professional_id: str, kind: ConsultationType, first_day: date, last_day: date
) -> list[datetime]:
    if last_day < first_day or (last_day - first_day).days > MAX_DAYS:
        raise Invalid.field("to", f"the range is 0 to {MAX_DAYS} days")
    start, _ = paris_day_bounds(first_day)
    _, end = paris_day_bounds(last_day)
    periods = [
        Period(o.weekday, o.opens, o.closes)
        for o in await db.scalars(select(OpeningHours).where(OpeningHours.professional_id == professional_id))
    ]
    busy = [
        Busy(a.starts_at, a.ends_at)
        for a in await db.scalars(
            select(Appointment).where(
                Appointment.professional_id == professional_id,
                Appointment.status != "cancelled",
                Appointment.starts_at < end,
                Appointment.ends_at > start,
            )
        )
    ]
    busy += [
        Busy(a.starts_at, a.ends_at)
        for a in await db.scalars(
            select(Absence).where(
                Absence.professional_id == professional_id, Absence.starts_at < end, Absence.ends_at > start
            )
        )
    ]
    return free_slots(periods, busy, timedelta(minutes=kind.duration_minutes), first_day, last_day, utcnow())


async def require_professional(db: AsyncSession, professional_id: str) -> None:
    from telesante.directory.models import Professional

    if await db.get(Professional, professional_id) is None:
        raise NotFound("professionnel introuvable")
