"""What a call is held for: the act behind a room.

The call layer (join tokens, signaling, TURN, the socket) knows a call only by its room key:
an appointment's id for a téléconsultation, ``reg-video:<session id>`` for the video a SAMU
regulator opens with a caller. The act behind the key says whether the call is live, keeps
its technical incidents and ends it; nothing else in the layer depends on the act (ADR 0012).
"""

from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession


class CallAct(Protocol):
    @property
    def key(self) -> str:
        """The room: the bus channel ``call:<key>`` and the join tokens' ``call_key``."""
        ...

    async def require_live(self, db: AsyncSession) -> None:
        """Conflict (with the act's own words) unless participants may be in the call now."""
        ...

    async def add_incident(self, db: AsyncSession, entry: dict[str, str]) -> None:
        """Keep a drop, a reconnection, a relay fallback… where the act's record wants it."""
        ...

    async def end(self, db: AsyncSession, transcript: list[dict[str, str]], by: str) -> None:
        """The professional ended the call for everyone (`transcript`: the chat they saw)."""
        ...
