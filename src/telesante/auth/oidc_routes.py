"""Pages of the Pro Santé Connect login: start (redirect to PSC) and callback.

When TELESANTE_OIDC_* is not configured, both answer 404 and the login page hides the button.
"""

from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from telesante.auth import oidc
from telesante.auth import service as auth
from telesante.auth.oidc_settings import OidcSettings, get_oidc_settings
from telesante.deps import SESSION_COOKIE, DbSession, SettingsDep
from telesante.errors import NotFound
from telesante.web.render import page, templates

router = APIRouter(prefix="/auth/psc", include_in_schema=False)
log = structlog.get_logger()

# Binds the state to the browser that started the login: a callback URL carried to another
# browser (login CSRF, a leaked link) is refused. Lax, since the callback is a cross-site
# top-level GET from the provider.
STATE_COOKIE = "ts_psc_state"
STATE_COOKIE_PATH = "/auth/psc"
MFA_METHOD = "oidc"

# The login page (rendered by web/auth_pages.py) shows the button only when this is true.
templates.env.globals["psc_login_enabled"] = lambda: get_oidc_settings().configured


def configured_oidc() -> OidcSettings:
    settings = get_oidc_settings()
    if not settings.configured:
        raise NotFound("page introuvable")
    return settings


ConfiguredOidc = Annotated[OidcSettings, Depends(configured_oidc)]


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _refusal(request: Request, exc: oidc.OidcError) -> Response:
    """Rendered, not raised: the request commits, so a consumed state stays consumed."""
    log.warning("oidc.login_refused", reason=exc.reason, status=exc.status)
    response = page(
        request, "error.html", exc.status, title="Connexion Pro Santé Connect impossible", detail=exc.message
    )
    response.delete_cookie(STATE_COOKIE, path=STATE_COOKIE_PATH)
    return response


@router.get("/login")
async def psc_login(
    request: Request, db: DbSession, settings: SettingsDep, config: ConfiguredOidc
) -> Response:
    try:
        url, state = await oidc.start_login(db, config, settings)
    except oidc.OidcError as exc:
        return _refusal(request, exc)
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        STATE_COOKIE,
        state,
        max_age=config.challenge_minutes * 60,
        path=STATE_COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )
    return response


@router.get("/callback")
async def psc_callback(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    config: ConfiguredOidc,
    state: str | None = None,
    code: str | None = None,
    error: str | None = None,
) -> Response:
    try:
        user = await oidc.finish_login(
            db, config, state=state, browser_state=request.cookies.get(STATE_COOKIE), code=code, error=error
        )
    except oidc.OidcError as exc:
        return _refusal(request, exc)
    if previous := request.cookies.get(SESSION_COOKIE):
        await auth.close_session(db, previous)  # a login never keeps an earlier session alive
    token, session = await auth.open_session(db, user, settings)
    # CPS and e-CPS are two-factor means in themselves (PGSSI-S), and PSC vouched for one
    # (the acr check in oidc.py): no TOTP step after this login.
    session.mfa_passed = True
    session.mfa_method = MFA_METHOD
    log.info("oidc.login", user_id=user.id)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        max_age=settings.session_absolute_hours * 3600,
    )
    response.delete_cookie(STATE_COOKIE, path=STATE_COOKIE_PATH)
    return response
