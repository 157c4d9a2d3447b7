"""Télésurveillance over MQTT (ADR 0009): devices publish QoS 1 on their own topic; a message is
acknowledged (PUBACK) only once what it carried is committed.

Topic `<root>/devices/<device id>/measurements` (root `telesante` unless the URL's path says
otherwise). Payload, UTF-8 JSON, one reading or a list:

    {"token": "tsd_…", "id": "m-42",
     "code": "99504-3", "value": 112, "unit": "mg/dL", "at": "2026-11-23T08:05:00+01:00"}
    {"token": "tsd_…", "id": "m-43", "readings": [
        {"kind": "weight", "value": 81.4, "unit": "kg", "at": "2026-11-23T07:30:00+01:00"},
        {"code": "85354-9", "at": "2026-11-23T07:31:00+01:00", "components": [
            {"code": "8480-6", "value": 142, "unit": "mm[Hg]"},
            {"code": "8462-4", "value": 91, "unit": "mm[Hg]"}]}]}

`code` is a LOINC code, `kind` a measures.MeasureKind; `unit` is UCUM; `at` is ISO 8601 with its
offset; `id` (optional) names the message in the answers. The token is the device's own: the
broker here runs with anonymous access, so Telesante authenticates every message itself, and the
token must belong to the device of the topic. Readings are independent, as in a FHIR batch.
What cannot be stored is acknowledged all the same (it would come back forever), counted in
/metrics, logged without health data, and explained on `<root>/devices/<device id>/errors`.

Several processes share the subscription (`$share/<group>/…`): the broker splits the messages
between them, each keeping its own persistent session (a fixed client id per process).
"""

import asyncio
import contextlib
import json
import socket
import ssl
from collections import Counter as Tally
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import aiomqtt
import structlog
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from prometheus_client import Counter, Gauge
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.db import commit
from telesante.errors import AppError
from telesante.kit.tokens import token_hash
from telesante.monitoring.ingest import Outcome, Reading, Result, Source, Value, ingest_many
from telesante.monitoring.measures import BLOOD_PRESSURE, MeasureKind, kind_for_loinc, panel_for_loinc
from telesante.monitoring.models import Device
from telesante.runtime import Runtime

log = structlog.get_logger()

SESSION_EXPIRY = 7 * 24 * 3600  # seconds the broker keeps our session (and queues for it) while we are away
RECEIVE_MAXIMUM = 1000  # unacknowledged messages the broker may have in flight to us: our batch window
MAX_BATCH = 500  # messages settled in one transaction
MAX_PAYLOAD = 256 * 1024
MAX_READINGS = 1000
RETRY_SECONDS = (0.5, 1, 2, 5, 10)
DECODER = json.JSONDecoder(parse_float=Decimal)  # the value as sent, not a binary float; built once

MESSAGES = Counter("telesante_mqtt_messages_total", "MQTT measurement messages settled", ["outcome"])
REJECTED = Counter(
    "telesante_mqtt_rejected_total", "MQTT messages or readings refused, by reason", ["reason"]
)
FAILURES = Counter("telesante_mqtt_failures_total", "MQTT batches that failed and will be redelivered")
SUBSCRIBED = Gauge("telesante_mqtt_subscribed", "1 while the MQTT consumer is connected and subscribed")


@dataclass(frozen=True)
class MqttConfig:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None
    root: str = "telesante"
    client_id: str = field(default_factory=lambda: f"telesante-{socket.gethostname()}")
    group: str = "telesante"

    @classmethod
    def from_url(cls, url: str) -> "MqttConfig":
        """mqtt[s]://[user:password@]host[:port][/root][?client_id=…&group=…]"""
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ValueError("TELESANTE_MQTT_URL: mqtt://host[:port] or mqtts://… expected")
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        tls = parts.scheme == "mqtts"
        extra = {k: query[k] for k in ("client_id", "group") if query.get(k)}
        return cls(
            host=parts.hostname,
            port=parts.port or (8883 if tls else 1883),
            tls=tls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            root=parts.path.strip("/") or "telesante",
            **extra,
        )

    @property
    def subscription(self) -> str:
        return f"$share/{self.group}/{self.root}/devices/+/measurements"

    def measurements_topic(self, device_id: str) -> str:
        return f"{self.root}/devices/{device_id}/measurements"

    def errors_topic(self, device_id: str) -> str:
        return f"{self.root}/devices/{device_id}/errors"


