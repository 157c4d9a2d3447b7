"""Login through Pro Santé Connect against a real local OpenID Connect provider.

Telesante runs on `live_server`, the provider (tests/fixtures/oidc_provider.py) on another
port; an httpx client plays the browser and follows the redirects between them.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from sqlalchemy import select, update

from telesante.auth.models import LoginChallenge, User, WebSession
from telesante.auth.oidc import forget_providers, rpps_from_claims
from telesante.auth.oidc_settings import get_oidc_settings
from telesante.db import commit, utcnow
from telesante.identifiers.builders import make_rpps
from telesante.runtime import Runtime
from tests.fixtures.oidc_provider import OidcProvider, PscUser, new_rsa_key, serve_provider
from tests.fixtures.world import World

CLIENT_ID = "telesante-test"
CLIENT_SECRET = "s3cret:with/odd chars"  # exercises RFC 6749 §2.3.1 encoding
REFUSED = "Connexion Pro Santé Connect impossible"
UNVERIFIED = "pas pu être vérifiée"
EXPIRED = "est expirée ou a déjà été utilisée"


@dataclass
class Psc:
    provider: OidcProvider
    app_url: str
    browser: httpx.AsyncClient

    async def login(self) -> httpx.Response:
        """Click the button and follow every redirect; returns the last page."""
        return await self.browser.get("/auth/psc/login")

    async def callback_url(self) -> str:
        """Start a login and get the provider's answer, without delivering it to Telesante."""
        start = await self.browser.get("/auth/psc/login", follow_redirects=False)
        answer = await self.browser.get(start.headers["location"], follow_redirects=False)
        return answer.headers["location"]

    def has_session(self) -> bool:
        return any(cookie.name == "ts_session" for cookie in self.browser.cookies.jar)


@pytest.fixture
async def provider() -> AsyncIterator[OidcProvider]:
    async with serve_provider(OidcProvider(CLIENT_ID, CLIENT_SECRET)) as running:
        yield running


@pytest.fixture
async def psc(
    provider: OidcProvider, live_server: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Psc]:
    callback = f"{live_server}/auth/psc/callback"
    provider.redirect_uris = {callback}
    for name, value in {
        "ISSUER": provider.url,
        "CLIENT_ID": CLIENT_ID,
        "CLIENT_SECRET": CLIENT_SECRET,
        "REDIRECT_URL": callback,
    }.items():
        monkeypatch.setenv(f"TELESANTE_OIDC_{name}", value)
    get_oidc_settings.cache_clear()
    forget_providers()
    async with httpx.AsyncClient(base_url=live_server, follow_redirects=True, timeout=20) as browser:
        yield Psc(provider, live_server, browser)
    get_oidc_settings.cache_clear()
    forget_providers()


async def _linked_subject(runtime: Runtime, user_id: str) -> str | None:
    async with runtime.sessionmaker() as db:
        return await db.scalar(select(User.oidc_subject).where(User.id == user_id))


async def _sessions(runtime: Runtime) -> list[WebSession]:
    async with runtime.sessionmaker() as db:
        return list(await db.scalars(select(WebSession)))


def _refused(page: httpx.Response, status: int, words: str) -> None:
    assert page.status_code == status, page.text
    assert REFUSED in page.text and words in page.text


# --- configuration -------------------------------------------------------------------------


async def test_without_configuration_the_button_is_hidden_and_the_routes_do_not_exist(
    client: httpx.AsyncClient,
) -> None:
    get_oidc_settings.cache_clear()
    assert not get_oidc_settings().configured
    assert "Pro Santé Connect" not in (await client.get("/login")).text
    assert (await client.get("/auth/psc/login")).status_code == 404
    assert (await client.get("/auth/psc/callback", params={"code": "x", "state": "y"})).status_code == 404


# --- success -------------------------------------------------------------------------------


async def test_a_professional_with_an_account_logs_in_fully_authenticated(
    psc: Psc, world: World, runtime: Runtime
) -> None:
    doctor = await world.professional()
    assert doctor.professional
    await world.patient(doctor, family="Bernard", given="Camille")
    psc.provider.user = PscUser.with_rpps(doctor.professional.rpps)

    login_page = await psc.browser.get("/login")
    assert (
        'href="/auth/psc/login"' in login_page.text
        and "Se connecter avec Pro Santé Connect" in login_page.text
    )
    home = await psc.login()

    # Straight to the patient list: no TOTP step after PSC (CPS/e-CPS is the second factor).
    assert home.status_code == 200 and home.url.path == "/", home.text
    assert "Camille BERNARD" in home.text
    assert await _linked_subject(runtime, doctor.user.id) == psc.provider.user.sub
    [session] = await _sessions(runtime)
    assert session.user_id == doctor.user.id and session.mfa_passed and session.mfa_method == "oidc"


