"""Scheduled phase moves: rounds whose scheduled start or end has passed move on by themselves.

Every API worker runs the loop; that is safe because a move is a conditional UPDATE on the
round's phase and revision (see ``transition``): when several workers try the same move, one
wins and the others see the round already moved and skip it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

from litestar import Litestar
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from stemmen.errors import DomainError
from stemmen.rounds.models import Phase, Round
from stemmen.rounds.service import SYSTEM_ACTOR, next_phase, phase_rows, ruleset_of, transition

logger = logging.getLogger("stemmen.scheduler")

# A round moves at most this many phases in one run (draft -> ... -> closed is five).
MAX_MOVES_PER_ROUND = 6


@dataclass(frozen=True)
class ScheduledMove:
    round_id: str
    from_phase: str
    to_phase: str


@dataclass(frozen=True)
class SchedulerRun:
    """What one run did: the moves made and the moves that were due but refused (with why)."""

    moved: tuple[ScheduledMove, ...]
    refused: tuple[tuple[ScheduledMove, str], ...]


async def _due_move(session: AsyncSession, round_: Round, now: datetime) -> str | None:
    """The phase a round should be in by now by its schedule, one step at a time."""
    ruleset = await ruleset_of(session, round_)
    following = next_phase(ruleset, round_.phase)
    # Publication is always an official's act; the schedule only opens and closes phases.
    if following is None or following == Phase.PUBLISHED.value:
        return None
    rows = await phase_rows(session, round_.id)
    current, upcoming = rows.get(round_.phase), rows.get(following)
    if current is not None and current.ends_at is not None and current.ends_at <= now:
        return following
    if upcoming is not None and upcoming.starts_at is not None and upcoming.starts_at <= now:
        return following
    return None


async def run_once(maker: async_sessionmaker[AsyncSession], now: datetime) -> SchedulerRun:
    """Move every round whose schedule says it is due, as the actor "system"."""
    async with maker() as session:
        open_rounds = (
            await session.exec(
                select(Round.id)
                .where(col(Round.phase).not_in([Phase.CLOSED.value, Phase.PUBLISHED.value]))
                .order_by(col(Round.id))
            )
        ).all()
    moved: list[ScheduledMove] = []
    refused: list[tuple[ScheduledMove, str]] = []
    for round_id in open_rounds:
        for _ in range(MAX_MOVES_PER_ROUND):
            async with maker() as session:
                round_ = await session.get(Round, round_id)
                if round_ is None:
                    break
                due = await _due_move(session, round_, now)
                if due is None:
                    break
                step = ScheduledMove(round_id, round_.phase, due)
                try:
                    await transition(session, round_, due, SYSTEM_ACTOR)
                except DomainError as error:
                    # Another worker moved it first (409), or the round is not ready (an empty
                    # ballot): officials see it stay in its phase; we try again next run.
                    await session.rollback()
                    refused.append((step, error.message))
                    logger.warning(
                        "scheduled move refused",
                        extra={"round": round_id, "to": due, "reason": error.message},
                    )
                    break
                except Exception as error:  # one broken round must not stop the others
                    await session.rollback()
                    refused.append((step, f"unexpected {type(error).__name__}; see the log"))
                    logger.exception("scheduled move failed", extra={"round": round_id, "to": due})
                    break
                moved.append(step)
    return SchedulerRun(tuple(moved), tuple(refused))


async def _loop(app: Litestar, interval: float) -> None:
    from stemmen.db import utcnow

    while True:
        await asyncio.sleep(interval)
        try:
            await run_once(app.state.session_maker, utcnow())
        except Exception:  # the loop must outlive a database hiccup; the next run retries
            logger.exception("scheduler run failed")


@asynccontextmanager
async def scheduler_lifespan(app: Litestar) -> AsyncIterator[None]:
    """Runs the scheduler beside the API for as long as the app lives."""
    task = asyncio.create_task(_loop(app, app.state.settings.scheduler_interval_seconds))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
