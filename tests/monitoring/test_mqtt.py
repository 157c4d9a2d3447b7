"""Measurements over MQTT on a real Mosquitto: QoS 1, stored before acknowledged, deduplicated,
bad messages acknowledged and explained, nothing lost while the consumer is away."""

import asyncio
import json
import re
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
from httpx import AsyncClient
from sqlalchemy import select

from telesante.db import make_engine, make_sessionmaker, utcnow
from telesante.monitoring import simulate_cli, simulation
from telesante.monitoring.models import Measurement
from telesante.monitoring.mqtt import Consumer, MqttConfig
from telesante.runtime import Runtime
from tests.fixtures.world import Person, World
from tests.monitoring.conftest import Followed, ago, alerts, measurements


@pytest.fixture
async def config(mqtt_url: str) -> AsyncIterator[MqttConfig]:
    """A topic root and a session of this test's own, so nothing else on the broker mixes in;
    the session is removed afterwards."""
    unique = uuid.uuid4().hex[:10]
    config = MqttConfig.from_url(f"{mqtt_url}/test-{unique}?client_id=telesante-test-{unique}")
    yield config
    await forget_session(config)


async def forget_session(config: MqttConfig) -> None:
    """A clean start with no expiry ends the persistent session and what the broker queued for it."""
    async with aiomqtt.Client(
        config.host,
        config.port,
        identifier=config.client_id,
        protocol=aiomqtt.ProtocolVersion.V5,
        clean_start=True,
    ):
        pass


Start = Callable[[], Awaitable[Consumer]]


@pytest.fixture
async def consumer(runtime: Runtime, config: MqttConfig) -> AsyncIterator[Start]:
    """Starts the consumer when called (in this event loop, on the test database), stops it after."""
    running: list[tuple[Consumer, asyncio.Task[None]]] = []

    async def start() -> Consumer:
        consumer = Consumer(runtime, config)
        running.append((consumer, asyncio.create_task(consumer.run_forever())))
        await asyncio.wait_for(consumer.subscribed.wait(), 10)
        return consumer

    yield start
    for consumer, task in running:
        consumer.stop()
        await asyncio.wait_for(task, 10)


async def stop(consumer: Consumer) -> None:
    consumer.stop()
    while consumer.subscribed.is_set():
        await asyncio.sleep(0.02)


def reading(value: float | str, at: datetime, **extra: Any) -> dict[str, Any]:
    return {"code": "99504-3", "value": value, "unit": "mg/dL", "at": at.isoformat(), **extra}


