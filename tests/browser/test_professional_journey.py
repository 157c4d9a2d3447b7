"""A professional logs in with password + TOTP, finds a patient, opens the record and its timeline."""

from pathlib import Path

import pyotp
import pytest
from playwright.async_api import Browser, expect

from telesante.auth.models import User
from telesante.db import transaction, utcnow
from telesante.runtime import Runtime
from telesante.timeline.service import add_entry
from tests.fixtures.world import PASSWORD, World

pytestmark = pytest.mark.browser


async def test_login_with_totp_find_a_patient_and_read_the_timeline(
    live_server: str, browser: Browser, world: World, runtime: Runtime, artifacts: Path
) -> None:
    doctor = await world.professional()
    patient = await world.patient(doctor, family="Bernard", given="Camille")
    secret = pyotp.random_base32()
    async with transaction(runtime.sessionmaker) as db:
        user = await db.get(User, doctor.user.id)
        assert user is not None
        user.totp_secret, user.totp_enabled_at = secret, utcnow()
        add_entry(db, patient.id, kind="note", title="Consultation au cabinet", summary="Tension 128/82 mmHg")

    page = await (
        await browser.new_context(locale="fr-FR", viewport={"width": 390, "height": 844})
    ).new_page()
    await page.goto(f"{live_server}/login")
    await page.get_by_label("Adresse e-mail").fill(doctor.user.email)
    await page.get_by_label("Mot de passe").fill(PASSWORD)
    await page.get_by_role("button", name="Se connecter").click()
    await page.get_by_label("Code à 6 chiffres", exact=False).fill(pyotp.TOTP(secret).now())
    await page.get_by_role("button", name="Valider").click()
    await expect(page.get_by_role("heading", name="Mes patients")).to_be_visible()

    await page.get_by_role("link", name="Patients").click()
    await page.get_by_label("Nom de naissance ou d'usage, ou matricule INS").fill("bern")
    result = page.get_by_role("link", name="Camille BERNARD")
    await expect(result).to_be_visible()  # found by htmx as the name is typed
    await result.click()

    await expect(page.get_by_role("heading", name="Camille BERNARD")).to_be_visible()
    timeline = page.locator("#timeline")
    await expect(timeline).to_contain_text("Consultation au cabinet")
    await expect(timeline).to_contain_text("Identité enregistrée")
    await page.screenshot(path=str(artifacts / "patient-record.png"), full_page=True)
    assert (artifacts / "patient-record.png").stat().st_size > 10_000