async def test_a_linked_account_logs_in_again_by_its_subject(
    psc: Psc, world: World, runtime: Runtime
) -> None:
    doctor = await world.professional()
    assert doctor.professional
    psc.provider.user = PscUser.with_rpps(doctor.professional.rpps)
    assert (await psc.login()).url.path == "/"
    psc.browser.cookies.clear()
    # The RPPS now sits in userinfo only (as PSC may send it): the subject link is enough,
    # and the userinfo fallback finds the same professional.
    psc.provider.user.userinfo, psc.provider.user.claims = psc.provider.user.claims, {}
    again = await psc.login()
    assert again.status_code == 200 and again.url.path == "/"
    assert len(await _sessions(runtime)) == 2


async def test_the_rpps_may_come_from_userinfo_only(psc: Psc, world: World, runtime: Runtime) -> None:
    doctor = await world.professional()
    assert doctor.professional
    user = PscUser.with_rpps(doctor.professional.rpps)
    user.userinfo, user.claims = user.claims, {}
    psc.provider.user = user
    home = await psc.login()
    assert home.status_code == 200 and home.url.path == "/", home.text
    assert await _linked_subject(runtime, doctor.user.id) == user.sub


# --- refusals: accounts --------------------------------------------------------------------


async def test_no_account_for_this_rpps_is_refused_and_nothing_is_created(
    psc: Psc, world: World, runtime: Runtime
) -> None:
    someone = await world.professional()
    psc.provider.user = PscUser.with_rpps(make_rpps(999_999))
    page = await psc.login()
    _refused(page, 403, "Aucun compte Telesante ne correspond")
    assert not psc.has_session() and await _sessions(runtime) == []
    assert await _linked_subject(runtime, someone.user.id) is None
    async with runtime.sessionmaker() as db:
        assert await db.scalar(select(User).where(User.oidc_subject.is_not(None))) is None


async def test_an_account_linked_to_another_psc_identity_is_refused(
    psc: Psc, world: World, runtime: Runtime
) -> None:
    doctor = await world.professional()
    assert doctor.professional
    async with runtime.sessionmaker() as db:
        await db.execute(update(User).where(User.id == doctor.user.id).values(oidc_subject="f:other:subject"))
        await commit(db)
    psc.provider.user = PscUser.with_rpps(doctor.professional.rpps)
    _refused(await psc.login(), 403, "déjà relié à une autre identité")
    assert await _sessions(runtime) == []


# --- refusals: the ID token ----------------------------------------------------------------


@pytest.fixture
async def doctor_at_psc(psc: Psc, world: World) -> Psc:
    doctor = await world.professional()
    assert doctor.professional
    psc.provider.user = PscUser.with_rpps(doctor.professional.rpps)
    return psc


async def test_an_id_token_signed_by_another_key_is_refused(doctor_at_psc: Psc, runtime: Runtime) -> None:
    psc = doctor_at_psc
    psc.provider.tamper.signing_key = new_rsa_key(psc.provider.key.kid)  # same kid, forged signature
    _refused(await psc.login(), 401, UNVERIFIED)
    assert not psc.has_session() and await _sessions(runtime) == []


async def test_an_id_token_for_another_client_is_refused(doctor_at_psc: Psc, runtime: Runtime) -> None:
    # With azp naming us, only the audience check itself can tell (azp alone is not enough).
    doctor_at_psc.provider.tamper.audience = "another-service"
    doctor_at_psc.provider.tamper.extra_claims = {"azp": CLIENT_ID}
    _refused(await doctor_at_psc.login(), 401, UNVERIFIED)
    assert await _sessions(runtime) == []


async def test_an_id_token_with_another_nonce_is_refused(doctor_at_psc: Psc, runtime: Runtime) -> None:
    doctor_at_psc.provider.tamper.nonce = "a-nonce-from-another-login"
    _refused(await doctor_at_psc.login(), 401, UNVERIFIED)
    assert await _sessions(runtime) == []


async def test_an_expired_id_token_is_refused(doctor_at_psc: Psc, runtime: Runtime) -> None:
    doctor_at_psc.provider.tamper.expires_in = -600  # beyond the clock leeway
    _refused(await doctor_at_psc.login(), 401, UNVERIFIED)
    assert await _sessions(runtime) == []


