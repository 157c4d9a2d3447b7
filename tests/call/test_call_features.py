"""The call's features in Debian's Chromium with real WebRTC: shared files, screen sharing,
a real drop of the relayed media path healed by ICE restart, and graceful degradation."""

import asyncio
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from playwright.async_api import Browser, Page
from sqlalchemy import select, text

from telesante.audit.models import AuditEvent
from telesante.db import transaction
from telesante.runtime import Runtime
from telesante.teleconsultation.call.settings import TurnSettings
from telesante.teleconsultation.models import Appointment
from tests.call.conftest import (
    TURN_SECRET,
    Call,
    Coturn,
    both_in_call,
    frames_advance,
    session_context,
    until,
    wait_frames,
)
from tests.documents import files
from tests.fixtures.world import Person, World

SECONDS = 30  # per wait: a loaded 2-core machine is slow, never this slow
WIDE = "window.telesanteCall.peers().then(([p]) => p.frame && p.frame.width / p.frame.height)"


async def share(page: Page, name: str, data: bytes, media_type: str) -> None:
    await page.set_input_files("#file-input", files=[{"name": name, "mimeType": media_type, "buffer": data}])
    await page.click("#file-form button")


async def stored_documents(runtime: Runtime) -> list[Any]:
    """The rows as the database holds them, bypassing the ORM (so nothing is decrypted)."""
    async with runtime.engine.connect() as conn:
        sql = "SELECT id, content, appointment_id, patient_id FROM documents"
        return list((await conn.execute(text(sql))).all())


