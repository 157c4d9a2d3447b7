"""Login with password, then TOTP (enrolment by QR code on first login)."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from telesante.auth import service as auth
from telesante.auth import totp
from telesante.deps import SESSION_COOKIE, DbSession, OptionalActor, SettingsDep
from telesante.kit.tokens import random_token, same
from telesante.web.render import page

router = APIRouter(include_in_schema=False)
LOGIN_CSRF_COOKIE = "ts_login_csrf"


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


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
    user = await auth.authenticate(db, email, password)
    if user is None:
        # Same answer whether the account exists or not.
        return page(request, "login.html", 401, csrf_token=cookie, error="Identifiants incorrects.")
    token, _ = await auth.open_session(db, user, settings)
    target = "/" if not user.requires_mfa else ("/mfa" if user.totp_enabled_at else "/mfa/enrol")
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        max_age=settings.session_absolute_hours * 3600,
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.get("/mfa")
async def mfa_form(request: Request, actor: OptionalActor) -> Response:
    if actor is None:
        return RedirectResponse("/login", status_code=303)
    return page(request, "mfa.html", csrf_token=actor.csrf_token, error=None)


@router.post("/mfa")
async def mfa_verify(
    request: Request, db: DbSession, actor: OptionalActor, code: Annotated[str, Form(max_length=20)]
) -> Response:
    session = await auth.find_session(db, request.cookies.get(SESSION_COOKIE, ""))
    if actor is None or session is None:
        return RedirectResponse("/login", status_code=303)
    if not await auth.pass_second_factor(db, actor.user, session, code):
        return page(request, "mfa.html", 401, csrf_token=actor.csrf_token, error="Code incorrect.")
    return RedirectResponse("/", status_code=303)


@router.get("/mfa/enrol")
async def enrol_form(request: Request, actor: OptionalActor) -> Response:
    if actor is None:
        return RedirectResponse("/login", status_code=303)
    if actor.user.totp_enabled_at:
        return RedirectResponse("/mfa", status_code=303)
    secret = await auth.start_totp_enrolment(actor.user)
    uri = totp.provisioning_uri(secret, actor.user.email)
    return page(
        request, "mfa_enrol.html", csrf_token=actor.csrf_token, secret=secret, qr=totp.qr_svg(uri), error=None
    )


@router.post("/mfa/enrol")
async def enrol_confirm(
    request: Request, db: DbSession, actor: OptionalActor, code: Annotated[str, Form(max_length=20)]
) -> Response:
    session = await auth.find_session(db, request.cookies.get(SESSION_COOKIE, ""))
    if actor is None or session is None:
        return RedirectResponse("/login", status_code=303)
    codes = await auth.confirm_totp_enrolment(actor.user, session, code)
    if codes is None:
        secret = actor.user.totp_secret or ""
        uri = totp.provisioning_uri(secret, actor.user.email)
        return page(
            request,
            "mfa_enrol.html",
            401,
            csrf_token=actor.csrf_token,
            secret=secret,
            qr=totp.qr_svg(uri),
            error="Code incorrect : vérifiez l'heure de votre téléphone.",
        )
    return page(request, "recovery_codes.html", codes=codes)


@router.post("/logout")
async def logout(request: Request, db: DbSession, actor: OptionalActor) -> Response:
    if actor is not None:
        await auth.close_session(db, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
