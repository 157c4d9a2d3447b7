"""kill -9 of a real `telesante serve` while devices send over MQTT and HTTP FHIR Bundles: after a
restart, everything acknowledged (PUBACK from the broker, a 2xx answer) is stored, and once."""

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import aiomqtt
import httpx
import pytest
from httpx import AsyncClient
from sqlalchemy import select

from telesante.db import utcnow
from telesante.monitoring.models import Alert, Measurement
from telesante.monitoring.mqtt import MqttConfig
from telesante.runtime import Runtime
from tests.fixtures.app import free_port
from tests.monitoring.conftest import Followed, bundle, glucose, register_device
from tests.monitoring.test_mqtt import forget_session
from tests.processes.servers import stop, wait_ready

pytestmark = pytest.mark.processes
MQTT_MESSAGES = 600  # under Mosquitto's default max_queued_messages (1000)
BUNDLES = 40
ENTRIES = 10


@pytest.fixture
async def config(mqtt_url: str) -> AsyncIterator[MqttConfig]:
    unique = uuid.uuid4().hex[:10]
    config = MqttConfig.from_url(f"{mqtt_url}/crash-{unique}?client_id=telesante-crash-{unique}")
    yield config
    await forget_session(config)


class Server:
    """One `telesante serve` on a fixed port, started again after each crash."""

    def __init__(self, config: MqttConfig) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        query = f"client_id={config.client_id}"
        self.env = {
            **os.environ,
            "TELESANTE_MQTT_URL": f"mqtt://{config.host}:{config.port}/{config.root}?{query}",
        }
        self.process: subprocess.Popen[bytes] | None = None

    def spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "telesante", "serve", "--port", str(self.port), "--no-worker"],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    async def start(self) -> None:
        self.process = self.spawn()
        await asyncio.to_thread(wait_ready, self.base, self.process)
        deadline = time.monotonic() + 15
        async with httpx.AsyncClient() as http:
            while "telesante_mqtt_subscribed 1.0" not in (await http.get(f"{self.base}/metrics")).text:
                assert time.monotonic() < deadline, "the MQTT consumer did not subscribe"
                await asyncio.sleep(0.1)

    def kill(self) -> None:
        assert self.process is not None
        stop(self.process, kill=True)


def moment(start: datetime, index: int) -> datetime:
    return start + timedelta(seconds=index)


async def publish_all(config: MqttConfig, followed: Followed, start: datetime, acked: list[int]) -> None:
    """Each message once, as a device does; `acked` gets the ones the broker acknowledged (PUBACK)."""
    async with aiomqtt.Client(config.host, config.port, protocol=aiomqtt.ProtocolVersion.V5) as device:
        for index in range(MQTT_MESSAGES):
            value = 60 if index % 97 == 0 else 100 + index % 80  # a few hypoglycaemias among them
            payload = {
                "token": followed.token,
                "id": f"m-{index}",
                "code": "99504-3",
                "value": value,
                "unit": "mg/dL",
                "at": moment(start, index).isoformat(),
            }
            await device.publish(config.measurements_topic(followed.device_id), json.dumps(payload), qos=1)
            acked.append(index)
            await asyncio.sleep(0.004)


async def post_bundles(base: str, token: str, start: datetime, answered: set[int]) -> None:
    """Bundles of ENTRIES readings; a device resends what got no 2xx answer until it gets one."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"}
    pending = list(range(BUNDLES))
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        while pending:
            number = pending.pop(0)
            first = number * ENTRIES
            body = bundle(
                "batch",
                *(glucose(110 + i % 30, moment(start, first + i), code="41653-7") for i in range(ENTRIES)),
            )
            try:
                response = await http.post("/fhir/R4", headers=headers, json=body)
                if response.status_code // 100 == 2:
                    answered.add(number)
                    continue
            except httpx.TransportError:
                pass
            pending.append(number)  # the server is down: try again later
            await asyncio.sleep(0.1)


async def stored(runtime: Runtime, device_id: str) -> list[datetime]:
    async with runtime.sessionmaker() as db:
        return list(
            await db.scalars(select(Measurement.effective_at).where(Measurement.device_id == device_id))
        )


def lost(stored: list[datetime], acknowledged: list[datetime]) -> list[str]:
    return sorted(at.isoformat() for at in set(acknowledged) - set(stored))


async def test_nothing_acknowledged_is_lost_and_nothing_is_stored_twice_across_a_kill_9(
    client: AsyncClient, followed: Followed, config: MqttConfig, runtime: Runtime
) -> None:
    meter = await register_device(client, followed.doctor, followed.program_id, kind="glucometer")
    start = utcnow() - timedelta(minutes=100)
    server = Server(config)
    await server.start()
    acked: list[int] = []
    answered: set[int] = set()
    mqtt = asyncio.create_task(publish_all(config, followed, start, acked))
    http = asyncio.create_task(post_bundles(server.base, meter["token"], start, answered))
    try:
        while len(acked) < MQTT_MESSAGES // 5 or len(answered) < 3:
            await asyncio.sleep(0.01)
        server.kill()  # in the middle of both streams
        killed_at = (len(acked), len(answered))
        await asyncio.sleep(0.5)  # devices keep sending while nothing runs
        await server.start()
        await asyncio.wait_for(asyncio.gather(mqtt, http), 120)
        deadline = time.monotonic() + 60
        while len(await stored(runtime, followed.device_id)) < len(acked) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
    finally:
        mqtt.cancel()
        http.cancel()
        server.kill()
    assert 0 < killed_at[0] < MQTT_MESSAGES and 0 < killed_at[1] < BUNDLES
    by_mqtt = await stored(runtime, followed.device_id)
    assert lost(by_mqtt, [moment(start, i) for i in acked]) == []
    assert sorted(by_mqtt) == [moment(start, i) for i in sorted(acked)]  # each once, nothing else
    by_http = await stored(runtime, meter["id"])
    sent = [moment(start, n * ENTRIES + i) for n in sorted(answered) for i in range(ENTRIES)]
    assert lost(by_http, sent) == []
    assert sorted(by_http) == sent
    async with runtime.sessionmaker() as db:
        rules = list(await db.scalars(select(Alert.rule_code).where(Alert.program_id == followed.program_id)))
    assert Counter(rules) == {"glucose.hypo": 1}