async def incidents(runtime: Runtime, call: Call, kind: str, seconds: float = SECONDS) -> Appointment:
    """The appointment once an incident of `kind` is recorded on it (the page reports it over its socket)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        async with transaction(runtime.sessionmaker) as db:
            appointment = await db.get(Appointment, call.appointment.id)
            assert appointment is not None
            if any(i["kind"] == kind for i in appointment.incidents):
                return appointment
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no {kind} incident: {appointment.incidents}")
        await asyncio.sleep(0.2)


async def test_the_patient_shares_a_pdf_that_the_doctor_downloads(
    browser: Browser, live_server: str, runtime: Runtime, world: World, call: Call, artifacts: Path
) -> None:
    doctor, patient = await both_in_call(browser, live_server, runtime, call)
    pdf = files.pdf()
    await share(patient, "résultats sanguins.pdf", pdf, "application/pdf")
    for page in (doctor, patient):  # the sharer's own chat too: the server announces to everyone
        await until(page, "window.telesanteCall.messages.some(m => m.file)", SECONDS)
    line = await doctor.text_content("#chat-log li:last-child") or ""
    assert "Marie DURAND a partagé résultats sanguins.pdf" in line
    async with doctor.expect_download() as downloading:
        await doctor.click("#chat-log a[download]")
    download = await downloading.value
    assert download.suggested_filename == "résultats sanguins.pdf"
    assert Path(await download.path()).read_bytes() == pdf
    await doctor.screenshot(path=artifacts / "call-file-shared.png")

    [(document_id, blob, appointment_id, patient_id)] = await stored_documents(runtime)
    assert appointment_id == call.appointment.id and patient_id == call.appointment.patient_id
    assert files.MARKER not in bytes(blob) and b"%PDF" not in bytes(blob)  # encrypted at rest

    other = await world.patient(with_account=True, family="Leroy")
    assert isinstance(other, Person)
    stranger = await session_context(browser, live_server, runtime, other)
    url = f"{live_server}/api/teleconsultations/{call.appointment.id}/files/{document_id}"
    refused = await stranger.request.get(url)
    assert refused.status == 404 and files.MARKER not in await refused.body()

    async with transaction(runtime.sessionmaker) as db:
        events = (await db.scalars(select(AuditEvent).where(AuditEvent.resource_type == "Document"))).all()
    trail = {(e.actor_user_id, e.action, e.outcome) for e in events}
    assert (call.patient.user.id, "create", "success") in trail
    assert (call.doctor.user.id, "read", "success") in trail
    assert (other.user.id, "read", "denied") in trail


async def test_a_disguised_file_is_refused_with_a_clear_message(
    browser: Browser, live_server: str, runtime: Runtime, call: Call
) -> None:
    doctor, patient = await both_in_call(browser, live_server, runtime, call)
    disguised = {
        "ordonnance.pdf": b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"
        + b"\x00" * 64,  # a Windows program
        "compte-rendu.pdf": b"<!doctype html><script>fetch('/api/patients')</script>",
    }
    for name, data in disguised.items():
        await share(patient, name, data, "application/pdf")
        status = await until(
            patient,
            "document.getElementById('file-status').textContent.includes('refusé') && "
            "document.getElementById('file-status').textContent",
            SECONDS,
        )
        assert "Fichier refusé : contenu non reconnu" in str(status) and "application/pdf" in str(status)
        await patient.evaluate("document.getElementById('file-status').textContent = ''")
    assert await stored_documents(runtime) == []
    assert not await doctor.evaluate("window.telesanteCall.messages.some(m => m.file)")


async def test_a_companion_shares_and_downloads_with_its_call_pass(
    browser: Browser, live_server: str, runtime: Runtime, call: Call
) -> None:
    doctor, patient = await both_in_call(browser, live_server, runtime, call)
    await doctor.click("#btn-invite")
    await doctor.fill("#invite-name", "Infirmière Petit")
    await doctor.click("#invite-form button")
    link = await until(doctor, "window.telesanteCall.invitation")
    guest = await (await browser.new_context()).new_page()  # no account, no session cookie
    await guest.goto(f"{live_server}{link}")
    await wait_frames(guest, peers=2, seconds=SECONDS)
    photo = files.png()
    await share(guest, "plaie.png", photo, "image/png")
    await until(patient, "window.telesanteCall.messages.some(m => m.file)", SECONDS)
    assert "Infirmière Petit a partagé plaie.png" in (await patient.text_content("#chat-log") or "")
    await share(doctor, "courrier.pdf", files.pdf(), "application/pdf")
    await until(guest, "window.telesanteCall.messages.filter(m => m.file).length === 2", SECONDS)
    async with guest.expect_download() as downloading:
        await guest.click("#chat-log a[download] >> text=courrier.pdf")
    assert Path(await (await downloading.value).path()).read_bytes() == files.pdf()
    assert [row[2] for row in await stored_documents(runtime)] == [call.appointment.id] * 2


async def test_the_doctor_shares_the_screen_then_the_camera_comes_back(
    browser: Browser, live_server: str, runtime: Runtime, call: Call, artifacts: Path
) -> None:
    doctor, patient = await both_in_call(browser, live_server, runtime, call)
    await wait_frames(patient, seconds=SECONDS)
    # No extra flag: with the fake devices and fake UI (tests/browser/conftest.py), Debian's
    # headless Chromium answers getDisplayMedia with a 1280×720 fake monitor, "screen:-3:0".
    await doctor.click("#btn-screen")  # a real click: getDisplayMedia needs a user gesture
    await patient.wait_for_selector('.tile-state:has-text("partage d\'écran")', timeout=SECONDS * 1000)
    video = "window.telesanteCall.sending().then(s => s.find(x => x.kind === 'video'))"
    sent = await until(doctor, f"{video}.then(v => v.surface && v)", SECONDS)
    assert sent["surface"] == "monitor", sent  # type: ignore[index]
    # The patient decodes the screen (16:9, the camera is 4:3), and keeps decoding.
    await until(patient, f"{WIDE}.then(r => r > 1.6)", SECONDS)
    await frames_advance(patient, seconds=SECONDS)
    await patient.screenshot(path=artifacts / "call-screen-shared.png")

    await doctor.click("#btn-screen")
    await until(
        patient, "!document.querySelector('.call-grid').textContent.includes(\"partage d'écran\")", SECONDS
    )
    camera = await until(doctor, f"{video}.then(v => !v.surface && v)", SECONDS)
    assert "fake" in str(camera["label"]), camera  # type: ignore[index]
    await until(patient, f"{WIDE}.then(r => r < 1.4)", SECONDS)
    await frames_advance(patient, seconds=SECONDS)


async def test_a_dropped_relay_heals_by_ice_restart_and_the_call_goes_on(
    browser: Browser, app: FastAPI, live_server: str, runtime: Runtime, call: Call, turn_server: Coturn
) -> None:
    app.state.call_turn = TurnSettings(
        urls=f"turn:127.0.0.1:{turn_server.port}?transport=udp", secret=TURN_SECRET, relay_only=True
    )
    pages = await both_in_call(browser, live_server, runtime, call)
    for page in pages:
        (peer,) = await wait_frames(page, seconds=SECONDS)
        assert peer["pair"] == {"local": "relay", "remote": "relay", "protocol": "udp"}, peer

    turn_server.kill()  # every allocation goes with it: no media path left
    ice = "window.telesanteCall.peers().then(p => p.length && p.every(x => {}))"
    for page in pages:
        await until(page, ice.format("!['connected', 'completed'].includes(x.ice)"), SECONDS)
    turn_server.start()  # the same port, a new process: the old allocations are gone for good

    for page in pages:
        await until(page, ice.format("['connected', 'completed'].includes(x.ice)"), SECONDS)
        (peer,) = await frames_advance(page, seconds=SECONDS)
        assert peer["pair"] == {"local": "relay", "remote": "relay", "protocol": "udp"}, peer
    reports = [(await page.evaluate("window.telesanteCall.peers()"))[0] for page in pages]
    assert sum(report["restarts"] for report in reports) >= 1, reports
    appointment = await incidents(runtime, call, "ice_restart")
    assert appointment.status == "in_call"  # the appointment survived the drop
    assert [await page.evaluate("window.telesanteCall.state") for page in pages] == ["joined", "joined"]


async def test_a_poor_network_lowers_the_video_first_and_keeps_the_audio(
    browser: Browser, live_server: str, runtime: Runtime, call: Call
) -> None:
    doctor, patient = await both_in_call(browser, live_server, runtime, call)
    await wait_frames(patient, seconds=SECONDS)
    sending = "window.telesanteCall.sending()"
    before = {s["kind"]: s for s in await doctor.evaluate(sending)}
    assert before["video"]["encodings"][0]["scaleResolutionDownBy"] in (None, 1)

    await doctor.evaluate("window.telesanteCall.forceQuality('poor')")
    reduced = (
        "s.find(x => x.kind === 'video' && x.encodings[0].scaleResolutionDownBy === 4 && x.frameWidth <= 160)"
    )
    await until(doctor, f"{sending}.then(s => {reduced})", SECONDS)
    poor = {s["kind"]: s for s in await doctor.evaluate(sending)}
    assert poor["video"]["encodings"] == [
        {"scaleResolutionDownBy": 4, "maxFramerate": 8, "maxBitrate": 150_000}
    ]
    assert poor["audio"]["encodings"] == before["audio"]["encodings"]  # the sound is untouched
    assert poor["audio"]["bytesSent"] > before["audio"]["bytesSent"]
    await until(patient, "window.telesanteCall.peers().then(([p]) => p.frame.width <= 160)", SECONDS)
    assert "son préservé" in (await doctor.text_content("#quality") or "")
    assert (await incidents(runtime, call, "poor_network")).status == "in_call"

    await doctor.evaluate("window.telesanteCall.forceQuality('good')")
    restored = (
        "s.find(x => x.kind === 'video' && x.encodings[0].scaleResolutionDownBy === 1 && x.frameWidth > 160)"
    )
    await until(doctor, f"{sending}.then(s => {restored})", SECONDS)
    good = {s["kind"]: s for s in await doctor.evaluate(sending)}
    assert good["video"]["encodings"] == [
        {"scaleResolutionDownBy": 1, "maxFramerate": 30, "maxBitrate": 1_200_000}
    ]
    assert good["audio"]["encodings"] == before["audio"]["encodings"]


# (rtt in seconds, loss ratio, level): the thresholds of quality.js's level(), on both sides of each.
LEVELS = [
    (None, 0.0, "unknown"),
    (0.05, 0.0, "good"),
    (0.299, 0.029, "good"),
    (0.3, 0.0, "fair"),
    (0.05, 0.03, "fair"),
    (0.599, 0.079, "fair"),
    (0.6, 0.0, "poor"),
    (0.05, 0.08, "poor"),
    (2.0, 0.5, "poor"),
]


async def test_the_quality_levels_follow_their_thresholds(browser: Browser, live_server: str) -> None:
    page = await (await browser.new_context()).new_page()
    await page.goto(f"{live_server}/login")  # any page of the origin: its CSP allows our modules
    got = await page.evaluate(
        """async (cases) => {
            const { level } = await import("/static/call/quality.js");
            return cases.map(([rtt, loss]) => level({ rtt, loss }));
        }""",
        [[rtt, loss] for rtt, loss, _ in LEVELS],
    )
    assert list(zip(LEVELS, got, strict=True)) == [(case, case[2]) for case in LEVELS]
