"""In Debian's Chromium the doctor writes two lines, signs, sees the QR code and downloads the PDF."""

import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, ConsoleMessage, expect

from telesante.deps import SESSION_COOKIE
from telesante.runtime import Runtime
from tests.browser.conftest import artifacts, browser  # noqa: F401 - the browser tests' fixtures
from tests.call.conftest import make_call, session_cookie
from tests.fixtures.world import World
from tests.prescriptions.conftest import complete_prescriber

pytestmark = pytest.mark.browser


async def test_the_doctor_writes_two_lines_signs_and_downloads_the_pdf(
    browser: Browser,  # noqa: F811
    live_server: str,
    runtime: Runtime,
    world: World,
    artifacts: Path,  # noqa: F811
) -> None:
    doctor = await complete_prescriber(runtime, await world.professional("Martin"))
    visit = await make_call(world, runtime, doctor)
    context = await browser.new_context(locale="fr-FR", accept_downloads=True)
    cookie = await session_cookie(runtime, doctor)
    await context.add_cookies([{"name": SESSION_COOKIE, "value": cookie, "url": live_server}])
    page = await context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if _is_problem(m) else None)
    await page.goto(f"{live_server}/teleconsultations/{visit.appointment.id}/ordonnance")
    await expect(page.get_by_text("DURAND Marie")).to_be_visible()

    await page.fill("#lines-0-dci", "paracétamol")
    await page.fill("#lines-0-dose", "500 mg")
    await page.fill("#lines-0-form", "comprimé")
    await page.fill("#lines-0-posology", "1 comprimé jusqu'à 3 fois par jour si douleur")
    await page.fill("#lines-0-duration", "5 jours")
    await page.get_by_role("button", name="Ajouter une ligne").click()
    await expect(page.locator("#lines-1-dci")).to_be_focused()
    await expect(page.locator(".rx-line").nth(1).locator("legend")).to_have_text("Médicament 2")
    await page.fill("#lines-1-dci", "lévothyroxine sodique")
    await page.fill("#lines-1-dose", "75 µg")
    await page.fill("#lines-1-posology", "1 comprimé le matin à jeun")
    await page.fill("#lines-1-duration", "3 mois")
    await page.fill("#lines-1-renewals", "2")
    await page.select_option("#lines-1-non_substitution", "MTE")
    await page.get_by_role("button", name="Signer l'ordonnance").click()

    await expect(page.get_by_role("heading", name="Ordonnance signée")).to_be_visible(timeout=20_000)
    printed = await page.text_content("#printed-id") or ""
    assert re.fullmatch(r"ORD(-[0-9A-Z]{5}){4}", printed), printed
    assert await page.evaluate("document.getElementById('qr-code').naturalWidth") > 0
    await expect(page.get_by_text("Non substituable (MTE)")).to_be_visible()
    await page.screenshot(path=artifacts / "prescription-done.png", full_page=True)

    async with page.expect_download() as waiting:
        await page.get_by_role("link", name="Télécharger l'ordonnance (PDF)").click()
    download = await waiting.value
    assert download.suggested_filename == f"ordonnance-{printed.replace('-', '').replace('ORD', 'ORD-')}.pdf"
    saved = artifacts / "prescription.pdf"
    await download.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")
    assert problems == []
    await context.close()


def _is_problem(message: ConsoleMessage) -> bool:
    """A script error or a CSP refusal on the page (the favicon's 404 is no news)."""
    return message.type == "error" and "favicon" not in message.location.get("url", "")
