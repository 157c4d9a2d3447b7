"""A dump of the whole database holds no clinical free text in clear (SQLite file or pg_dump)."""

import asyncio
import shutil
from pathlib import Path

import pytest
from httpx import AsyncClient
from sqlalchemy import text

from telesante.db import transaction
from telesante.runtime import Runtime
from telesante.timeline.service import add_entry
from tests.fixtures.world import World

NOTE = "Carcinome basocellulaire du nez confirme"
EMERGENCY = "Surdosage medicamenteux suspecte, patient inconscient"


async def dump(database: str, runtime: Runtime, tmp_path: Path) -> bytes:
    if database.startswith("sqlite"):
        # A consistent copy of the whole database, as a backup would take it (no touching the live WAL).
        copy = tmp_path / "dump.sqlite3"
        async with runtime.engine.connect() as conn:
            await conn.execute(text(f"VACUUM INTO '{copy}'"))
        return copy.read_bytes()
    if not shutil.which("pg_dump"):
        pytest.skip("pg_dump not installed")
    url = database.replace("+psycopg", "")
    process = await asyncio.create_subprocess_exec(
        "pg_dump", "--no-owner", url, stdout=asyncio.subprocess.PIPE
    )
    output, _ = await process.communicate()
    assert process.returncode == 0
    return output


async def test_the_dump_holds_no_clinical_text(
    client: AsyncClient, world: World, runtime: Runtime, database: str, tmp_path: Path
) -> None:
    doctor, emergency = await world.professional(), await world.professional("Urgentiste")
    patient = await world.patient(doctor)
    async with transaction(runtime.sessionmaker) as db:
        add_entry(db, patient.id, kind="note", title="Consultation dermatologique", summary=NOTE)
    opened = await client.post(
        "/api/break-glass",
        headers=emergency.headers,
        json={"ins": patient.ins_matricule, "birth_date": "1985-05-17", "reason": EMERGENCY},
    )
    assert opened.status_code == 201
    await client.get(f"/api/patients/{patient.id}", headers=emergency.headers)
    content = await dump(database, runtime, tmp_path)
    assert patient.birth_family_name.encode() in content  # the dump is real: identities are there
    for secret in (NOTE, EMERGENCY):
        assert secret.encode() not in content, f"{secret!r} is stored in clear"
