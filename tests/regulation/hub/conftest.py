"""Hub Santé tests: RabbitMQ (scripts/services), a broker namespace of their own, a second centre
with its own database, and partners driven by hand on the broker."""

import asyncio
import contextlib
import json
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlparse

import aio_pika
import psycopg
import pytest
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractExchange, AbstractQueue
from httpx import AsyncClient

from telesante.db import Base, commit
from telesante.directory.models import Organisation
from telesante.migrations import upgrade
from telesante.regulation.hub.connector import Connector, connecting, queue_name
from telesante.regulation.models import RegulationFile, Resource
from telesante.runtime import Runtime
from telesante.settings import Settings
from tests.conftest import ADMIN_URL, DB_NAME, TMP, _sync_url
from tests.fixtures.services import need, reachable
from tests.fixtures.world import Person, World
from tests.regulation.conftest import centre, ok, staff

AT = datetime(2026, 11, 23, 8, 5, tzinfo=UTC)
AMQP_URL = os.environ.get("TELESANTE_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
T = TypeVar("T")


def a_file(**changes: Any) -> RegulationFile:
    """A DRM with everything filled in, or only what the room requires (`bare=True`)."""
    required: dict[str, Any] = dict(
        id="6f1c2d3e-0000-4000-8000-000000000001",
        centre_id="centre",
        case_id="fr.health.samu069.DRM2026112300001",
        number=1,
        state="ACTIF",
        perimeter="AMU",
        origin="15",
        priority="P1",
        opened_by_id="arm",
        received_at=AT,
        created_at=AT,
    )
    full = dict(
        care_level="R2",
        caller_type="PROFSANTE",
        caller_phone="06 12 34 56 78",
        caller_name="Jean Martin",
        caller_language="fr",
        communication_issue="langue",
        address="12 rue de la République",
        city="Lyon",
        latitude=45.76,
        longitude=4.83,
        access_details="2e étage, code 1234B",
        motive="Douleur thoracique",
        whats_happen="Douleur depuis 30 minutes, sueurs",
        patient_name="Marie Durand",
        patient_age=67,
        patient_sex="F",
        regulator_id="mru",
    )
    bare = changes.pop("bare", False)
    return RegulationFile(**(required | ({} if bare else full) | changes))


@pytest.fixture
def amqp_url() -> str:
    """A RabbitMQ broker (scripts/services), as amqp://user:password@host:port/."""
    parsed = urlparse(AMQP_URL)
    need("RabbitMQ", reachable(parsed.hostname or "127.0.0.1", parsed.port or 5672))
    return AMQP_URL


@dataclass
class Samu:
    """A small room: one urgentist, who opens, regulates and shares, and one SMUR."""

    centre: Organisation
    regulator: Person
    smur_id: str


@pytest.fixture
async def samu(world: World, runtime: Runtime) -> Samu:
    lyon = await centre(world, "SAMU 69 – Centre 15")
    regulator = await world.professional("Dupuis", specialty="Médecine d'urgence")
    await staff(runtime, lyon.id, regulator, "mru")
    async with runtime.sessionmaker() as db:
        smur = Resource(
            centre_id=lyon.id, name="SMUR Lyon Nord", resource_type="SMUR", vehicle_type="SMUR.VLM"
        )
        db.add(smur)
        await commit(db)
    return Samu(lyon, regulator, smur.id)


async def regulated(client: AsyncClient, samu: Samu, **fields: Any) -> dict[str, Any]:
    """A file opened and taken by the room's urgentist."""
    body = {"priority": "P1", "motive": "Douleur thoracique", "city": "Lyon", **fields}
    file: dict[str, Any] = ok(
        await client.post("/api/regulation/files", json=body, headers=samu.regulator.headers), 201
    )
    ok(await client.post(f"/api/regulation/files/{file['id']}/take", headers=samu.regulator.headers))
    return file


def share(client: AsyncClient, file_id: str, by: Person, recipient: str, kind: str = "RS-EDA") -> Any:
    body = {"recipient": recipient, "kind": kind}
    return client.post(f"/api/regulation/files/{file_id}/share", json=body, headers=by.headers)


@dataclass
class Broker:
    """This test's corner of the broker: its own exchange and client ids, removed afterwards."""

    url: str
    exchange: str = field(default_factory=lambda: f"hubsante.test.{uuid.uuid4().hex[:10]}")
    client_ids: list[str] = field(default_factory=list)

    def client_id(self, name: str) -> str:
        client_id = f"fr.health.{name}{uuid.uuid4().hex[:8]}"
        self.client_ids.append(client_id)
        return client_id


@pytest.fixture
async def broker(amqp_url: str) -> AsyncIterator[Broker]:
    found = Broker(amqp_url)
    yield found
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        for client_id in found.client_ids:
            await channel.queue_delete(queue_name(client_id))
        await channel.exchange_delete(found.exchange)


class Peer:
    """A Hub partner driven by hand: sends raw bodies, reads what reaches its queue."""

    def __init__(self, broker: Broker, name: str = "peer") -> None:
        self.broker, self.id = broker, broker.client_id(name)
        self._connection: AbstractConnection | None = None

    async def start(self) -> "Peer":
        self._connection = await aio_pika.connect(self.broker.url)
        channel: AbstractChannel = await self._connection.channel()
        self._exchange: AbstractExchange = await channel.declare_exchange(
            self.broker.exchange, aio_pika.ExchangeType.DIRECT, durable=True
        )
        self._queue: AbstractQueue = await channel.declare_queue(queue_name(self.id), durable=True)
        await self._queue.bind(self._exchange, routing_key=self.id)
        return self

    async def close(self) -> None:
        if self._connection:
            await self._connection.close()

    async def send(self, body: bytes, to: str, message_id: str | None = None) -> None:
        message = aio_pika.Message(body, message_id=message_id, app_id=self.id)
        await self._exchange.publish(message, routing_key=to)

    async def receive(self) -> dict[str, Any]:
        """The next envelope that reaches this partner."""

        async def arrived() -> Any:
            delivery = await self._queue.get(no_ack=True, fail=False)
            return json.loads(delivery.body) if delivery else None

        found: dict[str, Any] = await eventually(arrived)
        return found


@pytest.fixture
async def peer(broker: Broker) -> AsyncIterator[Peer]:
    started = await Peer(broker).start()
    yield started
    await started.close()


async def eventually(check: Callable[[], Awaitable[T | None]], what: str = "condition") -> T:
    """Poll until `check` gives something; a generous bound, only so that a broken test ends."""
    for _ in range(600):
        result = await check()
        if result:
            return result
        await asyncio.sleep(0.05)
    raise AssertionError(f"{what}: not reached")


def configure(monkeypatch: pytest.MonkeyPatch, runtime: Runtime, url: str, client_id: str) -> None:
    monkeypatch.setattr(runtime.settings, "hub_url", url)
    monkeypatch.setattr(runtime.settings, "hub_client_id", client_id)


@contextlib.asynccontextmanager
async def running(runtime: Runtime, broker: Broker, *, ready: bool = True) -> AsyncIterator[Connector]:
    """The connector as serve runs it (runtime.settings.hub_*), on this test's exchange."""
    async with connecting(runtime, exchange=broker.exchange) as connector:
        assert connector is not None
        if ready:
            await asyncio.wait_for(connector.ready.wait(), 30)
        yield connector


OTHER_NAME = f"{DB_NAME}_other"
OTHER_URL = (
    ADMIN_URL.rsplit("/", 1)[0] + "/" + OTHER_NAME
    if ADMIN_URL
    else f"sqlite+aiosqlite:///{TMP / 'other.sqlite3'}"
)


@pytest.fixture(scope="session")
async def other_runtime(database: str) -> AsyncIterator[Runtime]:
    """A second centre's server: its own database, built by the migrations."""
    if ADMIN_URL:
        with psycopg.connect(_sync_url(ADMIN_URL), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{OTHER_NAME}"')
    await asyncio.to_thread(upgrade, OTHER_URL)  # alembic runs its own event loop
    runtime = Runtime.create(Settings(database_url=OTHER_URL))
    yield runtime
    await runtime.close()
    if ADMIN_URL:
        with psycopg.connect(_sync_url(ADMIN_URL), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{OTHER_NAME}" WITH (FORCE)')


@pytest.fixture
async def other(other_runtime: Runtime) -> AsyncIterator[Runtime]:
    yield other_runtime
    async with other_runtime.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            await conn.execute(table.delete())
