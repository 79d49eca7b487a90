"""A voter's first online ballot on PostgreSQL is one statement (``service.FIRST_BALLOT``).

While voting is open and the worker has seen the round's ballot, the cast share-locks the
round's row, checks the phase (and the rule set and voting end the ballot was checked
against), inserts the ballot and its pending audit event, in one statement in its own
implicit transaction. What must hold is what held with four round trips: a voter's second
ballot is refused (or replaces, as the rule set says) with nothing else written, a cast that
meets the close is refused with nothing written, and a connection dropped in the middle gives
a retryable 503 with the ballot stored whole or not at all. SQLite keeps the transaction of
several statements; the tests that need a second connection or a server are PostgreSQL only.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
import sqlalchemy as sa

from stemmen.audit.chain import BALLOT_ACCEPTED
from stemmen.ballots import service
from stemmen.pseudonyms import pseudonym
from stemmen.ratelimit import CastLimiter
from tests.integration.round_helpers import (
    budget_ruleset_without_supports,
    open_budget_round,
    resident,
)

AREA = "WK026801"


@pytest.fixture
def client(concurrent_client: Any) -> Any:
    """The app served in the test's own event loop (``concurrent_client``): casts really run
    at the same time as each other and as the test's own database connections."""
    return concurrent_client


def _require_postgres(settings: Any) -> None:
    if settings.is_sqlite:
        pytest.skip("needs a second connection to the database server (PostgreSQL)")


def _forbidding_revotes() -> dict[str, Any]:
    document = copy.deepcopy(budget_ruleset_without_supports())
    document["ballot"]["revote"] = "forbidden"
    return document


@asynccontextmanager
async def _connection(settings: Any) -> AsyncIterator[Any]:
    """A plain asyncpg connection of the test's own (another client of the database)."""
    import asyncpg

    connection = await asyncpg.connect(settings.database_url.replace("+asyncpg", ""))
    try:
        yield connection
    finally:
        await connection.close()


async def _stored(settings: Any, round_id: str) -> tuple[list[str], list[str]]:
    """Receipt hashes of the round's ballots, and of its ballot events (pending or sealed)."""
    async with _connection(settings) as connection:
        ballots = [
            row["receipt_hash"]
            for row in await connection.fetch(
                "SELECT receipt_hash FROM ballots WHERE round_id = $1", round_id
            )
        ]
        # One statement, one snapshot: the sealer moves events from pending into the log.
        events = [
            (json.loads(row["payload"]) if isinstance(row["payload"], str) else row["payload"])[
                "receipt"
            ]
            for row in await connection.fetch(
                "SELECT payload FROM audit_pending WHERE round_id = $1 AND kind = $2 "
                "UNION ALL SELECT payload FROM audit_events WHERE round_id = $1 AND kind = $2",
                round_id,
                BALLOT_ACCEPTED,
            )
        ]
    return sorted(ballots), sorted(events)


async def _stored_sqlalchemy(settings: Any, round_id: str) -> list[str]:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(settings.database_url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                sa.text("SELECT receipt_hash FROM ballots WHERE round_id = :r"), {"r": round_id}
            )
            return sorted(row[0] for row in rows)
    finally:
        await engine.dispose()


async def _fetch_then(client: Any, headers: dict[str, str], round_id: str) -> None:
    """The ballot fetch every voter makes first: the worker then knows the round's ballot."""
    response = await client.get(f"/api/rounds/{round_id}/ballot", headers=headers)
    assert response.status_code == 200, response.text


def _cast(client: Any, headers: dict[str, str], budget: Any, index: int = 0) -> Awaitable[Any]:
    codes = [code for code, _ in budget.ballot[AREA]]
    return client.post(
        f"/api/rounds/{budget.round_id}/ballots",
        json={"ballot": {"approvals": [codes[index % len(codes)]]}},
        headers=headers,
    )


