"""A participant's connection to a call (a "leg"): its states and the one function that moves it.

Modelled on Starlette's WebSocketState: a message that comes in the wrong state is refused
with what was expected and what came, instead of being half-handled.
"""

from enum import StrEnum

from telesante.errors import Conflict


class LegState(StrEnum):
    connecting = "connecting"  # token checked, socket accepted, not yet announced
    joined = "joined"  # announced to the others; relays signaling, chat and states
    left = "left"  # the socket closed (drop, leave, replaced by a reconnection)
    ended = "ended"  # the professional ended the call for everyone


ALLOWED = {
    LegState.connecting: {LegState.joined, LegState.left, LegState.ended},
    LegState.joined: {LegState.left, LegState.ended},
    LegState.left: set(),
    LegState.ended: set(),
}


def advance(current: LegState, to: LegState) -> LegState:
    """The new state, or Conflict saying what was expected and what came."""
    if to not in ALLOWED[current]:
        expected = ", ".join(sorted(ALLOWED[current])) or "rien (état final)"
        raise Conflict(f"participant « {current} » : passage à « {to} » impossible (attendu : {expected})")
    return to


def require(current: LegState, expected: LegState, message_type: str) -> None:
    if current is not expected:
        raise Conflict(f"message « {message_type} » reçu en état « {current} » (attendu : « {expected} »)")
