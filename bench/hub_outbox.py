"""Hub Santé messages through the outbox, between two SAMUs over a real RabbitMQ, on PostgreSQL.

    .venv/bin/python bench/hub_outbox.py [--messages 500] [--amqp URL] [--postgres URL]

Two scratch databases (two centres, each with its own connector and Hub client id, on a private
exchange of the broker). Centre A shares `--messages` regulated files with centre B (RS-EDA, the
DRM with its notes and decisions) in one transaction; then both connectors start. Figures: how
fast A's outbox empties (published with broker confirms), and the round trip until every message
is acknowledged (B validated it against the ANS model, made the file, answered RC-REF, and A
recorded the acknowledgement). Both are bound by latency, not CPU: the sender waits for each
broker confirm, and the receiver applies one delivery at a time (PREFETCH 1) so that a case's
messages are applied in order. Prints figures, asserts nothing about time.
"""

import argparse
import asyncio
import logging
import os
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))


async def centre(runtime: Any, name: str, rpps: int) -> Any:
    """A centre with one urgentist; returns the acting Member."""
    from telesante.auth import service as auth
    from telesante.auth.actor import Actor
    from telesante.db import transaction
    from telesante.directory.models import Organisation, Professional
    from telesante.identifiers.builders import make_finess, make_rpps
    from telesante.regulation.codes import Function
    from telesante.regulation.models import RegulationStaff
    from telesante.regulation.staff import Member

    async with transaction(runtime.sessionmaker) as db:
        samu = Organisation(name=name, kind="samu", finess=make_finess("69", rpps))
        professional = Professional(
            rpps=make_rpps(rpps), family_name=name, given_name="Bench", profession="physician"
        )
        db.add_all([samu, professional])
        await db.flush()
        user = await auth.create_user(
            db,
            email=f"mru{rpps}@bench.example.org",
            password="bench-password-123",
            role="professional",
            professional_id=professional.id,
        )
        db.add(RegulationStaff(centre_id=samu.id, professional_id=professional.id, function=Function.MRU))
        return Member(Actor(user=user, mfa_passed=True, via="system"), samu.id, Function.MRU)


async def share_files(runtime: Any, member: Any, count: int, sender: str, recipient: str) -> None:
    from telesante.db import transaction
    from telesante.regulation import files
    from telesante.regulation.hub import service as hub
    from telesante.regulation.schemas import FileOpen
    from telesante.regulation.simulation import calls

    stream = [c for c in calls(120, timedelta(hours=24), seed="hub") if c.priority != "NR"]
    async with transaction(runtime.sessionmaker) as db:
        for call in stream[:count]:
            data = FileOpen(
                priority=call.priority,
                perimeter=call.perimeter,
                motive=call.motive,
                whats_happen=call.whats_happen,
                city=call.city,
                latitude=call.latitude,
                longitude=call.longitude,
                patient_age=call.patient_age,
                patient_sex=call.patient_sex,
            )
            file = await files.open_file(db, None, member, data)
            await files.take(db, None, member, file)
            await files.add_note(db, None, member, file, "Bilan téléphonique, transfert vers le SAMU voisin.")
            await hub.share(db, member.actor, file, recipient, "RS-EDA", sender=sender)


async def statuses(runtime: Any) -> dict[str, int]:
    from sqlalchemy import func, select

    from telesante.regulation.models import HubMessage

    async with runtime.sessionmaker() as db:
        rows = await db.execute(
            select(HubMessage.status, func.count())
            .where(HubMessage.direction == "out")
            .group_by(HubMessage.status)
        )
        return {status: count for status, count in rows}


async def wait_until(runtime: Any, count: int, wanted: set[str]) -> float:
    started = time.perf_counter()
    while sum(n for s, n in (await statuses(runtime)).items() if s in wanted) < count:  # noqa: ASYNC110 - rows of another task
        await asyncio.sleep(0.05)
    return time.perf_counter() - started


async def run(urls: tuple[str, str], amqp: str, count: int) -> None:
    import aio_pika

    from telesante.regulation.hub.connector import Connector, queue_name
    from telesante.runtime import Runtime
    from telesante.settings import Settings

    a, b = (Runtime.create(Settings(database_url=url)) for url in urls)
    exchange = f"hubsante.bench.{uuid.uuid4().hex[:8]}"
    ids = (f"fr.health.samu069{uuid.uuid4().hex[:6]}", f"fr.health.samu038{uuid.uuid4().hex[:6]}")
    try:
        member_a = await centre(a, "SAMU 69", 1)
        await centre(b, "SAMU 38", 2)
        # B's queue exists before A sends (the Hub would have it): undeliverable is not measured here.
        receiver = Connector(b, amqp, ids[1], exchange=exchange)
        receiving = asyncio.create_task(receiver.run_forever())
        await asyncio.wait_for(receiver.ready.wait(), 30)
        await share_files(a, member_a, count, ids[0], ids[1])
        print(
            f"PostgreSQL and RabbitMQ, {count} RS-EDA from one SAMU to another, load {os.getloadavg()[0]:.1f}"
        )
        sender = Connector(a, amqp, ids[0], exchange=exchange, poll_seconds=0.05)
        sending = asyncio.create_task(sender.run_forever())
        sent = await wait_until(a, count, {"sent", "acked"})
        print(f"  outbox emptied (published, broker-confirmed): {sent:.2f} s = {count / sent:,.0f} msgs/s")
        acked = await wait_until(a, count, {"acked"})
        print(
            f"  round trip to every RC-REF: {acked:.2f} s = {count / acked:,.0f} msgs/s "
            f"(validated, filed at the receiver, acknowledged)"
        )
        print(f"  outbox: {await statuses(a)}")
        for connector in (sender, receiver):
            connector.stop()
        await asyncio.gather(sending, receiving)
    finally:
        connection = await aio_pika.connect(amqp)
        async with connection:
            channel = await connection.channel()
            for client_id in ids:
                await channel.queue_delete(queue_name(client_id))
            await channel.exchange_delete(exchange)
        await a.close()
        await b.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument(
        "--amqp", default=os.environ.get("TELESANTE_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
    )
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    import structlog
    from bench.scratch import bench_environment, scratch_databases

    from telesante.migrations import upgrade

    with bench_environment(), scratch_databases(args.postgres, 2) as urls:
        structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
        for url in urls:
            upgrade(url)
        asyncio.run(run((urls[0], urls[1]), args.amqp, args.messages))


if __name__ == "__main__":
    main()
