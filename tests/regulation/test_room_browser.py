"""A call to the 15 in Debian's Chromium, with three browsers as the room lives it.

The ARM and the urgentist have the room open. The telephony connector reports a call, then its
answer: the file opens in the ARM's name and shows on both screens without reloading. The ARM
completes it in the form and sets P1; the urgentist sees it change, takes it, writes a note, sets
R2 and sends the ambulance; the crew opens its link on a phone, moves its mission forward and sends
its bilan, which the urgentist sees arrive live before validating the file. Screenshots go to
test-artifacts/regulation-*.png.
"""

from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, expect

from telesante.runtime import Runtime
from tests.browser.conftest import artifacts, browser  # noqa: F401 - the browser tests' fixtures
from tests.call.conftest import session_context, until
from tests.fixtures.world import Person
from tests.regulation.conftest import TELEPHONY_SECRET, Room

pytestmark = pytest.mark.browser
WAIT = 15_000  # ms: generous, the machine is shared
PHONE = {"width": 390, "height": 844}


async def room_page(
    browser: Browser,  # noqa: F811
    base: str,
    runtime: Runtime,
    person: Person,
    problems: list[str],
) -> Page:
    context = await session_context(browser, base, runtime, person)
    page = await context.new_page()
    page.on("console", lambda m: problems.append(m.text) if _is_problem(m) else None)
    await page.goto(f"{base}/regulation")
    await until(page, "document.getElementById('reg-room')?.dataset.live === 'connected'")
    return page


def _is_problem(message: ConsoleMessage) -> bool:
    """A script error or a CSP refusal (the favicon's 404 is no news)."""
    return message.type == "error" and "favicon" not in message.location.get("url", "")


async def call_comes_in(base: str, room: Room, arm: Page) -> str:
    """The connector reports the call ringing, then answered by the ARM: the file's id."""
    assert room.centre.finess and room.arm.professional
    call = {"call_id": "sip-4242", "centre_finess": room.centre.finess, "line": "15"}
    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {TELEPHONY_SECRET}"}
    ) as phone:
        ringing = await phone.post(
            "/api/regulation/telephony/events",
            json={**call, "event": "incoming", "caller_number": "0612345678"},
        )
        assert ringing.status_code == 202, ringing.text
        await expect(arm.locator("#reg-ringing [data-call]")).to_have_count(1, timeout=WAIT)
        answered = await phone.post(
            "/api/regulation/telephony/events",
            json={**call, "event": "answered", "agent_rpps": room.arm.professional.rpps},
        )
        assert answered.status_code == 202, answered.text
    file_id: str = answered.json()["file_id"]
    return file_id


async def arm_fills_in(arm: Page, file_id: str) -> None:
    row = arm.locator(f"#file-{file_id}")
    await expect(row).to_contain_text("motif à préciser", timeout=WAIT)
    await expect(arm.locator("#reg-ringing [data-call]")).to_have_count(0)
    await row.get_by_role("link").click()
    await expect(arm.locator("#caller_phone")).to_have_value("0612345678")  # from the telephony
    await arm.select_option("#caller_type", "FAMILLE")
    await arm.fill("#caller_name", "Mme Garnier (épouse)")
    await arm.fill("#caller_language", "fr")
    await arm.fill("#address", "3 place Bellecour")
    await arm.fill("#city", "Lyon")
    await arm.fill("#latitude", "45,757")
    await arm.fill("#longitude", "4,832")
    await arm.fill("#access_details", "Digicode 4521, 3e étage gauche")
    await arm.fill("#motive", "Douleur thoracique")
    await arm.fill("#whats_happen", "Douleur constrictive depuis 30 minutes, sueurs.")
    await arm.fill("#patient_name", "Paul Garnier")
    await arm.fill("#patient_age", "62")
    await arm.select_option("#patient_sex", "M")
    await arm.select_option("#priority", "P1")
    await arm.select_option("#perimeter", "AMU")
    await arm.get_by_role("button", name="Enregistrer la saisie").click()
    await expect(arm.locator("#reg-priority")).to_contain_text("P1 – régulation immédiate", timeout=WAIT)
    await expect(arm.locator("#reg-intake-facts")).to_contain_text("Digicode 4521")
    await arm.get_by_role("link", name="← Salle de régulation").click()
    await until(arm, "document.getElementById('reg-room')?.dataset.live === 'connected'")


async def regulator_engages_the_ambulance(mru: Page, room: Room, file_id: str) -> str:
    """From the room to the file: take, note, R2, INTER; the crew's link."""
    await mru.locator(f"#file-{file_id}").get_by_role("link").click()
    await mru.get_by_role("button", name="Prendre en régulation").click()
    await expect(mru.locator("#reg-regulator")).to_have_text("Dr Claire Dupuis", timeout=WAIT)
    await mru.fill("#note-text", "Douleur typique, antécédent d'infarctus : ambulance pour bilan.")
    await mru.get_by_role("button", name="Ajouter la note").click()
    await expect(mru.locator("#reg-notes")).to_contain_text("antécédent d'infarctus", timeout=WAIT)
    await mru.select_option("#care_level", "R2")
    await mru.get_by_role("button", name="Fixer le niveau de soins").click()
    await expect(mru.locator("#reg-care-level")).to_contain_text("R2", timeout=WAIT)
    await mru.select_option("#decision-kind", "INTER")
    await mru.select_option("#resource_id", room.resources["TSU.AMB"])
    await mru.fill("#decision-details", "Bilan et ECG sur place")
    await mru.get_by_role("button", name="Enregistrer la décision").click()
    link = await mru.locator("#crew-link").get_attribute("href", timeout=WAIT)
    assert link and "/regulation/equipage#" in link
    await expect(mru.locator("#reg-missions")).to_contain_text("Ambulances du Rhône 12")
    await until(mru, "document.getElementById('reg-file-live')?.dataset.live === 'connected'")
    assert mru.url.endswith(f"/regulation/dossiers/{file_id}")  # a reload will not post again
    return link


