"""Accounts, login sessions and API tokens. Services flush; the edge commits."""

import asyncio
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.auth import totp
from telesante.auth.actor import Actor
from telesante.auth.models import ApiToken, User, WebAuthnCredential, WebSession
from telesante.auth.passwords import hash_password, password_problem, verify_password
from telesante.db import utcnow
from telesante.directory.models import Professional
from telesante.errors import Conflict, Invalid
from telesante.kit.tokens import random_token, token_hash
from telesante.patients.models import Patient
from telesante.settings import Settings

ROLES = ("patient", "professional", "admin", "auditor")
# Patients log in from their own device, mostly at home, and read long documents: an hour of
# idleness before the session ends. Professionals and admins get settings.session_idle_minutes
# (30 by default), as they often work on shared workstations.
PATIENT_IDLE_MINUTES = 60
# A session that has passed the password but not yet the second factor lives this long.
PENDING_MINUTES = 15


async def create_user(
    db: AsyncSession,
    *,
    email: str,
    password: str,
    role: str,
    professional_id: str | None = None,
    patient_id: str | None = None,
) -> User:
    if role not in ROLES:
        raise Invalid.field("role", f"must be one of {', '.join(ROLES)}")
    if problem := password_problem(password):
        raise Invalid.field("password", problem)
    email = email.strip().lower()
    if await db.scalar(select(User.id).where(User.email == email)):
        raise Conflict("un compte existe déjà avec cette adresse e-mail")
    await _check_link(db, "professional_id", Professional, professional_id, User.professional_id)
    await _check_link(db, "patient_id", Patient, patient_id, User.patient_id)
    user = User(
        email=email,
        password_hash=await asyncio.to_thread(hash_password, password),  # argon2: off the event loop
        role=role,
        professional_id=professional_id,
        patient_id=patient_id,
        recovery_code_hashes=[],
    )
    db.add(user)
    await db.flush()
    return user


async def _check_link(
    db: AsyncSession, field: str, model: type[Any], target_id: str | None, column: Any
) -> None:
    """An account is tied to an existing record, and to one account at most."""
    if target_id is None:
        return
    if await db.get(model, target_id) is None:
        raise Invalid.field(field, "no such record")
    if await db.scalar(select(User.id).where(column == target_id)):
        raise Conflict(f"{field}: this record already has an account")


async def authenticate(db: AsyncSession, email: str, password: str) -> User | None:
    user = await db.scalar(select(User).where(User.email == email.strip().lower()))
    ok = await asyncio.to_thread(verify_password, user.password_hash if user else None, password)
    return user if ok and user and user.is_active else None


async def open_session(
    db: AsyncSession,
    user: User,
    settings: Settings,
    *,
    ip: str | None = None,
    user_agent: str | None = None,
) -> tuple[str, WebSession]:
    """A fresh session id at every login (no fixation); returns the cookie value."""
    now = utcnow()
    token = random_token()
    session = WebSession(
        token_hash=token_hash(token),
        user_id=user.id,
        csrf_token=random_token(nbytes=24),
        mfa_passed=False,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=settings.session_absolute_hours),
        ip=(ip or None) and ip[:45],
        user_agent=(user_agent or None) and user_agent[:200],
    )
    db.add(session)
    await db.flush()
    return token, session


def idle_limit(user: User, settings: Settings) -> timedelta:
    minutes = PATIENT_IDLE_MINUTES if user.role == "patient" else settings.session_idle_minutes
    return timedelta(minutes=minutes)


async def session_actor(db: AsyncSession, token: str, settings: Settings) -> Actor | None:
    session = await find_session(db, token)
    now = utcnow()
    if session is None or session.expires_at <= now:
        return None
    user = await db.get(User, session.user_id)
    if user is None or not user.is_active:
        return None
    stale = now - session.last_seen_at > idle_limit(user, settings)
    if stale or (not session.mfa_passed and now - session.created_at > timedelta(minutes=PENDING_MINUTES)):
        await db.delete(session)
        return None
    if now - session.last_seen_at > timedelta(minutes=1):
        session.last_seen_at = now  # coarse, so most requests do not write
    return Actor(user=user, mfa_passed=session.mfa_passed, via="session", csrf_token=session.csrf_token)


async def find_session(db: AsyncSession, token: str) -> WebSession | None:
    if not token:
        return None
    return await db.scalar(select(WebSession).where(WebSession.token_hash == token_hash(token)))


async def close_session(db: AsyncSession, token: str) -> None:
    await db.execute(delete(WebSession).where(WebSession.token_hash == token_hash(token)))


