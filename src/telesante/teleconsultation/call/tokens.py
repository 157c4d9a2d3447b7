"""Join tokens: a short-lived, single-use right to open one call's socket.

The token is shown once and stored as SHA-256. Consuming it is one guarded UPDATE
(unused, unexpired, this call's room), so two sockets racing on a stolen link cannot both win.
"""

from datetime import timedelta
from enum import StrEnum

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.auth.models import User
from telesante.db import utcnow
from telesante.errors import Conflict, Invalid, Unauthorized
from telesante.kit.tokens import random_token, token_hash
from telesante.teleconsultation.models import Appointment, JoinToken

MAX_PARTICIPANTS = 4
MAX_COMPANIONS = MAX_PARTICIPANTS - 2
JOIN_TTL = timedelta(minutes=2)  # from the call page to the socket
REJOIN_TTL = timedelta(minutes=5)  # handed over the socket, for a reconnection after a drop
INVITATION_TTL = timedelta(minutes=30)  # a companion's one-time link


class Role(StrEnum):
    professional = "professional"
    patient = "patient"
    companion = "companion"  # at the patient's side, invited by the professional
    caller = "caller"  # who called the SAMU, showing their camera from a one-time link


GUESTS = frozenset({Role.companion, Role.caller})  # who may join without an account


async def issue_join_token(
    db: AsyncSession,
    call: Appointment | str,
    user: User | None,
    role: Role | str,
    display_name: str,
    ttl: timedelta = JOIN_TTL,
) -> str:
    """The token, returned once; only its hash is stored.

    `call` is a téléconsultation's appointment, or the room key of another act's call.
    """
    role = Role(role)
    if user is None and role not in GUESTS:
        raise Invalid("seul un invité (accompagnant, appelant) rejoint sans compte")
    name = display_name.strip()[:120]
    if not name:
        raise Invalid.field("display_name", "nom affiché requis")
    key, appointment_id = (call.id, call.id) if isinstance(call, Appointment) else (call, None)
    await _forget_expired(db, key)
    token = random_token("tsj_")
    db.add(
        JoinToken(
            call_key=key,
            appointment_id=appointment_id,
            user_id=user.id if user else None,
            role=role,
            display_name=name,
            token_hash=token_hash(token),
            expires_at=utcnow() + ttl,
        )
    )
    await db.flush()
    return token


async def reissue(db: AsyncSession, used: JoinToken, ttl: timedelta) -> str:
    """A new token for the same participant and call: their way back after a drop."""
    token = random_token("tsj_")
    db.add(
        JoinToken(
            call_key=used.call_key,
            appointment_id=used.appointment_id,
            user_id=used.user_id,
            role=used.role,
            display_name=used.display_name,
            token_hash=token_hash(token),
            expires_at=utcnow() + ttl,
        )
    )
    await db.flush()
    return token


async def invite_companion(db: AsyncSession, appointment: Appointment, display_name: str) -> str:
    """A one-time link's token for a companion (nurse, pharmacist… at the patient's side)."""
    await _check_companions(db, appointment)
    return await issue_join_token(db, appointment, None, Role.companion, display_name, INVITATION_TTL)


async def _check_companions(db: AsyncSession, appointment: Appointment) -> None:
    companions = await db.scalar(
        select(func.count(func.distinct(JoinToken.display_name))).where(
            JoinToken.appointment_id == appointment.id, JoinToken.role == Role.companion
        )
    )
    if (companions or 0) >= MAX_COMPANIONS:
        raise Conflict(f"au plus {MAX_PARTICIPANTS} participants par téléconsultation")


async def invite_professional(
    db: AsyncSession, appointment: Appointment, invitee: User, display_name: str
) -> JoinToken:
    """A companion who joins with their own account (a nurse, pharmacist, psychologist…).

    The invitation is a companion join-token row bound to the invitee's user: its secret is
    never shown (nobody can present it); it lets that user, and no one else, ask for join
    tokens for this appointment until it expires, and it counts towards the participants.
    """
    existing = await invitation_for(db, appointment.id, invitee.id)
    if existing is not None:
        return existing
    await _check_companions(db, appointment)
    invitation = JoinToken(
        call_key=appointment.id,
        appointment_id=appointment.id,
        user_id=invitee.id,
        role=Role.companion,
        display_name=display_name.strip()[:120],
        token_hash=token_hash(random_token("tsi_")),
        expires_at=utcnow() + INVITATION_TTL,
    )
    db.add(invitation)
    await db.flush()
    return invitation


async def invitation_for(db: AsyncSession, appointment_id: str, user_id: str) -> JoinToken | None:
    """The live invitation of a user with an account to this appointment's call, if any."""
    return await db.scalar(
        select(JoinToken)
        .where(
            JoinToken.appointment_id == appointment_id,
            JoinToken.user_id == user_id,
            JoinToken.role == Role.companion,
            JoinToken.used_at.is_(None),
            JoinToken.expires_at > utcnow(),
        )
        .order_by(JoinToken.expires_at.desc())
        .limit(1)
    )


async def consume_join_token(db: AsyncSession, call_key: str, token: str) -> JoinToken:
    """Mark the token used and return it; Unauthorized if unknown, used, expired or for another call."""
    now = utcnow()
    result = await db.execute(
        update(JoinToken)
        .where(
            JoinToken.token_hash == token_hash(token),
            JoinToken.call_key == call_key,
            JoinToken.used_at.is_(None),
            JoinToken.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Unauthorized("jeton d'appel invalide, expiré ou déjà utilisé")
    row = await db.scalar(select(JoinToken).where(JoinToken.token_hash == token_hash(token)))
    assert row is not None
    return row


async def _forget_expired(db: AsyncSession, call_key: str) -> None:
    """Expired, unused tokens are worthless; used ones stay a day as the trace of who joined."""
    now = utcnow()
    await db.execute(
        delete(JoinToken).where(
            JoinToken.call_key == call_key,
            JoinToken.expires_at < now,
            JoinToken.used_at.is_(None),
            JoinToken.role != Role.companion,  # an invitation counts towards the limit even unused
        )
    )
