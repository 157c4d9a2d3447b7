"""Login with password, then a second factor: TOTP (enrolled by QR code at first login), a
security key (WebAuthn), or for patients without either, a code sent by e-mail.

Password and code guesses are throttled (auth/throttle.py). The session gets a new id at
login and again when the second factor passes (auth.service.elevate_session).
"""

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.auth import email_code, throttle, totp
from telesante.auth import service as auth
from telesante.auth.actor import Actor
from telesante.auth.models import User, WebSession
from telesante.deps import SESSION_COOKIE, DbSession, OptionalActor, SettingsDep, set_session_cookie
from telesante.kit.tokens import random_token, same
from telesante.settings import Settings
from telesante.web.render import page

router = APIRouter(include_in_schema=False)
LOGIN_CSRF_COOKIE = "ts_login_csrf"
WRONG_CODE = "Code incorrect."


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


@router.get("/login")
async def login_form(request: Request) -> HTMLResponse:
    token = random_token(nbytes=24)
    response = page(request, "login.html", csrf_token=token, error=None)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request))
    return response


@router.post("/login")
async def login(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=1024)],
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not same(cookie, csrf_token):
        return page(
            request, "login.html", 403, csrf_token=cookie, error="Session expirée : rechargez la page."
        )
    limiter = throttle.get_limiter(request)
    account, address = throttle.account_key(email), throttle.address_key(client_ip(request))
    # Keyed by the address as typed, so an unknown account locks exactly like a real one.
    if wait := await throttle.lock_left(limiter, account, address):
        return page(request, "login.html", 429, csrf_token=cookie, error=throttle.wait_message(wait))
    user = await auth.authenticate(db, email, password)
    if user is None:
        await limiter.fail(account, throttle.ACCOUNT)
        await limiter.fail(address, throttle.ADDRESS)
        # Same answer whether the account exists or not.
        return page(request, "login.html", 401, csrf_token=cookie, error="Identifiants incorrects.")
    await limiter.reset(account)
    token, session = await auth.open_session(
        db, user, settings, ip=client_ip(request), user_agent=request.headers.get("user-agent")
    )
    if await auth.uses_email_code(db, user):
        await email_code.issue(db, session)
    response = RedirectResponse(await _second_factor_page(db, user), status_code=303)
    set_session_cookie(response, request, token, settings)
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


async def _second_factor_page(db: AsyncSession, user: User) -> str:
    if user.totp_enabled_at or user.role == "patient" or await auth.has_webauthn(db, user):
        return "/mfa"
    return "/mfa/enrol"  # professionals and admins enrol TOTP at first login


async def _mfa_page(
    request: Request, db: AsyncSession, actor: Actor, status_code: int = 200, **extra: Any
) -> HTMLResponse:
    user = actor.user
    context: dict[str, Any] = {
        "csrf_token": actor.csrf_token,
        "totp": user.totp_enabled_at is not None,
        "webauthn": await auth.has_webauthn(db, user),
        "email": await auth.uses_email_code(db, user),
        "masked_email": email_code.mask_email(user.email),
        "error": None,
        "notice": None,
    }
    return page(request, "mfa.html", status_code, **(context | extra))


async def _pending(request: Request, db: AsyncSession, actor: Actor | None) -> WebSession | None:
    """The browser session that is between the password and the second factor."""
    if actor is None or actor.via != "session":
        return None
    return await auth.find_session(db, request.cookies.get(SESSION_COOKIE, ""))


@router.get("/mfa")
async def mfa_form(request: Request, db: DbSession, actor: OptionalActor) -> Response:
    if actor is None:
        return RedirectResponse("/login", status_code=303)
    if actor.mfa_passed:
        return RedirectResponse("/", status_code=303)
    if await _second_factor_page(db, actor.user) == "/mfa/enrol":
        return RedirectResponse("/mfa/enrol", status_code=303)
    return await _mfa_page(request, db, actor)


@router.post("/mfa")
async def mfa_verify(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    actor: OptionalActor,
    code: Annotated[str, Form(max_length=20)],
) -> Response:
    session = await _pending(request, db, actor)
    if actor is None or session is None:
        return RedirectResponse("/login", status_code=303)
    if actor.mfa_passed:
        return RedirectResponse("/", status_code=303)
    limiter, key = throttle.get_limiter(request), throttle.second_factor_key(actor.user.id)
    if wait := await throttle.lock_left(limiter, key):
        return await _mfa_page(request, db, actor, 429, error=throttle.wait_message(wait))
    method = await _check_code(db, actor.user, session, code)
    if method is None:
        await limiter.fail(key, throttle.SECOND_FACTOR)
        return await _mfa_page(request, db, actor, 401, error=WRONG_CODE)
    await limiter.reset(key)
    return await elevated(request, db, settings, session, method, RedirectResponse("/", status_code=303))


