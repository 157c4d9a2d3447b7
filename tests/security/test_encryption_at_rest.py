"""Clinical free text is encrypted at rest; the master key rotates without re-encrypting data."""

import os
import subprocess
import sys

from httpx import AsyncClient
from sqlalchemy import text

from telesante.kit.crypto import DecryptionError, Keyring, new_key_entry
from telesante.runtime import Runtime
from tests.fixtures.world import World

SECRET_NOTE = "Suspicion de mélanome sur le dos, biopsie prévue"


async def add_note(world: World, runtime: Runtime) -> str:
    from telesante.db import transaction
    from telesante.timeline.service import add_entry

    doctor = await world.professional()
    patient = await world.patient(doctor)
    async with transaction(runtime.sessionmaker) as db:
        add_entry(db, patient.id, kind="note", title="Consultation", summary=SECRET_NOTE)
    return patient.id


async def stored_blobs(runtime: Runtime) -> list[bytes]:
    async with runtime.engine.connect() as conn:
        rows = await conn.execute(text("SELECT summary FROM timeline_entries WHERE summary IS NOT NULL"))
        return [bytes(row[0]) for row in rows]


async def test_the_database_holds_no_clinical_text_in_clear(
    client: AsyncClient, world: World, runtime: Runtime
) -> None:
    await add_note(world, runtime)
    blobs = await stored_blobs(runtime)
    assert blobs and all(SECRET_NOTE.encode() not in blob for blob in blobs)
    assert all("mélanome".encode() not in blob for blob in blobs)


async def test_a_tampered_ciphertext_is_refused_not_misread(runtime: Runtime) -> None:
    ring = Keyring.parse(os.environ["TELESANTE_MASTER_KEY"])
    blob = bytearray(ring.encrypt(SECRET_NOTE.encode()))
    blob[-1] ^= 1
    try:
        ring.decrypt(bytes(blob))
        raise AssertionError("tampering went unnoticed")
    except DecryptionError as error:
        assert "altered" in str(error)


async def test_keys_rotate_rewraps_every_value_under_the_new_master_key(
    world: World, runtime: Runtime
) -> None:
    await add_note(world, runtime)
    old = os.environ["TELESANTE_MASTER_KEY"]
    new = new_key_entry("rotated")
    env = {**os.environ, "TELESANTE_MASTER_KEY": f"{new},{old}"}
    result = subprocess.run(
        [sys.executable, "-m", "telesante", "keys", "rotate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "timeline_entries.summary: " in result.stdout
    only_new = Keyring.parse(new)
    blobs = await stored_blobs(runtime)
    assert {only_new.key_id_of(blob) for blob in blobs} == {"rotated"}
    assert SECRET_NOTE in {only_new.decrypt(blob).decode() for blob in blobs}
    again = subprocess.run(
        [sys.executable, "-m", "telesante", "keys", "rotate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "timeline_entries.summary: 0 re-wrapped" in again.stdout
