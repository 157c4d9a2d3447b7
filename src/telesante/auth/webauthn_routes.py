"""WebAuthn ceremonies as JSON (called by the page scripts) and the "Clés de sécurité" page.

Registration is for a fully logged-in user; authentication is the second factor at login and
ends with a new session id. Both are bound to the browser session that started them.
"""

from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.auth import service as auth
from telesante.auth import throttle
from telesante.auth import webauthn as wa
from telesante.auth.actor import Actor
from telesante.auth.models import User, WebAuthnCredential, WebSession
from telesante.deps import SESSION_COOKIE, CurrentActor, DbSession, OptionalActor, SettingsDep
from telesante.errors import PROBLEM_JSON, PROBLEM_RESPONSES, Conflict, Forbidden, NotFound, problem
from telesante.settings import Settings
from telesante.web.auth_pages import elevated
from telesante.web.guard import PageActor
from telesante.web.render import page

router = APIRouter(tags=["security"], responses=PROBLEM_RESPONSES)


class RegisterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    credential: dict[str, Any]
    label: str = Field(default="Clé de sécurité", max_length=120)


class AssertionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    credential: dict[str, Any]


class CredentialOut(BaseModel):
    id: str
    label: str
    created_at: str
    last_used_at: str | None
    transports: list[str]


def credential_out(record: WebAuthnCredential) -> CredentialOut:
    return CredentialOut(
        id=record.id,
        label=record.label,
        created_at=record.created_at.isoformat(),
        last_used_at=record.last_used_at.isoformat() if record.last_used_at else None,
        transports=record.transports,
    )


def _rp(request: Request, settings: Settings) -> wa.RelyingParty:
    return wa.relying_party(settings.public_url, str(request.base_url))


async def _browser_session(request: Request, db: AsyncSession, actor: Actor) -> WebSession:
    """A ceremony belongs to a browser session (its challenge is stored with it)."""
    session = await auth.find_session(db, request.cookies.get(SESSION_COOKIE, ""))
    if actor.via != "session" or session is None:
        raise Forbidden("cette opération se fait depuis le navigateur, connecté par mot de passe")
    return session


def _refused(status_code: int, detail: str) -> JSONResponse:
    """A refusal returned, not raised: the request still commits the spent challenge."""
    codes = {401: ("unauthorized", "Authentification requise"), 422: ("invalid", "Données invalides")}
    code, title = codes[status_code]
    body = problem(status_code, code, title, detail)
    return JSONResponse(body, status_code=status_code, media_type=PROBLEM_JSON)


@router.post("/api/webauthn/register/options")
async def register_options(
    request: Request, db: DbSession, settings: SettingsDep, actor: CurrentActor
) -> dict[str, Any]:
    """PublicKeyCredentialCreationOptions (JSON, base64url) for navigator.credentials.create()."""
    session = await _browser_session(request, db, actor)
    return await wa.registration_options(db, actor.user, session, _rp(request, settings))


@router.post("/api/webauthn/credentials", status_code=status.HTTP_201_CREATED, response_model=None)
async def register(
    request: Request, data: RegisterIn, db: DbSession, settings: SettingsDep, actor: CurrentActor
) -> CredentialOut | JSONResponse:
    session = await _browser_session(request, db, actor)
    outcome = await wa.register(db, actor.user, session, _rp(request, settings), data.credential, data.label)
    if isinstance(outcome, str):
        return _refused(422, f"credential: {outcome}")
    return credential_out(outcome)


@router.get("/api/webauthn/credentials")
async def list_credentials(db: DbSession, actor: CurrentActor) -> list[CredentialOut]:
    return [credential_out(c) for c in await wa.credentials_of(db, actor.user.id)]


@router.delete("/api/webauthn/credentials/{credential_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_credential(credential_id: str, db: DbSession, actor: CurrentActor) -> Response:
    await _remove(db, actor.user, credential_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def _remove(db: AsyncSession, user: User, credential_id: str) -> None:
    """Professionals and admins must keep a second factor: their last key goes only if TOTP stays."""
    mine = await wa.credentials_of(db, user.id)
    if credential_id not in {c.id for c in mine}:
        raise NotFound("clé inconnue")
    if len(mine) == 1 and user.role != "patient" and user.totp_enabled_at is None:
        raise Conflict("c'est votre seul second facteur : activez d'abord une application d'authentification")
    await wa.remove(db, user.id, credential_id)


@router.post("/api/webauthn/login/options")
async def login_options(
    request: Request, db: DbSession, settings: SettingsDep, actor: OptionalActor
) -> dict[str, Any]:
    """PublicKeyCredentialRequestOptions for the second factor of the session's login."""
    if actor is None:
        raise Forbidden("connectez-vous d'abord avec votre mot de passe")
    session = await _browser_session(request, db, actor)
    return await wa.authentication_options(db, actor.user, session, _rp(request, settings))


@router.post("/api/webauthn/login", response_model=None)
async def login(
    request: Request, data: AssertionIn, db: DbSession, settings: SettingsDep, actor: OptionalActor
) -> Response:
    """Check the signed challenge; on success the session is replaced by a fully logged-in one."""
    if actor is None:
        raise Forbidden("connectez-vous d'abord avec votre mot de passe")
    session = await _browser_session(request, db, actor)
    limiter, key = throttle.get_limiter(request), throttle.second_factor_key(actor.user.id)
    if wait := await throttle.lock_left(limiter, key):
        return _refused(401, throttle.wait_message(wait))
    used = await wa.authenticate(db, actor.user, session, _rp(request, settings), data.credential)
    if used is None:
        await limiter.fail(key, throttle.SECOND_FACTOR)
        return _refused(401, "clé de sécurité refusée")
    await limiter.reset(key)
    done = JSONResponse({"redirect": "/"})
    return await elevated(request, db, settings, session, "webauthn", done)


@router.get("/security/keys", include_in_schema=False)
async def keys_page(request: Request, db: DbSession, actor: PageActor) -> Response:
    return page(
        request,
        "security_keys.html",
        actor=actor,
        csrf_token=actor.csrf_token,
        keys=await wa.credentials_of(db, actor.user.id),
        error=None,
    )


@router.post("/security/keys/{credential_id}/delete", include_in_schema=False)
async def delete_key_page(
    credential_id: str,
    db: DbSession,
    actor: PageActor,
) -> Response:
    await _remove(db, actor.user, credential_id)
    return RedirectResponse("/security/keys", status_code=303)
