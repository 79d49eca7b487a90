"""The PostgreSQL pool: connections are reused from request to request, and one the server
killed is replaced before any request gets it."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from stemmen.db import create_engine, first_read

pytestmark = pytest.mark.postgres


async def _backend(engine: Any) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one())


async def _terminate(engine: Any, pid: int) -> None:
    import asyncpg

    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    admin = await asyncpg.connect(url)
    try:
        await admin.execute("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()


async def test_a_pooled_connection_serves_one_checkout_after_another(settings: Any) -> None:
    if settings.is_sqlite:
        pytest.skip("SQLite has no server connections to pool")
    engine = create_engine(settings)
    try:
        first = await _backend(engine)
        assert [await _backend(engine) for _ in range(5)] == [first] * 5
    finally:
        await engine.dispose()


async def test_a_connection_the_server_killed_is_replaced_at_checkout(settings: Any) -> None:
    if settings.is_sqlite:
        pytest.skip("SQLite has no server connections to pool")
    engine = create_engine(settings)
    try:
        killed = await _backend(engine)
        await _terminate(engine, killed)
        # No error reaches the caller: the checkout finds the connection dead and reconnects.
        replacement = await _backend(engine)
        assert replacement != killed
        assert await _backend(engine) == replacement
    finally:
        await engine.dispose()


async def test_a_first_read_on_a_killed_connection_repeats_on_a_fresh_one(settings: Any) -> None:
    if settings.is_sqlite:
        pytest.skip("SQLite has no server connections to pool")
    engine = create_engine(settings)
    attempts: list[int] = []

    async def read() -> int:
        attempts.append(1)
        return await _backend(engine)

    try:
        killed = await _backend(engine)
        await _terminate(engine, killed)
        # Without the checkout ping the read meets the dead connection, then repeats.
        replacement = await first_read(read)
        assert replacement != killed
        assert len(attempts) == 2
        attempts.clear()
        assert await first_read(read) == replacement
        assert len(attempts) == 1
    finally:
        await engine.dispose()
