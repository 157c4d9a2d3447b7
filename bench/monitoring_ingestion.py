"""Télésurveillance ingestion throughput and measurement-to-screen latency, on PostgreSQL.

    .venv/bin/python bench/monitoring_ingestion.py [--patients 50] [--days 2] [--messages 20000]
        [--postgres URL] [--servers 1]

A scratch database is created beside `--postgres` and migrated; simulated patients are enrolled
(simulation.py's cohort: CGM, scales, cuffs, oximeters, anomalies included) and their devices
registered. Then, against real `telesante serve` processes:

1. HTTP: every reading of `--days` days, as FHIR batch Bundles of up to 500 entries per device,
   sent by 4 concurrent clients after one untimed Bundle per server (first-request costs: imports,
   route tables); ingestion includes the alert evaluation. Next to it, in the same
   run, PostgreSQL COPY of the very rows that were stored into a copy of the table (same indexes).
2. MQTT: `--messages` QoS 1 messages (one reading each, the following days of the same patients)
   published as fast as the broker takes them; stored messages/s, from the first publish until the
   last one is in the database. A private Mosquitto runs for this (persistence off, no queue limit:
   the default of 1,000 queued messages would drop what the consumer has not taken yet).
3. Latency under that MQTT load: a WebSocket client on /ws, logged in as the doctor who watches
   every program, timestamps each `monitoring_measurement` event; latency is from the publication
   of the message to the event of its measurement (p50, p99, max).

Prints figures, asserts nothing about time. The machine's load average is printed with them.
"""

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))
BUNDLE = 500
MQTT_SPAN = timedelta(days=7)  # MQTT readings are the newest; HTTP Bundles upload the days before
HTTP_CLIENTS = 4


@contextmanager
def servers(count: int, env: dict[str, str]) -> Iterator[tuple[list[str], list[int]]]:
    from tests.fixtures.app import free_port
    from tests.processes.servers import stop, wait_ready

    started = []
    try:
        for index in range(count):
            port = free_port()
            command = [sys.executable, "-m", "telesante", "serve", "--port", str(port), "--no-worker"]
            own = {**env, "TELESANTE_MQTT_URL": env["TELESANTE_MQTT_URL"].format(index=index)}
            process = subprocess.Popen(command, env=own, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            started.append((f"http://127.0.0.1:{port}", process))
        for base, process in started:
            wait_ready(base, process, timeout=60)
        yield [base for base, _ in started], [process.pid for _, process in started]
    finally:
        for _, process in started:
            stop(process)


@contextmanager
def mosquitto() -> Iterator[int]:
    """A private broker: no persistence, no limit on queued or in-flight messages."""
    from tests.fixtures.app import free_port

    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "mosquitto.conf"
        config.write_text(
            f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
            "max_queued_messages 0\nmax_inflight_messages 0\nlog_dest none\n"
        )
        shutil.chown(tmp, "mosquitto") if os.geteuid() == 0 else None
        process = subprocess.Popen(["mosquitto", "-c", str(config)], stdout=subprocess.DEVNULL)
        time.sleep(0.5)
        try:
            yield port
        finally:
            process.terminate()
            process.wait(10)


async def arrange(patients: int, start: datetime) -> tuple[list[Any], dict[Any, Any], str]:
    """The doctor, the simulated patients and their devices; returns (cohort, devices, doctor token)."""
    import telesante.app  # noqa: F401 - every module in the order the server loads them
    from telesante.auth import service as auth
    from telesante.db import transaction
    from telesante.directory.models import Professional
    from telesante.identifiers.builders import make_rpps
    from telesante.monitoring import simulate_cli, simulation
    from telesante.runtime import Runtime
    from telesante.settings import get_settings

    runtime = Runtime.create(get_settings())
    async with transaction(runtime.sessionmaker) as db:
        professional = Professional(
            rpps=make_rpps(1), family_name="Bench", given_name="Claire", profession="physician"
        )
        db.add(professional)
        await db.flush()
        user = await auth.create_user(
            db,
            email="bench@example.org",
            password="bench-password-123",
            role="professional",
            professional_id=professional.id,
        )
        token, _ = await auth.create_api_token(db, user, get_settings())
    cohort = simulation.cohort(patients, seed="bench")
    devices = await simulate_cli.enrol(runtime, cohort, start, "bench@example.org")
    await runtime.close()
    return cohort, devices, token


def bundles(
    cohort: list[Any], devices: dict[Any, Any], start: datetime, end: datetime
) -> list[tuple[str, bytes, int]]:
    """(device token, Bundle body, entries), up to BUNDLE entries per device, in time order."""
    from telesante.monitoring import simulate_cli, simulation

    per_device: dict[Any, list[dict[str, Any]]] = {}
    for _, sample in simulate_cli.samples((0.0, r) for r in simulation.stream(cohort, start, end)):
        device = devices[(sample.patient, sample.device)]
        per_device.setdefault(device, []).extend(
            {"resource": o, "request": {"method": "POST", "url": "Observation"}}
            for o in simulate_cli.observations(sample)
        )
    out = []
    for device, entries in per_device.items():
        for first in range(0, len(entries), BUNDLE):
            chunk = entries[first : first + BUNDLE]
            body = {"resourceType": "Bundle", "type": "batch", "entry": chunk}
            out.append((device.token, json.dumps(body).encode(), len(chunk)))
    out.sort(key=lambda item: json.loads(item[1])["entry"][0]["resource"]["effectiveDateTime"])
    return out


async def post_all(bases: list[str], work: list[tuple[str, bytes, int]]) -> float:
    import httpx

    queue = list(reversed(work))

    async def client(base: str) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=300) as http:
            while queue:
                token, body, _ = queue.pop()
                response = await http.post(
                    "/fhir/R4",
                    content=body,
                    headers={"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"},
                )
                assert response.status_code == 200, response.text
                statuses = {e["response"]["status"] for e in response.json()["entry"]}
                assert statuses == {"201 Created"}, statuses

    started = time.perf_counter()
    await asyncio.gather(*(client(bases[i % len(bases)]) for i in range(HTTP_CLIENTS)))
    return time.perf_counter() - started


