"""Appending to the hash-chained audit log, and sealing the ballot events waiting for it.

Every entry of a chain is appended under its head row's lock (an UPDATE: a row lock on
PostgreSQL, the write lock on SQLite), so two appends can never read the same head and fork
the chain. Ballot events do not take that lock: a cast writes them to ``audit_pending`` in its
own transaction (:func:`log_ballot_event`), and :func:`seal_pending` moves them into the chain
later, many per transaction. Every ballot of a round would otherwise queue on the one head
row from its UPDATE to its commit.

What the published log says does not change: the same entries, one per ballot event, with
the same hour-rounded time, in the order the ballots committed (``docs/verification.md``).
Sealing happens

- at the start of every other append to the chain (:func:`append_event`), so a phase change,
  the close or the publication always comes after every ballot event committed before it;
- in the background in each worker, a fraction of a second after the cast
  (``stemmen.audit.sealer``);
- before the log, the heads and the bundle are read (:func:`seal_waiting`), so a reader
  sees every acknowledged ballot in the log.

Ballot events are timed to the hour only (``docs/verification.md``, secrecy): the published
log must not let someone who knows when a resident voted find that resident's ballot.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
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
from stemmen.audit.models import GLOBAL_CHAIN, AuditEvent, AuditHead, AuditPending
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


def _moment(kind: str) -> datetime:
    moment = utcnow()
    if kind in HOURLY_KINDS:
        moment = moment.replace(minute=0, second=0, microsecond=0)
    return moment


@dataclass(frozen=True)
class _Draft:
    """An entry before it has its place in the chain."""

    kind: str
    round_id: str | None
    actor_role: str
    actor: str | None
    payload: dict[str, Any]
    at: datetime


async def _lock_head(
    session: AsyncSession, chain: str, *, wait: bool = True
) -> tuple[int, str] | None:
    """Lock the chain's head row until commit; the newest entry's (seq, hash), (0, genesis)
    for a chain without entries. With ``wait=False`` (PostgreSQL), None when another
    transaction holds the lock instead of queueing behind it."""
    if not wait and session.get_bind().dialect.name == "postgresql":
        locked = (
            await session.execute(
                sa.select(col(AuditHead.seq), col(AuditHead.hash))
                .where(col(AuditHead.chain) == chain)
                .with_for_update(skip_locked=True)
            )
        ).first()
        if locked is not None:
            return int(locked[0]), str(locked[1])
        if await session.get(AuditHead, chain) is not None:
            return None  # someone else is appending to this chain right now
    bumped = await session.execute(
        sa.update(AuditHead)
        .where(col(AuditHead.chain) == chain)
        .values(seq=AuditHead.seq)
        .returning(col(AuditHead.seq), col(AuditHead.hash))
    )
    row = bumped.first()
    if row is not None:
        return int(row[0]), str(row[1])
    # First event of this chain: creating its head row is the lock (unique primary key).
    session.add(AuditHead(chain=chain, seq=0, hash=GENESIS_HASH))
    await session.flush()
    return 0, GENESIS_HASH


async def _take_pending(session: AsyncSession, chain: str, limit: int | None) -> list[_Draft]:
    """Delete the chain's pending ballot events (the oldest ``limit``) and return them in id
    order. Only under the head lock: what is taken here is appended in this transaction."""
    oldest = (
        select(AuditPending.id).where(AuditPending.chain == chain).order_by(col(AuditPending.id))
    )
    if limit is not None:
        oldest = oldest.limit(limit)
    taken = (
        await session.execute(
            sa.delete(AuditPending)
            .where(col(AuditPending.id).in_(oldest.scalar_subquery()))
            .returning(
                col(AuditPending.id),
                col(AuditPending.kind),
                col(AuditPending.round_id),
                col(AuditPending.actor_role),
                col(AuditPending.actor),
                col(AuditPending.payload),
                col(AuditPending.at),
            )
        )
    ).all()
    return [
        _Draft(kind, round_id, actor_role, actor, payload, at)
        for _id, kind, round_id, actor_role, actor, payload, at in sorted(taken, key=lambda r: r[0])
    ]


# The sealed entries and the chain's new head in one statement on PostgreSQL: the rows come as
# one array per column (no statement per entry, no per-row bind processing), and the
# data-modifying WITH runs to completion although nothing reads its output.
_APPEND_ROWS = sa.text(
    """
