"""Database engine, sessions and the declarative base.

One request, job or message is one transaction: services only `flush()`;
the edge (request dependency, job runner, message handler) commits.
Work that must happen only once the data is durable (live events, e-mails)
is queued with `after_commit` and dropped on rollback.
"""

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, MetaData, String, TypeDecorator, event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use UTC-aware datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime}  # noqa: RUF012 - SQLAlchemy reads it as a class attribute


class IdMixin:
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def make_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        if ":///" in url and ":memory:" not in url:
            Path(url.split(":///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL is a property of the file: set it once, not from every new connection while others write.
    cursor.execute("PRAGMA journal_mode")
    if str(cursor.fetchone()[0]).lower() != "wal":
        cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    # Search keys are stored folded to lower case; a case-sensitive LIKE can use their indexes.
    cursor.execute("PRAGMA case_sensitive_like=ON")
    cursor.close()


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True)


AfterCommit = Callable[[], Awaitable[None]]


def after_commit(session: AsyncSession, action: AfterCommit) -> None:
    """Run `action` once the session's transaction has committed; forget it on rollback."""
    session.sync_session.info.setdefault("after_commit", []).append(action)


def keep_even_on_rollback(session: AsyncSession, obj: object) -> None:
    """Write `obj` even if the unit of work fails (an access denial must stay audited)."""
    session.sync_session.info.setdefault("keep_after_rollback", []).append(obj)


async def keep_after_rollback(session: AsyncSession) -> None:
    """After a rollback, write and commit what `keep_even_on_rollback` set aside."""
    kept = session.sync_session.info.pop("keep_after_rollback", [])
    if kept:
        session.add_all(kept)
        await session.commit()


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop("after_commit", None)


async def commit(session: AsyncSession) -> None:
    """Commit, then run what was waiting for the commit."""
    await session.commit()
    pending: list[AfterCommit] = session.sync_session.info.pop("after_commit", [])
    for action in pending:
        await action()


@asynccontextmanager
async def transaction(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit on success, roll back on any error."""
    async with sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            await keep_after_rollback(session)
            raise
        await commit(session)
