"""Database engine, sessions and the column types every table shares.

SQLite (the embedded default) gets WAL, foreign keys and a busy timeout on every connection;
PostgreSQL gets a bounded pool whose connections are checked with one round trip at checkout.
Integrity lives in the database (unique and check constraints, transactions), never in worker
memory.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC
from litestar.di import NamedDependency
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.util.concurrency import greenlet_spawn
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


class RequestSession(AsyncSession):
    """The request's session: an :class:`AsyncSession` whose ORM session is built on first
    use, so a request that never touches it (a ballot fetch served from the worker's cache,
    a refused request) pays neither its construction nor its close. ``bind`` answers without
    building it. Once used it is an ordinary AsyncSession; closing one never used is free."""

    def __init__(self, bind: AsyncEngine | None = None, **kwargs: Any) -> None:
        # AsyncSession.__init__ runs on first use (see __getattr__), not here.
        self._async_bind = bind
        self._async_binds = {}
        self._deferred = kwargs

    def __getattr__(self, name: str) -> Any:
        # Only called for attributes not set yet: the ORM session's two names before first use.
        if name in ("sync_session", "_proxied") and "_deferred" in self.__dict__:
            AsyncSession.__init__(self, self._async_bind, **self.__dict__.pop("_deferred"))
            return self.__dict__[name]
        raise AttributeError(name)

    @property
    def opened(self) -> bool:
        """Whether the ORM session was built (the request used the session)."""
        return "_deferred" not in self.__dict__

    @property
    def bind(self) -> Any:
        return AsyncSession.bind.fget(self) if self.opened else self._async_bind  # type: ignore[attr-defined]

    @bind.setter
    def bind(self, bind: Any) -> None:
        AsyncSession.bind.fset(self, bind)  # type: ignore[attr-defined]

    async def close(self) -> None:
        if self.opened:
            await super().close()

    async def __aexit__(self, type_: Any, value: Any, traceback: Any) -> None:
        if self.opened:
            await super().__aexit__(type_, value, traceback)


def request_session_maker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=RequestSession, expire_on_commit=False)


# --- one row, straight from the driver -------------------------------------------------------


class _DriverStatement:
    """A Core select compiled once for asyncpg: its SQL with $n placeholders, the names of
    its parameters in order, their bound defaults, and a row type with the select's column
    names (attribute access, like SQLAlchemy's rows)."""

    def __init__(self, statement: Any, engine: AsyncEngine) -> None:
        compiled = statement.compile(dialect=engine.dialect)
        self.statement = statement  # held, so its id() is never reused while cached
        self.sql: str = compiled.string
        self.names: tuple[str, ...] = tuple(compiled.positiontup or ())
        self.defaults: dict[str, Any] = dict(compiled.params)
        self.row = namedtuple("Row", [column.key for column in statement.selected_columns])  # type: ignore[misc]

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        merged = {**self.defaults, **params}
        return [merged[name] for name in self.names]


_DRIVER_STATEMENTS: dict[tuple[int, str], _DriverStatement] = {}


async def read_one(engine: AsyncEngine, statement: Any, params: Mapping[str, Any]) -> Any:
    """The first row of a read-only ``statement`` (or None), on a pooled connection outside
    any transaction; the hot reads of a request (the ballot fetch, the health check).

    On PostgreSQL the statement, compiled once, runs on the pooled asyncpg connection
    itself, without the checkout ping, SQLAlchemy's execution context or its result
    processing: about a tenth of the CPU of the same read through a Core connection. Only for
    statements whose columns need no result processing (text, numbers, booleans, timestamps
    with time zone): the row holds what asyncpg returns. Should anything go wrong (a dead
    connection, the server restarting, any driver error), the connection is dropped unless
    the server merely refused the statement, and the read runs once more through SQLAlchemy
    on a checked connection, which either succeeds or raises its usual, wrapped error. On
    SQLite it is that Core read (:func:`first_read`)."""
    if engine.dialect.name != "postgresql":
        return await first_read(lambda: _read_one_core(engine, statement, params))
    key = (id(statement), engine.dialect.name)
    compiled = _DRIVER_STATEMENTS.get(key)
    if compiled is None:
        compiled = _DRIVER_STATEMENTS[key] = _DriverStatement(statement, engine)
    arguments = compiled.arguments(params)
    token = _UNCHECKED.set(True)
    try:
        pooled = await engine.raw_connection()
    except Exception:
        pooled = None
    finally:
        _UNCHECKED.reset(token)
    if pooled is None:
        # No connection (the server is down or starting): the Core read raises the error
        # as SQLAlchemy wraps it, or succeeds if the server is back already.
        return await _read_one_core(engine, statement, params)
    from asyncpg.exceptions import PostgresError

    driver: Any = pooled.driver_connection
    try:
        record = await driver.fetchrow(compiled.sql, *arguments)
    except Exception as error:
        # The server refusing the statement leaves the connection usable; anything else
        # (closed, reset, mid-read) may not have.
        usable = isinstance(error, PostgresError) and not driver.is_closed()
        await greenlet_spawn(pooled.close if usable else pooled.invalidate)
        # Once more through SQLAlchemy, on a connection the checkout pings: a dead pool is
        # replaced, a database that is down raises the error the app turns into a 503.
        return await _read_one_core(engine, statement, params)
    except BaseException:
        # Cancelled mid-read: the connection's state is unknown, never hand it out again.
        await greenlet_spawn(pooled.invalidate)
        raise
    await greenlet_spawn(pooled.close)
    return None if record is None else compiled.row(*record.values())


async def _read_one_core(engine: AsyncEngine, statement: Any, params: Mapping[str, Any]) -> Any:
    async with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            await connection.execution_options(isolation_level="AUTOCOMMIT")
        return (await connection.execute(statement, dict(params))).first()


async def session_scope(maker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with maker() as session:
        yield session
