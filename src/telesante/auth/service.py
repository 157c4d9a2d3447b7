"""Accounts, login sessions and API tokens. Services flush; the edge commits."""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.auth import totp
from telesante.auth.actor import Actor
from telesante.auth.models import ApiToken, User, WebSession
from telesante.auth.passwords import hash_password, password_problem, verify_password
from telesante.db import utcnow
from telesante.directory.models import Professional
from telesante.errors import Conflict, Invalid
from telesante.kit.tokens import random_token, token_hash
from telesante.patients.models import Patient
from telesante.settings import Settings

ROLES = ("patient", "professional", "admin")


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
        password_hash=hash_password(password),
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
    ok = verify_password(user.password_hash if user else None, password)
    return user if ok and user and user.is_active else None


async def open_session(db: AsyncSession, user: User, settings: Settings) -> tuple[str, WebSession]:
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
    )
    db.add(session)
    await db.flush()
    return token, session


async def session_actor(db: AsyncSession, token: str, settings: Settings) -> Actor | None:
    session = await db.scalar(select(WebSession).where(WebSession.token_hash == token_hash(token)))
    now = utcnow()
    if session is None or session.expires_at <= now:
        return None
    if now - session.last_seen_at > timedelta(minutes=settings.session_idle_minutes):
        await db.delete(session)
        return None
    user = await db.get(User, session.user_id)
    if user is None or not user.is_active:
        return None
    if now - session.last_seen_at > timedelta(minutes=1):
        session.last_seen_at = now  # coarse, so most requests do not write
    return Actor(user=user, mfa_passed=session.mfa_passed, via="session", csrf_token=session.csrf_token)


async def find_session(db: AsyncSession, token: str) -> WebSession | None:
    return await db.scalar(select(WebSession).where(WebSession.token_hash == token_hash(token)))


async def close_session(db: AsyncSession, token: str) -> None:
    await db.execute(delete(WebSession).where(WebSession.token_hash == token_hash(token)))


async def pass_second_factor(db: AsyncSession, user: User, session: WebSession, code: str) -> bool:
    """Accept a TOTP code or a one-use recovery code and mark the session as fully logged in."""
    if not user.totp_secret or not user.totp_enabled_at:
        return False
    if totp.verify_code(user.totp_secret, code):
        session.mfa_passed = True
        return True
    remaining = totp.use_recovery_code(user.recovery_code_hashes, code)
    if remaining is None:
        return False
    user.recovery_code_hashes = remaining
    session.mfa_passed = True
    return True


async def start_totp_enrolment(user: User) -> str:
    if user.totp_enabled_at is None:
        user.totp_secret = totp.new_secret()
    return user.totp_secret or ""


async def confirm_totp_enrolment(user: User, session: WebSession, code: str) -> list[str] | None:
    """Enable TOTP if `code` proves the authenticator works; returns the recovery codes once."""
    if user.totp_enabled_at or not user.totp_secret or not totp.verify_code(user.totp_secret, code):
        return None
    codes = totp.new_recovery_codes()
    user.recovery_code_hashes = totp.hash_recovery_codes(codes)
    user.totp_enabled_at = utcnow()
    session.mfa_passed = True
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