def copy_rows(url: str) -> tuple[int, float]:
    """COPY the rows ingestion stored into a copy of the table with the same indexes."""
    import psycopg

    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        conn.execute("CREATE TABLE bench_copy (LIKE monitoring_measurements INCLUDING ALL)")
        columns = [
            "id", "patient_id", "program_id", "device_id", "kind", "value", "value_sent",
            "unit_sent", "effective_at", "received_at", "source", "panel_id",
        ]  # fmt: skip
        rows = conn.execute(f"SELECT {', '.join(columns)} FROM monitoring_measurements").fetchall()  # noqa: S608 - fixed names
        conn.commit()
        started = time.perf_counter()
        with (
            conn.cursor() as cursor,
            cursor.copy(f"COPY bench_copy ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        conn.commit()
        return len(rows), time.perf_counter() - started


def messages(
    cohort: list[Any], devices: dict[Any, Any], end: datetime, limit: int
) -> list[tuple[str, str, bytes]]:
    """(device id, effective time, payload): the last `limit` samples before `end` (within MQTT_SPAN),
    one per message, in time order: live data, as devices send it."""
    from collections import deque

    from telesante.monitoring import simulate_cli, simulation

    out: deque[tuple[str, str, bytes]] = deque(maxlen=limit)
    stream = simulation.stream(cohort, end - MQTT_SPAN, end)
    for _, sample in simulate_cli.samples((0.0, r) for r in stream):
        device = devices[(sample.patient, sample.device)]
        at = sample.at.astimezone(UTC).isoformat()
        out.append((device.id, at, simulate_cli.mqtt_payload(device.token, sample)))
    return list(out)


async def publish(
    port: int, root: str, work: list[tuple[str, str, bytes]], on_send: Any, rate: float | None = None
) -> float:
    """QoS 1, up to 500 awaiting their PUBACK at once; `rate` messages per second, or as fast as
    the broker takes them. Returns the seconds spent publishing."""
    import aiomqtt

    started = time.perf_counter()
    async with aiomqtt.Client("127.0.0.1", port, max_inflight_messages=1000) as client:
        client.pending_calls_threshold = 1_000_000
        pending: set[asyncio.Task[None]] = set()
        for index, (device_id, at, payload) in enumerate(work):
            if rate and (wait := started + index / rate - time.perf_counter()) > 0:
                await asyncio.sleep(wait)
            on_send(device_id, at)
            topic = f"{root}/devices/{device_id}/measurements"
            pending.add(asyncio.create_task(client.publish(topic, payload, qos=1)))
            if len(pending) >= 500:
                _, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        await asyncio.gather(*pending)
    return time.perf_counter() - started


async def mqtt_phases(
    port: int,
    root: str,
    base: str,
    token: str,
    work: list[tuple[str, str, bytes]],
    paced: int,
    stored: Any,
    pids: list[int],
) -> None:
    """Throughput (as fast as possible), then latency at 80 % of that throughput, watched on /ws."""
    import websockets

    patient_of = await stored.patients_of_devices()
    sent: dict[str, float] = {}
    latencies: list[float] = []

    def on_send(device_id: str, at: str) -> None:
        sent.setdefault(f"{patient_of[device_id]}|{at}", time.perf_counter())

    ws_url = base.replace("http", "ws") + "/ws"
    headers = {"Authorization": f"Bearer {token}"}
    async with websockets.connect(ws_url, additional_headers=headers, max_size=None) as ws:
        assert json.loads(await ws.recv())["type"] == "ready"

        async def watch() -> None:
            async for raw in ws:
                now = time.perf_counter()
                event = json.loads(raw)
                if event.get("type") == "monitoring_measurement":
                    for m in event["measurements"]:
                        at = datetime.fromisoformat(m["effective_at"]).astimezone(UTC).isoformat()
                        if (published := sent.pop(f"{event['patient_id']}|{at}", None)) is not None:
                            latencies.append(now - published)

        watcher = asyncio.create_task(watch())
        flood, steady = work[: len(work) - paced], work[len(work) - paced :]
        cpu = Cpu(pids)
        started = time.perf_counter()
        publishing = await publish(port, root, flood, on_send)
        await stored.wait_for(len(flood))
        elapsed = time.perf_counter() - started
        rate = len(flood) / elapsed
        print(f"MQTT QoS 1: {len(flood)} messages stored in {elapsed:.1f} s = {rate:,.0f} msgs/s")
        print(f"  (published in {publishing:.1f} s, all at once: the broker queues what is not taken yet)")
        print(cpu.report("msgs", len(flood)))
        latencies.clear()
        sent.clear()
        await publish(port, root, steady, on_send, rate=0.8 * rate)
        await stored.wait_for(len(work))
        await asyncio.sleep(0.5)
        watcher.cancel()
    if latencies:
        print(
            f"  measurement to screen at {0.8 * rate:,.0f} msgs/s "
            f"({len(latencies)} of {len(steady)} matched): "
            f"p50 {percentile(latencies, 50) * 1000:.0f} ms, p99 {percentile(latencies, 99) * 1000:.0f} ms, "
            f"max {max(latencies) * 1000:.0f} ms"
        )


class Stored:
    def __init__(self, url: str) -> None:
        self.url = url.replace("+psycopg", "")
        self.before = 0

    async def count(self) -> int:
        import psycopg

        async with await psycopg.AsyncConnection.connect(self.url) as conn:
            row = await (await conn.execute("SELECT count(*) FROM monitoring_measurements")).fetchone()
            return int(row[0]) if row else 0

    async def wait_for(self, count: int) -> None:
        """Poll the table: the rows are written by another process."""
        while await self.count() < self.before + count:  # noqa: ASYNC110 - nothing to wait on but the table
            await asyncio.sleep(0.05)

    async def patients_of_devices(self) -> dict[str, str]:
        import psycopg

        async with await psycopg.AsyncConnection.connect(self.url) as conn:
            rows = await (await conn.execute("SELECT id, patient_id FROM monitoring_devices")).fetchall()
            return {device: patient for device, patient in rows}


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time of these processes so far (0 for one that is gone)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / os.sysconf("SC_CLK_TCK")


def postgres_pids() -> list[int]:
    return [int(p.parent.name) for p in Path("/proc").glob("[0-9]*/comm") if _comm(p) == "postgres"]


def _comm(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


class Cpu:
    """CPU seconds spent by the server(s) and by PostgreSQL while a phase runs: on a shared machine
    the wall clock says little, this says what the work cost."""

    def __init__(self, servers: list[int]) -> None:
        self.servers = servers
        self.start = (cpu_seconds(servers), cpu_seconds(postgres_pids()))

    def report(self, label: str, count: int) -> str:
        server = cpu_seconds(self.servers) - self.start[0]
        database = cpu_seconds(postgres_pids()) - self.start[1]
        return (
            f"  CPU: server {server:.1f} s ({count / max(server, 1e-9):,.0f} {label} per server CPU-second), "
            f"PostgreSQL {database:.1f} s"
        )


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def run(url: str, args: argparse.Namespace) -> None:
    from telesante.migrations import upgrade
    from telesante.settings import get_settings

    os.environ["TELESANTE_DATABASE_URL"] = url
    get_settings.cache_clear()
    upgrade(url)
    now = datetime.now(UTC).replace(microsecond=0)
    http_start = now - MQTT_SPAN - timedelta(days=args.days)
    cohort, devices, token = asyncio.run(arrange(args.patients, http_start))
    work = bundles(cohort, devices, http_start, now - MQTT_SPAN)
    warm_up, work = work[: args.servers], work[args.servers :]  # one Bundle per server, untimed
    mqtt_work = messages(cohort, devices, now, args.messages + args.paced)
    entries = sum(count for _, _, count in work)
    mqtt_root = f"bench-{uuid.uuid4().hex[:8]}"
    with mosquitto() as port:
        mqtt_url = f"mqtt://127.0.0.1:{port}/{mqtt_root}?client_id=bench-{{index}}"
        env = {**os.environ, "TELESANTE_MQTT_URL": mqtt_url}
        if args.servers > 1:  # a WebSocket on one process sees what the others ingest
            env["TELESANTE_REDIS_URL"] = args.redis
        with servers(args.servers, env) as (bases, pids):
            load = os.getloadavg()[0]
            print(f"PostgreSQL, {args.patients} patients, {args.servers} server process(es), load {load:.1f}")
            asyncio.run(post_all(bases, warm_up))  # first-request costs (imports, routes) are not throughput
            cpu = Cpu(pids)
            seconds = asyncio.run(post_all(bases, work))
            print(f"HTTP Bundles: {entries} observations in {seconds:.1f} s = {entries / seconds:,.0f} obs/s")
            print(cpu.report("obs", entries))
            rows, copy_seconds = copy_rows(url)
            print(f"COPY of the same {rows} rows: {copy_seconds:.2f} s = {rows / copy_seconds:,.0f} rows/s")
            print(f"  ingestion / COPY = 1 : {(rows / copy_seconds) / (entries / seconds):.1f}")
            stored = Stored(url)
            stored.before = asyncio.run(stored.count())
            paced = min(args.paced, len(mqtt_work) // 2)
            asyncio.run(mqtt_phases(port, mqtt_root, bases[0], token, mqtt_work, paced, stored, pids))
            print(f"load average after: {os.getloadavg()[0]:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=50)
    parser.add_argument("--days", type=float, default=2)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--paced", type=int, default=5000, help="messages for the latency phase")
    parser.add_argument("--servers", type=int, default=1)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="the bus, with --servers > 1")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    from bench.scratch import bench_environment, scratch_databases

    with bench_environment(), scratch_databases(args.postgres) as [url]:
        run(url, args)


if __name__ == "__main__":
    main()
