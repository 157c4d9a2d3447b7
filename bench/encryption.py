"""Cost of encrypting documents at rest, and of a document's upload and download round trip.

    .venv/bin/python bench/encryption.py [--runs 7] [--postgres URL]

1. `Keyring.encrypt` / `Keyring.decrypt` (AES-256-GCM envelope, kit/crypto.py) on 1 MB
   and 20 MB of random bytes: median of `--runs` runs, in ms and MB/s.
2. Through the whole application (ASGI, access gate, audit, PDF filter, SHA-256, encrypted
   column, SQLite or PostgreSQL): POST then GET of a 1 MB and a 20 MB PDF, median per step.
"""

import argparse
import asyncio
import logging
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path

MB = 1024 * 1024
SIZES = (1 * MB, 20 * MB - 4096)  # the largest PDF stays just under the 20 MB upload limit


def median_ms(action: Callable[[], object], runs: int) -> float:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def rate(size: int, ms: float) -> str:
    return f"{ms:8.1f} ms  {size / MB / (ms / 1000):8.0f} MB/s"


def bench_keyring(runs: int) -> None:
    from telesante.kit.crypto import Keyring, new_key_entry

    keyring = Keyring.parse(new_key_entry("bench"))
    print(f"Keyring (AES-256-GCM envelope), median of {runs} runs")
    for size in SIZES:
        plaintext = os.urandom(size)
        blob = keyring.encrypt(plaintext)
        encrypt = median_ms(partial(keyring.encrypt, plaintext), runs)
        decrypt = median_ms(partial(keyring.decrypt, blob), runs)
        label = f"{size / MB:5.1f} MB"
        print(f"  {label} encrypt {rate(size, encrypt)}   decrypt {rate(size, decrypt)}")


def pdf_of(size: int) -> bytes:
    """A plain PDF padded with a binary stream (like a scanned page) to `size` bytes."""
    head = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    head += b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    tail = b"\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    stream_head = b"3 0 obj\n<< /Length %d >>\nstream\n"
    length = size - len(head) - len(tail) - len(stream_head % size)
    return head + stream_head % length + os.urandom(length) + tail


async def setup(runtime: object) -> str:
    """A professional's API token, in a fresh database."""
    from telesante.auth import service as auth
    from telesante.db import transaction
    from telesante.directory.models import Professional
    from telesante.identifiers.builders import make_rpps
    from telesante.runtime import Runtime
    from telesante.settings import get_settings

    assert isinstance(runtime, Runtime)
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
    return token


async def round_trips(url: str, runs: int) -> None:
    import httpx
    import structlog

    from telesante.app import create_app
    from telesante.migrations import upgrade
    from telesante.runtime import Runtime
    from telesante.settings import get_settings

    await asyncio.to_thread(upgrade, url)
    app = create_app(get_settings(), run_worker=False)
    # One access-log line per request would drown the figures.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    app.state.runtime = runtime = Runtime.create(get_settings())
    headers = {"Authorization": f"Bearer {await setup(runtime)}"}
    patient = {
        "identity_status": "PROV",
        "birth_family_name": "Banc",
        "birth_given_names": "Zoé",
        "sex": "F",
        "birth_date": "1980-01-01",
        "birth_place_code": "75112",
    }
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as http:
        created = await http.post("/api/patients", json=patient, headers=headers)
        base = f"/api/patients/{created.json()['id']}/documents"
        for size in SIZES:
            pdf = pdf_of(size)
            ups, downs = [], []
            for _ in range(runs):
                started = time.perf_counter()
                response = await http.post(
                    base, content=pdf, headers={**headers, "content-type": "application/pdf"}
                )
                ups.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 201, response.text
                started = time.perf_counter()
                download = await http.get(f"{base}/{response.json()['id']}", headers=headers)
                downs.append((time.perf_counter() - started) * 1000)
                assert download.content == pdf
            up, down = statistics.median(ups), statistics.median(downs)
            print(f"  {size / MB:5.1f} MB PDF upload {rate(size, up)}   download {rate(size, down)}")
    await runtime.close()


def run_app(label: str, url: str, runs: int) -> None:
    from telesante.settings import get_settings

    os.environ["TELESANTE_DATABASE_URL"] = url
    get_settings.cache_clear()
    print(f"Round trip through the ASGI app on {label}, median of {runs} runs")
    asyncio.run(round_trips(url, runs))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--postgres", default="", help="existing database; a scratch one is made next to it")
    args = parser.parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    bench_keyring(args.runs)
    with tempfile.TemporaryDirectory() as tmp:
        from telesante.kit.crypto import new_key_entry

        os.environ.update(
            TELESANTE_ENVIRONMENT="test", TELESANTE_DATA_DIR=tmp, TELESANTE_MASTER_KEY=new_key_entry("bench")
        )
        run_app("SQLite", f"sqlite+aiosqlite:///{tmp}/bench.sqlite3", args.runs)
        if args.postgres:
            run_postgres(args.postgres, args.runs)


def run_postgres(url: str, runs: int) -> None:
    import psycopg

    admin = url.replace("+psycopg", "")
    name = f"telesante_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        run_app("PostgreSQL", url.rsplit("/", 1)[0] + "/" + name, runs)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
