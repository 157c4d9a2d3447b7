"""Memory of idle call-signaling WebSockets in one server process.

    .venv/bin/python bench/ws_memory.py [--sockets 1000]

A `telesante serve` process runs on its embedded default (SQLite). The benchmark arranges
calls of four participants (doctor, patient, two invited companions), then opens one signaling
socket per participant with a real join token, waits until every socket is welcomed, lets the
server settle and reads its resident memory (VmRSS) before and after. The sockets stay idle
(the server's pings answered by the client library). Prints the memory per socket and the
number of idle sockets that would fit in 1 GB at that rate (the target is 5,000 per process).
"""

import argparse
import asyncio
import logging
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx
import websockets

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the tests' arrangement helpers
PARTICIPANTS = 4


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def arrange(calls: int) -> list[tuple[str, str]]:
    """(appointment id, join token) for every participant of `calls` live calls."""
    from tests.fixtures.world import Person, World

    from telesante.db import transaction, utcnow
    from telesante.migrations import upgrade
    from telesante.runtime import Runtime
    from telesante.settings import get_settings
    from telesante.teleconsultation.call.tokens import Role, invite_companion, issue_join_token
    from telesante.teleconsultation.models import Appointment, ConsultationType

    settings = get_settings()
    await asyncio.to_thread(upgrade, settings.sqlalchemy_url)
    runtime = Runtime.create(settings)
    world = World(runtime)
    doctor = await world.professional("Bench")
    patient = await world.patient(doctor, with_account=True)
    assert isinstance(patient, Person) and doctor.professional and patient.patient
    joins: list[tuple[str, str]] = []
    async with transaction(runtime.sessionmaker) as db:
        kind = ConsultationType(professional_id=doctor.professional.id, label="Bench", duration_minutes=20)
        db.add(kind)
        await db.flush()
        now = utcnow().replace(microsecond=0)
        for n in range(calls):
            starts = now + timedelta(minutes=n)  # one live appointment per start time
            appointment = Appointment(
                professional_id=doctor.professional.id,
                patient_id=patient.patient.id,
                consultation_type_id=kind.id,
                starts_at=starts,
                ends_at=starts + timedelta(minutes=20),
                status="in_call",
                booked_by_user_id=patient.user.id,
                admitted_at=now,
                incidents=[],
            )
            db.add(appointment)
            await db.flush()
            ttl = timedelta(minutes=30)
            tokens = [
                await issue_join_token(db, appointment, doctor.user, Role.professional, "Dr Bench", ttl),
                await issue_join_token(db, appointment, patient.user, Role.patient, "Patient", ttl),
                await invite_companion(db, appointment, "Infirmière"),
                await invite_companion(db, appointment, "Pharmacien"),
            ]
            joins += [(appointment.id, token) for token in tokens]
    await runtime.close()
    return joins


class Tally:
    def __init__(self, total: int) -> None:
        self.total, self.welcomed, self.failed = total, 0, 0
        self.settled = asyncio.Event()

    def count(self, welcomed: bool) -> None:
        if welcomed:
            self.welcomed += 1
        else:
            self.failed += 1
        if self.welcomed + self.failed == self.total:
            self.settled.set()


async def hold(url: str, tally: Tally, stop: asyncio.Event) -> None:
    try:
        async with websockets.connect(url, max_size=2**20, open_timeout=60) as socket:
            await socket.recv()  # the welcome
            tally.count(welcomed=True)
            while not stop.is_set():  # drain what the calls announce (joined, present)
                try:
                    await asyncio.wait_for(socket.recv(), timeout=1)
                except TimeoutError:
                    continue
    except (OSError, websockets.WebSocketException):
        # The client shares the machine's two cores: a socket it starved is counted, not hidden.
        if not stop.is_set():
            tally.count(welcomed=False)


async def run(sockets: int, env: dict[str, str]) -> None:
    joins = await arrange(-(-sockets // PARTICIPANTS))
    joins = joins[:sockets]
    port = 8770 + os.getpid() % 200
    server = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "telesante", "serve", "--port", str(port), "--no-worker"),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient() as client:
            for _ in range(200):
                try:
                    if (await client.get(f"{base}/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        await asyncio.sleep(1)
        before = rss_kib(server.pid)
        tally, stop = Tally(len(joins)), asyncio.Event()
        started = time.perf_counter()
        tasks = []
        for appointment_id, token in joins:
            url = f"ws://127.0.0.1:{port}/ws/call/{appointment_id}?token={token}"
            tasks.append(asyncio.create_task(hold(url, tally, stop)))
            if len(tasks) % 50 == 0:
                await asyncio.sleep(0.2)  # a ramp, not a stampede
        await asyncio.wait_for(tally.settled.wait(), timeout=600)
        ramp = time.perf_counter() - started
        await asyncio.sleep(3)
        after = rss_kib(server.pid)
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), timeout=20)
    per_socket = (after - before) / tally.welcomed
    print(f"{tally.welcomed} idle signaling sockets welcomed in {ramp:.1f} s ({tally.failed} failed)")
    print(f"server RSS before {before / 1024:.1f} MiB, after {after / 1024:.1f} MiB")
    print(
        f"per socket {per_socket:.1f} KiB; 5,000 sockets ≈ {(before + 5000 * per_socket) / 1024:.0f} MiB; "
        f"sockets in 1 GB ≈ {int((1024 * 1024 - before) / max(per_socket, 0.1)):,}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=1000)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * args.sockets)), hard))
    data = tempfile.mkdtemp(prefix="telesante-bench-ws-")
    env = dict(
        os.environ,
        TELESANTE_ENVIRONMENT="test",
        TELESANTE_DATA_DIR=data,
        TELESANTE_DATABASE_URL=f"sqlite+aiosqlite:///{data}/bench.sqlite3",
        TELESANTE_SECRET_KEY="bench-secret-key",
        TELESANTE_LOG_LEVEL="WARNING",
    )
    os.environ.update(env)
    logging.disable(logging.INFO)
    asyncio.run(run(args.sockets, env))


if __name__ == "__main__":
    main()