async def elevate_session(db: AsyncSession, session: WebSession, method: str) -> tuple[str, WebSession]:
    """The second factor passed: a new session id for the new privilege, the old one deleted.

    A token captured before the second factor (shoulder, proxy log, fixation) is then worth
    nothing. The absolute lifetime still counts from the password step.
    """
    token = random_token()
    fresh = WebSession(
        token_hash=token_hash(token),
        user_id=session.user_id,
        csrf_token=random_token(nbytes=24),
        mfa_passed=True,
        mfa_method=method,
        created_at=session.created_at,
        last_seen_at=utcnow(),
        expires_at=session.expires_at,
        ip=session.ip,
        user_agent=session.user_agent,
    )
    db.add(fresh)
    await db.flush()
    # A bulk delete (the database cascades to the session's login challenges).
    await db.execute(delete(WebSession).where(WebSession.id == session.id))
    db.expunge(session)
    return token, fresh


async def has_webauthn(db: AsyncSession, user: User) -> bool:
    found = await db.scalar(
        select(WebAuthnCredential.id).where(WebAuthnCredential.user_id == user.id).limit(1)
    )
    return found is not None


async def uses_email_code(db: AsyncSession, user: User) -> bool:
    """Patients without an authenticator app or key get their second factor by e-mail.

    Professionals and admins never do (PGSSI-S: a means they hold, not a mailbox).
    """
    return user.role == "patient" and user.totp_enabled_at is None and not await has_webauthn(db, user)


async def pass_second_factor(db: AsyncSession, user: User, session: WebSession, code: str) -> bool:
    """Accept a TOTP code or a one-use recovery code and mark the session as fully logged in."""
    if not user.totp_secret or not user.totp_enabled_at:
        return False
    if totp.verify_code(user.totp_secret, code):
        session.mfa_passed, session.mfa_method = True, "totp"
        return True
    remaining = await asyncio.to_thread(totp.use_recovery_code, user.recovery_code_hashes, code)
    if remaining is None:
        return False
    user.recovery_code_hashes = remaining
    session.mfa_passed, session.mfa_method = True, "recovery"
    return True


async def active_sessions(db: AsyncSession, user_id: str) -> list[WebSession]:
    rows = await db.scalars(
        select(WebSession)
        .where(WebSession.user_id == user_id, WebSession.expires_at > utcnow())
        .order_by(WebSession.last_seen_at.desc())
    )
    return list(rows)


async def end_session(db: AsyncSession, user_id: str, session_id: str) -> bool:
    """End one of the user's own sessions; another user's session id is as good as unknown."""
    result = await db.execute(
        delete(WebSession).where(WebSession.id == session_id, WebSession.user_id == user_id)
    )
    return bool(getattr(result, "rowcount", 0))


async def end_all_sessions(db: AsyncSession, user_id: str) -> int:
    result = await db.execute(delete(WebSession).where(WebSession.user_id == user_id))
    return int(getattr(result, "rowcount", 0))


async def start_totp_enrolment(user: User) -> str:
    if user.totp_enabled_at is None:
        user.totp_secret = totp.new_secret()
    return user.totp_secret or ""


async def confirm_totp_enrolment(user: User, session: WebSession, code: str) -> list[str] | None:
    """Enable TOTP if `code` proves the authenticator works; returns the recovery codes once."""
    if user.totp_enabled_at or not user.totp_secret or not totp.verify_code(user.totp_secret, code):
        return None
    codes = totp.new_recovery_codes()
    user.recovery_code_hashes = await asyncio.to_thread(totp.hash_recovery_codes, codes)
    user.totp_enabled_at = utcnow()
    session.mfa_passed, session.mfa_method = True, session.mfa_method or "totp"
    return codes


async def create_api_token(
    db: AsyncSession, user: User, settings: Settings, label: str = "cli"
) -> tuple[str, ApiToken]:
    token = random_token(prefix="ts_")
    record = ApiToken(
        token_hash=token_hash(token),
        user_id=user.id,
        label=label,
        expires_at=utcnow() + timedelta(days=settings.api_token_days),
    )
    db.add(record)
    await db.flush()
    return token, record


async def token_actor(db: AsyncSession, token: str) -> Actor | None:
    record = await db.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(token)))
    now = utcnow()
    if record is None or record.revoked_at is not None or record.expires_at <= now:
        return None
    user = await db.get(User, record.user_id)
    if user is None or not user.is_active:
        return None
    if record.last_used_at is None or now - record.last_used_at > timedelta(minutes=5):
        record.last_used_at = now
    # A token is issued by an operator to a known account: it stands for both factors.
    return Actor(user=user, mfa_passed=True, via="token")


async def revoke_api_token(db: AsyncSession, token_id: str, when: datetime | None = None) -> bool:
    record = await db.get(ApiToken, token_id)
    if record is None or record.revoked_at:
        return False
    record.revoked_at = when or utcnow()
    return True


async def list_users(db: AsyncSession) -> list[User]:
    return list(await db.scalars(select(User).order_by(User.role, User.email)))
