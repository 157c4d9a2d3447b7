"""The dependencies every route takes, as Annotated aliases."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.auth import service as auth
from telesante.auth.actor import Actor
from telesante.db import commit, keep_after_rollback
from telesante.errors import Forbidden, Unauthorized
from telesante.kit.tokens import same
from telesante.runtime import Runtime
from telesante.settings import Settings

SESSION_COOKIE = "ts_session"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_settings_dep(runtime: RuntimeDep) -> Settings:
    return runtime.settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


async def get_db(request: Request, runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    """One request = one transaction, committed before the response is sent."""
    async with runtime.sessionmaker() as session:
        session.info["request_id"] = request.scope.get("state", {}).get("request_id")
        try:
            yield session
        except BaseException:
            await session.rollback()
            await keep_after_rollback(session)
            raise
        await commit(session)


DbSession = Annotated[AsyncSession, Depends(get_db, scope="function")]


async def get_optional_actor(request: Request, db: DbSession, settings: SettingsDep) -> Actor | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        actor = await auth.token_actor(db, header[7:].strip())
        if actor is None:
            raise Unauthorized("jeton d'API invalide, expiré ou révoqué")
        return actor
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    actor = await auth.session_actor(db, cookie, settings)
    if actor and request.method in UNSAFE_METHODS:
        await _check_csrf(request, actor)
    return actor


async def _check_csrf(request: Request, actor: Actor) -> None:
    """Cookie-authenticated writes must echo the session's CSRF token (header or form field)."""
    sent = request.headers.get(CSRF_HEADER)
    # Only url-encoded forms are parsed here: Starlette spools multipart files to disk.
    if sent is None and request.headers.get("content-type", "").startswith(
        "application/x-www-form-urlencoded"
    ):
        sent = str((await request.form()).get("csrf_token", ""))
    if not sent or not actor.csrf_token or not same(sent, actor.csrf_token):
        raise Forbidden("jeton CSRF absent ou invalide")


OptionalActor = Annotated[Actor | None, Depends(get_optional_actor)]


async def get_actor(actor: OptionalActor) -> Actor:
    """An authenticated user who has passed the second factor when their role needs it."""
    if actor is None:
        raise Unauthorized("authentification requise")
    if not actor.fully_authenticated:
        raise Forbidden("second facteur d'authentification requis")
    return actor


CurrentActor = Annotated[Actor, Depends(get_actor)]


async def get_admin(actor: CurrentActor) -> Actor:
    if actor.role != "admin":
        raise Forbidden("réservé aux administrateurs")
    return actor


AdminActor = Annotated[Actor, Depends(get_admin)]


def set_session_cookie(response: Response, request: Request, token: str, settings: Settings) -> None:
    """The session cookie: HTTP-only, SameSite=Lax, Secure over HTTPS, no longer than the session."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        max_age=settings.session_absolute_hours * 3600,
    )
