"""Races, with requests really in flight together (``concurrent_client``: httpx over ASGI in
the test's own event loop, so ``asyncio.gather`` interleaves the requests; on PostgreSQL each
holds its own pooled connection, so the database sees them in parallel). Every race asserts
that its requests did overlap: Litestar's test client would run them one after another.

What must hold whatever the interleaving: one counted ballot per voter; every ballot
acknowledged before the close is counted (and logged once, before the close) and every later
one refused; one result however often publication is asked for; no lost update when two
officials change a round at once.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from stemmen.audit.chain import BALLOT_ACCEPTED, RESULT_PUBLISHED, ROUND_CLOSED
from stemmen.ratelimit import CastLimiter
from tests.integration.ballot_helpers import close
from tests.integration.round_helpers import (
    budget_ruleset_without_supports,
    create_round,
    open_budget_round,
    publish_ruleset,
    resident,
)

AREA = "WK026801"


@pytest.fixture
def client(concurrent_client: Any) -> Any:
    """Every test here is a race: the app as served for requests at once."""
    return concurrent_client


def _overlapped(client: Any) -> None:
    assert client.in_flight.most > 1, "the requests ran one after another: nothing was raced"


@asynccontextmanager
async def database(settings: Any) -> AsyncIterator[AsyncConnection]:
    engine = create_async_engine(settings.database_url)
    try:
        async with engine.connect() as connection:
            yield connection
    finally:
        await engine.dispose()


async def _ballot_rows(settings: Any, round_id: str) -> list[dict[str, Any]]:
    async with database(settings) as connection:
        rows = await connection.execute(
            sa.text(
                "SELECT voter_key, status, live_slot, receipt_hash FROM ballots "
                "WHERE round_id = :round_id ORDER BY id"
            ),
            {"round_id": round_id},
        )
        return [dict(row._mapping) for row in rows]


async def _events(settings: Any, round_id: str, kind: str) -> int:
    async with database(settings) as connection:
        return int(
            (
                await connection.execute(
                    sa.text(
                        "SELECT count(*) FROM audit_events WHERE round_id = :round_id "
                        "AND kind = :kind"
                    ),
                    {"round_id": round_id, "kind": kind},
                )
            ).scalar_one()
        )


def _unthrottled(client: Any) -> None:
    # These tests send far more casts per voter than the rate limit allows on purpose.
    client.app.state.cast_limits = CastLimiter(10**9, 60)


def _choice(budget: Any, index: int) -> dict[str, Any]:
    codes = [code for code, _ in budget.ballot[AREA]]
    return {"approvals": [codes[index % len(codes)]]}


async def _fifty_at_once(client: Any, auth: Any, round_id: str, budget: Any) -> list[Any]:
    headers = resident(auth, "eager", AREA)
    client.in_flight.reset()
    responses = await asyncio.gather(
        *(
            client.post(
                f"/api/rounds/{round_id}/ballots",
                json={"ballot": _choice(budget, index)},
                headers=headers,
            )
            for index in range(50)
        )
    )
    _overlapped(client)
    return list(responses)


async def test_one_ballot_sent_50_times_at_once_counts_once_and_replacements_are_kept(
    client: Any, auth: Any, settings: Any
) -> None:
    """The rule set says re-voting replaces: each acknowledged cast replaced the one before,
    the refused ones left nothing behind, and exactly one ballot is live."""
    _unthrottled(client)
    budget = await open_budget_round(client, auth)
    responses = await _fifty_at_once(client, auth, budget.round_id, budget)
    statuses = [response.status_code for response in responses]
    assert set(statuses) <= {201, 409, 503}, statuses
    accepted = [response.json() for response in responses if response.status_code == 201]
    assert accepted
    rows = await _ballot_rows(settings, budget.round_id)
    assert len({row["voter_key"] for row in rows}) == 1
    live = [row for row in rows if row["live_slot"] is not None]
    assert len(live) == 1
    assert live[0]["status"] == "counted"
    # Every acknowledged cast is on record (live or superseded); nothing unacknowledged is.
    assert sorted(row["receipt_hash"] for row in rows) == sorted(
        r["receipt_hash"] for r in accepted
    )
    assert sum(row["status"] == "superseded" for row in rows) == len(accepted) - 1


async def test_one_ballot_sent_50_times_at_once_without_revoting_counts_exactly_once(
    client: Any, auth: Any, settings: Any
) -> None:
    _unthrottled(client)
    document = copy.deepcopy(budget_ruleset_without_supports())
    document["ballot"]["revote"] = "forbidden"
    budget = await open_budget_round(client, auth, document=document)
    responses = await _fifty_at_once(client, auth, budget.round_id, budget)
    statuses = sorted(response.status_code for response in responses)
    assert statuses.count(201) == 1, statuses
    assert set(statuses) <= {201, 409, 503}, statuses
    for response in responses:
        if response.status_code == 409:
            assert response.json()["code"]
    rows = await _ballot_rows(settings, budget.round_id)
    assert len(rows) == 1
    assert rows[0]["status"] == "counted"
    accepted = next(response for response in responses if response.status_code == 201)
    assert rows[0]["receipt_hash"] == accepted.json()["receipt_hash"]


async def test_the_close_while_ballots_pour_in_counts_every_acknowledged_ballot_and_no_other(
    client: Any, auth: Any, settings: Any
) -> None:
    """Eight voters' devices cast ballot after ballot (each a new voter) until one is
    refused; the official closes once some are in, so casts are in flight on both sides of
    the close whatever the speed of the backend."""
    _unthrottled(client)
    budget = await open_budget_round(client, auth)
    casts: list[Any] = []
    some_acknowledged = asyncio.Event()

    async def device(number: int) -> None:
        for turn in range(200):
            index = number * 1000 + turn
            response = await client.post(
                f"/api/rounds/{budget.round_id}/ballots",
                json={"ballot": _choice(budget, index)},
                headers=resident(auth, f"voter-{index}", AREA),
            )
            casts.append(response)
            if response.status_code == 201 and len(casts) >= 8:
                some_acknowledged.set()
            if response.status_code != 201:
                return

    async def official() -> Any:
        await some_acknowledged.wait()
        return await close(client, auth, budget.round_id)

    client.in_flight.reset()
    await asyncio.gather(*(device(n) for n in range(8)), official())
    _overlapped(client)
    acknowledged = {r.json()["receipt_hash"] for r in casts if r.status_code == 201}
    refused = [r for r in casts if r.status_code != 201]
    # Both sides of the race happened, or the test proved nothing.
    assert acknowledged
    assert refused
    for response in refused:
        assert response.status_code in (409, 503), response.text
    rows = await _ballot_rows(settings, budget.round_id)
    counted = {row["receipt_hash"] for row in rows if row["status"] == "counted"}
    assert counted == acknowledged
    assert {row["receipt_hash"] for row in rows} == acknowledged
    # The close itself recorded the same number it counted.
    result = await client.get(f"/api/rounds/{budget.round_id}/result", headers=auth("official"))
    assert result.status_code == 200, result.text
    # The log has each acknowledged ballot exactly once, every one before the close.
    log = await client.get(f"/api/rounds/{budget.round_id}/log", headers=auth("auditor"))
    entries = log.json()["entries"]
    kinds = [entry["kind"] for entry in entries]
    closing = kinds.index(ROUND_CLOSED)
    logged = [e["payload"]["receipt"] for e in entries[:closing] if e["kind"] == BALLOT_ACCEPTED]
    assert sorted(logged) == sorted(acknowledged)
    assert BALLOT_ACCEPTED not in kinds[closing:]
    assert entries[closing]["payload"]["ballots"] == len(acknowledged)
    # After the close every cast is refused.
    late = await client.post(
        f"/api/rounds/{budget.round_id}/ballots",
        json={"ballot": _choice(budget, 0)},
        headers=resident(auth, "late-voter", AREA),
    )
    assert late.status_code == 409


async def test_publication_asked_twice_at_once_gives_one_result_and_one_log_entry(
    client: Any, auth: Any, settings: Any
) -> None:
    budget = await open_budget_round(client, auth)
    await client.post(
        f"/api/rounds/{budget.round_id}/ballots",
        json={"ballot": _choice(budget, 0)},
        headers=resident(auth, "v1", AREA),
    )
    await close(client, auth, budget.round_id)
    client.in_flight.reset()
    responses = await asyncio.gather(
        *(
            client.post(
                f"/api/rounds/{budget.round_id}/phase",
                json={"to": "published"},
                headers=auth("official", subject=f"official-{n}"),
            )
            for n in range(3)
        )
    )
    _overlapped(client)
    statuses = sorted(response.status_code for response in responses)
    assert statuses.count(200) >= 1, statuses
    assert set(statuses) <= {200, 409, 503}, statuses
    assert await _events(settings, budget.round_id, RESULT_PUBLISHED) == 1
    async with database(settings) as connection:
        rows = (
            await connection.execute(
                sa.text("SELECT count(*) FROM results WHERE round_id = :r"),
                {"r": budget.round_id},
            )
        ).scalar_one()
    assert rows == 1


async def test_two_officials_changing_a_round_at_once_lose_no_update(
    client: Any, auth: Any
) -> None:
    ruleset_hash = await publish_ruleset(client, auth, budget_ruleset_without_supports())
    created = await create_round(client, auth, ruleset_hash)
    round_id, revision = created["id"], created["revision"]
    titles = [f"Titel van ambtenaar {n}" for n in range(2)]
    client.in_flight.reset()
    responses = await asyncio.gather(
        *(
            client.patch(
                f"/api/rounds/{round_id}",
                json={"revision": revision, "title": title},
                headers=auth("official", subject=f"official-{n}"),
            )
            for n, title in enumerate(titles)
        )
    )
    _overlapped(client)
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200, 409], [r.text for r in responses]
    winner = next(r for r in responses if r.status_code == 200).json()
    loser = next(r for r in responses if r.status_code == 409).json()
    assert loser["code"]
    stored = (await client.get(f"/api/rounds/{round_id}", headers=auth("official"))).json()
    assert stored["title"] == winner["title"]
    assert stored["revision"] == revision + 1
    # The loser rebases on what it now reads and succeeds: nothing is silently overwritten.
    retried = await client.patch(
        f"/api/rounds/{round_id}",
        json={"revision": stored["revision"], "title": "Samen bepaald"},
        headers=auth("official", subject="official-late"),
    )
    assert retried.status_code == 200, retried.text


async def test_a_cast_that_finds_sqlite_locked_past_the_busy_timeout_is_503_retry_later(
    auth: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite has one writer: a cast that waits for the write lock longer than the busy
    timeout gets "database is locked", and the voter is told to retry (503 ``retry_later``
    with Retry-After), never a 500; nothing of it is stored, and the retry goes through."""
    if not settings.is_sqlite:
        pytest.skip("SQLite's single writer; PostgreSQL locks rows")
    import sqlite3

    from stemmen import db
    from stemmen.app import create_app
    from tests.integration.serving import served

    pragmas = db._enable_sqlite_pragmas

    def impatient(connection: Any, record: Any) -> None:
        pragmas(connection, record)
        cursor = connection.cursor()
        cursor.execute("PRAGMA busy_timeout=200")  # ten seconds in service; short for the test
        cursor.close()

    monkeypatch.setattr(db, "_enable_sqlite_pragmas", impatient)
    async with served(create_app(settings)) as client:
        budget = await open_budget_round(client, auth)
        headers = resident(auth, "patient", AREA)
        writer = sqlite3.connect(settings.database_url.split("///", 1)[1], isolation_level=None)
        try:
            writer.execute("BEGIN IMMEDIATE")  # another process holds the write lock
            locked = await client.post(
                f"/api/rounds/{budget.round_id}/ballots",
                json={"ballot": _choice(budget, 0)},
                headers=headers,
            )
        finally:
            writer.execute("ROLLBACK")
            writer.close()
        assert locked.status_code == 503, locked.text
        assert locked.json()["code"] == "retry_later"
        assert locked.headers["retry-after"].isdigit()
        assert await _ballot_rows(settings, budget.round_id) == []
        retry = await client.post(
            f"/api/rounds/{budget.round_id}/ballots",
            json={"ballot": _choice(budget, 0)},
            headers=headers,
        )
        assert retry.status_code == 201, retry.text
