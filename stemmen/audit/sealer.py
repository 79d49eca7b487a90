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

from litestar import Litestar
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from stemmen.audit.log import pending_chains, seal_pending

logger = logging.getLogger("stemmen.audit.sealer")

SEAL_BATCH = 2_000
MAX_BACKOFF_SECONDS = 5.0
# On shutdown the last run may take this long (then the next worker or the close seals).
FINAL_RUN_SECONDS = 5.0


async def seal_all(maker: async_sessionmaker[AsyncSession], *, wait: bool = False) -> int:
    """One run over every chain with waiting ballot events; the number sealed."""
    async with maker() as session:
        chains = await pending_chains(session)
    sealed = 0
    for chain in chains:
        while True:
            async with maker() as session:
                count = await seal_pending(session, chain, wait=wait, limit=SEAL_BATCH)
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
