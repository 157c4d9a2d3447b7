"""Resources engaged on a file: the mission, its Hub statuses set by the crew, and the bilan.

The crew reaches its mission, and nothing else, with the mission's own token (shown to the room
as a link and QR code for the crew's phone); only its SHA-256 is stored.
"""

import hashlib
import math
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.audit.service import record
from telesante.db import utcnow
from telesante.errors import Conflict, NotFound, Unauthorized
from telesante.realtime.bus import Bus
from telesante.regulation import live
from telesante.regulation.codes import REFLEX_VEHICLES
from telesante.regulation.hub import service as hub
from telesante.regulation.models import Bilan, Mission, MissionStatus, RegulationFile, Resource
from telesante.regulation.schemas import BilanIn
from telesante.regulation.states import (
    ENDS_MISSION,
    FREES_RESOURCE,
    OPEN_STATES,
    ORDER,
    Status,
    check_status_move,
)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def engage(
    db: AsyncSession,
    bus: Bus | None,
    file: RegulationFile,
    resource_id: str,
    *,
    by_user_id: str | None,
    reflex: bool = False,
    now: datetime | None = None,
) -> tuple[Mission, str]:
    """The mission and its crew token (returned once). A resource already engaged is a 409."""
    if file.state not in OPEN_STATES:
        raise Conflict("ce dossier n'est plus ouvert")
    resource = await db.get(Resource, resource_id, with_for_update=True)
    if resource is None or resource.centre_id != file.centre_id:
        raise NotFound("moyen introuvable")
    if not resource.available:
        raise Conflict(f"{resource.name} est déjà engagé")
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    resource.available = False
    mission = Mission(
        file_id=file.id,
        resource_id=resource.id,
        status=Status.DECLENCHE,
        status_at=now,
        engaged_by_id=by_user_id,
        reflex=reflex,
        token_hash=_hash(token),
    )
    db.add(mission)
    await db.flush()
    db.add_all(
        [
            MissionStatus(mission_id=mission.id, status=Status.DECISION, at=now, by="room"),
            MissionStatus(mission_id=mission.id, status=Status.DECLENCHE, at=now, by="room"),
        ]
    )
    await db.flush()
    await live.room_changed(db, bus, file, "mission")
    return mission, token


async def reissue_link(db: AsyncSession, mission: Mission) -> str:
    """A new crew token for a running mission (a reflex departure, a lost link); the old one stops
    working at once."""
    if mission.status in ENDS_MISSION:
        raise Conflict("la mission est terminée")
    token = secrets.token_urlsafe(32)
    mission.token_hash = _hash(token)
    await db.flush()
    return token


def crew_link(token: str) -> str:
    return f"/regulation/equipage#{token}"


async def engage_reflex(
    db: AsyncSession, bus: Bus | None, file: RegulationFile, *, now: datetime
) -> Mission | None:
    """P0: the nearest available reflex resource leaves before any regulator has seen the file
    (guide de régulation, regulation.md §2). None when no such resource is free: the queue shows
    the P0 at the top, and the regulator engages by hand."""
    rows = await db.scalars(
        select(Resource).where(
            Resource.centre_id == file.centre_id,
            Resource.available.is_(True),
            Resource.vehicle_type.in_(REFLEX_VEHICLES),
        )
    )
    candidates = sorted(rows, key=lambda r: (REFLEX_VEHICLES.index(r.vehicle_type or ""), _distance(file, r)))
    if not candidates:
        return None
    mission, _token = await engage(db, bus, file, candidates[0].id, by_user_id=None, reflex=True, now=now)
    return mission


def _distance(file: RegulationFile, resource: Resource) -> float:
    if None in (file.latitude, file.longitude, resource.latitude, resource.longitude):
        return math.inf
    return math.dist((file.latitude, file.longitude), (resource.latitude, resource.longitude))  # type: ignore[arg-type]


async def crew_mission(db: AsyncSession, token: str | None) -> Mission:
    """The mission this token opens; 401 for anything else (no hint whether a mission exists)."""
    if not token:
        raise Unauthorized("lien de mission requis")
    mission = await db.scalar(select(Mission).where(Mission.token_hash == _hash(token)))
    if mission is None:
        raise Unauthorized("lien de mission invalide")
    return mission


async def set_status(
    db: AsyncSession, bus: Bus | None, mission: Mission, target: str, *, by: str, now: datetime | None = None
) -> Mission:
    status = check_status_move(mission.status, target)
    now = now or utcnow()
    mission.status, mission.status_at = status, now
    db.add(MissionStatus(mission_id=mission.id, status=status, at=now, by=by))
    resource = await db.get(Resource, mission.resource_id)
    assert resource is not None
    if status in FREES_RESOURCE:
        resource.available = True
    if status in ENDS_MISSION:
        mission.ended_at = now
    file = await db.get(RegulationFile, mission.file_id)
    assert file is not None
    record(
        db,
        None,
        action="update",
        resource_type="Mission",
        resource_id=mission.id,
        patient_id=file.patient_id,
        purpose="regulation",
        reason=f"statut {status} ({by})",
    )
    await db.flush()
    await hub.on_mission_status(db, mission, status)  # to the SAMUs the file was shared with
    await live.room_changed(db, bus, file, "mission")
    return mission


async def add_bilan(db: AsyncSession, bus: Bus | None, mission: Mission, data: BilanIn) -> Bilan:
    if mission.status in ENDS_MISSION:
        raise Conflict("la mission est terminée")
    vitals = data.model_dump(exclude={"observations"}, exclude_none=True)
    if not vitals and not data.observations:
        raise Conflict("le bilan est vide")
    bilan = Bilan(
        mission_id=mission.id, file_id=mission.file_id, vitals=vitals, observations=data.observations
    )
    db.add(bilan)
    if mission.status in {Status.ARRIVEE, Status.PEC}:
        await set_status(db, bus, mission, Status.BILAN, by="crew")
    file = await db.get(RegulationFile, mission.file_id)
    assert file is not None
    await db.flush()
    await hub.on_bilan(db, bilan)
    await live.room_changed(db, bus, file, "bilan")
    return bilan


async def missions_of(db: AsyncSession, file_id: str) -> list[tuple[Mission, Resource, list[MissionStatus]]]:
    rows = (
        await db.execute(
            select(Mission, Resource)
            .join(Resource, Resource.id == Mission.resource_id)
            .where(Mission.file_id == file_id)
            .order_by(Mission.created_at)
        )
    ).all()
    history: dict[str, list[MissionStatus]] = {}
    if rows:
        statuses = await db.scalars(
            select(MissionStatus).where(MissionStatus.mission_id.in_([m.id for m, _ in rows]))
        )
        for status in sorted(
            statuses, key=lambda s: (s.at, _rank(s.status))
        ):  # DECISION, DECLENCHE share a time
            history.setdefault(status.mission_id, []).append(status)
    return [(m, r, history.get(m.id, [])) for m, r in rows]


def _rank(status: str) -> int:
    return ORDER.index(Status(status)) if status != Status.ANNULE else len(ORDER)


def mission_view(mission: Mission, resource: Resource, statuses: list[MissionStatus]) -> dict[str, Any]:
    return {
        "id": mission.id,
        "resource": {
            "id": resource.id,
            "name": resource.name,
            "type": resource.resource_type,
            "vehicle_type": resource.vehicle_type,
        },
        "status": mission.status,
        "status_at": mission.status_at.isoformat(),
        "reflex": mission.reflex,
        "history": [{"status": s.status, "at": s.at.isoformat(), "by": s.by} for s in statuses],
    }
