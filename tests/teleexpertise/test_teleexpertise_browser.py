"""A téléexpertise in Debian's Chromium, as the two professionals live it.

The requérante picks her patient, a dermatologist, writes the question, takes a photo with the
(fake) camera and attaches a PDF; the expert, notified, opens the request, zooms on the photo and
asks a question; she replies; he signs his answer; she reads it, and the opinion is on the
patient's timeline. Screenshots of every step go to test-artifacts/teleexpertise-*.png.
"""

import re
from pathlib import Path

import pytest
from httpx import AsyncClient
from playwright.async_api import Browser, ConsoleMessage, Page, expect

from telesante.deps import SESSION_COOKIE
from telesante.runtime import Runtime
from telesante.teleexpertise.thread import MESSAGE_TITLE
from tests.browser.conftest import artifacts, browser  # noqa: F401 - the browser tests' fixtures
from tests.call.conftest import session_cookie
from tests.documents.files import pdf
from tests.fixtures.world import Person
from tests.teleexpertise.conftest import ANSWER, QUESTION, Team, titles

pytestmark = pytest.mark.browser
WAIT = 20_000  # ms: generous, the machine is shared


async def signed_in(
    browser: Browser,  # noqa: F811
    base: str,
    runtime: Runtime,
    person: Person,
    problems: list[str],
) -> Page:
    context = await browser.new_context(locale="fr-FR")
    cookie = await session_cookie(runtime, person)
    await context.add_cookies([{"name": SESSION_COOKIE, "value": cookie, "url": base}])
    page = await context.new_page()
    page.on("console", lambda m: problems.append(m.text) if _is_problem(m) else None)
    return page


def _is_problem(message: ConsoleMessage) -> bool:
    """A script error or a CSP refusal on the page (the favicon's 404 is no news)."""
    return message.type == "error" and "favicon" not in message.location.get("url", "")


async def loaded(page: Page, selector: str, min_width: int) -> None:
    """Wait until the image is decoded (a broken or refused image has no natural width)."""
    await page.wait_for_function(
        "([selector, min]) => { const img = document.querySelector(selector);"
        " return img && img.complete && img.naturalWidth >= min; }",
        arg=[selector, min_width],
        timeout=WAIT,
    )


async def ask(page: Page, base: str, team: Team, artifacts: Path) -> str:  # noqa: F811
    """The requérante's side of the request form; returns the request page's address."""
    await page.goto(f"{base}/teleexpertise")
    await page.get_by_role("link", name="Nouvelle demande").click()
    assert team.patient.patient is not None
    await page.select_option("#patient_id", team.patient.patient.id)
    await page.get_by_role("button", name="Choisir ce patient").click()
    await expect(page.locator("#consent-status")).to_have_text("Consentement à la téléexpertise enregistré.")
    await page.fill("#q", "Expert")
    await page.get_by_role("button", name="Rechercher").click()
    await page.get_by_label("Claire Expert").check()
    await page.fill("#question", QUESTION)
    await page.set_input_files(
        "#files", files=[{"name": "compte-rendu.pdf", "mimeType": "application/pdf", "buffer": pdf()}]
    )
    await page.get_by_role("button", name="Prendre une photo").click()
    await expect(page.locator(".captured-photo")).to_have_count(1, timeout=WAIT)
    await page.screenshot(path=artifacts / "teleexpertise-1-new.png", full_page=True)
    await page.get_by_role("button", name="Envoyer la demande").click()
    await page.wait_for_url(re.compile(r"/teleexpertise/[0-9a-f-]{36}$"), timeout=WAIT)
    return page.url


async def test_request_with_camera_photo_and_pdf_question_reply_answer_and_timeline(
    browser: Browser,  # noqa: F811
    live_server: str,
    runtime: Runtime,
    client: AsyncClient,
    team: Team,
    artifacts: Path,  # noqa: F811
) -> None:
    problems: list[str] = []
    requester = await signed_in(browser, live_server, runtime, team.requester, problems)
    url = await ask(requester, live_server, team, artifacts)
    await expect(requester.locator("#te-question")).to_have_text(QUESTION)
    await expect(requester.get_by_role("link", name="compte-rendu.pdf")).to_be_visible()
    photo = requester.locator("img.te-photo")
    await expect(photo).to_have_count(1)
    await loaded(requester, "img.te-photo", 1)

    assert "Nouvelle demande de téléexpertise" in await titles(client, team.expert)
    expert = await signed_in(browser, live_server, runtime, team.expert, problems)
    await expert.goto(f"{live_server}/teleexpertise")
    await expert.locator("#inbox a").first.click()
    await expect(expert).to_have_url(url)
    await expect(expert.locator("#te-patient")).to_have_text("Marie DURAND")
    await expert.get_by_role("button", name="Agrandir photo-1.jpg").click()
    await expect(expert.locator("#te-zoom-dialog")).to_be_visible()
    await loaded(expert, "#te-zoom-image", 201)  # full size, wider than the thumbnail
    await expert.screenshot(path=artifacts / "teleexpertise-2-zoom.png", full_page=True)
    await expert.get_by_role("button", name="Fermer").click()
    await expert.fill("#message-body", "La lésion saigne-t-elle au contact ?")
    await expert.get_by_role("button", name="Envoyer le message").click()
    await expect(expert.locator("#te-thread")).to_contain_text("La lésion saigne-t-elle au contact ?")

    assert MESSAGE_TITLE in await titles(client, team.requester)
    await requester.reload()
    await expect(requester.locator("#te-thread")).to_contain_text("La lésion saigne-t-elle au contact ?")
    await requester.fill("#message-body", "Non, mais elle démange depuis deux semaines.")
    await requester.get_by_role("button", name="Envoyer le message").click()
    await expect(requester.locator("#te-thread")).to_contain_text("elle démange")
    await requester.screenshot(path=artifacts / "teleexpertise-3-thread.png", full_page=True)

    await expert.reload()
    await expect(expert.locator("#te-thread")).to_contain_text("elle démange")
    await expert.fill("#opinion", ANSWER["opinion"])
    await expert.fill("#management", ANSWER["management"])
    await expert.select_option("#see_patient", ANSWER["see_patient"])
    await expert.get_by_role("button", name="Signer et envoyer l'avis").click()
    await expect(expert.locator("#te-answers")).to_contain_text(ANSWER["opinion"], timeout=WAIT)
    await expert.screenshot(path=artifacts / "teleexpertise-4-answered.png", full_page=True)

    assert "Téléexpertise : avis reçu" in await titles(client, team.requester)
    await requester.reload()
    await expect(requester.locator("#te-answers")).to_contain_text(ANSWER["management"])
    await expect(requester.locator("#te-answers")).to_contain_text("à voir rapidement")
    await expect(requester.locator("#te-status")).to_have_text("clôturée")
    await requester.screenshot(path=artifacts / "teleexpertise-5-read.png", full_page=True)
    report = requester.get_by_role("link", name="Compte rendu de l'avis (PDF)")
    fetched = await requester.request.get(f"{live_server}{await report.get_attribute('href')}")
    assert fetched.ok and (await fetched.body()).startswith(b"%PDF")

    assert team.patient.patient is not None
    timeline = await client.get(
        f"/api/patients/{team.patient.patient.id}/timeline", headers=team.requester.headers
    )
    assert timeline.status_code == 200, timeline.text
    opinions = [e for e in timeline.json() if e["title"] == "Avis de téléexpertise"]
    assert len(opinions) == 1 and ANSWER["management"] in opinions[0]["summary"]
    assert problems == []
