"""Ballot events reach the round's chain after the cast, sealed, and nothing is lost on the way.

A cast commits its ballot with a pending ballot event and never waits for the chain's head;
the sealer (every worker in the background, every other append, every reader) moves pending
events into the chain. What must hold: each ballot event is in the chain exactly once, in the
order the ballots committed, before any later phase change; readers see every acknowledged
ballot; a worker dying between the cast and the sealing loses nothing.
"""

from __future__ import annotations

import asyncio
from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import AsyncTestClient

from stemmen.audit.chain import (
    BALLOT_ACCEPTED,
    BALLOT_SUPERSEDED,
    ROUND_CLOSED,
    ROUND_PHASE_CHANGED,
    LogEntry,
    verify_chain,
)
from tests.integration.ballot_helpers import cast_ok, close
from tests.integration.round_helpers import database, open_budget_round

EAST, CENTRE = "WK026801", "WK026802"
BALLOT_KINDS = (BALLOT_ACCEPTED, BALLOT_SUPERSEDED)


async def _pending_count(settings: Any, round_id: str) -> int:
    async with database(settings) as sessions, sessions() as session:
        return int(
            (
                await session.execute(
                    sa.text("SELECT count(*) FROM audit_pending WHERE round_id = :r"),
                    {"r": round_id},
                )
            ).scalar_one()
        )


async def _chain(settings: Any, round_id: str) -> list[LogEntry]:
    """The round's chain as stored, read without sealing anything."""
    from stemmen.audit.log import chain_entries

    async with database(settings) as sessions, sessions() as session:
        return await chain_entries(session, round_id)


def _ballot_events(entries: list[LogEntry]) -> list[tuple[str, str]]:
    return [(e.kind, str(e.payload["receipt"])) for e in entries if e.kind in BALLOT_KINDS]


async def _cast_in_order(client: Any, auth: Any, round_id: str, codes: list[str]) -> list[Any]:
    """Five ballots one after another, the third voter voting again: the events expected."""
    expected: list[tuple[str, str]] = []
    for number in range(5):
        receipt = await cast_ok(
            client, auth, round_id, f"v{number}", EAST, {"approvals": [codes[number % 2]]}
        )
        expected.append((BALLOT_ACCEPTED, receipt["receipt_hash"]))
    first = expected[2][1]
    again = await cast_ok(client, auth, round_id, "v2", EAST, {"approvals": [codes[2]]})
    expected += [(BALLOT_SUPERSEDED, first), (BALLOT_ACCEPTED, again["receipt_hash"])]
    return expected


async def test_a_reader_of_the_log_sees_every_acknowledged_ballot_in_commit_order_once(
    client: Any, auth: Any, settings: Any
) -> None:
    budget = await open_budget_round(client, auth)
    codes = [code for code, _ in budget.ballot[EAST]]
    expected = await _cast_in_order(client, auth, budget.round_id, codes)

    response = await client.get(f"/api/rounds/{budget.round_id}/log", headers=auth("auditor"))
    assert response.status_code == 200
    entries = [LogEntry.from_json(raw) for raw in response.json()["entries"]]
    assert _ballot_events(entries) == expected
    assert verify_chain(entries).ok
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert await _pending_count(settings, budget.round_id) == 0
    # The public heads agree with the log the auditor read.
    heads = (await client.get("/api/log/head")).json()["heads"]
    (head,) = [h for h in heads if h["chain"] == budget.round_id]
    assert (head["seq"], head["hash"]) == (entries[-1].seq, entries[-1].hash)


async def test_the_background_sealer_moves_waiting_events_into_the_chain(
    client: Any, auth: Any, settings: Any
) -> None:
    from stemmen.audit.sealer import seal_all

    budget = await open_budget_round(client, auth)
    codes = [code for code, _ in budget.ballot[EAST]]
    expected = await _cast_in_order(client, auth, budget.round_id, codes)

    async with database(settings) as sessions:
        # One run of what every worker does in the background (waiting for a run in flight).
        await seal_all(sessions, wait=True)
        assert await _pending_count(settings, budget.round_id) == 0
        entries = await _chain(settings, budget.round_id)
        assert _ballot_events(entries) == expected
        assert verify_chain(entries).ok
        # Nothing is sealed twice: another run finds nothing and changes nothing.
        assert await seal_all(sessions, wait=True) == 0
        assert await _chain(settings, budget.round_id) == entries


