"""Alembic migrations, one set for SQLite and PostgreSQL (batch mode)."""

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from telesante.db import make_engine

ALEMBIC_INI = Path(__file__).parent.parent / "alembic.ini"


def alembic_config(url: str) -> Config:
    config = Config(str(ALEMBIC_INI))
    config.attributes["url"] = url
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to `revision` (creates the SQLite file if needed)."""
    command.upgrade(alembic_config(url), revision)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


async def current_revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(current_of)
    finally:
        await engine.dispose()


def current_of(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def is_at_head(url: str) -> bool:
    return asyncio.run(current_revision(url)) == head_revision()
