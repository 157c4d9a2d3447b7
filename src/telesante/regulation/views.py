"""What the room's screens show: the queue, a file with everything entered, the resources."""

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.auth.models import User
from telesante.db import utcnow
from telesante.directory.models import Professional
from telesante.regulation import decisions, missions
from telesante.regulation.codes import PRIORITY_ORDER, WAIT_LIMITS_SECONDS
from telesante.regulation.models import Bilan, MedicalNote, RegulationCall, RegulationFile, Resource
from telesante.regulation.states import OPEN_STATES

INTAKE = (
    "caller_type",
    "caller_phone",
    "caller_name",
    "caller_language",
    "communication_issue",
    "address",
    "city",
    "latitude",
    "longitude",
    "access_details",
    "motive",
    "whats_happen",
    "patient_name",
    "patient_age",
    "patient_sex",
)


# What a queue line shows (summary below): plain codes, times and place, never the caller's words.
QUEUE_COLUMNS = (
    RegulationFile.id,
    RegulationFile.case_id,
    RegulationFile.number,
    RegulationFile.state,
    RegulationFile.perimeter,
    RegulationFile.origin,
    RegulationFile.priority,
    RegulationFile.care_level,
    RegulationFile.received_at,
    RegulationFile.regulation_started_at,
    RegulationFile.escalated_at,
    RegulationFile.motive,
    RegulationFile.city,
    RegulationFile.latitude,
    RegulationFile.longitude,
    RegulationFile.patient_id,
    RegulationFile.regulator_id,
    RegulationFile.centre_id,
)


def summary(file: Any, now: datetime, names: dict[str, str] | None = None) -> dict[str, Any]:
    """A queue line, from a RegulationFile or a row of QUEUE_COLUMNS (same names)."""
    waiting = None if file.regulation_started_at else int((now - file.received_at).total_seconds())
    limit = WAIT_LIMITS_SECONDS.get(file.priority)
    return {
        "id": file.id,
        "case_id": file.case_id,
        "number": file.number,
        "state": file.state,
        "perimeter": file.perimeter,
        "origin": file.origin,
        "priority": file.priority,
        "care_level": file.care_level,
        "received_at": file.received_at.isoformat(),
        "waiting_seconds": waiting,
        "overdue": waiting is not None and limit is not None and waiting > limit,
        "escalated": file.escalated_at is not None,
        "motive": file.motive,
        "city": file.city,
        "latitude": file.latitude,
        "longitude": file.longitude,
        "patient_identified": file.patient_id is not None,
        "regulator": (names or {}).get(file.regulator_id or ""),
    }


async def queue(db: AsyncSession, centre_id: str) -> dict[str, Any]:
    """Files waiting for a regulator by priority then waiting time; files being regulated; calls
    ringing; engaged missions."""
    now = utcnow()
    # Plain rows of the columns a line shows, no ORM objects and nothing to decrypt: every screen
    # of the room refetches this on every change.
    open_files = (
        await db.execute(
            select(*QUEUE_COLUMNS).where(
                RegulationFile.centre_id == centre_id, RegulationFile.state.in_(OPEN_STATES)
            )
        )
    ).all()
    names = await user_names(db, {f.regulator_id for f in open_files if f.regulator_id})
    waiting = sorted(
        (f for f in open_files if f.regulator_id is None and f.priority != "NR"),
        key=lambda f: (PRIORITY_ORDER[f.priority], f.received_at),
    )
    regulating = sorted((f for f in open_files if f.regulator_id), key=lambda f: f.received_at)
    ringing = await db.execute(
        select(RegulationCall.id, RegulationCall.line, RegulationCall.received_at)
        .where(RegulationCall.centre_id == centre_id, RegulationCall.state == "ringing")
        .order_by(RegulationCall.received_at)
    )
    return {
        "now": now.isoformat(),
        "waiting": [summary(f, now, names) for f in waiting],
        "regulating": [summary(f, now, names) for f in regulating],
        "ringing": [{"id": c.id, "line": c.line, "received_at": c.received_at.isoformat()} for c in ringing],
    }


async def user_names(db: AsyncSession, user_ids: set[str]) -> dict[str, str]:
    if not user_ids:
        return {}
    rows = await db.execute(
        select(User.id, Professional)
        .join(Professional, Professional.id == User.professional_id)
        .where(User.id.in_(user_ids))
    )
    return {user_id: professional.display_name for user_id, professional in rows}


async def detail(db: AsyncSession, file: RegulationFile) -> dict[str, Any]:
    now = utcnow()
    notes = list(
        await db.scalars(
            select(MedicalNote).where(MedicalNote.file_id == file.id).order_by(MedicalNote.created_at)
        )
    )
    made = await decisions.decisions_of(db, file.id)
    engaged = await missions.missions_of(db, file.id)
    bilans = list(await db.scalars(select(Bilan).where(Bilan.file_id == file.id).order_by(Bilan.created_at)))
    names = await user_names(
        db,
        {file.regulator_id or "", file.opened_by_id}
        | {n.author_id for n in notes}
        | {d.author_id for d in made},
    )
    calls = await db.scalars(select(RegulationCall).where(RegulationCall.file_id == file.id))
    return {
        **summary(file, now, names),
        "intake": {name: getattr(file, name) for name in INTAKE},
        "patient_id": file.patient_id,
        "opened_by": names.get(file.opened_by_id),
        "shared_from": file.shared_from,
        "notes": [
            {"at": n.created_at.isoformat(), "role": n.role, "author": names.get(n.author_id), "text": n.text}
            for n in notes
        ],
        "decisions": [
            {
                "at": d.decided_at.isoformat(),
                "kind": d.kind,
                "author": names.get(d.author_id),
                "details": d.details,
                "orientation": d.orientation,
                "destination": d.destination,
                "medical_transport": d.medical_transport,
                "mission_id": d.mission_id,
                "prescription_id": d.prescription_id,
            }
            for d in made
        ],
        "missions": [missions.mission_view(m, r, s) for m, r, s in engaged],
        "bilans": [
            {
                "at": b.created_at.isoformat(),
                "mission_id": b.mission_id,
                "vitals": b.vitals,
                "observations": b.observations,
            }
            for b in bilans
        ],
        "calls": [
            {
                "id": c.id,
                "line": c.line,
                "received_at": c.received_at.isoformat(),
                "answered_at": c.answered_at.isoformat() if c.answered_at else None,
                "recording_ref": c.recording_ref,
                "recording_kept_until": c.recording_kept_until.isoformat()
                if c.recording_kept_until
                else None,
            }
            for c in calls
        ],
    }


async def resources(db: AsyncSession, centre_id: str) -> list[dict[str, Any]]:
    rows = await db.scalars(
        select(Resource)
        .where(Resource.centre_id == centre_id)
        .order_by(Resource.resource_type, Resource.name)
    )
    return [
        {
            "id": r.id,
            "name": r.name,
            "type": r.resource_type,
            "vehicle_type": r.vehicle_type,
            "base": r.base,
            "available": r.available,
            "latitude": r.latitude,
            "longitude": r.longitude,
        }
        for r in rows
    ]
