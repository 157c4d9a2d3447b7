"""The AMQP 0-9-1 side of Hub Santé (ADR 0011): one connection that consumes this client's queue
(the inbox) and drains the outbox with publisher confirms.

Routing, as a local broker plays the Hub: one durable direct exchange `hubsante`; each client
has a durable queue `{clientId}.message` bound with the routing key `{clientId}`; sending is
publishing to `hubsante` with the recipient's id as routing key, persistent. A delivery is
acknowledged only after its transaction commits; an outbox row is "sent" only once the broker
confirmed it. Any failure closes the connection and the connector retries with back-off: rows
wait in the database and unacknowledged deliveries in the broker, so nothing is lost.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable

import aio_pika
import structlog
from aio_pika.abc import AbstractExchange, AbstractIncomingMessage, AbstractQueue
from aio_pika.exceptions import CONNECTION_EXCEPTIONS, PublishError
from prometheus_client import Counter, Gauge
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.db import commit
from telesante.regulation.hub import outbox
from telesante.regulation.hub.inbox import Arrival, receive
from telesante.regulation.models import HubMessage
from telesante.runtime import Runtime

log = structlog.get_logger()

EXCHANGE = "hubsante"
RETRY_SECONDS = (0.5, 1, 2, 5, 10)
POLL_SECONDS = 0.5  # how often the outbox is looked at when it was empty
BATCH = 50
PREFETCH = 1  # one delivery at a time: a case's messages are applied in their order
CONNECT_TIMEOUT = 10
PUBLISH_TIMEOUT = 10

MESSAGES = Counter("telesante_hub_messages_total", "Hub Santé messages handled", ["direction", "outcome"])
CONNECTED = Gauge("telesante_hub_connected", "1 while the Hub Santé connector is connected")


def queue_name(client_id: str) -> str:
    return f"{client_id}.message"


class _Failed(Exception):
    """A delivery or an outbox row could not be handled (database down, a bug): reconnect, retry."""


class Connector:
    def __init__(
        self,
        runtime: Runtime,
        url: str,
        client_id: str,
        *,
        exchange: str = EXCHANGE,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self.runtime, self.url, self.client_id = runtime, url, client_id
        self.exchange, self.poll_seconds = exchange, poll_seconds
        self.ready = asyncio.Event()  # connected, queue bound, consuming
        self.received = 0  # deliveries handled and acknowledged
        self.failures = 0  # connections that failed or broke
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run_forever(self) -> None:
        streak = 0
        while not self._stopping.is_set():
            try:
                await self._session()
            except (*CONNECTION_EXCEPTIONS, _Failed) as error:
                if self.ready.is_set() and not isinstance(error, _Failed):
                    streak = 0  # it was working: the back-off starts afresh
                delay = RETRY_SECONDS[min(streak, len(RETRY_SECONDS) - 1)]
                streak += 1
                self.ready.clear()
                CONNECTED.set(0)
                self.failures += 1
                log.warning("hub.disconnected", error=type(error).__name__, retry_in=delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), delay)
        self.ready.clear()
        CONNECTED.set(0)

    async def _session(self) -> None:
        connection = await aio_pika.connect(self.url, timeout=CONNECT_TIMEOUT)
        async with connection:
            inbox = await connection.channel(publisher_confirms=False)
            await inbox.set_qos(prefetch_count=PREFETCH)
            exchange = await inbox.declare_exchange(self.exchange, aio_pika.ExchangeType.DIRECT, durable=True)
            queue = await inbox.declare_queue(queue_name(self.client_id), durable=True)
            await queue.bind(exchange, routing_key=self.client_id)
            confirmed = await connection.channel(publisher_confirms=True, on_return_raises=True)
            sending = await confirmed.get_exchange(self.exchange)
            log.info("hub.connected", client_id=self.client_id, exchange=self.exchange)
            CONNECTED.set(1)
            await self._until_done(
                self._consume(queue), self._send_forever(sending), connection.closed(), self._stopping.wait()
            )
        if not self._stopping.is_set():
            raise ConnectionError("session AMQP interrompue")

    async def _until_done(self, *work: Awaitable[object]) -> None:
        """Run side by side until one ends; its failure, if any, is the session's."""
        tasks = [asyncio.ensure_future(item) for item in work]
        done, running = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        for task in done:
            task.result()

    async def _consume(self, queue: AbstractQueue) -> None:
        async with queue.iterator() as deliveries:
            self.ready.set()
            async for delivery in deliveries:
                await self._handle(delivery)

    async def _handle(self, delivery: AbstractIncomingMessage) -> None:
        arrival = Arrival(delivery.body, delivery.message_id, delivery.app_id)
        try:
            async with self.runtime.sessionmaker() as db:
                try:
                    outcome = await receive(db, self.runtime.bus, self.client_id, arrival)
                    await commit(db)
                except BaseException:
                    await db.rollback()
                    raise
        except Exception as error:
            log.exception("hub.receive_failed")
            raise _Failed from error
        await delivery.ack()
        self.received += 1
        MESSAGES.labels("in", outcome).inc()
        log.info("hub.received", outcome=outcome)

    async def _send_forever(self, exchange: AbstractExchange) -> None:
        while True:
            if not await self._drain(exchange):
                await asyncio.sleep(self.poll_seconds)

    async def _drain(self, exchange: AbstractExchange) -> int:
        """Publish the pending rows, oldest first, each marked once the broker confirmed it; one
        commit for the batch (a crash before it sends the batch again: receivers deduplicate)."""
        try:
            async with self.runtime.sessionmaker() as db:
                rows = await outbox.pending(db, BATCH)
                for row in rows:
                    await self._publish(exchange, row, db)
                await commit(db)
                return len(rows)
        except CONNECTION_EXCEPTIONS:
            raise
        except Exception as error:
            log.exception("hub.send_failed")
            raise _Failed from error

    async def _publish(self, exchange: AbstractExchange, row: HubMessage, db: AsyncSession) -> None:
        message = aio_pika.Message(
            row.envelope.encode(),
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=row.distribution_id,
            app_id=self.client_id,
        )
        try:
            await exchange.publish(message, routing_key=row.peer, mandatory=True, timeout=PUBLISH_TIMEOUT)
        except PublishError:  # returned by the broker: no queue for this recipient
            await outbox.mark_undeliverable(db, row.id, "destinataire inconnu du Hub Santé (aucune file)")
            MESSAGES.labels("out", "undeliverable").inc()
            return
        await outbox.mark_sent(db, row.id)
        MESSAGES.labels("out", "sent").inc()


@contextlib.asynccontextmanager
async def connecting(runtime: Runtime, *, exchange: str = EXCHANGE) -> AsyncIterator[Connector | None]:
    """Run the connector beside the caller (serve's lifespan) when TELESANTE_HUB_URL and
    TELESANTE_HUB_CLIENT_ID are set."""
    url, client_id = runtime.settings.hub_url, runtime.settings.hub_client_id
    if not url or not client_id:
        yield None
        return
    connector = Connector(runtime, url, client_id, exchange=exchange)
    task = asyncio.create_task(connector.run_forever())
    try:
        yield connector
    finally:
        connector.stop()
        try:
            await asyncio.wait_for(task, 10)
        except TimeoutError:
            log.warning("hub.stop_timeout")