class Refused(ValueError):
    """A whole message that cannot be stored: `reason` is a metric label, the text is French."""

    def __init__(self, reason: str, text: str) -> None:
        super().__init__(text)
        self.reason, self.text = reason, text


@dataclass
class Delivery:
    """One MQTT message on its way to the database, and what became of it."""

    mid: int
    qos: int
    device_id: str
    message_id: str | None = None
    token: str = ""
    readings: list[Reading] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)  # each reading's index in the payload
    errors: list[tuple[int | None, str, str]] = field(default_factory=list)  # (index, reason, text)
    results: list[Result] = field(default_factory=list)

    def refuse(self, refused: Refused) -> None:
        self.readings, self.positions = [], []
        self.errors.append((None, refused.reason, refused.text))

    @property
    def outcome(self) -> str:
        if Result.CREATED in self.results:
            return "stored"
        if self.results and all(r is Result.DUPLICATE for r in self.results):
            return "duplicate"
        return "rejected" if self.errors else "empty"


def parse(config: MqttConfig, message: aiomqtt.Message) -> Delivery:
    """Topic and payload → a Delivery, with what is wrong with it already written down."""
    levels = message.topic.value.split("/")
    device_id = levels[-2][:64] if len(levels) >= 2 else ""
    delivery = Delivery(message.mid, message.qos, device_id)
    try:
        if message.topic.value != config.measurements_topic(device_id) or not device_id:
            raise Refused("topic", "sujet attendu : <racine>/devices/<id de l'appareil>/measurements")
        body = _json(message.payload)
        delivery.message_id = _message_id(body.get("id"))
        token = body.get("token")
        if not isinstance(token, str) or not token:
            raise Refused("device", "jeton de l'appareil requis (champ token)")
        delivery.token = token
        items = body.get("readings", [body])
        if not isinstance(items, list) or not 1 <= len(items) <= MAX_READINGS:
            raise Refused("payload", f"readings : une liste de 1 à {MAX_READINGS} mesures")
    except Refused as refused:
        delivery.refuse(refused)
        return delivery
    for index, item in enumerate(items):
        try:
            delivery.readings.append(reading_of(item))
            delivery.positions.append(index)
        except ValueError as invalid:
            delivery.errors.append((index, "measure", str(invalid)))
    return delivery


def _json(payload: Any) -> dict[str, Any]:
    if not isinstance(payload, bytes | bytearray) or len(payload) > MAX_PAYLOAD:
        raise Refused("payload", f"message JSON d'au plus {MAX_PAYLOAD} octets attendu")
    try:
        body = DECODER.decode(payload.decode())
    except (UnicodeDecodeError, ValueError):
        raise Refused("json", "JSON illisible") from None
    if not isinstance(body, dict):
        raise Refused("json", "objet JSON attendu")
    return body


def _message_id(value: Any) -> str | None:
    return str(value)[:64] if isinstance(value, str | int) and not isinstance(value, bool) else None


def reading_of(item: Any) -> Reading:
    """One reading of a payload; ValueError with the French reason."""
    if not isinstance(item, dict):
        raise ValueError("objet JSON attendu pour chaque mesure")
    at = _moment(item.get("at"))
    if item.get("kind") == "blood_pressure" or panel_for_loinc(str(item.get("code", ""))) is BLOOD_PRESSURE:
        return Reading(_components(item.get("components")), at, Source.MQTT)
    return Reading((_value(item, _kind(item)),), at, Source.MQTT)


def _moment(value: Any) -> datetime:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else _no_moment()
    except ValueError:
        return _no_moment()


def _no_moment() -> datetime:
    raise ValueError("at : date et heure ISO 8601 avec fuseau requises (ex. 2026-11-23T08:05:00+01:00)")


def _kind(item: dict[str, Any]) -> MeasureKind:
    if "kind" in item:
        if item["kind"] in set(MeasureKind):
            return MeasureKind(item["kind"])
        raise ValueError(f"kind « {str(item['kind'])[:40]} » inconnu")
    kind = kind_for_loinc(str(item.get("code", "")))
    if kind is None:
        raise ValueError(f"code : code LOINC de mesure attendu (reçu « {str(item.get('code'))[:40]} »)")
    return kind


def _value(item: dict[str, Any], kind: MeasureKind) -> Value:
    value, unit = item.get("value"), item.get("unit")
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise ValueError(f"{kind.spec.label} : valeur numérique requise")
    if not isinstance(unit, str) or not unit:
        raise ValueError(f"{kind.spec.label} : unité UCUM requise (unit)")
    return Value(kind, value, unit)


