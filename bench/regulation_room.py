"""The SAMU room under load: queue updates on every screen while calls keep coming, on PostgreSQL.

    .venv/bin/python bench/regulation_room.py [--rate 50] [--minutes 10] [--open-files 200]
        [--screens 8] [--postgres URL]

A scratch database is created beside `--postgres` and migrated; a centre with its ARM, regulators
(one per screen) and resources, and `--open-files` files already waiting. Then, against a real
`telesante serve`, `telesante simulate calls`' players ring the centre at `--rate` calls a minute
for `--minutes` (incoming, answered by the ARM — which opens a file —, qualified through the API,
hung up); a minute or two later a regulator takes the file, sets its care level and validates it.
Every screen is a regulator's WebSocket on /ws that, on each `regulation_room` event,
refetches the queue as the room page does. Latency: from the answered event being posted to each
screen holding a queue that shows the new file (p50, p99, max, over files × screens).

Prints figures, asserts nothing about time.
"""

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))
TELEPHONY = "bench-telephony-secret"


async def arrange(screens: int, open_files: int) -> tuple[str, list[str]]:
    """The centre; returns (ARM e-mail, one API token per regulator screen)."""
    import telesante.app  # noqa: F401 - every module in the order the server loads them
    from telesante.auth import service as auth
    from telesante.auth.actor import Actor
    from telesante.db import transaction
    from telesante.directory.models import Organisation, Professional
    from telesante.identifiers.builders import make_finess, make_rpps
    from telesante.regulation import files
    from telesante.regulation.codes import Function
    from telesante.regulation.demo import RESOURCES
    from telesante.regulation.models import RegulationStaff, Resource
    from telesante.regulation.schemas import FileOpen
    from telesante.regulation.simulation import calls
    from telesante.regulation.staff import Member
    from telesante.runtime import Runtime
    from telesante.settings import get_settings

    settings = get_settings()
    runtime = Runtime.create(settings)
    tokens = []
    async with transaction(runtime.sessionmaker) as db:
        centre = Organisation(name="SAMU 69 – banc d'essai", kind="samu", finess=make_finess("69", 1))
        db.add(centre)
        await db.flush()
        people = [("arm", Function.ARM)] + [(f"mru{i}", Function.MRU) for i in range(screens)]
        members = {}
        for index, (key, function) in enumerate(people):
            profession = "call_taker" if function is Function.ARM else "physician"
            professional = Professional(
                rpps=make_rpps(index + 1), family_name=key, given_name="Bench", profession=profession
            )
            db.add(professional)
            await db.flush()
            user = await auth.create_user(
                db,
                email=f"{key}@bench.example.org",
                password="bench-password-123",
                role="professional",
                professional_id=professional.id,
            )
            db.add(RegulationStaff(centre_id=centre.id, professional_id=professional.id, function=function))
            members[key] = Member(Actor(user=user, mfa_passed=True, via="system"), centre.id, function)
            if function is not Function.ARM:
                tokens.append((await auth.create_api_token(db, user, settings))[0])
        for name, kind, vehicle, level, base, lat, lon in RESOURCES:
            db.add(
                Resource(
                    centre_id=centre.id,
                    name=name,
                    resource_type=kind,
                    vehicle_type=vehicle,
                    team_level=level,
                    base=base,
                    latitude=lat,
                    longitude=lon,
                )
            )
        await db.flush()
        waiting = [c for c in calls(600, timedelta(hours=1), seed="open") if c.priority not in {"P0", "NR"}]
        for call in waiting[:open_files]:
            await files.open_file(
                db,
                None,
                members["arm"],
                FileOpen(
                    priority=call.priority,
                    perimeter=call.perimeter,
                    motive=call.motive,
                    city=call.city,
                    latitude=call.latitude,
                    longitude=call.longitude,
                ),
            )
    await runtime.close()
    return "arm@bench.example.org", tokens


