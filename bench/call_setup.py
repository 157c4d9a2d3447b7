"""Call set-up time: join to first decoded video frame, Telesante's call vs a bare WebRTC call.

    .venv/bin/python bench/call_setup.py [--calls 20]

Both run in the same Debian Chromium (fake camera), on the same uvicorn, one after the other.
Telesante: the doctor's page is in the call; from the patient's page load (page, session,
join token, socket, mesh offer) until both pages decode frames. Bare: the same two pages
with the machine recipe's minimal relay (no authentication, no database, no bus).
Prints p50 and p99 of each, in milliseconds.
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
sys.path.insert(0, str(ROOT))  # the tests' arrangement helpers (world, call pages)

BARE_PAGE = """<!doctype html><meta charset="utf-8"><script type="module" src="/bare.js"></script>"""
BARE_JS = """const stream = await navigator.mediaDevices.getUserMedia(
  {video: {width: 640, height: 480}, audio: true});
const pc = new RTCPeerConnection({iceServers: []});
stream.getTracks().forEach(t => pc.addTrack(t, stream));
const ws = new WebSocket(`ws://${location.host}/bare/ws/${new URLSearchParams(location.search).get("room")}`);
const send = m => ws.send(JSON.stringify(m));
pc.onicecandidate = e => e.candidate && send({type: "cand", c: e.candidate});
ws.onopen = () => window.ready = true;
ws.onmessage = async ev => { const m = JSON.parse(ev.data);
  if (m.type === "peer-joined") {
    await pc.setLocalDescription(await pc.createOffer()); send({type: "sdp", sdp: pc.localDescription}); }
  else if (m.type === "sdp") { await pc.setRemoteDescription(m.sdp);
    if (m.sdp.type === "offer") {
      await pc.setLocalDescription(await pc.createAnswer());
      send({type: "sdp", sdp: pc.localDescription}); } }
  else if (m.type === "cand") await pc.addIceCandidate(m.c); };
window.frames_ = async () => { let f = 0; (await pc.getStats()).forEach(r => {
  if (r.type === "inbound-rtp" && r.kind === "video") f += r.framesDecoded || 0; }); return f; };
"""


RESOURCES = """performance.getEntriesByType('resource')
  .map(r => [r.name.split('/').pop(), Math.round(r.startTime), Math.round(r.responseEnd)])"""


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def bare_routes(app: Any) -> None:
    from fastapi import WebSocket, WebSocketDisconnect
    from fastapi.responses import HTMLResponse, Response

    rooms: dict[str, set[WebSocket]] = {}

    @app.get("/bare")
    async def bare_page() -> HTMLResponse:
        return HTMLResponse(BARE_PAGE)

    @app.get("/bare.js")
    async def bare_script() -> Response:  # a file, not inline: the app's CSP applies to both pages
        return Response(BARE_JS, media_type="text/javascript")

    @app.websocket("/bare/ws/{room}")
    async def bare_ws(sock: WebSocket, room: str) -> None:
        await sock.accept()
        peers = rooms.setdefault(room, set())
        for peer in peers:
            await peer.send_json({"type": "peer-joined"})
        peers.add(sock)
        try:
            while True:
                text = await sock.receive_text()
                for peer in list(peers):
                    if peer is not sock:
                        await peer.send_text(text)
        except WebSocketDisconnect:
            peers.discard(sock)


async def until(page: Any, expression: str, seconds: float = 30) -> None:
    deadline = time.perf_counter() + seconds
    while not await page.evaluate(expression):
        if time.perf_counter() > deadline:
            raise TimeoutError(expression)
        await asyncio.sleep(0.01)


async def run(calls: int) -> None:
    import uvicorn
    from playwright.async_api import async_playwright
    from tests.browser.conftest import ARGS, CHROMIUM
    from tests.call.conftest import call_page, make_call, session_context
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
    bare_routes(app)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, port=port, log_config=None, lifespan="off", ws="websockets-sansio")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event
        await asyncio.sleep(0.02)
    base, world = f"http://127.0.0.1:{port}", World(runtime)
    doctor = await world.professional("Bench")
    ours, bare = [], []
    phases: dict[str, list[float]] = {}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        for _ in range(calls):
            call = await make_call(world, runtime, doctor)
            first = await call_page(browser, base, runtime, call.doctor, call.appointment.id)
            await until(first, "window.telesanteCall?.state === 'joined'")
            # As for the bare call, the browser context (with its session) exists before the clock starts.
            context = await session_context(browser, base, runtime, call.patient)
            second = await context.new_page()
            start = time.perf_counter()
            await second.goto(f"{base}/teleconsultations/{call.appointment.id}/appel", wait_until="commit")
            for page in (first, second):
                await until(page, "window.telesanteCall.peers().then(p => p.some(x => x.framesDecoded > 0))")
            ours.append((time.perf_counter() - start) * 1000)
            marks = await second.evaluate(
                "({...window.telesanteCall.marks, html: Math.round("
                "performance.getEntriesByType('navigation')[0].responseEnd)})"
            )
            if os.environ.get("BENCH_RESOURCES"):  # each static file's start and end, to find a slow one
                print(await second.evaluate(RESOURCES))
            for name, at in marks.items():
                phases.setdefault(name, []).append(at)
            await first.evaluate("window.telesanteCall.end()")
            await until(second, "window.telesanteCall.state === 'ended'")
            for page in (first, second):
                await page.context.close()
        for n in range(calls):
            contexts = [await browser.new_context() for _ in range(2)]
            first, second = [await c.new_page() for c in contexts]
            await first.goto(f"{base}/bare?room=r{n}", wait_until="commit")
            await until(first, "window.ready === true")
            start = time.perf_counter()
            await second.goto(f"{base}/bare?room=r{n}", wait_until="commit")
            for page in (first, second):
                await until(page, "window.frames_ && window.frames_().then(f => f > 0)")
            bare.append((time.perf_counter() - start) * 1000)
            for context in contexts:
                await context.close()
        await browser.close()
    server.should_exit = True
    await task
    await runtime.close()
    print(
        "patient page, median ms since navigation: "
        + ", ".join(
            f"{name} {statistics.median(at):.0f}"
            for name, at in sorted(phases.items(), key=lambda p: statistics.median(p[1]))
        )
    )
    for label, values in (("telesante call", ours), ("bare WebRTC call", bare)):
        print(
            f"{label:18s} join to first frame over {calls} calls: p50 {percentile(values, 50):6.0f} ms, "
            f"p99 {percentile(values, 99):6.0f} ms, min {min(values):5.0f}, max {max(values):5.0f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20)
    args = parser.parse_args()
    data = tempfile.mkdtemp(prefix="telesante-bench-call-")
    os.environ.update(
        TELESANTE_ENVIRONMENT="test",
        TELESANTE_DATA_DIR=data,
        TELESANTE_DATABASE_URL=f"sqlite+aiosqlite:///{data}/bench.sqlite3",
        TELESANTE_SECRET_KEY="bench-secret-key",
    )
    logging.disable(logging.INFO)
    asyncio.run(run(args.calls))


if __name__ == "__main__":
    main()
