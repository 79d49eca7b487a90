"""The migrations build exactly the schema the models describe, on both databases, and the
database itself refuses to rewrite history."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from stemmen.audit.models import AuditEvent
from stemmen.config import Settings
from stemmen.db import create_engine
from stemmen.migrate import check


async def test_alembic_check_finds_no_drift(database_url: str) -> None:
    await asyncio.to_thread(check, database_url)


async def test_migrating_twice_is_harmless(database_url: str) -> None:
    from stemmen.migrate import upgrade

    await asyncio.to_thread(upgrade, database_url)


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_events SET kind = 'x'", "DELETE FROM audit_events"]
)
async def test_audit_log_is_append_only_in_the_database(database_url: str, statement: str) -> None:
    engine = create_engine(Settings(database_url=database_url))
    try:
        async with engine.begin() as connection:
            await connection.execute(
                sa.insert(AuditEvent.__table__).values(  # type: ignore[arg-type]
                    chain="global",
                    seq=1,
                    at=datetime.now(UTC),
                    at_text="2026-01-01T00:00:00Z",
                    kind="ruleset.published",
                    actor_role="admin",
                    payload={},
                    prev_hash="0" * 64,
                    hash="1" * 64,
                )
            )
        with pytest.raises(IntegrityError):
            async with engine.begin() as connection:
                await connection.execute(sa.text(statement))
    finally:
        await engine.dispose()