def _components(items: Any) -> tuple[Value, ...]:
    if not isinstance(items, list):
        raise ValueError("components : pression systolique et diastolique requises")
    values = {}
    for item in items:
        kind = _kind(item) if isinstance(item, dict) else None
        if kind in BLOOD_PRESSURE.components and isinstance(item, dict):
            values[kind] = _value(item, kind)
    missing = [k.spec.label for k in BLOOD_PRESSURE.components if k not in values]
    if missing:
        raise ValueError(f"components : {' et '.join(missing)} requise(s)")
    return tuple(values[k] for k in BLOOD_PRESSURE.components)


async def settle(db: AsyncSession, runtime: Runtime, deliveries: list[Delivery]) -> None:
    """Store the deliveries' readings in the caller's transaction: one `ingest_many` for the batch,
    so each program is locked, read and evaluated once whatever the number of messages."""
    hashes = {delivery.token: token_hash(delivery.token) for delivery in deliveries if delivery.readings}
    live = await _devices(db, set(hashes.values()))
    by_device: dict[str, tuple[Device, list[Delivery]]] = {}
    for delivery in deliveries:
        if not delivery.readings:
            continue
        device = live.get(hashes[delivery.token])
        if device is None or device.id != delivery.device_id:
            delivery.refuse(Refused("device", "appareil inconnu, jeton invalide ou révoqué"))
            continue
        by_device.setdefault(device.id, (device, []))[1].append(delivery)
    groups = list(by_device.values())
    results = await ingest_many(
        db, runtime.bus, [(device, [r for d in batch for r in d.readings]) for device, batch in groups]
    )
    for (_, batch), result in zip(groups, results, strict=True):
        _distribute(batch, result)


async def _devices(db: AsyncSession, hashes: set[str]) -> dict[str, Device]:
    """devices.by_token for a whole batch in one query: the live devices by token hash."""
    if not hashes:
        return {}
    found = await db.scalars(select(Device).where(Device.token_hash.in_(hashes)))
    return {device.token_hash: device for device in found if device.revoked_at is None}


def _distribute(batch: list[Delivery], result: list[Outcome] | AppError) -> None:
    """Each message gets the outcomes of its own readings, or the refusal of the whole device."""
    if isinstance(result, AppError):  # no live program for this device: nothing of it is stored
        for delivery in batch:
            delivery.refuse(Refused("program", result.detail))
        return
    outcomes = iter(result)
    for delivery in batch:
        for position in delivery.positions:
            outcome = next(outcomes)
            delivery.results.append(outcome.result)
            if outcome.result is Result.REFUSED:
                delivery.errors.append((position, "measure", outcome.reason or "mesure refusée"))