async def publish(config: MqttConfig, device_id: str, payload: dict[str, Any] | bytes) -> None:
    """QoS 1: returns once the broker acknowledged the message (PUBACK)."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    async with aiomqtt.Client(config.host, config.port, protocol=aiomqtt.ProtocolVersion.V5) as device:
        await device.publish(config.measurements_topic(device_id), body, qos=1)


async def stored(client: AsyncClient, followed: Followed, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 10
    found = await measurements(client, followed)
    while len(found) < count and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        found = await measurements(client, followed)
    return found


class Errors:
    """What the consumer tells devices on `<root>/devices/+/errors`."""

    def __init__(self, config: MqttConfig) -> None:
        self.config, self.received = config, asyncio.Queue[dict[str, Any]]()

    async def run(self, ready: asyncio.Event) -> None:
        async with aiomqtt.Client(self.config.host, self.config.port) as listener:
            await listener.subscribe(f"{self.config.root}/devices/+/errors", qos=1)
            ready.set()
            async for message in listener.messages:
                assert isinstance(message.payload, bytes)
                body = json.loads(message.payload)
                await self.received.put({"topic": message.topic.value, **body})

    async def next(self) -> dict[str, Any]:
        return await asyncio.wait_for(self.received.get(), 10)


@pytest.fixture
async def errors(config: MqttConfig) -> AsyncIterator[Errors]:
    errors, ready = Errors(config), asyncio.Event()
    task = asyncio.create_task(errors.run(ready))
    await asyncio.wait_for(ready.wait(), 10)
    yield errors
    task.cancel()


async def rejected(client: AsyncClient) -> dict[str, float]:
    text = (await client.get("/metrics")).text
    return {
        reason: float(value)
        for reason, value in re.findall(
            r'^telesante_mqtt_rejected_total\{reason="(\w+)"\} (\S+)$', text, re.M
        )
    }


async def test_a_reading_published_with_qos_1_is_stored_once_and_raises_its_alert(
    client: AsyncClient, followed: Followed, config: MqttConfig, consumer: Start
) -> None:
    await consumer()
    await publish(
        config, followed.device_id, {"token": followed.token, "id": "m-1", **reading(62, ago(minutes=3))}
    )
    [measurement] = await stored(client, followed, 1)
    assert (measurement["kind"], measurement["value"], measurement["source"]) == ("glucose_cgm", 62, "mqtt")
    [hypo] = await alerts(client, followed.doctor)
    assert hypo["rule_code"] == "glucose.hypo"
    await asyncio.sleep(0.3)
    assert len(await measurements(client, followed)) == 1


async def test_the_same_message_twice_is_stored_once(
    client: AsyncClient, followed: Followed, config: MqttConfig, consumer: Start
) -> None:
    await consumer()
    message = {"token": followed.token, **reading(120, ago(minutes=10))}
    await publish(config, followed.device_id, message)
    await publish(config, followed.device_id, message)
    # The same instant in another offset is the same measurement (ADR 0009).
    at = datetime.fromisoformat(message["at"]).astimezone(datetime.now().astimezone().tzinfo)
    await publish(config, followed.device_id, {"token": followed.token, **reading(120, at)})
    await publish(config, followed.device_id, {"token": followed.token, **reading(121, ago(minutes=5))})
    found = await stored(client, followed, 2)
    await asyncio.sleep(0.3)
    assert sorted(m["value"] for m in await measurements(client, followed)) == [120, 121]
    assert len(found) == 2


async def test_a_list_of_readings_with_a_panel_and_another_unit(
    client: AsyncClient, followed: Followed, config: MqttConfig, consumer: Start, errors: Errors
) -> None:
    await consumer()
    at = ago(minutes=20)
    panel = {
        "code": "85354-9",
        "at": at.isoformat(),
        "components": [
            {"code": "8480-6", "value": 142, "unit": "mm[Hg]"},
            {"code": "8462-4", "value": 91, "unit": "mm[Hg]"},
        ],
    }
    readings = [
        {"kind": "glucose_cgm", "value": 6.2, "unit": "mmol/L", "at": at.isoformat()},
        panel,
        {"kind": "weight", "value": 81.4, "unit": "stone", "at": at.isoformat()},
    ]
    await publish(config, followed.device_id, {"token": followed.token, "id": "m-7", "readings": readings})
    found = await stored(client, followed, 3)
    assert sorted((m["kind"], m["value"]) for m in found) == [
        ("diastolic", 91),
        ("glucose_cgm", 111.6992),  # 6.2 mmol/L × 18.016
        ("systolic", 142),
    ]
    report = await errors.next()
    assert report["id"] == "m-7" and report["status"] == "partial"
    assert [e["reading"] for e in report["errors"]] == [2]
    assert "unité « stone » non acceptée pour poids" in report["errors"][0]["reason"]


async def test_bad_messages_are_rejected_with_their_reason_and_do_not_block_the_next(
    client: AsyncClient, followed: Followed, config: MqttConfig, consumer: Start, errors: Errors
) -> None:
    await consumer()
    before = await rejected(client)
    device = followed.device_id
    await publish(config, device, b"{not json")
    await publish(config, device, {"token": followed.token, "id": "m-900", **reading(900, ago(minutes=4))})
    await publish(config, device, {"token": "tsd_forged", **reading(100, ago(minutes=4))})
    await publish(config, str(uuid.uuid4()), {"token": followed.token, **reading(100, ago(minutes=4))})
    await publish(config, device, {"token": followed.token, **reading(110, ago(minutes=2))})
    [measurement] = await stored(client, followed, 1)
    assert measurement["value"] == 110
    reports = [await errors.next() for _ in range(4)]
    assert [r["errors"][0]["reason"] for r in reports] == [
        "JSON illisible",
        "glycémie 900 mg/dL hors des valeurs physiologiques (40–500 mg/dL)",
        "appareil inconnu, jeton invalide ou révoqué",
        "appareil inconnu, jeton invalide ou révoqué",
    ]
    assert reports[1]["id"] == "m-900" and reports[1]["status"] == "rejected"
    assert reports[0]["topic"] == config.errors_topic(device)
    after = await rejected(client)
    assert {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)} == {
        "json": 1,
        "measure": 1,
        "device": 2,
    }


async def test_a_revoked_device_is_refused(
    client: AsyncClient, followed: Followed, config: MqttConfig, consumer: Start, errors: Errors
) -> None:
    await consumer()
    response = await client.post(
        f"/api/monitoring/programs/{followed.program_id}/devices/{followed.device_id}/revoke",
        headers=followed.doctor.headers,
    )
    assert response.status_code == 200, response.text
    await publish(config, followed.device_id, {"token": followed.token, **reading(100, ago(minutes=1))})
    report = await errors.next()
    assert report["errors"][0]["reason"] == "appareil inconnu, jeton invalide ou révoqué"
    assert await measurements(client, followed) == []


async def test_a_message_published_while_the_consumer_is_stopped_is_stored_after_it_starts(
    client: AsyncClient, followed: Followed, config: MqttConfig, consumer: Start
) -> None:
    await stop(await consumer())  # the persistent session now exists at the broker
    await publish(config, followed.device_id, {"token": followed.token, **reading(62, ago(minutes=3))})
    await publish(config, followed.device_id, {"token": followed.token, **reading(64, ago(minutes=2))})
    await asyncio.sleep(0.3)
    assert await measurements(client, followed) == []
    await consumer()
    found = await stored(client, followed, 2)
    assert sorted(m["value"] for m in found) == [62, 64]
    [hypo] = await alerts(client, followed.doctor)
    assert hypo["rule_code"] == "glucose.hypo"


async def test_a_message_that_could_not_be_stored_is_not_acknowledged_and_comes_back(
    client: AsyncClient,
    followed: Followed,
    config: MqttConfig,
    runtime: Runtime,
    consumer: Start,
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'no-tables.sqlite3'}")  # every insert fails
    broken = Consumer(replace(runtime, engine=engine, sessionmaker=make_sessionmaker(engine)), config)
    task = asyncio.create_task(broken.run_forever())
    await asyncio.wait_for(broken.subscribed.wait(), 10)
    failures = await failed(client)
    await publish(config, followed.device_id, {"token": followed.token, **reading(62, ago(minutes=3))})
    deadline = time.monotonic() + 10
    while await failed(client) == failures and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    broken.stop()
    await task
    await engine.dispose()
    assert await failed(client) > failures
    await consumer()
    [measurement] = await stored(client, followed, 1)
    assert measurement["value"] == 62


async def failed(client: AsyncClient) -> float:
    found = re.search(r"^telesante_mqtt_failures_total (\S+)$", (await client.get("/metrics")).text, re.M)
    return float(found.group(1)) if found else 0.0


async def test_two_consumers_share_the_subscription_without_storing_anything_twice(
    client: AsyncClient, followed: Followed, runtime: Runtime, config: MqttConfig
) -> None:
    second = replace(config, client_id=f"{config.client_id}-2")
    consumers = [Consumer(runtime, config), Consumer(runtime, second)]
    tasks = [asyncio.create_task(c.run_forever()) for c in consumers]
    try:
        await asyncio.wait_for(asyncio.gather(*(c.subscribed.wait() for c in consumers)), 10)
        for minute in range(40):
            value = 100 + minute
            at = ago(minutes=60 - minute)
            await publish(config, followed.device_id, {"token": followed.token, **reading(value, at)})
        found = await stored(client, followed, 40)
        await asyncio.sleep(0.3)
    finally:
        for consumer in consumers:
            consumer.stop()
        await asyncio.gather(*tasks)
        await forget_session(second)
    assert sorted(m["value"] for m in await measurements(client, followed)) == list(range(100, 140))
    assert len(found) == 40
    assert all(c.settled > 0 for c in consumers) and sum(c.settled for c in consumers) == 40


def test_the_url_names_the_broker_the_topic_root_and_the_session() -> None:
    config = MqttConfig.from_url("mqtts://gw:s%40cret@broker.example:8883/ts?client_id=telesante-1")
    assert (config.host, config.port, config.tls, config.username, config.password) == (
        "broker.example",
        8883,
        True,
        "gw",
        "s@cret",
    )
    assert config.subscription == "$share/telesante/ts/devices/+/measurements"
    assert config.client_id == "telesante-1"
    assert replace(config, root="telesante").errors_topic("d1") == "telesante/devices/d1/errors"
    with pytest.raises(ValueError, match="mqtt://"):
        MqttConfig.from_url("http://broker")


# --- the simulator (`telesante simulate devices`) sends through the same paths -----------------


async def simulated(runtime: Runtime, doctor: Person, hours: int) -> tuple[Any, dict[tuple[str, str], Any]]:
    cohort = simulation.cohort(2, seed="test")  # a diabetic, and a diabetic with hypertension
    start = utcnow() - timedelta(hours=hours)
    devices = await simulate_cli.enrol(runtime, cohort, start, doctor.user.email)
    stream = simulation.stream(cohort, start, utcnow())
    return list(simulate_cli.samples(simulation.paced(stream, rate=20_000))), devices


async def all_stored(runtime: Runtime, expected: int) -> list[tuple[str, str]]:
    deadline = time.monotonic() + 20
    while True:
        async with runtime.sessionmaker() as db:
            rows = [tuple(r) for r in await db.execute(select(Measurement.kind, Measurement.source))]
        if len(rows) >= expected or time.monotonic() > deadline:
            return rows  # type: ignore[return-value]
        await asyncio.sleep(0.1)


async def test_the_simulator_publishes_its_patients_readings_over_mqtt(
    runtime: Runtime, world: World, config: MqttConfig, consumer: Start
) -> None:
    await consumer()
    items, devices = await simulated(runtime, await world.professional("Martin"), hours=6)
    assert {d for _, d in devices} == {"cgm", "bp_monitor"} and len(devices) == 3
    async with aiomqtt.Client(config.host, config.port) as client:
        report = await simulate_cli.send(items, devices, simulate_cli.MqttSender(client, config))
    assert report.outcomes == {"published (PUBACK)": len(items)}
    expected = sum(len(sample.values) for _, sample in items)
    rows = await all_stored(runtime, expected)
    assert len(rows) == expected and {source for _, source in rows} == {"mqtt"}
    assert Counter(kind for kind, _ in rows)["systolic"] == Counter(kind for kind, _ in rows)["diastolic"]


async def test_the_simulator_sends_fhir_bundles_over_http(
    client: AsyncClient, runtime: Runtime, world: World
) -> None:
    items, devices = await simulated(runtime, await world.professional("Martin"), hours=6)
    report = await simulate_cli.send(items, devices, simulate_cli.HttpSender(client))
    observations = sum(len(simulate_cli.observations(sample)) for _, sample in items)
    assert report.outcomes == {"201 Created": observations}
    rows = await all_stored(runtime, 0)
    assert len(rows) == sum(len(sample.values) for _, sample in items)
