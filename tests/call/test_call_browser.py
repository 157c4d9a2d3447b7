"""Real calls in Debian's Chromium with fake camera and micro: frames decoded on every side."""

from pathlib import Path

import pytest
from fastapi import FastAPI
from playwright.async_api import Browser

from telesante.db import transaction
from telesante.runtime import Runtime
from telesante.teleconsultation.call.settings import TurnSettings
from telesante.teleconsultation.models import Appointment
from tests.call.conftest import (
    TURN_SECRET,
    Call,
    Coturn,
    both_in_call,
    call_page,
    until,
    wait_frames,
    wait_joined,
)
from tests.fixtures.world import World


async def test_doctor_and_patient_see_each_other_chat_and_the_doctor_ends(
    browser: Browser, live_server: str, runtime: Runtime, call: Call, artifacts: Path
) -> None:
    doctor, patient = await both_in_call(browser, live_server, runtime, call)
    for page in (doctor, patient):
        await wait_frames(page)
    await patient.fill("#chat-input", "Bonjour docteur, je vous entends bien.")
    await patient.click("#chat-form button")
    await until(doctor, "window.telesanteCall.messages.some(m => m.text.includes('je vous entends'))")
    await doctor.click("#btn-mic")
    await patient.wait_for_selector(".tile-state:has-text('micro coupé')")
    await doctor.screenshot(path=artifacts / "call-doctor.png")
    await patient.screenshot(path=artifacts / "call-patient.png")
    await doctor.evaluate("window.telesanteCall.end()")
    for page in (doctor, patient):
        await until(page, "window.telesanteCall.state === 'ended'")
    assert "terminé la téléconsultation" in (await patient.text_content("#call-status") or "")
    async with transaction(runtime.sessionmaker) as db:
        appointment = await db.get(Appointment, call.appointment.id)
        assert appointment and appointment.status == "done"


@pytest.mark.parametrize("transport", ["udp", "tcp"])
async def test_relay_only_through_coturn(
    browser: Browser,
    app: FastAPI,
    live_server: str,
    runtime: Runtime,
    call: Call,
    coturn: int,
    transport: str,
    artifacts: Path,
) -> None:
    app.state.call_turn = TurnSettings(
        urls=f"turn:127.0.0.1:{coturn}?transport={transport}", secret=TURN_SECRET, relay_only=True
    )
    doctor, patient = await both_in_call(browser, live_server, runtime, call)
    for page in (doctor, patient):
        (peer,) = await wait_frames(page)
        assert peer["pair"] == {"local": "relay", "remote": "relay", "protocol": transport}, peer
    await patient.screenshot(path=artifacts / f"call-relay-{transport}.png")


async def test_a_companion_joins_with_a_one_time_link(
    browser: Browser, live_server: str, runtime: Runtime, call: Call, artifacts: Path
) -> None:
    doctor, _ = await both_in_call(browser, live_server, runtime, call)
    await doctor.click("#btn-invite")
    await doctor.fill("#invite-name", "Infirmière Petit")
    await doctor.click("#invite-form button")
    await until(doctor, "window.telesanteCall.invitation")
    link = await doctor.evaluate("window.telesanteCall.invitation")
    guest = await (await browser.new_context()).new_page()  # no account, no session
    await guest.goto(live_server + link)
    await wait_joined(guest)
    assert "jeton" not in guest.url  # the token left the address bar
    report = await wait_frames(guest, peers=2)
    assert {p["role"] for p in report} == {"professional", "patient"}
    await wait_frames(doctor, peers=2)
    await guest.screenshot(path=artifacts / "call-companion.png")
    stolen = await (await browser.new_context()).new_page()
    await stolen.goto(live_server + link)
    await until(stolen, "window.telesanteCall?.state === 'ended'")
    assert "déjà utilisé" in (await stolen.text_content("#call-status") or "")


async def test_a_nurse_joins_with_her_own_account_as_a_third_participant(
    browser: Browser, live_server: str, runtime: Runtime, world: World, call: Call, artifacts: Path
) -> None:
    nurse = await world.professional("Petit", profession="nurse", specialty=None)
    assert nurse.professional
    doctor, _ = await both_in_call(browser, live_server, runtime, call)
    await doctor.click("#btn-invite")
    await doctor.fill("#invite-rpps", nurse.professional.rpps)
    await doctor.click("#invite-form button")
    await until(doctor, "window.telesanteCall.invitation")
    assert "depuis son compte" in (await doctor.text_content("#invite-link") or "")
    # Invited: her own session opens the call (the link is also in her notifications).
    nurse_page = await call_page(browser, live_server, runtime, nurse, call.appointment.id)
    await wait_joined(nurse_page)
    report = await wait_frames(nurse_page, peers=2)
    assert {p["role"] for p in report} == {"professional", "patient"}
    assert "companion" in {p["role"] for p in await wait_frames(doctor, peers=2)}
    await nurse_page.screenshot(path=artifacts / "call-companion-account.png")
    # Another professional, not invited, cannot open it.
    stranger = await world.professional("Autre", profession="nurse", specialty=None)
    refused = await call_page(browser, live_server, runtime, stranger, call.appointment.id)
    assert "introuvable" in (await refused.content()).lower()


async def test_relay_only_over_tls_as_on_port_443(
    app: FastAPI, live_server: str, runtime: Runtime, call: Call, tls_turn_server: Coturn
) -> None:
    """Hospital networks often let only TLS out: TURN over TLS (turns:), relay only. Chromium checks
    the relay's certificate: it is told to trust this test certificate's key, and no other."""
    from playwright.async_api import async_playwright

    from tests.browser.conftest import ARGS, CHROMIUM

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[*ARGS, f"--ignore-certificate-errors-spki-list={tls_turn_server.spki_sha256}"],
        )
        await _tls_call(browser, app, live_server, runtime, call, tls_turn_server)


async def _tls_call(
    browser: Browser, app: FastAPI, live_server: str, runtime: Runtime, call: Call, tls_turn_server: Coturn
) -> None:
    app.state.call_turn = TurnSettings(
        urls=f"turns:127.0.0.1:{tls_turn_server.tls_port}?transport=tcp", secret=TURN_SECRET, relay_only=True
    )
    doctor, patient = await both_in_call(browser, live_server, runtime, call)
    for page in (doctor, patient):
        (peer,) = await wait_frames(page, seconds=30)
        assert peer["pair"] == {"local": "relay", "remote": "relay", "protocol": "tls"}, peer
