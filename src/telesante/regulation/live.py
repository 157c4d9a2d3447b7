"""Live events of the room: every screen of the centre hears that a file changed, after commit,
and refetches what it shows (the queue, the file). Events carry ids and codes, no health data."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from telesante.db import after_commit
from telesante.realtime.bus import Bus, user_channel
from telesante.regulation.models import RegulationCall, RegulationFile
from telesante.regulation.staff import room_users

ROOM_EVENT = "regulation_room"


async def room_changed(db: AsyncSession, bus: Bus | None, file: RegulationFile, change: str) -> None:
    await _to_room(
        db,
        bus,
        file.centre_id,
        {
            "type": ROOM_EVENT,
            "file_id": file.id,
            "change": change,
            "priority": file.priority,
            "state": file.state,
        },
    )


async def _to_room(db: AsyncSession, bus: Bus | None, centre_id: str, message: dict[str, Any]) -> None:
    if bus is None:
        return
    for user_id in await room_users(db, centre_id):
        channel = user_channel(user_id)
        after_commit(db, lambda channel=channel: bus.publish(channel, message))  # type: ignore[misc]


async def call_changed(db: AsyncSession, bus: Bus | None, call: RegulationCall) -> None:
    await _to_room(
        db, bus, call.centre_id, {"type": "regulation_call", "call_id": call.id, "state": call.state}
    )
