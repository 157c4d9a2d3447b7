"""Patients' second factor by e-mail: a 6-digit one-time code sent through the outbox.

The code is stored as a keyed hash (HMAC with the secret key: a 6-digit code would fall to
a plain hash by brute force). The e-mail job needs the code itself, so the challenge also
keeps it encrypted with the master key until the e-mail is sent, then forgets it.
"""

import base64
import hashlib
import hmac
import secrets
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.auth.models import LoginChallenge, User, WebSession
from telesante.db import utcnow
from telesante.jobs.queue import job_handler, schedule
from telesante.kit import crypto
from telesante.realtime.bus import Bus
from telesante.settings import get_settings

log = structlog.get_logger()

KIND = "email_code"
JOB = "auth.email_code"
LIFETIME = timedelta(minutes=10)
MAX_ATTEMPTS = 5
RESEND_AFTER = timedelta(seconds=60)
MAX_PER_SESSION = 5  # codes one login may ask for, so the page cannot be used to flood a mailbox


class TooSoon(Exception):
    """A new code was asked for too early, or too many times for this login."""


def _digest(code: str) -> str:
    key = get_settings().secret_key.encode()
    return hmac.new(key, f"{KIND}:{code}".encode(), hashlib.sha256).hexdigest()


async def issue(db: AsyncSession, session: WebSession) -> LoginChallenge:
    """A new code for this login session, e-mailed by a job; earlier codes stop working."""
    now = utcnow()
    previous = list(
        await db.scalars(
            select(LoginChallenge).where(LoginChallenge.session_id == session.id, LoginChallenge.kind == KIND)
        )
    )
    if len(previous) >= MAX_PER_SESSION or any(now - c.created_at < RESEND_AFTER for c in previous):
        raise TooSoon
    for old in previous:
        old.used_at = old.used_at or now
    code = f"{secrets.randbelow(1_000_000):06d}"
    sealed = base64.b64encode(crypto.active().encrypt(code.encode())).decode()
    challenge = LoginChallenge(
        session_id=session.id,
        kind=KIND,
        secret_hash=_digest(code),
        data={"sealed": sealed},
        expires_at=now + LIFETIME,
        attempts=0,
        created_at=now,
    )
    db.add(challenge)
    await db.flush()
    await schedule(
        db, JOB, {"challenge_id": challenge.id}, dedupe_key=f"{JOB}:{challenge.id}", max_attempts=3
    )
    return challenge


async def codes_sent(db: AsyncSession, session: WebSession) -> int:
    found = await db.scalar(
        select(func.count())
        .select_from(LoginChallenge)
        .where(LoginChallenge.session_id == session.id, LoginChallenge.kind == KIND)
    )
    return int(found or 0)


async def verify(db: AsyncSession, session: WebSession, code: str) -> bool:
    """True once for the right code of the session's current challenge, within its life and attempts."""
    challenge = await db.scalar(
        select(LoginChallenge)
        .where(
            LoginChallenge.session_id == session.id,
            LoginChallenge.kind == KIND,
            LoginChallenge.used_at.is_(None),
        )
        .order_by(LoginChallenge.created_at.desc())
        .limit(1)
    )
    now = utcnow()
    if challenge is None or challenge.expires_at <= now:
        return False
    challenge.attempts += 1
    if challenge.attempts >= MAX_ATTEMPTS:
        challenge.used_at = now  # the last allowed try: the code is spent whatever the outcome
    code = code.strip().replace(" ", "")
    if not (len(code) == 6 and code.isdigit() and hmac.compare_digest(_digest(code), challenge.secret_hash)):
        return False
    challenge.used_at = now
    return True


@job_handler(JOB)
async def send_code(db: AsyncSession, payload: dict[str, Any], _bus: Bus) -> None:
    """Send the code. Nothing is sent for a code already used, replaced or expired."""
    settings = get_settings()
    challenge = await db.get(LoginChallenge, payload["challenge_id"])
    if challenge is None or challenge.used_at or challenge.expires_at <= utcnow():
        return
    session = await db.get(WebSession, challenge.session_id) if challenge.session_id else None
    user = await db.get(User, session.user_id) if session else None
    sealed = challenge.data.get("sealed")
    if user is None or not sealed:
        return
    code = crypto.active().decrypt(base64.b64decode(sealed)).decode()
    if not settings.smtp_host:
        _without_smtp(settings.environment, code)
        return
    await aiosmtplib.send(
        _message(user.email, code), hostname=settings.smtp_host, port=settings.smtp_port, timeout=20
    )
    challenge.data = {"sent_at": utcnow().isoformat()}  # the plaintext is no longer needed


def _message(to: str, code: str) -> EmailMessage:
    settings = get_settings()
    message = EmailMessage()
    message["From"] = settings.smtp_sender
    message["To"] = to
    message["Subject"] = "Telesante : votre code de connexion"
    message.set_content(
        "Bonjour,\n\n"
        f"Votre code de connexion à Telesante est : {code}\n\n"
        "Il est valable 10 minutes et ne sert qu'une fois. Ne le communiquez à personne : "
        "Telesante ne vous le demandera jamais par téléphone.\n\n"
        "Si vous n'essayez pas de vous connecter, changez votre mot de passe.\n"
    )
    return message


def _without_smtp(environment: str, code: str) -> None:
    # Without SMTP a patient cannot log in; in development the code goes to the console so the
    # demo works. Anywhere else, never: a code in logs is a code for anyone who reads them.
    if environment == "development":
        log.warning("auth.email_code.no_smtp_dev_only", code=code)
    else:
        log.error("auth.email_code.no_smtp")


def mask_email(email: str) -> str:
    """m•••@exemple.fr: enough for the patient to recognise the address, not to learn it."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}"