async def test_an_authentication_weaker_than_required_is_refused(
    doctor_at_psc: Psc, runtime: Runtime
) -> None:
    doctor_at_psc.provider.tamper.acr = "eidas0"  # what a password-only login might claim
    _refused(await doctor_at_psc.login(), 401, UNVERIFIED)
    assert await _sessions(runtime) == []


# --- refusals: state -----------------------------------------------------------------------


async def test_a_replayed_callback_is_refused(doctor_at_psc: Psc, runtime: Runtime) -> None:
    psc = doctor_at_psc
    callback = await psc.callback_url()
    state = parse_qs(urlsplit(callback).query)["state"][0]
    assert (await psc.browser.get(callback)).url.path == "/"
    # Same browser, state cookie put back, session dropped; the provider would accept the
    # code again, so only Telesante's single use of the state stands in the way.
    psc.browser.cookies.clear()
    psc.browser.cookies.set("ts_psc_state", state, domain="127.0.0.1", path="/auth/psc")
    _refused(await psc.browser.get(callback), 400, EXPIRED)
    assert not psc.has_session() and len(await _sessions(runtime)) == 1


async def test_a_refused_callback_still_uses_up_its_state(doctor_at_psc: Psc, runtime: Runtime) -> None:
    """A refusal commits too: a forged answer cannot be followed by a retry of the same state."""
    psc = doctor_at_psc
    psc.provider.tamper.nonce = "a-nonce-from-another-login"
    callback = await psc.callback_url()
    state = parse_qs(urlsplit(callback).query)["state"][0]
    _refused(await psc.browser.get(callback), 401, UNVERIFIED)
    psc.provider.tamper.nonce = None
    psc.browser.cookies.set("ts_psc_state", state, domain="127.0.0.1", path="/auth/psc")
    _refused(await psc.browser.get(callback), 400, EXPIRED)
    assert await _sessions(runtime) == []


async def test_a_callback_without_state_is_refused(doctor_at_psc: Psc, runtime: Runtime) -> None:
    psc = doctor_at_psc
    callback = urlsplit(await psc.callback_url())
    code = parse_qs(callback.query)["code"][0]
    _refused(await psc.browser.get(f"{callback.path}?{urlencode({'code': code})}"), 400, EXPIRED)
    assert not psc.has_session() and await _sessions(runtime) == []


async def test_a_callback_delivered_to_another_browser_is_refused(
    doctor_at_psc: Psc, runtime: Runtime
) -> None:
    """Login CSRF: an attacker's callback URL opened in the victim's browser logs nobody in."""
    callback = await doctor_at_psc.callback_url()
    async with httpx.AsyncClient(base_url=doctor_at_psc.app_url, follow_redirects=True) as browser:
        victim = Psc(doctor_at_psc.provider, doctor_at_psc.app_url, browser)
        _refused(await browser.get(callback), 400, EXPIRED)
        await victim.callback_url()  # a login of its own left pending: its state is not the attacker's
        _refused(await browser.get(callback), 400, EXPIRED)
        assert not victim.has_session()
    assert await _sessions(runtime) == []


async def test_an_expired_state_is_refused(doctor_at_psc: Psc, runtime: Runtime) -> None:
    callback = await doctor_at_psc.callback_url()
    async with runtime.sessionmaker() as db:
        await db.execute(update(LoginChallenge).values(expires_at=utcnow() - timedelta(seconds=1)))
        await commit(db)
    _refused(await doctor_at_psc.browser.get(callback), 400, EXPIRED)
    assert await _sessions(runtime) == []


async def test_a_login_cancelled_at_the_provider_is_refused(psc: Psc, runtime: Runtime) -> None:
    psc.provider.user = None  # the provider answers error=access_denied
    _refused(await psc.login(), 401, "annulée ou refusée")
    assert await _sessions(runtime) == []


# --- the claim mapping ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("claims", "rpps"),
    [
        ({"SubjectNameID": "810000000018"}, "10000000018"),
        ({"preferred_username": "810000000018"}, "10000000018"),
        ({"rpps": "10000000018"}, "10000000018"),
        ({"SubjectNameID": "ANS20231122132732", "rpps": "10000000018"}, "10000000018"),
        ({"SubjectNameID": "0751234567"}, None),  # ADELI-based national id: not an RPPS
        ({"SubjectNameID": "ANS20231122132732"}, None),  # a PSC test identity
        ({"SubjectNameID": 810000000018}, None),
        ({}, None),
    ],
)
def test_the_rpps_is_read_from_the_national_id_or_an_rpps_claim(
    claims: dict[str, object], rpps: str | None
) -> None:
    assert rpps_from_claims(claims) == rpps
