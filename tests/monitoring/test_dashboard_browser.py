"""In Debian's Chromium: the operator's dashboard is open, a simulated CGM sends a hypoglycaemia over
FHIR (HTTP), the alert appears without reloading, the doctor acknowledges it with a comment; then
the patient's page renders its AGP, and the patient reads it in plain words (screenshots in
test-artifacts/). The measurement-to-screen delay is printed, not asserted."""

import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, expect

from telesante.db import transaction, utcnow
from telesante.monitoring import ingest, simulation
from telesante.monitoring.models import Device
from telesante.runtime import Runtime
from tests.browser.conftest import artifacts, browser  # noqa: F401 - the browser tests' fixtures
from tests.call.conftest import session_context, until
from tests.monitoring.conftest import Followed, alerts, glucose

pytestmark = pytest.mark.browser


async def two_weeks_of_cgm(runtime: Runtime, followed: Followed) -> int:
    """The patient's sensor history (simulated, no anomaly), stored through the one ingestion."""
    now = utcnow()
    [patient] = simulation.cohort(1, seed="agp")
    readings = simulation.simulate(
        patient, now - timedelta(days=14), now - timedelta(minutes=30), anomalies=False
    )
    async with transaction(runtime.sessionmaker) as db:
        device = await db.get(Device, followed.device_id)
        assert device is not None
        sent = [
            ingest.Reading.single(r.kind, r.value, r.unit, r.device_time(), ingest.Source.FHIR)
            for r in readings.readings
            if r.kind.value == "glucose_cgm"
        ]
        outcomes = await ingest.ingest(db, None, device, sent, now=now)
    assert all(o.result is ingest.Result.CREATED for o in outcomes)
    return len(outcomes)


async def test_a_live_alert_is_acknowledged_then_the_agp_renders(
    live_server: str,
    client: httpx.AsyncClient,
    browser: Browser,  # noqa: F811
    runtime: Runtime,
    followed: Followed,
    artifacts: Path,  # noqa: F811
) -> None:
    stored = await two_weeks_of_cgm(runtime, followed)
    assert stored > 3000  # 14 days of 5-minute readings, less the sensor's short gaps
    assert followed.patient.patient is not None
    patient_id = followed.patient.patient.id
    context = await session_context(browser, live_server, runtime, followed.doctor)
    page = await context.new_page()
    await page.goto(f"{live_server}/telesurveillance")
    card = page.locator(f"#patient-{patient_id}")
    await expect(card).to_be_visible()
    await expect(card.locator("[data-alert]")).to_have_count(0)
    await until(page, "document.getElementById('monitoring-dashboard').dataset.live === 'connected'")

    async with httpx.AsyncClient(base_url=live_server) as device:
        sent_at, sent_epoch = time.perf_counter(), time.time()
        response = await device.post(
            "/fhir/R4/Observation", headers=followed.device_headers, json=glucose(47, utcnow())
        )
        answered = time.perf_counter()
    assert response.status_code == 201, response.text
    severe = card.locator("[data-alert]", has_text="Hypoglycémie de niveau 2")
    await severe.wait_for(state="visible", timeout=10_000)  # DOM-observed, not polled
    on_screen = time.perf_counter()
    swapped = float(
        str(await page.evaluate("document.getElementById('monitoring-dashboard').dataset.refreshedAt"))
    )
    print(
        f"\nmeasurement → alert on screen: {1000 * (on_screen - sent_at):.0f} ms seen by the test, "
        f"{swapped - 1000 * sent_epoch:.0f} ms to the swap by the page's clock "
        f"(HTTP answer after {1000 * (answered - sent_at):.0f} ms), no reload"
    )
    assert await page.evaluate("performance.getEntriesByType('navigation').length") == 1  # never reloaded
    await expect(severe).to_contain_text("47 mg/dL")  # the measurement that raised it
    await page.screenshot(path=str(artifacts / "monitoring-dashboard-live-alert.png"), full_page=True)

    await severe.get_by_label("Commentaire de prise en compte").fill("Patiente appelée, resucrage fait.")
    await severe.get_by_role("button", name="Prendre en compte").click()
    acknowledged = page.locator(
        "[data-alert][data-status='acknowledged']", has_text="Hypoglycémie de niveau 2"
    )
    await expect(acknowledged).to_contain_text("Prise en compte par Dr Claire Martin")
    await expect(acknowledged).to_contain_text("Patiente appelée, resucrage fait.")
    stored_alerts = {a["rule_code"]: a for a in await alerts(client, followed.doctor)}
    assert stored_alerts["glucose.hypo_severe"]["status"] == "acknowledged"
    assert stored_alerts["glucose.hypo_severe"]["acknowledgement"] == "Patiente appelée, resucrage fait."

    await page.goto(f"{live_server}/telesurveillance/patients/{patient_id}")
    agp = page.locator("svg#agp")
    await expect(agp).to_be_visible()
    await expect(agp.locator("polygon")).not_to_have_count(0)
    await expect(page.locator("#glucose-metrics")).to_contain_text("GMI")
    await page.locator("#agp-section").screenshot(path=str(artifacts / "monitoring-agp.png"))
    await page.screenshot(path=str(artifacts / "monitoring-patient-page.png"), full_page=True)
    assert (artifacts / "monitoring-agp.png").stat().st_size > 10_000
    await context.close()

    mine = await (await session_context(browser, live_server, runtime, followed.patient)).new_page()
    await mine.goto(f"{live_server}/mes-mesures")
    await expect(mine.locator("#my-alerts")).to_contain_text("Votre glycémie est descendue sous 54 mg/dL")
    await expect(mine.locator("#my-alerts")).to_contain_text("en a pris connaissance")  # acknowledged above
    await mine.screenshot(path=str(artifacts / "monitoring-my-measurements.png"), full_page=True)
