"""The whole téléconsultation in Debian's Chromium, as its three users live it.

A patient books the doctor's next slot with a reason, is confirmed and reminded by e-mail,
consents and waits; the doctor admits her; both decode each other's video through the TURN
relay only (TCP, as on a hospital network that blocks UDP); they chat and she shares a
document; the doctor ends the call, signs the compte rendu, writes the ordonnance; a
pharmacist verifies it and dispenses it once. Screenshots of every step go to test-artifacts/.
"""

from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from playwright.async_api import Browser, BrowserContext, Page, expect
from sqlalchemy import update

from telesante.db import transaction, utcnow
from telesante.deps import SESSION_COOKIE
from telesante.jobs.models import Job
from telesante.jobs.worker import Worker
from telesante.runtime import Runtime
from telesante.teleconsultation.call.settings import TurnSettings
from telesante.teleconsultation.models import Appointment
from tests.call.conftest import TURN_SECRET, session_cookie, until, wait_frames, wait_joined
from tests.documents.files import pdf
from tests.fixtures.acts import open_agenda
from tests.fixtures.world import Person, World
from tests.prescriptions.conftest import complete_prescriber

pytestmark = pytest.mark.browser


async def signed_in(browser: Browser, base: str, runtime: Runtime, person: Person) -> Page:
    context: BrowserContext = await browser.new_context(locale="fr-FR", accept_downloads=True)
    cookie = await session_cookie(runtime, person)
    await context.add_cookies([{"name": SESSION_COOKIE, "value": cookie, "url": base}])
    return await context.new_page()


def subjects(smtp: list[object]) -> list[str]:
    return [message_from_bytes(m.content, policy=policy.default)["Subject"] for m in smtp]  # type: ignore[attr-defined]


