"""What every bench needs before it measures: a test environment (fresh keys, a data folder, quiet
logs) and scratch PostgreSQL databases beside the given one, dropped afterwards."""

import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def bench_environment(**extra: str) -> Iterator[str]:
    """TELESANTE_* settings for a bench run; yields the data folder."""
    from telesante.kit.crypto import new_key_entry

    data_dir = tempfile.mkdtemp(prefix="telesante-bench-")
    os.environ.update(
        TELESANTE_ENVIRONMENT="test",
        TELESANTE_DATA_DIR=data_dir,
        TELESANTE_MASTER_KEY=new_key_entry("bench"),
        TELESANTE_SECRET_KEY="bench-secret-key",
        **extra,
    )
    logging.disable(logging.INFO)
    try:
        yield data_dir
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


@contextmanager
def scratch_databases(postgres: str, count: int = 1) -> Iterator[list[str]]:
    """`count` empty databases on the server of `postgres` (a SQLAlchemy URL); their URLs."""
    import psycopg

    admin = postgres.replace("+psycopg", "")
    names = [f"telesante_bench_{uuid.uuid4().hex[:8]}" for _ in range(count)]
    with psycopg.connect(admin, autocommit=True) as conn:
        for name in names:
            conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield [postgres.rsplit("/", 1)[0] + "/" + name for name in names]
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            for name in names:
                conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
