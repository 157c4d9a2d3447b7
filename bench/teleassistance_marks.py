"""Téléassistance marks: round trip of a mark over the call's data channel, doctor to professional.

    .venv/bin/python bench/teleassistance_marks.py [--marks 300] [--every 16]

Two Debian Chromium pages (fake camera) in one session on loopback, served by uvicorn with SQLite.
The doctor's page sends `--marks` pointer marks, one every `--every` ms (a pointer dragged at
60 Hz), over the data channel; the professional's page draws each and answers an ack; the doctor's
page measures each round trip. Prints p50, p95 and max in milliseconds (target: p95 < 150 ms).
"""

import argparse
import asyncio
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the tests' arrangement helpers (world, logged-in browser contexts)

SEND = """async ([count, every]) => {
  const hook = window.telesanteCall, sent = [];
  for (let i = 0; i < count; i++) {
    const points = [[(i % 100) / 100, 0.5]];
    sent.push(hook.sendMark({ id: `b${i}`, type: "pointer", points, color: "#ffcc00", track: "main" }));
    await new Promise((resolve) => setTimeout(resolve, every));
  }
  return Promise.all(sent);
}"""


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


async def until(page: Any, expression: str, seconds: float = 30) -> None:
    deadline = time.perf_counter() + seconds
    while not await page.evaluate(expression):
        if time.perf_counter() > deadline:
            raise TimeoutError(expression)
        await asyncio.sleep(0.05)


async def active_session(app: Any, world: Any) -> tuple[str, Any, Any]:
    """A nurse's session for a consenting patient, accepted by a doctor: (id, nurse, doctor)."""
    import httpx
    from tests.fixtures.acts import record_consent

    nurse = await world.professional("Petit", profession="nurse", specialty=None)
    doctor = await world.professional("Benali", specialty="Dermatologie")
    patient = await world.patient(nurse)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as http:
        await record_consent(
            http, nurse, patient.id, "teleassistance", "Un médecin guidera le geste par vidéo."
        )
        body = {
            "patient_id": patient.id,
            "act": "Banc d'essai des annotations",
            "doctor_id": doctor.professional.id,
        }
        started = (await http.post("/api/teleassistance/sessions", json=body, headers=nurse.headers)).json()
        accepted = await http.post(
            f"/api/teleassistance/sessions/{started['id']}/accept", headers=doctor.headers
        )
        accepted.raise_for_status()
    return started["id"], nurse, doctor


async def run(marks: int, every: int) -> None:
    import uvicorn
    from playwright.async_api import async_playwright
    from tests.browser.conftest import ARGS, CHROMIUM
    from tests.call.conftest import session_context
    from tests.fixtures.app import free_port
    from tests.fixtures.world import World

    from telesante.app import create_app
    from telesante.migrations import upgrade
    from telesante.runtime import Runtime
    from telesante.settings import get_settings

    settings = get_settings()
    await asyncio.to_thread(upgrade, settings.sqlalchemy_url)
    app = create_app(settings, run_worker=False)
    app.state.runtime = runtime = Runtime.create(settings)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, port=port, log_config=None, lifespan="off", ws="websockets-sansio")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event
        await asyncio.sleep(0.02)
    base = f"http://127.0.0.1:{port}"
    session_id, nurse, doctor = await active_session(app, World(runtime))
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        pages = []
        for person in (nurse, doctor):
            page = await (await session_context(browser, base, runtime, person)).new_page()
            await page.goto(f"{base}/teleassistance/{session_id}")
            pages.append(page)
        for page in pages:
            await until(
                page, "window.telesanteCall.state === 'joined' && window.telesanteCall.channel === 'open'"
            )
        rtts: list[float] = await pages[1].evaluate(SEND, [marks, every])
        acked = await pages[0].evaluate("window.telesanteCall.acked")
        await browser.close()
    server.should_exit = True
    await task
    await runtime.close()
    lost = sum(1 for r in rtts if r is None)
    measured = [r for r in rtts if r is not None]
    print(
        f"{len(measured)} marks over the data channel (one every {every} ms), "
        f"{acked} acknowledged, {lost} lost: "
        f"round trip p50 {percentile(measured, 50):.1f} ms, p95 {percentile(measured, 95):.1f} ms, "
        f"max {max(measured):.1f} ms (target p95 < 150 ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--marks", type=int, default=300)
    parser.add_argument("--every", type=int, default=16, help="ms between two marks")
    args = parser.parse_args()
    data = tempfile.mkdtemp(prefix="telesante-bench-marks-")
    os.environ.update(
        TELESANTE_ENVIRONMENT="test",
        TELESANTE_DATA_DIR=data,
        TELESANTE_DATABASE_URL=f"sqlite+aiosqlite:///{data}/bench.sqlite3",
        TELESANTE_SECRET_KEY="bench-secret-key",
    )
    logging.disable(logging.INFO)
    asyncio.run(run(args.marks, args.every))


if __name__ == "__main__":
    main()