async def crew_moves(crew: Page, mru: Page, *statuses: tuple[str, str]) -> None:
    """The crew taps each status; the regulator's page shows it without reloading."""
    for status, label in statuses:
        await crew.get_by_role("button", name=label, exact=True).click()
        await expect(crew.locator("#crew-status")).to_have_text(label, timeout=WAIT)
        await expect(mru.locator(f"#reg-missions li[data-status='{status}']")).to_contain_text(
            label, timeout=WAIT
        )


async def crew_sends_the_bilan(crew: Page) -> None:
    for field, value in {
        "heart_rate": "112",
        "systolic": "95",
        "diastolic": "60",
        "spo2": "93",
        "respiratory_rate": "22",
        "temperature": "37.2",
        "glasgow": "15",
        "glucose_mg_dl": "110",
        "observations": "Sueurs, douleur 8/10, ECG transmis.",
    }.items():
        await crew.fill(f"#{field}", value)
    await crew.get_by_role("button", name="Envoyer le bilan").click()
    await expect(crew.locator("#bilan-message")).to_have_text(
        "Bilan transmis à la salle de régulation.", timeout=WAIT
    )
    await expect(crew.locator("#crew-status")).to_have_text("Bilan passé")


async def test_a_call_is_regulated_in_the_room_and_followed_by_the_crew_live(
    live_server: str,
    browser: Browser,  # noqa: F811
    runtime: Runtime,
    room: Room,
    artifacts: Path,  # noqa: F811
) -> None:
    problems: list[str] = []
    arm = await room_page(browser, live_server, runtime, room.arm, problems)
    mru = await room_page(browser, live_server, runtime, room.urgentist, problems)
    file_id = await call_comes_in(live_server, room, arm)
    await arm_fills_in(arm, file_id)

    row = mru.locator(f"#file-{file_id}")
    await expect(row).to_contain_text("Douleur thoracique", timeout=WAIT)  # the ARM's entry, live
    await expect(row).to_have_attribute("data-priority", "P1")
    await expect(mru.locator(f"#reg-map circle[data-file='{file_id}']")).to_have_attribute(
        "data-priority", "P1"
    )
    assert await mru.evaluate("performance.getEntriesByType('navigation').length") == 1  # never reloaded
    await until(mru, f"Number(document.querySelector('#file-{file_id} time')?.dataset.seconds) >= 0")
    await mru.screenshot(path=str(artifacts / "regulation-room.png"), full_page=True)

    crew_link = await regulator_engages_the_ambulance(mru, room, file_id)
    phone = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="fr-FR")
    crew = await phone.new_page()
    crew.on("console", lambda m: problems.append(m.text) if _is_problem(m) else None)
    await crew.goto(crew_link)
    await expect(crew.locator("#crew-address")).to_have_text("3 place Bellecour", timeout=WAIT)
    await expect(crew.locator("#crew-access")).to_contain_text("Digicode 4521")
    await expect(crew.locator("#crew-patient")).to_have_text("Patient : 62 ans, Homme")
    await crew_moves(
        crew, mru, ("DEPART", "Parti"), ("ARRIVEE", "Sur les lieux"), ("PEC", "Patient pris en charge")
    )
    await crew_sends_the_bilan(crew)
    bilan = mru.locator("#reg-bilans article")
    await expect(bilan).to_contain_text("95/60 mmHg", timeout=WAIT)
    await expect(bilan).to_contain_text("112 /min")
    await expect(bilan).to_contain_text("Sueurs, douleur 8/10")
    await expect(mru.locator("#reg-missions li[data-status='BILAN']")).to_be_visible()
    await crew.screenshot(path=str(artifacts / "regulation-crew-phone.png"), full_page=True)
    await crew_moves(
        crew,
        mru,
        ("TRANSP", "Transport en cours"),
        ("DESTIN", "Arrivé à destination"),
        ("FINPEC", "Fin de prise en charge"),
    )
    await mru.screenshot(path=str(artifacts / "regulation-file.png"), full_page=True)

    await mru.get_by_role("button", name="Valider le dossier").click()
    await expect(mru.locator("#reg-state")).to_have_text("Validé", timeout=WAIT)
    await expect(mru.locator("#reg-closed")).to_be_visible()
    await expect(arm.locator(f"#file-{file_id}")).to_have_count(0, timeout=WAIT)  # gone from the room
    assert problems == []
