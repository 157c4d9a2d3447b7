"""Login through Pro Santé Connect: OpenID Connect authorization code flow with PKCE.

The flow: `start_login` keeps state, nonce and PKCE verifier server-side in a
`LoginChallenge` (kind `oidc`, short expiry) and returns the provider's authorization URL;
`finish_login` consumes that challenge once, exchanges the code, checks the ID token
(signature against the provider's JWKS, iss, aud, exp, nonce, acr) and returns the
professional's existing account. Accounts are never created here.

Refusals raise `OidcError`, whose message is shown to the user; the route renders it as a
page instead of raising, so the request still commits and a consumed challenge stays used.
"""

import base64
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import httpx
import structlog
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.auth.models import LoginChallenge, User
from telesante.auth.oidc_settings import OidcSettings
from telesante.db import utcnow
from telesante.directory.models import Professional
from telesante.kit.tokens import random_token, same, token_hash
from telesante.settings import Settings

log = structlog.get_logger()

KIND = "oidc"
# Asymmetric algorithms only: a symmetric one would let anyone holding the client secret sign.
ID_TOKEN_ALGORITHMS = ["RS256", "PS256", "ES256"]

# Where the national identifier is read, in order. Unverified against the ANS text: PSC's
# userinfo carries `SubjectNameID` and `preferred_username` = national id, which for an
# RPPS-registered professional is "8" followed by the 11-digit RPPS ("0" + ADELI otherwise,
# not handled). A plain `rpps` claim (an RPPS without prefix) is accepted too.
NATIONAL_ID_CLAIMS = ("SubjectNameID", "preferred_username")
RPPS_CLAIMS = ("rpps",)
RPPS_NATIONAL_ID = re.compile(r"8(\d{11})")
RPPS_ALONE = re.compile(r"\d{11}")

RETRY = "Veuillez recommencer la connexion."
EXPIRED = f"La demande de connexion Pro Santé Connect est expirée ou a déjà été utilisée. {RETRY}"
UNVERIFIED = f"La réponse de Pro Santé Connect n'a pas pu être vérifiée. {RETRY}"
UNREACHABLE = "Pro Santé Connect est injoignable pour le moment. Réessayez dans quelques minutes."
CANCELLED = "La connexion avec Pro Santé Connect a été annulée ou refusée."
NO_ACCOUNT = (
    "Aucun compte Telesante ne correspond à votre identité Pro Santé Connect{rpps}. "
    "Votre compte doit d'abord être créé par un administrateur de votre structure."
)
LINKED_ELSEWHERE = (
    "Ce compte Telesante est déjà relié à une autre identité Pro Santé Connect. Contactez un administrateur."
)


