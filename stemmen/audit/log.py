"""Appending to the hash-chained audit log inside the caller's transaction.

The append locks its chain's head row first (an UPDATE: a row lock on PostgreSQL, the write
lock on SQLite), so two appends to one chain can never read the same head and fork it. Call
it as the last write before commit to hold that lock briefly.

Ballot events are timed to the hour only (``docs/verification.md``, secrecy): the published
log must not let someone who knows when a resident voted find that resident's ballot.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from stemmen.audit.canonical import to_canonical_value
from stemmen.audit.chain import (
    BALLOT_ACCEPTED,
    BALLOT_SUPERSEDED,
    GENESIS_HASH,
    LogEntry,
    entry_hash,
    format_utc,
)
from stemmen.audit.models import GLOBAL_CHAIN, AuditEvent, AuditHead
from stemmen.auth import Role, User
from stemmen.db import utcnow

# Events that would tie a receipt to the moment a resident voted.
HOURLY_KINDS = frozenset({BALLOT_ACCEPTED, BALLOT_SUPERSEDED})


def _actor(actor: User | str | None) -> tuple[str, str | None]:
    if actor is None or actor == "system":
        return "system", None
    if isinstance(actor, str):
        return actor, None
    if actor.role == Role.RESIDENT:
        return "resident", None  # a resident's identity never enters the log
    return actor.role.value, actor.name or actor.subject


async def _lock_head(session: AsyncSession, chain: str) -> tuple[int, str]:
    bumped = await session.execute(
        sa.update(AuditHead)
        .where(col(AuditHead.chain) == chain)
        .values(seq=AuditHead.seq + 1)
        .returning(col(AuditHead.seq), col(AuditHead.hash))
    )
    row = bumped.first()
    if row is not None:
        return int(row[0]), str(row[1])
    # First event of this chain: creating its head row is the lock (unique primary key).
    session.add(AuditHead(chain=chain, seq=1, hash=GENESIS_HASH))
    await session.flush()
    return 1, GENESIS_HASH


async def append_event(
    session: AsyncSession,
    *,
    kind: str,
    actor: User | str | None,
    payload: Mapping[str, Any],
    round_id: str | None = None,
) -> LogEntry:
    chain = round_id or GLOBAL_CHAIN
    seq, prev_hash = await _lock_head(session, chain)
    moment = utcnow()
    if kind in HOURLY_KINDS:
        moment = moment.replace(minute=0, second=0, microsecond=0)
    actor_role, actor_name = _actor(actor)
    entry = LogEntry(
        seq=seq,
        at=format_utc(moment),
        round_id=round_id,
        kind=kind,
        actor_role=actor_role,
        actor=actor_name,
        payload=to_canonical_value(payload, "payload"),
        prev_hash=prev_hash,
        hash="",
    )
    digest = entry_hash(prev_hash, entry.body())
    session.add(
        AuditEvent(
            chain=chain,
            seq=seq,
            at=moment,
            at_text=entry.at,
            round_id=round_id,
            kind=kind,
            actor_role=actor_role,
            actor=actor_name,
            payload=entry.payload,  # type: ignore[arg-type]
            prev_hash=prev_hash,
            hash=digest,
        )
    )
    await session.execute(
        sa.update(AuditHead).where(col(AuditHead.chain) == chain).values(hash=digest)
    )
    return replace(entry, hash=digest)


async def chain_entries(session: AsyncSession, chain: str) -> list[LogEntry]:
    events = (
        await session.exec(
            select(AuditEvent).where(AuditEvent.chain == chain).order_by(col(AuditEvent.seq))
        )
    ).all()
    return [
        LogEntry(
            seq=event.seq,
            at=event.at_text,
            round_id=event.round_id,
            kind=event.kind,
            actor_role=event.actor_role,
            actor=event.actor,
            payload=event.payload,
            prev_hash=event.prev_hash,
            hash=event.hash,
        )
        for event in events
    ]


async def chain_head(session: AsyncSession, chain: str) -> AuditHead | None:
    return await session.get(AuditHead, chain)
