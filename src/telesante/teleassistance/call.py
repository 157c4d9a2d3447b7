"""The téléassistance session as a call's act (call/acts.py, ADR 0012): the room
``assist:<session id>`` is live while the session is active; the call's incidents go to the
session for its report, in the report's words; the end is the session's end (its report filed)."""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.auth.actor import Actor
from telesante.auth.models import User
from telesante.errors import Conflict
from telesante.teleassistance import service
from telesante.teleassistance.lifecycle import Status
from telesante.teleassistance.models import AssistanceSession

# The call layer's incident kinds, as the session's report names them (report_pdf.INCIDENTS).
INCIDENT_KINDS = {
    "reconnection": "reconnected",
    "ice_restart": "drop",  # the media path broke and is being rebuilt
    "relay_fallback": "relay",
    "poor_network": "poor_quality",
    "media_error": "camera_lost",
}


def room_key(session_id: str) -> str:
    return f"assist:{session_id}"


@dataclass(frozen=True)
class AssistanceCall:
    session_id: str

    @property
    def key(self) -> str:
        return room_key(self.session_id)

    async def require_live(self, db: AsyncSession) -> None:
        await self._active(db)

    async def add_incident(self, db: AsyncSession, entry: dict[str, str]) -> None:
        session = await self._active(db)
        service.add_incident(session, INCIDENT_KINDS.get(entry["kind"], entry["kind"]))

    async def end(self, db: AsyncSession, transcript: list[dict[str, str]], by: str) -> None:
        """Closes every leg. The pages end the session over HTTP first (the report is filed in the
        name of who ended it), so here it is usually over already; if not, the doctor's name is used."""
        session = await db.get(AssistanceSession, self.session_id, with_for_update=True)
        if session is None or session.status != Status.active:
            return
        await service.end(db, await _doctor(db, session), session)

    async def _active(self, db: AsyncSession) -> AssistanceSession:
        session = await db.get(AssistanceSession, self.session_id, with_for_update=True)
        if session is None or session.status != Status.active:
            raise Conflict("la téléassistance n'est pas en cours")
        return session


async def _doctor(db: AsyncSession, session: AssistanceSession) -> Actor:
    user = await db.scalar(select(User).where(User.professional_id == session.doctor_id).limit(1))
    assert user is not None  # an active session has its accepted doctor
    return Actor(user=user, mfa_passed=True, via="system")
