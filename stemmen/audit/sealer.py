"""The background sealer: every worker moves waiting ballot events into their chains.

A cast leaves its ballot events in ``audit_pending`` (``stemmen.audit.log``); every
``settings.seal_interval_seconds`` (``STEMMEN_SEAL_INTERVAL_SECONDS``, default 0.2 s) each
worker seals the chains that have some, in batches of ``SEAL_BATCH``, one transaction each.
On PostgreSQL a chain whose head another worker (or a phase change, or a reader) holds is
skipped rather than waited for: that one is sealing it.
Errors are logged (once per outage) and the next run retries, a little later each time while
they last; pending events are never lost, because they leave ``audit_pending`` only in the
transaction that appends them to the chain.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import sqlalchemy as sa
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from stemmen.audit.log import seal_pending
from stemmen.audit.models import AuditPending
from stemmen.db import first_read

logger = logging.getLogger("stemmen.audit.sealer")

SEAL_BATCH = 2_000
MAX_BACKOFF_SECONDS = 5.0
# On shutdown the last run may take this long (then the next worker or the close seals).
FINAL_RUN_SECONDS = 5.0


async def _waiting_chains(engine: AsyncEngine) -> list[str]:
    """The chains with waiting ballot events, read outside any transaction and without the
    checkout ping: the idle run, every interval in every worker, is one round trip."""

    async def read() -> list[str]:
        async with engine.connect() as connection:
            if engine.dialect.name == "postgresql":
                await connection.execution_options(isolation_level="AUTOCOMMIT")
            return list((await connection.execute(_WAITING_CHAINS)).scalars())

    return await first_read(read)


_WAITING_CHAINS = sa.select(col(AuditPending.chain)).distinct()


async def seal_all(maker: async_sessionmaker[AsyncSession], *, wait: bool = False) -> int:
    """One run over every chain with waiting ballot events; the number sealed."""
    engine = maker.kw["bind"]
    sealed = 0
    for chain in await _waiting_chains(engine):
        while True:
            async with maker() as session:

                async def seal(session: AsyncSession = session, chain: str = chain) -> int | None:
                    return await seal_pending(session, chain, wait=wait, limit=SEAL_BATCH)

                # Nothing is committed before the commit below, so a run that met a dead
                # pooled connection is repeated whole on a checked one: no checkout ping.
                count = await first_read(seal, session.rollback)
                await session.commit()
            sealed += count or 0
            if count is None or count < SEAL_BATCH:
                break
    return sealed


async def _loop(maker: async_sessionmaker[AsyncSession], interval: float) -> None:
    failures = 0
    while True:
        # While the database is away, wait longer between runs (up to MAX_BACKOFF_SECONDS).
        await asyncio.sleep(min(interval * 2**failures, MAX_BACKOFF_SECONDS))
        try:
            await seal_all(maker)
        except Exception:  # a database hiccup must not end the worker's sealing
            if failures == 0:
                logger.exception("sealing ballot events failed; the next run retries")
            failures = min(failures + 1, 16)
        else:
            if failures:
                logger.info("sealing ballot events works again")
            failures = 0


@asynccontextmanager
async def sealer_lifespan(app: Litestar) -> AsyncIterator[None]:
    """Seals beside the API for as long as the app lives, and once more when it stops."""
    maker = app.state.session_maker
    task = asyncio.create_task(_loop(maker, app.state.settings.seal_interval_seconds))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        try:
            await asyncio.wait_for(seal_all(maker, wait=True), FINAL_RUN_SECONDS)
        except Exception:
            logger.exception("the last sealing run failed; the events wait for the next worker")