WITH added AS (
    INSERT INTO audit_events (
        chain, seq, at, at_text, round_id, kind, actor_role, actor, payload, prev_hash, hash
    )
    SELECT :chain, entry.seq, entry.at, entry.at_text, entry.round_id, entry.kind,
        entry.actor_role, entry.actor, entry.payload::jsonb, entry.prev_hash, entry.hash
    FROM unnest(
        CAST(:seqs AS integer[]), CAST(:ats AS timestamptz[]), CAST(:at_texts AS varchar[]),
        CAST(:round_ids AS varchar[]), CAST(:kinds AS varchar[]),
        CAST(:actor_roles AS varchar[]), CAST(:actors AS varchar[]),
        CAST(:payloads AS text[]), CAST(:prev_hashes AS varchar[]), CAST(:hashes AS varchar[])
    ) AS entry(seq, at, at_text, round_id, kind, actor_role, actor, payload, prev_hash, hash)
)
UPDATE audit_heads SET seq = :head_seq, hash = :head_hash WHERE chain = :chain
"""
)


async def _append_drafts(
    session: AsyncSession, chain: str, head: tuple[int, str], drafts: Sequence[_Draft]
) -> LogEntry | None:
    """Chain the drafts after ``head`` (locked by the caller), store them, move the head; the
    last entry appended (None for no drafts)."""
    if not drafts:
        return None
    seq, prev_hash = head
    rows: list[dict[str, Any]] = []
    # Ballot events share their hour, so a batch has one or two distinct times.
    texts: dict[datetime, str] = {}
    for draft in drafts:
        seq += 1
        at_text = texts.get(draft.at)
        if at_text is None:
            at_text = texts[draft.at] = format_utc(draft.at)
        body = {
            "seq": seq,
            "at": at_text,
            "round_id": draft.round_id,
            "kind": draft.kind,
            "actor_role": draft.actor_role,
            "actor": draft.actor,
            "payload": draft.payload,
        }
        digest = entry_hash(prev_hash, body)
        rows.append(
            {
                **body,
                "chain": chain,
                "at": draft.at,
                "at_text": at_text,
                "prev_hash": prev_hash,
                "hash": digest,
            }
        )
        prev_hash = digest
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            _APPEND_ROWS,
            {
                "chain": chain,
                "seqs": [row["seq"] for row in rows],
                "ats": [row["at"] for row in rows],
                "at_texts": [row["at_text"] for row in rows],
                "round_ids": [row["round_id"] for row in rows],
                "kinds": [row["kind"] for row in rows],
                "actor_roles": [row["actor_role"] for row in rows],
                "actors": [row["actor"] for row in rows],
                "payloads": [json.dumps(row["payload"]) for row in rows],
                "prev_hashes": [row["prev_hash"] for row in rows],
                "hashes": [row["hash"] for row in rows],
                "head_seq": seq,
                "head_hash": prev_hash,
            },
        )
    else:
        await session.execute(sa.insert(AuditEvent.__table__), rows)  # type: ignore[attr-defined]
        await session.execute(
            sa.update(AuditHead)
            .where(col(AuditHead.chain) == chain)
            .values(seq=seq, hash=prev_hash)
        )
    last = rows[-1]
    return LogEntry(
        seq=last["seq"],
        at=last["at_text"],
        round_id=last["round_id"],
        kind=last["kind"],
        actor_role=last["actor_role"],
        actor=last["actor"],
        payload=last["payload"],
        prev_hash=last["prev_hash"],
        hash=last["hash"],
    )


async def append_event(
    session: AsyncSession,
    *,
    kind: str,
    actor: User | str | None,
    payload: Mapping[str, Any],
    round_id: str | None = None,
) -> LogEntry:
    """Append one entry inside the caller's transaction, after every ballot event of the
    chain committed so far. Holds the head's lock until commit: call it late."""
    chain = round_id or GLOBAL_CHAIN
    head = await _lock_head(session, chain)
    assert head is not None
    drafts = await _take_pending(session, chain, None)
    actor_role, actor_name = _actor(actor)
    drafts.append(
        _Draft(
            kind=kind,
            round_id=round_id,
            actor_role=actor_role,
            actor=actor_name,
            payload=to_canonical_value(payload, "payload"),
            at=_moment(kind),
        )
    )
    entry = await _append_drafts(session, chain, head, drafts)
    assert entry is not None
    return entry


async def log_ballot_event(
    session: AsyncSession,
    *,
    kind: str,
    actor: User | str | None,
    payload: Mapping[str, Any],
    round_id: str,
) -> None:
    """Record a ballot event with its ballot, in the caller's transaction, without touching
    the chain's head: it enters the chain when sealed (see the module text), timed to the
    hour of now."""
    await session.execute(
        sa.insert(AuditPending.__table__),  # type: ignore[attr-defined]
        ballot_event_row(kind=kind, actor=actor, payload=payload, round_id=round_id),
    )


def ballot_event_row(
    *, kind: str, actor: User | str | None, payload: Mapping[str, Any], round_id: str
) -> dict[str, Any]:
    """The audit_pending row of :func:`log_ballot_event`, for a caller that sends it with
    other writes."""
    if kind not in HOURLY_KINDS:
        raise ValueError(f"only ballot events wait to be sealed, not {kind}")
    actor_role, actor_name = _actor(actor)
    return {
        "chain": round_id,
        "round_id": round_id,
        "kind": kind,
        "actor_role": actor_role,
        "actor": actor_name,
        "payload": to_canonical_value(payload, "payload"),
        "at": _moment(kind),
    }


async def seal_pending(
    session: AsyncSession, chain: str, *, wait: bool = True, limit: int | None = None
) -> int | None:
    """Append the chain's pending ballot events to it (the oldest ``limit``, all by default),
    in id order, and delete them, in the caller's transaction; the caller commits. The
    number sealed; None when ``wait`` is False and another transaction holds the head."""
    head = await _lock_head(session, chain, wait=wait)
    if head is None:
        return None
    drafts = await _take_pending(session, chain, limit)
    await _append_drafts(session, chain, head, drafts)
    return len(drafts)


async def pending_chains(session: AsyncSession, chain: str | None = None) -> list[str]:
    """The chains with ballot events waiting to be sealed (only ``chain``, when given)."""
    query = select(AuditPending.chain).distinct()
    if chain is not None:
        query = query.where(AuditPending.chain == chain)
    return list((await session.exec(query)).all())


async def seal_waiting(session: AsyncSession, chain: str | None = None) -> int:
    """Before reading a chain (or every chain): seal what waits and commit, so the reader sees
    every ballot acknowledged before it asked. Reads only when nothing waits."""
    sealed = 0
    for waiting in await pending_chains(session, chain):
        sealed += await seal_pending(session, waiting) or 0
        await session.commit()
    return sealed


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