async def _check_code(db: AsyncSession, user: User, session: WebSession, code: str) -> str | None:
    """The method that accepted `code` (totp, recovery, email), or None."""
    if user.totp_enabled_at:
        return session.mfa_method if await auth.pass_second_factor(db, user, session, code) else None
    if await auth.uses_email_code(db, user) and await email_code.verify(db, session, code):
        return "email"
    return None


async def elevated(
    request: Request,
    db: AsyncSession,
    settings: Settings,
    session: WebSession,
    method: str,
    response: Response,
) -> Response:
    """The second factor passed: `response` carries the new session id (privilege change)."""
    token, _ = await auth.elevate_session(db, session, method)
    set_session_cookie(response, request, token, settings)
    return response


@router.post("/mfa/email")
async def mfa_email_again(request: Request, db: DbSession, actor: OptionalActor) -> Response:
    """Send a new e-mailed code (at most one a minute, five per login)."""
    session = await _pending(request, db, actor)
    if actor is None or session is None:
        return RedirectResponse("/login", status_code=303)
    if actor.mfa_passed or not await auth.uses_email_code(db, actor.user):
        return RedirectResponse("/mfa", status_code=303)
    try:
        await email_code.issue(db, session)
    except email_code.TooSoon:
        error = "Patientez une minute avant de demander un nouveau code (cinq codes au plus par connexion)."
        return await _mfa_page(request, db, actor, 429, error=error)
    return await _mfa_page(request, db, actor, notice="Un nouveau code vous a été envoyé.")


async def _may_enrol_totp(db: AsyncSession, actor: Actor) -> bool:
    """Without the second factor, only an account that has none may enrol one (first login).

    Otherwise the password alone would let anyone add their own authenticator and bypass
    the key, or the e-mailed code of a patient.
    """
    if actor.mfa_passed:
        return True
    return actor.user.role != "patient" and not await auth.has_webauthn(db, actor.user)


@router.get("/mfa/enrol")
async def enrol_form(request: Request, db: DbSession, actor: OptionalActor) -> Response:
    if actor is None:
        return RedirectResponse("/login", status_code=303)
    if actor.user.totp_enabled_at or not await _may_enrol_totp(db, actor):
        return RedirectResponse("/mfa", status_code=303)
    secret = await auth.start_totp_enrolment(actor.user)
    return _enrol_page(request, actor, secret)


def _enrol_page(request: Request, actor: Actor, secret: str, error: str | None = None) -> HTMLResponse:
    uri = totp.provisioning_uri(secret, actor.user.email)
    return page(
        request,
        "mfa_enrol.html",
        401 if error else 200,
        csrf_token=actor.csrf_token,
        secret=secret,
        qr=totp.qr_svg(uri),
        error=error,
    )


@router.post("/mfa/enrol")
async def enrol_confirm(
    request: Request,
    db: DbSession,
    settings: SettingsDep,
    actor: OptionalActor,
    code: Annotated[str, Form(max_length=20)],
) -> Response:
    session = await _pending(request, db, actor)
    if actor is None or session is None:
        return RedirectResponse("/login", status_code=303)
    if actor.user.totp_enabled_at or not await _may_enrol_totp(db, actor):
        return RedirectResponse("/mfa", status_code=303)
    limiter, key = throttle.get_limiter(request), throttle.second_factor_key(actor.user.id)
    if wait := await throttle.lock_left(limiter, key):
        return page(
            request, "error.html", 429, title="Trop de tentatives", detail=throttle.wait_message(wait)
        )
    codes = await auth.confirm_totp_enrolment(actor.user, session, code)
    if codes is None:
        await limiter.fail(key, throttle.SECOND_FACTOR)
        error = "Code incorrect : vérifiez l'heure de votre téléphone."
        return _enrol_page(request, actor, actor.user.totp_secret or "", error)
    await limiter.reset(key)
    shown = page(request, "recovery_codes.html", codes=codes)
    return await elevated(request, db, settings, session, session.mfa_method or "totp", shown)


@router.post("/logout")
async def logout(request: Request, db: DbSession, actor: OptionalActor) -> Response:
    if actor is not None:
        await auth.close_session(db, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
