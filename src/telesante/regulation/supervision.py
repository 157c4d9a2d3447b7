"""The numbers the room lives by: time to answer, share answered within 60 s (SUdF target: 99 %),
time to regulation per priority, files per ARM and per regulator per hour (DREES 2025: 5.5 and
7.2 in 2022; regulation.md §6). On the supervision page and API from the database, and as
Prometheus metrics observed as the events happen (`/metrics`)."""

from collections import defaultdict
from datetime import datetime, timedelta
from statistics import median
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.db import utcnow
from telesante.deps import CurrentActor, DbSession
from telesante.errors import PROBLEM_RESPONSES
from telesante.regulation.codes import PRIORITIES, Function
from telesante.regulation.models import RegulationCall, RegulationFile, RegulationStaff
from telesante.regulation.staff import membership
from telesante.regulation.views import user_names
from telesante.web.guard import PageActor
from telesante.web.render import page

ANSWER_TARGET = timedelta(seconds=60)
router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/regulation", tags=["regulation"], responses=PROBLEM_RESPONSES)


def _p90(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]


def _seconds(values: list[float]) -> dict[str, float | None]:
    return {"median": median(values) if values else None, "p90": _p90(values), "count": len(values)}


async def figures(
    db: AsyncSession, centre_id: str, hours: int, now: datetime | None = None
) -> dict[str, Any]:
    now = now or utcnow()
    since = now - timedelta(hours=hours)
    calls = list(
        await db.scalars(
            select(RegulationCall).where(
                RegulationCall.centre_id == centre_id, RegulationCall.received_at >= since
            )
        )
    )
    answered = [c for c in calls if c.answered_at]
    answer_times = [(c.answered_at - c.received_at).total_seconds() for c in answered if c.answered_at]
    in_time = sum(1 for t in answer_times if t <= ANSWER_TARGET.total_seconds())
    files = list(
        await db.scalars(
            select(RegulationFile).where(
                RegulationFile.centre_id == centre_id, RegulationFile.received_at >= since
            )
        )
    )
    waits: dict[str, list[float]] = defaultdict(list)
    for file in files:
        if file.regulation_started_at:
            waits[file.priority].append((file.regulation_started_at - file.received_at).total_seconds())
    staff = (
        await db.execute(
            select(RegulationStaff.function, RegulationStaff.professional_id).where(
                RegulationStaff.centre_id == centre_id
            )
        )
    ).all()
    opened: dict[str, int] = defaultdict(int)
    regulated: dict[str, int] = defaultdict(int)
    for file in files:
        opened[file.opened_by_id] += 1
        if file.regulator_id:
            regulated[file.regulator_id] += 1
    names = await user_names(db, set(opened) | set(regulated))
    return {
        "since": since.isoformat(),
        "hours": hours,
        "calls": len(calls),
        "answered": len(answered),
        "abandoned": sum(1 for c in calls if c.answered_at is None and c.ended_at is not None),
        "answer_seconds": _seconds(answer_times),
        # Of every call received (an abandoned call was not answered within 60 s).
        "answered_within_60s": round(in_time / len(calls), 4) if calls else None,
        "time_to_regulation": {p: _seconds(waits.get(p, [])) for p in PRIORITIES if p != "NR"},
        "files": len(files),
        "per_arm_per_hour": {names.get(u, u): round(n / hours, 2) for u, n in opened.items()},
        "per_regulator_per_hour": {names.get(u, u): round(n / hours, 2) for u, n in regulated.items()},
        "staff": {f.value: sum(1 for function, _ in staff if function == f) for f in Function},
    }


Hours = Annotated[int, Query(ge=1, le=24 * 31, description="the window, in hours, up to now")]


@api.get("/supervision")
async def supervision_api(db: DbSession, actor: CurrentActor, hours: Hours = 24) -> dict[str, Any]:
    member = await membership(db, actor)
    return await figures(db, member.centre_id, hours)


@router.get("/regulation/supervision")
async def supervision_page(
    request: Request, db: DbSession, actor: PageActor, hours: Hours = 24
) -> HTMLResponse:
    member = await membership(db, actor)
    return page(
        request,
        "regulation_supervision.html",
        actor=actor,
        figures=await figures(db, member.centre_id, hours),
        priorities=PRIORITIES,
    )