async def test_each_worker_seals_at_the_interval_its_settings_give(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from stemmen.audit import sealer
    from stemmen.config import Settings

    intervals: list[float] = []

    async def loop(maker: Any, interval: float) -> None:
        intervals.append(interval)
        await asyncio.Event().wait()

    async def seal_all(maker: Any, *, wait: bool = False) -> int:
        return 0

    monkeypatch.setattr(sealer, "_loop", loop)
    monkeypatch.setattr(sealer, "seal_all", seal_all)
    configured = Settings(_env_file=None, seal_interval_seconds=1.5)  # type: ignore[call-arg]
    app = SimpleNamespace(state=SimpleNamespace(session_maker=None, settings=configured))
    async with sealer.sealer_lifespan(app):  # type: ignore[arg-type]
        await asyncio.sleep(0)  # let the sealing task start
    assert intervals == [1.5]


async def test_the_running_app_seals_on_its_own_without_any_reader(
    client: Any, auth: Any, settings: Any
) -> None:
    budget = await open_budget_round(client, auth)
    codes = [code for code, _ in budget.ballot[EAST]]
    receipt = await cast_ok(client, auth, budget.round_id, "v0", EAST, {"approvals": [codes[0]]})
    # Wait (without reading the log, which would seal) until the worker's own sealer ran.
    for _ in range(600):
        if await _pending_count(settings, budget.round_id) == 0:
            break
        await asyncio.sleep(0.05)
    entries = await _chain(settings, budget.round_id)
    assert _ballot_events(entries) == [(BALLOT_ACCEPTED, receipt["receipt_hash"])]


async def test_a_sealer_skips_a_chain_another_worker_is_sealing_instead_of_queueing(
    client: Any, auth: Any, settings: Any
) -> None:
    from stemmen.audit.log import seal_pending

    if settings.is_sqlite:
        pytest.skip("SQLite has one writer at a time; there is no row lock to skip")
    budget = await open_budget_round(client, auth)
    codes = [code for code, _ in budget.ballot[EAST]]
    await cast_ok(client, auth, budget.round_id, "v0", EAST, {"approvals": [codes[0]]})
    async with database(settings) as sessions, sessions() as holder, sessions() as other:
        assert await seal_pending(holder, budget.round_id) is not None  # holds the head
        assert await seal_pending(other, budget.round_id, wait=False) is None
        await other.rollback()
        await holder.commit()
        # The app's own sealer (every 0.2 s here) may hold the head for a moment of its own.
        for _ in range(100):
            sealed = await seal_pending(other, budget.round_id, wait=False)
            if sealed is not None:
                break
            await other.rollback()
            await asyncio.sleep(0.02)
        assert sealed == 0
        await other.commit()


async def test_a_worker_dying_between_the_cast_and_the_sealing_loses_no_ballot_event(
    auth: Any, settings: Any
) -> None:
    """Ballots committed by a worker that stops before sealing wait in audit_pending; the
    next worker's close seals them into the chain before the close, and counts them."""
    from stemmen.app import create_app
    from stemmen.auth import Role, User
    from stemmen.ballots.service import cast_ballot

    async with AsyncTestClient(app=create_app(settings)) as first:
        budget = await open_budget_round(first, auth)
    codes = [code for code, _ in budget.ballot[EAST]]

    # A worker that commits three ballots and dies before any sealing (no app, no sealer).
    receipts = []
    async with database(settings) as sessions:
        for number in range(3):
            async with sessions() as session:
                voter = User(f"gone-{number}", Role.RESIDENT, (EAST,), date(1980, 4, 1))
                cast = await cast_ballot(
                    session, settings, voter, budget.round_id, None, {"approvals": [codes[0]]}
                )
                receipts.append(cast.receipt_hash)
    assert await _pending_count(settings, budget.round_id) == 3
    assert not _ballot_events(await _chain(settings, budget.round_id))

    async with AsyncTestClient(app=create_app(settings)) as second:
        centre = budget.ballot[CENTRE][0][0]
        later = await cast_ok(
            second, auth, budget.round_id, "later", CENTRE, {"approvals": [centre]}
        )
        await close(second, auth, budget.round_id)
    assert await _pending_count(settings, budget.round_id) == 0
    entries = await _chain(settings, budget.round_id)
    assert verify_chain(entries).ok
    assert _ballot_events(entries) == [
        (BALLOT_ACCEPTED, receipt) for receipt in [*receipts, later["receipt_hash"]]
    ]
    kinds = [e.kind for e in entries]
    closing = kinds.index(ROUND_PHASE_CHANGED, kinds.index(BALLOT_ACCEPTED))
    assert all(kind not in BALLOT_KINDS for kind in kinds[closing:])
    (closed,) = [e for e in entries if e.kind == ROUND_CLOSED]
    assert closed.payload["ballots"] == 4


async def test_a_cast_refused_at_the_close_leaves_no_ballot_and_no_event(
    client: Any, auth: Any, settings: Any
) -> None:
    """The re-check under the round's lock: a cast whose round closed after it was loaded
    (here: loaded before, recorded after the close) is refused and leaves nothing behind."""
    from stemmen.audit.receipts import budget_ballot_record
    from stemmen.auth import Role, User
    from stemmen.ballots.models import Channel
    from stemmen.ballots.service import _store, load_voting_round, round_areas, voter_area
    from stemmen.errors import Conflict

    budget = await open_budget_round(client, auth)
    codes = [code for code, _ in budget.ballot[EAST]]
    voter = User("too-late", Role.RESIDENT, (EAST,), date(1980, 4, 1))
    async with database(settings) as sessions, sessions() as session:
        voting = await load_voting_round(session, budget.round_id)
        area = voter_area(voting.ruleset, await round_areas(session, voting.round), [EAST], None)
        await session.commit()
        await close(client, auth, budget.round_id)
        with pytest.raises(Conflict) as refused:
            await _store(
                session,
                voting=voting,
                voter_key="too-late-key",
                area=area,
                record=budget_ballot_record(budget.round_id, EAST, [codes[0]]),
                channel=Channel.ONLINE,
                actor=voter,
            )
        await session.rollback()
    assert refused.value.code == "voting_not_open"
    assert await _pending_count(settings, budget.round_id) == 0
    async with database(settings) as sessions, sessions() as session:
        stored = (
            await session.execute(
                sa.text("SELECT count(*) FROM ballots WHERE round_id = :r"),
                {"r": budget.round_id},
            )
        ).scalar_one()
    assert stored == 0