class OidcError(Exception):
    """A refusal: `message` (French) is shown to the user, `reason` only goes to the log."""

    def __init__(self, status: int, message: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.message = message
        self.reason = reason


@dataclass(frozen=True)
class Provider:
    """The provider's discovery document, with its keys, as fetched at `fetched_at`."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None
    keys: KeySet
    fetched_at: float


_providers: dict[str, Provider] = {}


def forget_providers() -> None:
    """Drop cached discovery documents and keys (tests; a provider that rotated everything)."""
    _providers.clear()


def rpps_from_claims(claims: Mapping[str, Any]) -> str | None:
    """The RPPS number named by the provider's claims, or None.

    The exact PSC claim set is unverified: change NATIONAL_ID_CLAIMS / RPPS_CLAIMS above,
    not the callers. A national id that is not RPPS-based (ADELI, test ids) gives None.
    """
    for name in NATIONAL_ID_CLAIMS:
        value = claims.get(name)
        if isinstance(value, str) and (match := RPPS_NATIONAL_ID.fullmatch(value.strip())):
            return match.group(1)
    for name in RPPS_CLAIMS:
        value = claims.get(name)
        if isinstance(value, str) and RPPS_ALONE.fullmatch(value.strip()):
            return value.strip()
    return None


def _http(oidc: OidcSettings) -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=oidc.http_timeout_seconds, follow_redirects=False)


async def _get_json(http: httpx.AsyncClient, url: str, **kwargs: Any) -> dict[str, Any]:
    try:
        response = await http.get(url, **kwargs)
    except httpx.HTTPError as exc:
        raise OidcError(502, UNREACHABLE, f"GET {url}: {exc.__class__.__name__}") from exc
    return _json_object(response, url)


def _json_object(response: httpx.Response, url: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code != 200 or not isinstance(body, dict):
        raise OidcError(502, UNREACHABLE, f"{url} answered {response.status_code}")
    return body


async def provider(http: httpx.AsyncClient, oidc: OidcSettings, *, refresh: bool = False) -> Provider:
    """The discovery document and keys, cached for `metadata_cache_seconds`."""
    cached = _providers.get(oidc.metadata_url)
    if cached and not refresh and time.monotonic() - cached.fetched_at < oidc.metadata_cache_seconds:
        return cached
    document = await _get_json(http, oidc.metadata_url)
    # OpenID Connect Discovery §4.3: the document must name the issuer we trust.
    if document.get("issuer") != oidc.issuer:
        raise OidcError(
            502, UNREACHABLE, f"discovery issuer {document.get('issuer')!r} is not the configured one"
        )
    try:
        fetched = Provider(
            issuer=str(document["issuer"]),
            authorization_endpoint=str(document["authorization_endpoint"]),
            token_endpoint=str(document["token_endpoint"]),
            jwks_uri=str(document["jwks_uri"]),
            userinfo_endpoint=document.get("userinfo_endpoint"),
            keys=await _keys(http, str(document["jwks_uri"])),
            fetched_at=time.monotonic(),
        )
    except KeyError as exc:
        raise OidcError(502, UNREACHABLE, f"discovery document lacks {exc}") from exc
    _providers[oidc.metadata_url] = fetched
    return fetched


async def _keys(http: httpx.AsyncClient, url: str) -> KeySet:
    jwks: Any = await _get_json(http, url)
    try:
        return KeySet.import_key_set(jwks)
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise OidcError(502, UNREACHABLE, f"unusable JWKS: {exc}") from exc


async def start_login(db: AsyncSession, oidc: OidcSettings, settings: Settings) -> tuple[str, str]:
    """Record a new challenge; returns the authorization URL and the state to bind to the browser."""
    async with _http(oidc) as http:
        endpoints = await provider(http, oidc)
    now = utcnow()
    # Abandoned logins would pile up: each new one sweeps the expired ones.
    await db.execute(
        delete(LoginChallenge).where(LoginChallenge.kind == KIND, LoginChallenge.expires_at < now)
    )
    state, nonce, verifier = random_token(), random_token(), random_token(nbytes=48)
    redirect_uri = oidc.callback_url(settings)
    db.add(
        LoginChallenge(
            kind=KIND,
            secret_hash=token_hash(state),
            data={"nonce": nonce, "code_verifier": verifier, "redirect_uri": redirect_uri},
            expires_at=now + timedelta(minutes=oidc.challenge_minutes),
        )
    )
    await db.flush()
    extra = {"acr_values": oidc.acr_values} if oidc.acr_values else {}
    url = prepare_grant_uri(
        endpoints.authorization_endpoint,
        client_id=oidc.client_id,
        response_type="code",
        redirect_uri=redirect_uri,
        scope=oidc.scope,
        state=state,
        nonce=nonce,
        code_challenge=create_s256_code_challenge(verifier),
        code_challenge_method="S256",
        **extra,
    )
    return str(url), state


async def finish_login(
    db: AsyncSession,
    oidc: OidcSettings,
    *,
    state: str | None,
    browser_state: str | None,
    code: str | None,
    error: str | None,
) -> User:
    """Check the provider's answer and return the account it designates (see module doc)."""
    if error:
        raise OidcError(401, CANCELLED, f"provider error {error[:100]!r}")
    # The state must be the one this browser was given at the start (no login CSRF).
    if not state or not browser_state or len(state) > 200 or not same(state, browser_state):
        raise OidcError(400, EXPIRED, "state missing or not bound to this browser")
    challenge = await _pending_challenge(db, state)
    try:
        claims = await _provider_answer(oidc, code, challenge.data)
    finally:
        # Used up even when the answer is refused. Written after the network calls so that
        # SQLite's write lock is not held while waiting for the provider.
        await _use_up(db, challenge)
    return await _account(db, str(claims["sub"]), rpps_from_claims(claims))


async def _pending_challenge(db: AsyncSession, state: str) -> LoginChallenge:
    challenge = await db.scalar(
        select(LoginChallenge).where(
            LoginChallenge.kind == KIND, LoginChallenge.secret_hash == token_hash(state)
        )
    )
    if challenge is None or challenge.used_at is not None or challenge.expires_at <= utcnow():
        raise OidcError(400, EXPIRED, "unknown, used or expired state")
    return challenge


async def _use_up(db: AsyncSession, challenge: LoginChallenge) -> None:
    """Single use: a guarded UPDATE, so two callbacks racing with one state cannot both win."""
    result = await db.execute(
        update(LoginChallenge)
        .where(LoginChallenge.id == challenge.id, LoginChallenge.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise OidcError(400, EXPIRED, "state used by a concurrent callback")


async def _provider_answer(oidc: OidcSettings, code: str | None, data: dict[str, Any]) -> dict[str, Any]:
    """The code exchanged, the ID token checked, userinfo added when the RPPS is not in it."""
    if not code or len(code) > 2000:
        raise OidcError(400, UNVERIFIED, "no authorization code")
    async with _http(oidc) as http:
        endpoints = await provider(http, oidc)
        tokens = await _exchange_code(http, endpoints, oidc, code, data)
        claims = await _checked_id_token(http, endpoints, oidc, tokens, data["nonce"])
        return await _with_userinfo(http, endpoints, claims, tokens)


async def _exchange_code(
    http: httpx.AsyncClient, endpoints: Provider, oidc: OidcSettings, code: str, data: dict[str, Any]
) -> dict[str, Any]:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": data["redirect_uri"],
        "code_verifier": data["code_verifier"],
    }
    client_id = oidc.client_id or ""
    secret = oidc.client_secret.get_secret_value() if oidc.client_secret else ""
    headers = {"Accept": "application/json"}
    if oidc.token_endpoint_auth_method == "client_secret_post":  # noqa: S105 - a method name
        form |= {"client_id": client_id, "client_secret": secret}
    else:  # RFC 6749 §2.3.1: the credentials are form-encoded before Basic encoding
        pair = f"{quote(client_id, safe='')}:{quote(secret, safe='')}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
    try:
        response = await http.post(endpoints.token_endpoint, data=form, headers=headers)
    except httpx.HTTPError as exc:
        raise OidcError(502, UNREACHABLE, f"token endpoint: {exc.__class__.__name__}") from exc
    if response.status_code in (400, 401):  # the provider refused the code (expired, reused, PKCE)
        raise OidcError(401, UNVERIFIED, f"token endpoint refused the code: {response.text[:200]!r}")
    tokens = _json_object(response, endpoints.token_endpoint)
    if not isinstance(tokens.get("id_token"), str):
        raise OidcError(502, UNVERIFIED, "token response without an id_token")
    return tokens


async def _checked_id_token(
    http: httpx.AsyncClient, endpoints: Provider, oidc: OidcSettings, tokens: dict[str, Any], nonce: str
) -> dict[str, Any]:
    """OpenID Connect Core §3.1.3.7: signature, iss, aud (and azp), exp, iat, nonce; then acr."""
    token = await _verified_jwt(http, endpoints, oidc, tokens["id_token"])
    access_token = tokens.get("access_token") if isinstance(tokens.get("access_token"), str) else None
    claims = CodeIDToken(
        token.claims,
        token.header,
        options={
            "iss": {"essential": True, "value": oidc.issuer},
            "aud": {"essential": True, "value": oidc.client_id},
        },
        params={"nonce": nonce, "client_id": oidc.client_id, "access_token": access_token},
    )
    try:
        claims.validate(leeway=oidc.clock_leeway_seconds)
    except (JoseError, ValueError, TypeError) as exc:
        raise OidcError(401, UNVERIFIED, f"ID token claims refused: {exc}") from exc
    if oidc.required_acr and claims.get("acr") != oidc.required_acr:
        raise OidcError(401, UNVERIFIED, f"acr {claims.get('acr')!r} is not {oidc.required_acr!r}")
    if not isinstance(claims.get("sub"), str) or not claims["sub"] or len(claims["sub"]) > 200:
        raise OidcError(401, UNVERIFIED, "ID token without a usable sub")
    return dict(claims)


async def _verified_jwt(http: httpx.AsyncClient, endpoints: Provider, oidc: OidcSettings, raw: str) -> Any:
    """Check the signature; an unknown key id refetches the keys once (key rotation)."""
    for attempt in (1, 2):
        try:
            return jwt.decode(raw, endpoints.keys, algorithms=ID_TOKEN_ALGORITHMS)
        except InvalidKeyIdError as exc:
            if attempt == 2:
                raise OidcError(401, UNVERIFIED, "ID token signed by an unknown key") from exc
            endpoints = await provider(http, oidc, refresh=True)
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise OidcError(401, UNVERIFIED, f"ID token signature refused: {exc}") from exc
    raise AssertionError("unreachable")


async def _with_userinfo(
    http: httpx.AsyncClient, endpoints: Provider, claims: dict[str, Any], tokens: dict[str, Any]
) -> dict[str, Any]:
    """PSC may put the national id in userinfo only; ID token claims keep precedence."""
    access_token = tokens.get("access_token")
    if rpps_from_claims(claims) or not endpoints.userinfo_endpoint or not isinstance(access_token, str):
        return claims
    info = await _get_json(
        http, endpoints.userinfo_endpoint, headers={"Authorization": f"Bearer {access_token}"}
    )
    # OpenID Connect Core §5.3.2: userinfo about another subject must not be used.
    if info.get("sub") != claims["sub"]:
        raise OidcError(401, UNVERIFIED, "userinfo sub differs from the ID token's")
    return info | claims


async def _account(db: AsyncSession, subject: str, rpps: str | None) -> User:
    """The linked account, or the account of the professional with this RPPS (then linked)."""
    user = await db.scalar(select(User).where(User.oidc_subject == subject))
    if user is not None:
        linked_rpps = await db.scalar(
            select(Professional.rpps).where(Professional.id == user.professional_id)
        )
        if rpps is not None and linked_rpps != rpps:
            raise OidcError(403, LINKED_ELSEWHERE, "linked subject now names another RPPS")
    else:
        user = await _account_by_rpps(db, rpps)
        if user.oidc_subject is not None:
            raise OidcError(403, LINKED_ELSEWHERE, "account already linked to another subject")
        user.oidc_subject = subject  # first PSC login: link, so later logins match by subject
    if not user.is_active or user.role != "professional":
        raise OidcError(403, NO_ACCOUNT.format(rpps=""), "account inactive or not a professional")
    return user


async def _account_by_rpps(db: AsyncSession, rpps: str | None) -> User:
    shown = f" (RPPS {rpps})" if rpps else ""
    user = None
    if rpps is not None:
        user = await db.scalar(
            select(User)
            .join(Professional, User.professional_id == Professional.id)
            .where(Professional.rpps == rpps)
        )
    if user is None:
        raise OidcError(403, NO_ACCOUNT.format(rpps=shown), "no account for this national id")
    return user
