"""Database engine, sessions and the column types every table shares.

SQLite (the embedded default) gets WAL, foreign keys and a busy timeout on every connection;
PostgreSQL gets a bounded pool whose connections are checked with one round trip at checkout.
Integrity lives in the database (unique and check constraints, transactions), never in worker
memory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC
from litestar.di import NamedDependency
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from stemmen.config import Settings

# One JSON type for both databases: JSONB on PostgreSQL (indexable), JSON text on SQLite.
JSONType = sa.JSON().with_variant(JSONB(), "postgresql")
# Timezone-aware UTC on both databases (SQLite would hand back naive datetimes).
UTCDateTime = DateTimeUTC(timezone=True)

# The request's session, injected by name (Litestar 3 no longer infers dependencies).
DbSession = NamedDependency[AsyncSession]

metadata = SQLModel.metadata
metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def json_column(**kwargs: Any) -> Any:
    return sa.Column(JSONType, **kwargs)


def utc_column(**kwargs: Any) -> Any:
    return sa.Column(UTCDateTime, **kwargs)


def _enable_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_engine(settings: Settings) -> AsyncEngine:
    if settings.is_sqlite:
        engine = create_async_engine(settings.database_url, connect_args={"timeout": 10})
        event.listen(engine.sync_engine, "connect", _enable_sqlite_pragmas)
        return engine
    engine = create_async_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )
    event.listen(engine.sync_engine, "connect", _mark_fresh)
    event.listen(engine.sync_engine, "checkout", _ping)
    return engine


def _mark_fresh(_dbapi_connection: Any, record: Any) -> None:
    record.info["fresh"] = True


# Set while a caller takes a connection whose first statement is a read it repeats on a fresh
# connection if this one turns out dead (``first_read``): that checkout skips the ping.
_UNCHECKED: ContextVar[bool] = ContextVar("stemmen_unchecked_checkout", default=False)

T = TypeVar("T")


async def first_read(
    read: Callable[[], Awaitable[T]], after_dead: Callable[[], Awaitable[None]] | None = None
) -> T:
    """Runs ``read``, the first statement on a connection it takes from the pool, without
    the checkout ping; if the connection was dead (the database restarted, the backend was
    killed) the pool drops it and its elders, ``after_dead`` cleans up (a session's
    rollback), and the read runs once more on a checked connection. Saves a round trip per
    request; only for reads, which are safe to repeat."""
    token = _UNCHECKED.set(True)
    try:
        return await read()
    except sa.exc.DBAPIError as error:
        if not (error.connection_invalidated or _driver_trouble(error)):
            raise
    finally:
        _UNCHECKED.reset(token)
    if after_dead is not None:
        await after_dead()
    return await read()


def _ping(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Checks a pooled PostgreSQL connection still works before a request gets it, so a
    database restart or a killed backend costs no request: one round trip (``SELECT 1`` as a
    simple query) where ``pool_pre_ping`` takes three (BEGIN, the ping, ROLLBACK), and none
    for a connection made just now. A dead connection makes the pool drop every connection
    older than it and hand out a fresh one; any other error is a fault and propagates."""
    if record.info.pop("fresh", False) or _UNCHECKED.get():
        return
    from asyncpg.exceptions import InterfaceError, InternalClientError, PostgresError

    try:
        dbapi_connection.run_async(lambda driver: driver.execute("SELECT 1"))
    except (OSError, TimeoutError, InterfaceError, InternalClientError, PostgresError) as error:
        # InternalClientError: the driver is still reading the server's goodbye of a killed
        # backend ("another operation is in progress"); the connection is as good as dead.
        raise sa.exc.InvalidatePoolError(f"the pooled connection is dead: {error!r}") from error


def _driver_trouble(error: sa.exc.DBAPIError) -> bool:
    """The driver refused to run the statement because of the connection's state (closed, or
    still reading a killed backend's goodbye), not the database because of the statement."""
    from asyncpg.exceptions import InterfaceError, InternalClientError

    cause = error.orig.__cause__ if error.orig is not None else None
    return isinstance(cause, (InterfaceError, InternalClientError))


def session_maker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


async def session_scope(maker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with maker() as session:
        yield session
