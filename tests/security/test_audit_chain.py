"""The audit trail is hash-chained; `telesante audit verify` finds altered, deleted and inserted events."""

import os
import subprocess
import sys
from datetime import timedelta

from httpx import AsyncClient
from sqlalchemy import text

from telesante.audit import chain
from telesante.audit.models import AuditEvent
from telesante.db import transaction
from telesante.runtime import Runtime
from tests.fixtures.world import World


def verify() -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "telesante", "audit", "verify", "--seal"],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def make_trail(client: AsyncClient, world: World) -> None:
    doctor = await world.professional()
    patient = await world.patient(doctor)
    for _ in range(3):
        assert (await client.get(f"/api/patients/{patient.id}", headers=doctor.headers)).status_code == 200


async def raw(runtime: Runtime, sql: str, **params: object) -> None:
    async with runtime.engine.begin() as conn:
        await conn.execute(text(sql), params)


async def test_an_intact_chain_verifies(client: AsyncClient, world: World) -> None:
    await make_trail(client, world)
    result = verify()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 break(s)" in result.stdout and "0 not yet sealed" in result.stdout


async def test_an_altered_event_is_reported_where_it_is(
    client: AsyncClient, world: World, runtime: Runtime
) -> None:
    await make_trail(client, world)
    assert verify().returncode == 0
    await raw(runtime, "UPDATE audit_events SET actor_role = 'admin' WHERE seq = 3")
    result = verify()
    assert result.returncode == 1
    assert "BROKEN at seq 3" in result.stdout and "altered" in result.stdout


async def test_a_deleted_event_is_reported(client: AsyncClient, world: World, runtime: Runtime) -> None:
    await make_trail(client, world)
    assert verify().returncode == 0
    await raw(runtime, "DELETE FROM audit_events WHERE seq = 2")
    result = verify()
    assert result.returncode == 1
    assert "BROKEN at seq 3" in result.stdout and "missing" in result.stdout


async def test_an_inserted_event_is_reported(client: AsyncClient, world: World, runtime: Runtime) -> None:
    await make_trail(client, world)
    assert verify().returncode == 0
    async with transaction(runtime.sessionmaker) as db:
        await db.execute(text("UPDATE audit_events SET seq = seq + 1000 WHERE seq >= 3"))
        first = await db.get(
            AuditEvent, (await db.execute(text("SELECT id FROM audit_events WHERE seq = 2"))).scalar_one()
        )
        assert first is not None
        forged = AuditEvent(
            at=first.at + timedelta(microseconds=1),
            actor_user_id=None,
            actor_role="professional",
            patient_id=first.patient_id,
            action="read",
            resource_type="Patient",
            outcome="success",
            purpose="care",
            seq=3,
            prev_hash=first.hash,
        )
        forged.hash = chain.event_hash(first.hash or "", forged)
        db.add(forged)
    await raw(runtime, "UPDATE audit_events SET seq = seq - 1000 + 1 WHERE seq > 1000")
    result = verify()
    assert result.returncode == 1
    assert "BROKEN at seq 4" in result.stdout and "does not follow" in result.stdout
