"""WebAuthn second factor (security keys, platform passkeys) with py_webauthn.

Each ceremony's challenge is a LoginChallenge of the browser session that asked for it: it
lives 5 minutes and is spent by the first answer, right or wrong. A refused answer is
returned, not raised, so that the request still commits the spent challenge.
"""

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import webauthn
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from telesante.auth.models import LoginChallenge, User, WebAuthnCredential, WebSession
from telesante.db import utcnow
from telesante.errors import Invalid
from telesante.kit.tokens import token_hash

RP_NAME = "Telesante"
LIFETIME = timedelta(minutes=5)
REGISTER, LOGIN = "webauthn_register", "webauthn_login"
TRANSPORTS = {t.value for t in AuthenticatorTransport}
# Anything a client can send that py_webauthn refuses or cannot parse: a refusal, never a 500.
BAD_ANSWER = (WebAuthnException, ValueError, TypeError, KeyError, AttributeError)
NO_CEREMONY = "aucune demande en cours ou demande expirée : recommencez"


@dataclass(frozen=True)
class RelyingParty:
    id: str  # the host name, which the credential is bound to
    origin: str  # scheme://host[:port] the browser reports in clientDataJSON


def relying_party(public_url: str | None, request_url: str) -> RelyingParty:
    """The public URL when configured (behind a proxy the request's host may be internal)."""
    parts = urlsplit(public_url or request_url)
    return RelyingParty(id=parts.hostname or "localhost", origin=f"{parts.scheme}://{parts.netloc}")


async def _new_challenge(db: AsyncSession, session: WebSession, kind: str, challenge: bytes) -> None:
    now = utcnow()
    # Only the latest ceremony of a kind counts: earlier open challenges are spent.
    for old in await db.scalars(_open(session, kind)):
        old.used_at = now
    encoded = bytes_to_base64url(challenge)
    db.add(
        LoginChallenge(
            session_id=session.id,
            kind=kind,
            secret_hash=token_hash(encoded),
            data={"challenge": encoded},
            expires_at=now + LIFETIME,
            attempts=0,
            created_at=now,
        )
    )
    await db.flush()


def _open(session: WebSession, kind: str) -> Any:
    return select(LoginChallenge).where(
        LoginChallenge.session_id == session.id, LoginChallenge.kind == kind, LoginChallenge.used_at.is_(None)
    )


async def _take_challenge(db: AsyncSession, session: WebSession, kind: str) -> bytes | None:
    """The open challenge, spent now whatever the outcome (single use); None if none is open."""
    challenge = await db.scalar(_open(session, kind).order_by(LoginChallenge.created_at.desc()).limit(1))
    now = utcnow()
    if challenge is None or challenge.expires_at <= now:
        return None
    challenge.used_at = now
    challenge.attempts += 1
    return webauthn.base64url_to_bytes(challenge.data["challenge"])


async def credentials_of(db: AsyncSession, user_id: str) -> list[WebAuthnCredential]:
    rows = await db.scalars(
        select(WebAuthnCredential)
        .where(WebAuthnCredential.user_id == user_id)
        .order_by(WebAuthnCredential.created_at)
    )
    return list(rows)


def _descriptors(credentials: list[WebAuthnCredential]) -> list[PublicKeyCredentialDescriptor]:
    return [
        PublicKeyCredentialDescriptor(
            id=webauthn.base64url_to_bytes(c.credential_id),
            transports=[AuthenticatorTransport(t) for t in c.transports if t in TRANSPORTS],
        )
        for c in credentials
    ]


async def registration_options(
    db: AsyncSession, user: User, session: WebSession, rp: RelyingParty
) -> dict[str, Any]:
    options = webauthn.generate_registration_options(
        rp_id=rp.id,
        rp_name=RP_NAME,
        user_name=user.email,
        user_id=user.id.encode(),
        user_display_name=user.email,
        timeout=int(LIFETIME.total_seconds() * 1000),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.DISCOURAGED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=_descriptors(await credentials_of(db, user.id)),
    )
    await _new_challenge(db, session, REGISTER, options.challenge)
    result: dict[str, Any] = json.loads(webauthn.options_to_json(options))
    return result


async def register(
    db: AsyncSession,
    user: User,
    session: WebSession,
    rp: RelyingParty,
    credential: dict[str, Any],
    label: str,
) -> WebAuthnCredential | str:
    """The new credential, or why it was refused."""
    expected = await _take_challenge(db, session, REGISTER)
    if expected is None:
        return NO_CEREMONY
    try:
        verified = webauthn.verify_registration_response(
            credential=credential,
            expected_challenge=expected,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
        )
    except BAD_ANSWER as exc:
        return f"enregistrement refusé ({exc})"
    credential_id = bytes_to_base64url(verified.credential_id)
    if await db.scalar(
        select(WebAuthnCredential.id).where(WebAuthnCredential.credential_id == credential_id)
    ):
        return "cette clé est déjà enregistrée"
    response = credential.get("response")
    transports = response.get("transports") if isinstance(response, dict) else None
    record = WebAuthnCredential(
        user_id=user.id,
        credential_id=credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=[t for t in transports or [] if isinstance(t, str) and t in TRANSPORTS],
        label=label.strip()[:120] or "Clé de sécurité",
    )
    db.add(record)
    await db.flush()
    return record


async def authentication_options(
    db: AsyncSession, user: User, session: WebSession, rp: RelyingParty
) -> dict[str, Any]:
    credentials = await credentials_of(db, user.id)
    if not credentials:
        raise Invalid.field("credential", "aucune clé de sécurité enregistrée pour ce compte")
    options = webauthn.generate_authentication_options(
        rp_id=rp.id,
        timeout=int(LIFETIME.total_seconds() * 1000),
        allow_credentials=_descriptors(credentials),
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    await _new_challenge(db, session, LOGIN, options.challenge)
    result: dict[str, Any] = json.loads(webauthn.options_to_json(options))
    return result


async def authenticate(
    db: AsyncSession, user: User, session: WebSession, rp: RelyingParty, credential: dict[str, Any]
) -> WebAuthnCredential | None:
    """The user's credential that signed this session's challenge, or None."""
    expected = await _take_challenge(db, session, LOGIN)
    if expected is None:
        return None
    stored = await db.scalar(
        select(WebAuthnCredential).where(
            WebAuthnCredential.credential_id == str(credential.get("id", "")),
            WebAuthnCredential.user_id == user.id,
        )
    )
    if stored is None:
        return None
    try:
        verified = webauthn.verify_authentication_response(
            credential=credential,
            expected_challenge=expected,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            credential_public_key=stored.public_key,
            credential_current_sign_count=stored.sign_count,
        )
    except BAD_ANSWER:
        return None
    # py_webauthn already refuses a counter that did not grow; checked here too, as it is the
    # only sign of a cloned key and must not depend on a library default.
    if (verified.new_sign_count or stored.sign_count) and verified.new_sign_count <= stored.sign_count:
        return None
    stored.sign_count = verified.new_sign_count
    stored.last_used_at = utcnow()
    return stored


async def remove(db: AsyncSession, user_id: str, credential_pk: str) -> bool:
    record = await db.get(WebAuthnCredential, credential_pk)
    if record is None or record.user_id != user_id:
        return False
    await db.delete(record)
    return True