async def test_book_remind_wait_admit_call_report_prescribe_dispense(
    browser: Browser,
    app: FastAPI,
    client: AsyncClient,
    live_server: str,
    runtime: Runtime,
    world: World,
    smtp_server: list[object],
    coturn: int,
    artifacts: Path,
    tmp_path: Path,
) -> None:
    shots = artifacts / "journey"
    shots.mkdir(exist_ok=True)
    doctor = await complete_prescriber(runtime, await world.professional("Martin"))
    await open_agenda(client, doctor)
    me = await world.patient(doctor, with_account=True)
    assert isinstance(me, Person)
    pharmacist = await world.professional("Leroy", profession="pharmacist", specialty=None)
    app.state.call_turn = TurnSettings(
        urls=f"turn:127.0.0.1:{coturn}?transport=tcp", secret=TURN_SECRET, relay_only=True
    )

    # Book: find the doctor, give a reason, take a slot in two days.
    patient = await signed_in(browser, live_server, runtime, me)
    await patient.goto(f"{live_server}/teleconsultations/reserver?q=Martin")
    await patient.get_by_role("link", name="Dr Claire Martin").click()
    await patient.fill("#reason", "Toux et fièvre depuis trois jours")
    await patient.locator(".slots").nth(2).locator("button.slot").first.click()
    await expect(patient.locator("#appointment")).to_be_visible()
    appointment_id = await patient.get_attribute("#appointment", "data-appointment")
    assert appointment_id
    ahead = tmp_path / "ordonnance-en-cours.pdf"
    ahead.write_bytes(pdf())
    await patient.set_input_files("#document-input", str(ahead))
    await patient.get_by_role("button", name="Envoyer le document").click()
    await expect(patient.locator("#document-list")).to_contain_text("ordonnance-en-cours.pdf")
    await patient.screenshot(path=shots / "1-booked.png", full_page=True)

    # Confirmed at once; reminded the day before and one hour before (the clock moves on).
    await Worker(runtime).run_until_idle()
    assert subjects(smtp_server) == ["Telesante : Téléconsultation confirmée"]
    async with transaction(runtime.sessionmaker) as db:  # the reminders' times come
        await db.execute(update(Job).where(Job.status == "pending").values(due_at=utcnow()))
    await Worker(runtime).run_until_idle()
    assert subjects(smtp_server)[1:] == ["Telesante : Rappel de téléconsultation"] * 2
    async with transaction(runtime.sessionmaker) as db:  # and the appointment's
        start = utcnow() + timedelta(minutes=5)
        await db.execute(
            update(Appointment)
            .where(Appointment.id == appointment_id)
            .values(starts_at=start, ends_at=start + timedelta(minutes=15))
        )

    # Waiting room: consent, then wait; the doctor sees her and admits her.
    await patient.reload()
    await patient.check("input[name=consent_given]")
    await patient.get_by_role("button", name="Entrer en salle d'attente").click()
    await expect(patient.get_by_text("Vous êtes en salle d'attente")).to_be_visible()
    office = await signed_in(browser, live_server, runtime, doctor)
    await office.goto(f"{live_server}/teleconsultations/{appointment_id}")  # what she sent ahead
    await expect(office.locator("#document-list")).to_contain_text("ordonnance-en-cours.pdf")
    await office.goto(f"{live_server}/teleconsultations")
    await expect(office.locator("#waiting-room")).to_contain_text("Marie DURAND")
    await office.screenshot(path=shots / "2-waiting-room.png", full_page=True)
    await office.get_by_role("button", name="Faire entrer").click()

    # The call: both decode each other's video, through the relay only, over TCP.
    for page in (office, patient):
        await page.wait_for_url(f"**/teleconsultations/{appointment_id}/appel")
        await wait_joined(page)
    for page in (office, patient):
        (peer,) = await wait_frames(page, seconds=30)
        assert peer["pair"] == {"local": "relay", "remote": "relay", "protocol": "tcp"}, peer
    await patient.fill("#chat-input", "Bonjour docteur, je vous vois bien.")
    await patient.click("#chat-form button")
    await until(office, "window.telesanteCall.messages.some(m => m.text.includes('je vous vois bien'))")
    document = tmp_path / "analyse-sang.pdf"
    document.write_bytes(pdf())
    await patient.set_input_files("#file-input", str(document))
    await patient.get_by_role("button", name="Partager le fichier").click()
    await expect(office.locator("#chat-log")).to_contain_text("analyse-sang.pdf", timeout=20_000)
    await office.screenshot(path=shots / "3-call-doctor.png")
    await patient.screenshot(path=shots / "3-call-patient.png")
    office.once("dialog", lambda dialog: dialog.accept())  # "Terminer … pour tous les participants ?"
    await office.get_by_role("button", name="Terminer la téléconsultation").click()
    for page in (office, patient):
        await until(page, "window.telesanteCall.state === 'ended'")

    # The compte rendu: written from a template, signed, locked, printable.
    await office.goto(f"{live_server}/teleconsultations/{appointment_id}")
    await office.get_by_role("link", name="Compte rendu", exact=True).click()
    await office.select_option("#template", "infection_orl")
    await office.click("#apply-template")
    await office.fill("#anamnese", "Toux sèche et fièvre à 38,5 °C depuis trois jours.")
    await office.fill("#conclusion", "Rhinopharyngite virale probable.")
    await office.click("#sign-report")
    await expect(office.locator("#report-locked")).to_be_visible()
    await expect(office.locator("#participants")).to_contain_text("Marie DURAND")
    await expect(office.locator("#documents")).to_contain_text("PDF")  # the shared file, sealed by its hash
    await office.screenshot(path=shots / "4-report.png", full_page=True)
    report_pdf = await office.request.get(f"{live_server}/api/teleconsultations/{appointment_id}/report.pdf")
    assert report_pdf.ok and (await report_pdf.body()).startswith(b"%PDF")

    # The ordonnance: one line, signed, with its number, QR code and PDF.
    await office.goto(f"{live_server}/teleconsultations/{appointment_id}")
    await office.get_by_role("link", name="Ordonnance", exact=True).click()
    await office.fill("#lines-0-dci", "paracétamol")
    await office.fill("#lines-0-dose", "1 g")
    await office.fill("#lines-0-form", "comprimé")
    await office.fill("#lines-0-posology", "1 comprimé toutes les 6 heures si fièvre, 4 par jour au plus")
    await office.fill("#lines-0-duration", "5 jours")
    await office.get_by_role("button", name="Signer l'ordonnance").click()
    await expect(office.get_by_role("heading", name="Ordonnance signée")).to_be_visible(timeout=20_000)
    printed = (await office.text_content("#printed-id") or "").strip()
    async with office.expect_download() as waiting:
        await office.click("#pdf-link")
    saved = tmp_path / "ordonnance.pdf"
    await (await waiting.value).save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")
    await office.screenshot(path=shots / "5-prescription.png", full_page=True)

    # The pharmacist types the number, sees the verified content and dispenses it, once.
    pharmacy = await signed_in(browser, live_server, runtime, pharmacist)
    await pharmacy.goto(f"{live_server}/pharmacie")
    await pharmacy.fill("#id", printed)
    await pharmacy.get_by_role("button", name="Vérifier").click()
    await expect(pharmacy.get_by_text("Signature vérifiée")).to_be_visible()
    await expect(pharmacy.locator("table")).to_contain_text("paracétamol")
    dispense_form = pharmacy.locator("form[action*='/lignes/0']")
    action = await dispense_form.get_attribute("action")
    csrf = await dispense_form.locator("input[name=csrf_token]").get_attribute("value")
    await pharmacy.get_by_role("button", name="Délivrer la ligne 1").click()
    await expect(pharmacy.get_by_text("Entièrement délivrée")).to_be_visible()
    await expect(pharmacy.get_by_role("button", name="Délivrer la ligne 1")).to_have_count(0)
    replayed = await pharmacy.request.post(f"{live_server}{action}", form={"csrf_token": csrf or ""})
    assert "déjà" in await replayed.text()  # a second dispensation of a non-renewable line is refused
    await pharmacy.screenshot(path=shots / "6-dispensed.png", full_page=True)
    async with runtime.sessionmaker() as db:
        held = await db.get(Appointment, appointment_id)
        assert (
            held is not None and held.status == "done" and held.reason == "Toux et fièvre depuis trois jours"
        )
