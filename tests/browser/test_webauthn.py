"""A professional registers a security key (Chromium's virtual authenticator), then logs in with it."""

import pyotp
import pytest
from playwright.async_api import Browser, Page, expect

from telesante.auth.models import User
from telesante.db import transaction, utcnow
from telesante.runtime import Runtime
from tests.fixtures.world import PASSWORD, World

pytestmark = pytest.mark.browser


async def password(page: Page, base: str, email: str) -> None:
    await page.goto(f"{base}/login")
    await page.get_by_label("Adresse e-mail").fill(email)
    await page.get_by_label("Mot de passe").fill(PASSWORD)
    await page.get_by_role("button", name="Se connecter").click()


async def test_register_a_security_key_then_log_in_with_it(
    live_server: str, browser: Browser, world: World, runtime: Runtime
) -> None:
    # WebAuthn needs a secure context and a domain as RP id: localhost, not 127.0.0.1.
    base = live_server.replace("127.0.0.1", "localhost")
    doctor = await world.professional()
    secret = pyotp.random_base32()
    async with transaction(runtime.sessionmaker) as db:
        user = await db.get(User, doctor.user.id)
        assert user is not None
        user.totp_secret, user.totp_enabled_at = secret, utcnow()

    context = await browser.new_context(locale="fr-FR")
    page = await context.new_page()
    cdp = await context.new_cdp_session(page)
    await cdp.send("WebAuthn.enable")
    authenticator = await cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )

    await password(page, base, doctor.user.email)
    await page.get_by_label("Code à 6 chiffres", exact=False).fill(pyotp.TOTP(secret).now())
    await page.get_by_role("button", name="Valider").click()
    await expect(page.get_by_role("heading", name="Mes patients")).to_be_visible()

    await page.goto(f"{base}/security/keys")
    await page.get_by_label("Nom de la clé").fill("Clé du cabinet")
    await page.get_by_role("button", name="Enregistrer une clé de sécurité").click()
    await expect(page.get_by_role("cell", name="Clé du cabinet", exact=True)).to_be_visible()
    stored = await cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator["authenticatorId"]})
    assert len(stored["credentials"]) == 1

    await page.get_by_role("button", name="Se déconnecter", exact=True).click()
    await password(page, base, doctor.user.email)
    await page.get_by_role("button", name="Utiliser ma clé de sécurité").click()
    await expect(page.get_by_role("heading", name="Mes patients")).to_be_visible()

    await page.goto(f"{base}/security/sessions")
    await expect(page.locator("#sessions")).to_contain_text("(cette session)")
    await context.close()