def _count_sends(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    sent: list[str] = []
    send = service._send

    async def counting(engine: Any, statement: str, args: Any, **options: Any) -> Any:
        sent.append(statement)
        return await send(engine, statement, args, **options)

    monkeypatch.setattr(service, "_send", counting)
    return sent


async def _blocked_cast_pid(connection: Any) -> int:
    """The server process of the cast statement once it waits for a lock."""
    for _ in range(2_000):
        pid = await connection.fetchval(
            "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND query LIKE '%voting_round%' AND pid <> pg_backend_pid()"
        )
        if pid is not None:
            return int(pid)
        await asyncio.sleep(0.005)
    raise AssertionError("the cast never waited for the lock")


async def test_a_first_ballot_is_one_statement_on_postgresql_and_stored_with_its_event(
    client: Any, auth: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    budget = await open_budget_round(client, auth)
    headers = resident(auth, "first-voter", AREA)
    await _fetch_then(client, headers, budget.round_id)
    sent = _count_sends(monkeypatch)
    through_sqlalchemy: list[str] = []
    engine = client.app.state.engine
    listener: Callable[..., None] = lambda *args: through_sqlalchemy.append(args[2])  # noqa: E731
    sa.event.listen(engine.sync_engine, "before_cursor_execute", listener)
    try:
        response = await _cast(client, headers, budget)
    finally:
        sa.event.remove(engine.sync_engine, "before_cursor_execute", listener)
    assert response.status_code == 201, response.text
    receipt = response.json()
    assert receipt["status"] == "counted"
    assert receipt["replaced_earlier_ballot"] is False
    assert receipt["area"] == AREA
    if settings.is_sqlite:
        assert sent == []  # SQLite keeps its transaction of several statements
        assert await _stored_sqlalchemy(settings, budget.round_id) == [receipt["receipt_hash"]]
        return
    assert sent == [service.FIRST_BALLOT]
    assert through_sqlalchemy == []
    assert await _stored(settings, budget.round_id) == (
        [receipt["receipt_hash"]],
        [receipt["receipt_hash"]],
    )
    # The receipt checks out like any other.
    check = await client.get(f"/api/receipts/{receipt['receipt']}")
    assert check.status_code == 200, check.text
    assert check.json()["counted"] is True


async def test_a_second_ballot_without_revoting_is_409_already_voted_and_writes_nothing(
    client: Any, auth: Any, settings: Any
) -> None:
    _require_postgres(settings)
    budget = await open_budget_round(client, auth, document=_forbidding_revotes())
    headers = resident(auth, "twice", AREA)
    await _fetch_then(client, headers, budget.round_id)
    first = await _cast(client, headers, budget, 0)
    assert first.status_code == 201, first.text
    second = await _cast(client, headers, budget, 1)
    assert second.status_code == 409, second.text
    assert second.json()["code"] == "already_voted"
    hashes = [first.json()["receipt_hash"]]
    assert await _stored(settings, budget.round_id) == (hashes, hashes)


async def test_a_second_ballot_with_revoting_replaces_the_first(
    client: Any, auth: Any, settings: Any
) -> None:
    _require_postgres(settings)
    budget = await open_budget_round(client, auth)
    headers = resident(auth, "changes-mind", AREA)
    await _fetch_then(client, headers, budget.round_id)
    first = await _cast(client, headers, budget, 0)
    second = await _cast(client, headers, budget, 1)
    assert (first.status_code, second.status_code) == (201, 201), second.text
    assert second.json()["replaced_earlier_ballot"] is True
    async with _connection(settings) as connection:
        rows = await connection.fetch(
            "SELECT receipt_hash, status FROM ballots WHERE round_id = $1", budget.round_id
        )
    assert {row["receipt_hash"]: row["status"] for row in rows} == {
        first.json()["receipt_hash"]: "superseded",
        second.json()["receipt_hash"]: "counted",
    }


async def test_a_ballot_committed_while_the_statement_waits_makes_it_409_already_voted(
    client: Any, auth: Any, settings: Any
) -> None:
    """The voter's slot is taken by a transaction the statement's snapshot cannot see: the
    unique ``live_slot`` refuses the statement's insert, and the answer is the same 409 as a
    second ballot's, with nothing of this cast written."""
    _require_postgres(settings)
    budget = await open_budget_round(client, auth, document=_forbidding_revotes())
    headers = resident(auth, "racer", AREA)
    await _fetch_then(client, headers, budget.round_id)
    voter_key = pseudonym(settings.pseudonym_key, budget.round_id, "racer")
    slot = f"{budget.round_id}:{AREA}:{voter_key}"
    async with _connection(settings) as other:
        transaction = other.transaction()
        await transaction.start()
        await other.execute(
            "INSERT INTO ballots (round_id, area_code, voter_key, live_slot, channel, status, "
            "content, receipt_hash, receipt_nonce, created_at) VALUES "
            "($1, $2, $3, $4, 'online', 'counted', '{}'::jsonb, $5, $5, now())",
            budget.round_id,
            AREA,
            voter_key,
            slot,
            "0" * 64,
        )
        # The cast's statement takes its snapshot before that commit, then waits for the
        # other inserter of the same unique key.
        cast = asyncio.ensure_future(_cast(client, headers, budget))
        async with _connection(settings) as watcher:
            for _ in range(2_000):
                waiting = await watcher.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND query LIKE '%voting_round%'"
                )
                if waiting:
                    break
                await asyncio.sleep(0.005)
            assert waiting, "the cast never waited for the other insert"
        await transaction.commit()
        response = await cast
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "already_voted"
    assert await _stored(settings, budget.round_id) == (["0" * 64], [])


@pytest.mark.parametrize("close_commits", [True, False], ids=["closed", "close-undone"])
async def test_a_cast_that_meets_the_close_waits_and_is_refused_with_nothing_written(
    client: Any, auth: Any, settings: Any, close_commits: bool
) -> None:
    """The close holds the round's row (an UPDATE of its phase); the cast's share lock waits
    for it and reads the phase the close left: closed, the cast is refused and writes
    nothing; still voting (the close undone), the cast goes through."""
    _require_postgres(settings)
    budget = await open_budget_round(client, auth)
    headers = resident(auth, "late", AREA)
    await _fetch_then(client, headers, budget.round_id)
    async with _connection(settings) as closer:
        transaction = closer.transaction()
        await transaction.start()
        await closer.execute("UPDATE rounds SET phase = 'closed' WHERE id = $1", budget.round_id)
        cast = asyncio.ensure_future(_cast(client, headers, budget))
        async with _connection(settings) as watcher:
            await _blocked_cast_pid(watcher)
        if close_commits:
            await transaction.commit()
        else:
            await transaction.rollback()
        response = await cast
    ballots, events = await _stored(settings, budget.round_id)
    if close_commits:
        assert response.status_code == 409, response.text
        assert response.json()["code"] == "voting_not_open"
        assert (ballots, events) == ([], [])
    else:
        assert response.status_code == 201, response.text
        assert ballots == events == [response.json()["receipt_hash"]]


async def test_a_cast_after_the_close_is_refused_and_writes_nothing(
    client: Any, auth: Any, settings: Any
) -> None:
    from tests.integration.ballot_helpers import close

    budget = await open_budget_round(client, auth)
    headers = resident(auth, "too-late", AREA)
    await _fetch_then(client, headers, budget.round_id)
    await close(client, auth, budget.round_id)
    response = await _cast(client, headers, budget)
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "voting_not_open"
    if settings.is_sqlite:
        assert await _stored_sqlalchemy(settings, budget.round_id) == []
    else:
        assert await _stored(settings, budget.round_id) == ([], [])


@pytest.mark.parametrize("revote", ["last_counts", "forbidden"])
async def test_one_first_ballot_sent_50_times_at_once_counts_once(
    client: Any, auth: Any, settings: Any, revote: str
) -> None:
    """All 50 take the one statement (the worker knows the ballot): exactly one ballot is
    live, every acknowledged one is on record with its event, nothing unacknowledged is."""
    _require_postgres(settings)
    client.app.state.cast_limits = CastLimiter(10**9, 60)
    document = copy.deepcopy(budget_ruleset_without_supports())
    document["ballot"]["revote"] = revote
    budget = await open_budget_round(client, auth, document=document)
    headers = resident(auth, "eager", AREA)
    await _fetch_then(client, headers, budget.round_id)
    client.in_flight.reset()
    responses = await asyncio.gather(*(_cast(client, headers, budget, n) for n in range(50)))
    assert client.in_flight.most > 1, "the casts ran one after another: nothing was raced"
    statuses = [response.status_code for response in responses]
    assert set(statuses) <= {201, 409}, [r.text for r in responses if r.status_code >= 500]
    accepted = sorted(r.json()["receipt_hash"] for r in responses if r.status_code == 201)
    if revote == "forbidden":
        assert len(accepted) == 1, statuses
        assert {r.json()["code"] for r in responses if r.status_code == 409} == {"already_voted"}
    ballots, events = await _stored(settings, budget.round_id)
    assert ballots == events == accepted
    async with _connection(settings) as connection:
        live = await connection.fetchval(
            "SELECT count(*) FROM ballots WHERE round_id = $1 AND live_slot IS NOT NULL",
            budget.round_id,
        )
    assert live == 1


async def test_a_connection_dropped_mid_statement_is_503_retry_later_and_writes_nothing(
    client: Any, auth: Any, settings: Any
) -> None:
    """The cast's server process is killed while its statement waits for the round's row:
    the client is told to retry (503 ``retry_later`` with Retry-After, never a 500), the
    ballot and its event are stored both or neither (here neither: the statement never got
    its lock), and the retry goes through on a fresh connection."""
    _require_postgres(settings)
    budget = await open_budget_round(client, auth)
    headers = resident(auth, "dropped", AREA)
    await _fetch_then(client, headers, budget.round_id)
    async with _connection(settings) as holder:
        transaction = holder.transaction()
        await transaction.start()
        await holder.execute("SELECT 1 FROM rounds WHERE id = $1 FOR UPDATE", budget.round_id)
        cast = asyncio.ensure_future(_cast(client, headers, budget))
        async with _connection(settings) as killer:
            pid = await _blocked_cast_pid(killer)
            assert await killer.fetchval("SELECT pg_terminate_backend($1)", pid)
        response = await cast
        await transaction.rollback()
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "retry_later"
    assert response.headers["retry-after"].isdigit()
    assert await _stored(settings, budget.round_id) == ([], [])
    retry = await _cast(client, headers, budget)
    assert retry.status_code == 201, retry.text
    hashes = [retry.json()["receipt_hash"]]
    assert await _stored(settings, budget.round_id) == (hashes, hashes)


async def test_a_connection_still_reading_a_killed_backends_goodbye_is_503_retry_later(
    client: Any, auth: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A backend killed after its connection's checkout ping, before the statement: asyncpg
    refuses to send it ("another operation is in progress": it is still reading the server's
    goodbye). Met again on the one retry (the kills came in a storm), the voter is told to
    retry, never a 500; nothing was written. Found by the connection-kill storm in
    test_faults.py once its casts really overlapped."""
    _require_postgres(settings)
    from asyncpg.exceptions import InternalClientError

    budget = await open_budget_round(client, auth)
    headers = resident(auth, "unlucky", AREA)
    await _fetch_then(client, headers, budget.round_id)

    async def goodbye_in_progress(engine: Any, statement: str, args: Any) -> Any:
        error = InternalClientError(
            "cannot switch to state 12; another operation (2) is in progress"
        )
        raise service._wrapped(engine, statement, error) from error

    monkeypatch.setattr(service, "_send", goodbye_in_progress)
    response = await _cast(client, headers, budget)
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "retry_later"
    assert response.headers["retry-after"].isdigit()
    assert await _stored(settings, budget.round_id) == ([], [])
    monkeypatch.undo()
    retry = await _cast(client, headers, budget)
    assert retry.status_code == 201, retry.text


async def test_a_pooled_connection_killed_while_idle_costs_no_cast(
    client: Any, auth: Any, settings: Any
) -> None:
    """Nothing was sent on a connection the driver already knows is closed: the statement
    goes once more on a fresh connection, and the voter never sees the fault."""
    _require_postgres(settings)
    budget = await open_budget_round(client, auth)
    headers = resident(auth, "after-restart", AREA)
    await _fetch_then(client, headers, budget.round_id)
    name = settings.database_url.rsplit("/", 1)[1]
    async with _connection(settings) as killer:
        await killer.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
        for _ in range(2_000):
            others = await killer.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 "
                "AND pid <> pg_backend_pid()",
                name,
            )
            if others == 0:
                break
            await asyncio.sleep(0.005)
    await asyncio.sleep(0.1)  # the app's event loop reads the killed connections' goodbye
    response = await _cast(client, headers, budget)
    assert response.status_code == 201, response.text
    hashes = [response.json()["receipt_hash"]]
    assert await _stored(settings, budget.round_id) == (hashes, hashes)
