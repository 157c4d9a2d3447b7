"""Test harness: a real database built by the migrations (SQLite by default,
PostgreSQL when TELESANTE_TEST_DATABASE_URL is set), emptied between tests.

In CI, TELESANTE_REQUIRE_SERVICES=1 turns "service not running, skipped" into a failure.
"""

import functools
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

TMP = Path(tempfile.mkdtemp(prefix="telesante-test-"))
ADMIN_URL = os.environ.get(
    "TELESANTE_TEST_DATABASE_URL"
)  # e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test
DB_NAME = f"telesante_test_{uuid.uuid4().hex[:10]}"
if ADMIN_URL:
    DATABASE_URL = ADMIN_URL.rsplit("/", 1)[0] + "/" + DB_NAME
else:
    DATABASE_URL = f"sqlite+aiosqlite:///{TMP / 'telesante.sqlite3'}"

# Before anything reads the settings.
os.environ.update(
    TELESANTE_ENVIRONMENT="test",
    TELESANTE_DATA_DIR=str(TMP),
    TELESANTE_DATABASE_URL=DATABASE_URL,
    TELESANTE_SECRET_KEY="test-secret-key-not-for-production",
)
from telesante.kit.crypto import new_key_entry  # noqa: E402

os.environ["TELESANTE_MASTER_KEY"] = new_key_entry("test1")  # a fresh random key per test session
os.environ.pop("TELESANTE_REDIS_URL", None)
os.environ.pop("TELESANTE_SMTP_HOST", None)

from sqlalchemy import text  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession  # noqa: E402

from telesante.auth import service as auth_service  # noqa: E402
from telesante.db import Base  # noqa: E402
from telesante.settings import get_settings  # noqa: E402

pytest_plugins = ["tests.fixtures.app", "tests.fixtures.world", "tests.fixtures.services"]

# The fixtures make thousands of accounts with the same few passwords: one argon2 hash per distinct
# password for the run. Logins still verify with the real hasher; servers started as processes and
# the password benchmarks hash as in production.
auth_service.hash_password = functools.lru_cache(maxsize=256)(auth_service.hash_password)


def _sync_url(url: str) -> str:
    return url.replace("+psycopg", "").replace("postgresql://", "postgresql://")


@pytest.fixture(scope="session", autouse=True)
def database() -> Iterator[str]:
    """Create the database and run every migration once for the session."""
    import psycopg

    from telesante.migrations import upgrade

    if ADMIN_URL:
        with psycopg.connect(_sync_url(ADMIN_URL), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    upgrade(DATABASE_URL)
    yield DATABASE_URL
    if ADMIN_URL:
        with psycopg.connect(_sync_url(ADMIN_URL), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


@pytest.fixture(autouse=True)
async def clean_tables(runtime: "object") -> AsyncIterator[None]:
    yield
    from telesante.runtime import Runtime

    assert isinstance(runtime, Runtime)
    async with runtime.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            await conn.execute(table.delete())


@pytest.fixture
def settings() -> Iterator[object]:
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


async def count(db: AsyncSession, sql: str, **params: object) -> int:
    return int((await db.execute(text(sql), params)).scalar_one())