class Consumer:
    """Receives, stores, then acknowledges; reconnects after any broker or database failure.

    Unacknowledged messages stay in flight at the broker, which delivers them again on the next
    connection of this persistent session: a crash loses nothing acknowledged, at worst a message
    committed but not yet acknowledged comes back, and the dedupe key stores it once.
    """

    def __init__(self, runtime: Runtime, config: MqttConfig) -> None:
        self.runtime, self.config = runtime, config
        self.subscribed = asyncio.Event()
        self.settled = 0  # messages this consumer stored or refused, then acknowledged
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run_forever(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                async with self._connect() as client:
                    await client.subscribe(self.config.subscription, qos=1)
                    self.subscribed.set()
                    SUBSCRIBED.set(1)
                    failures = 0
                    log.info("mqtt.subscribed", topic=self.config.subscription)
                    await self._consume(client)
            except (aiomqtt.MqttError, OSError, _BatchFailed) as error:
                self.subscribed.clear()
                SUBSCRIBED.set(0)
                delay = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
                failures += 1
                log.warning("mqtt.disconnected", error=type(error).__name__, retry_in=delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), delay)
        self.subscribed.clear()
        SUBSCRIBED.set(0)

    def _connect(self) -> aiomqtt.Client:
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = SESSION_EXPIRY
        properties.ReceiveMaximum = RECEIVE_MAXIMUM
        client = aiomqtt.Client(
            self.config.host,
            self.config.port,
            identifier=self.config.client_id,
            username=self.config.username,
            password=self.config.password,
            protocol=aiomqtt.ProtocolVersion.V5,
            clean_start=False,
            properties=properties,
            tls_context=ssl.create_default_context() if self.config.tls else None,
        )
        # aiomqtt 2.5 has no manual acknowledgement; paho (underneath) does. It must be on before
        # the connection: a persistent session receives its queued messages right after CONNACK.
        client._client.manual_ack_set(True)
        return client

    async def _consume(self, client: aiomqtt.Client) -> None:
        async for batch in self._batches(client):
            await self._answer(client, await self._store(client, batch))

    async def _batches(self, client: aiomqtt.Client) -> AsyncIterator[list[aiomqtt.Message]]:
        """What has arrived, up to MAX_BATCH at once, until stop() is called."""
        messages = client.messages
        stopping = asyncio.ensure_future(self._stopping.wait())
        try:
            while True:
                waiting = asyncio.ensure_future(anext(messages))
                await asyncio.wait({waiting, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if not waiting.done():
                    waiting.cancel()
                    return
                batch = [waiting.result()]
                while len(messages) and len(batch) < MAX_BATCH:
                    batch.append(await anext(messages))
                yield batch
        finally:
            stopping.cancel()

    async def _store(self, client: aiomqtt.Client, batch: list[aiomqtt.Message]) -> list[Delivery]:
        """One transaction for the batch; if it fails, one per message (parsed afresh) so a bad one
        does not hold the others back. A message whose own transaction fails is not acknowledged."""
        deliveries = [parse(self.config, message) for message in batch]
        try:
            await self._transaction(deliveries)
        except Exception:
            log.exception("mqtt.batch_failed", size=len(batch))
            return await self._store_one_by_one(client, batch)
        self._ack(client, deliveries)
        return deliveries

    async def _store_one_by_one(self, client: aiomqtt.Client, batch: list[aiomqtt.Message]) -> list[Delivery]:
        done: list[Delivery] = []
        for message in batch:
            delivery = parse(self.config, message)
            try:
                await self._transaction([delivery])
            except Exception as error:
                FAILURES.inc()
                await self._answer(client, done)
                raise _BatchFailed from error
            self._ack(client, [delivery])
            done.append(delivery)
        return done

    async def _transaction(self, deliveries: list[Delivery]) -> None:
        async with self.runtime.sessionmaker() as db:
            try:
                await settle(db, self.runtime, deliveries)
                await commit(db)
            except BaseException:
                await db.rollback()
                raise

    def _ack(self, client: aiomqtt.Client, deliveries: Iterable[Delivery]) -> None:
        for delivery in deliveries:
            if delivery.qos > 0:
                client._client.ack(delivery.mid, delivery.qos)

    async def _answer(self, client: aiomqtt.Client, deliveries: list[Delivery]) -> None:
        """Count, log (reason codes only: no value, no health data) and tell each device."""
        self.settled += len(deliveries)
        for outcome, count in Tally(delivery.outcome for delivery in deliveries).items():
            MESSAGES.labels(outcome).inc(count)
        for delivery in deliveries:
            if not delivery.errors:
                continue
            for index, reason, _ in delivery.errors:
                REJECTED.labels(reason).inc()
                log.info(
                    "mqtt.rejected",
                    device_id=delivery.device_id,
                    message_id=delivery.message_id,
                    reading=index,
                    reason=reason,
                )
            if all(reason != "topic" for _, reason, _ in delivery.errors):
                await client.publish(self.config.errors_topic(delivery.device_id), _errors(delivery), qos=0)


class _BatchFailed(Exception):
    """A message could not be stored (database down, a bug): reconnect, it comes back."""


def _errors(delivery: Delivery) -> bytes:
    body = {
        "id": delivery.message_id,
        "status": "rejected" if delivery.outcome == "rejected" else "partial",
        "errors": [{"reading": index, "reason": text} for index, _, text in delivery.errors],
    }
    return json.dumps(body, ensure_ascii=False).encode()


@contextlib.asynccontextmanager
async def consuming(runtime: Runtime) -> AsyncIterator[Consumer | None]:
    """Run the consumer alongside the caller (serve's lifespan) if TELESANTE_MQTT_URL is set."""
    url = runtime.settings.mqtt_url
    if not url:
        yield None
        return
    consumer = Consumer(runtime, MqttConfig.from_url(url))
    task = asyncio.create_task(consumer.run_forever())
    try:
        yield consumer
    finally:
        consumer.stop()
        try:
            await asyncio.wait_for(task, 10)
        except TimeoutError:
            log.warning("mqtt.stop_timeout")