class Screen:
    """A regulator's screen: on each room event, refetch the queue; note when each file first shows."""

    def __init__(self, base: str, token: str) -> None:
        self.base, self.token = base, token
        self.seen: dict[str, float] = {}
        self.refetches = 0
        self.open = 0

    async def run(self, ready: asyncio.Event, stop: asyncio.Event) -> None:
        import httpx
        import websockets

        headers = {"Authorization": f"Bearer {self.token}"}
        url = self.base.replace("http://", "ws://") + "/ws"
        async with (
            httpx.AsyncClient(base_url=self.base, headers=headers, timeout=30) as http,
            websockets.connect(url, additional_headers=headers) as socket,
        ):
            await socket.recv()  # ready
            await self._refetch(http)
            ready.set()
            pending = asyncio.Event()
            refetching = asyncio.create_task(self._follow(http, pending, stop))
            while not stop.is_set():
                try:
                    await asyncio.wait_for(socket.recv(), 0.5)
                except TimeoutError:
                    continue
                pending.set()  # events that come during a refetch are covered by the next one
            await refetching

    async def _follow(self, http: Any, pending: asyncio.Event, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await asyncio.wait_for(pending.wait(), 0.5)
            except TimeoutError:
                continue
            pending.clear()
            await self._refetch(http)

    async def _refetch(self, http: Any) -> None:
        queue = (await http.get("/api/regulation/queue")).json()
        now = time.perf_counter()
        self.refetches += 1
        self.open = len(queue["waiting"]) + len(queue["regulating"])
        for file in queue["waiting"] + queue["regulating"]:
            self.seen.setdefault(file["id"], now)


class Timed:
    """simulate_calls' player, noting when each file's answered event was posted; and the
    regulators, who take each qualified file a while later and validate it, as a room does (the
    open files stay near `--open-files` instead of piling up)."""

    def __init__(self, base: str, tokens: list[str]) -> None:
        self.opened: dict[str, float] = {}
        self.base, self.tokens = base, tokens
        self.regulating: list[asyncio.Task[None]] = []

    def patch(self) -> None:
        from telesante.regulation import simulate_cli

        original = simulate_cli.Caller._event
        opened, regulate = self.opened, self._regulate

        async def timed(caller: Any, body: dict[str, object]) -> dict[str, str]:
            sent = time.perf_counter()
            answer = await original(caller, body)
            if body["event"] == "answered" and answer.get("file_id"):
                opened[answer["file_id"]] = sent
                self.regulating.append(asyncio.create_task(regulate(answer["file_id"])))
            return answer

        simulate_cli.Caller._event = timed  # type: ignore[method-assign]

    async def _regulate(self, file_id: str) -> None:
        import httpx

        await asyncio.sleep(random.uniform(60, 150))  # questioned by the ARM, then waiting
        headers = {"Authorization": f"Bearer {random.choice(self.tokens)}"}
        url = f"/api/regulation/files/{file_id}"
        async with httpx.AsyncClient(base_url=self.base, headers=headers, timeout=60) as http:
            if (await http.post(f"{url}/take")).status_code != 200:
                return  # an NR file, or another regulator's
            await asyncio.sleep(random.uniform(30, 90))
            await http.put(f"{url}/care-level", json={"care_level": "R3"})
            await http.post(f"{url}/state", json={"state": "VALIDE"})


async def load(base: str, arm_email: str, tokens: list[str], rate: float, minutes: float) -> None:
    from telesante.regulation.simulate_cli import simulate_calls

    screens = [Screen(base, token) for token in tokens]
    stop, readies = asyncio.Event(), [asyncio.Event() for _ in screens]
    watching = [asyncio.create_task(s.run(r, stop)) for s, r in zip(screens, readies, strict=True)]
    await asyncio.gather(*(r.wait() for r in readies))
    timed = Timed(base, tokens)
    timed.patch()
    started = time.perf_counter()
    outcomes = await simulate_calls(
        rate, timedelta(minutes=minutes), base, TELEPHONY, arm_email, "bench", 1.0
    )
    elapsed = time.perf_counter() - started
    for task in timed.regulating:
        task.cancel()
    await asyncio.gather(*timed.regulating, return_exceptions=True)
    await asyncio.sleep(2)  # the last events
    stop.set()
    await asyncio.gather(*watching)
    latencies = [
        (screen.seen[file_id] - sent) * 1000
        for file_id, sent in timed.opened.items()
        for screen in screens
        if file_id in screen.seen
    ]
    missing = len(timed.opened) * len(screens) - len(latencies)
    print(f"{sum(outcomes.values())} calls in {elapsed:.0f} s ({dict(outcomes)}), {len(screens)} screens")
    refetches = sum(s.refetches for s in screens)
    print(f"  refetches of the queue: {refetches}, open files at the end: {screens[0].open}")
    if latencies:
        q = statistics.quantiles(latencies, n=100, method="inclusive")
        print(
            f"  new file on every screen: p50 {q[49]:.0f} ms, p99 {q[98]:.0f} ms, "
            f"max {max(latencies):.0f} ms ({len(latencies)} file×screen, {missing} never seen)"
        )


def run(url: str, args: argparse.Namespace) -> None:
    from tests.fixtures.app import free_port
    from tests.processes.servers import stop, wait_ready

    from telesante.migrations import upgrade
    from telesante.settings import get_settings

    os.environ["TELESANTE_DATABASE_URL"] = url
    get_settings.cache_clear()
    upgrade(url)
    arm_email, tokens = asyncio.run(arrange(args.screens, args.open_files))
    port = free_port()
    command = [sys.executable, "-m", "telesante", "serve", "--port", str(port), "--no-worker"]
    with Path(os.environ.get("BENCH_SERVER_LOG", os.devnull)).open("w") as log:  # the server's log, if asked
        server = subprocess.Popen(command, env=os.environ.copy(), stdout=log, stderr=log)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_ready(base, server, timeout=60)
            print(
                f"PostgreSQL, {args.open_files} open files, {args.rate:g} calls/min "
                f"for {args.minutes:g} min, load {os.getloadavg()[0]:.1f}"
            )
            asyncio.run(load(base, arm_email, tokens, args.rate, args.minutes))
            print(f"load average after: {os.getloadavg()[0]:.1f}")
        finally:
            stop(server)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=50, help="calls per minute")
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--open-files", type=int, default=200)
    parser.add_argument("--screens", type=int, default=8)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    from bench.scratch import bench_environment, scratch_databases

    with bench_environment(TELESANTE_TELEPHONY_TOKEN=TELEPHONY), scratch_databases(args.postgres) as [url]:
        run(url, args)


if __name__ == "__main__":
    main()
