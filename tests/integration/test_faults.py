"""Faults: the database connection dropped mid-transaction, a worker killed mid-request.

What must hold: no partial writes (every stored ballot has its audit event, sealed into the
chain or waiting for it, and the other way round), no acknowledged ballot lost, clients get a
retryable 503 with Retry-After (never a 500), and the service recovers by itself. PostgreSQL
only: these faults are about a server connection (SQLite is embedded and has none to drop).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from stemmen.audit.chain import BALLOT_ACCEPTED
from stemmen.ratelimit import CastLimiter
from tests.integration.ballot_helpers import stored_ballots
from tests.integration.round_helpers import open_budget_round, resident

AREA = "WK026801"


def _require_postgres(settings: Any) -> None:
    if settings.is_sqlite:
        pytest.skip("connection faults concern a database server; SQLite is embedded")


def _raw_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def _admin(statement: str, database_url: str) -> None:
    """One statement on the server's maintenance database, past the app's own pool."""
    import asyncpg

    connection = await asyncpg.connect(_raw_dsn(database_url.rsplit("/", 1)[0] + "/postgres"))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def _terminate_backends(database_url: str) -> int:
    """Kill every server process serving the app's database (what a failover or an
    administrator's pg_terminate_backend does), from a connection of our own."""
    import asyncpg

    name = database_url.rsplit("/", 1)[1]
    connection = await asyncpg.connect(_raw_dsn(database_url.rsplit("/", 1)[0] + "/postgres"))
    try:
        rows = await connection.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
    finally:
        await connection.close()
    return len(rows)


async def _pending(database_url: str, round_id: str) -> int:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            return int(
                (
                    await connection.execute(
                        sa.text("SELECT count(*) FROM audit_pending WHERE round_id = :r"),
                        {"r": round_id},
                    )
                ).scalar_one()
            )
    finally:
        await engine.dispose()


def _choice(budget: Any, index: int) -> dict[str, Any]:
    codes = [code for code, _ in budget.ballot[AREA]]
    return {"approvals": [codes[index % len(codes)]]}


async def test_connections_killed_mid_transaction_give_503_lose_nothing_and_recover(
    concurrent_client: Any, auth: Any, settings: Any
) -> None:
    """Casts in flight together (several pooled connections busy at once) while the app's
    server processes are killed again and again."""
    _require_postgres(settings)
    client = concurrent_client
    client.app.state.cast_limits = CastLimiter(10**9, 60)
    budget = await open_budget_round(client, auth)
    voters: list[str] = []
    responses: list[Any] = []

    async def cast(subject: str, index: int) -> Any:
        await asyncio.sleep(0.003 * index)
        return await client.post(
            f"/api/rounds/{budget.round_id}/ballots",
            json={"ballot": _choice(budget, index)},
            headers=resident(auth, subject, AREA),
        )

    finished = threading.Event()
    killed = 0

    def storm() -> None:
        # From its own thread and event loop, so the app's busy loop cannot starve it: kill
        # the app's connections again and again while the casts run, so that some die
        # between a transaction's first statement and its commit.
        nonlocal killed

        async def run() -> None:
            nonlocal killed
            while not finished.is_set():
                killed += await _terminate_backends(settings.database_url)
                await asyncio.sleep(0.04)

        asyncio.run(run())

    killer = threading.Thread(target=storm)
    killer.start()
    client.in_flight.reset()
    try:
        # One wave can miss the kills by timing alone (a first read retries once on a fresh
        # connection): more waves until a request met a kill and another got through.
        for wave in range(4):
            subjects = [f"storm-{wave}-{n}" for n in range(60)]
            voters.extend(subjects)
            responses.extend(
                await asyncio.gather(*(cast(subject, n) for n, subject in enumerate(subjects)))
            )
            statuses_so_far = {response.status_code for response in responses}
            if {201, 503} <= statuses_so_far:
                break
    finally:
        finished.set()
        killer.join(timeout=30)
    assert killed > 0, "the storm never met a connection; the test proved nothing"
    assert client.in_flight.most > 1, "the casts ran one after another: nothing overlapped"
    statuses = [response.status_code for response in responses]
    assert set(statuses) <= {201, 503}, [
        r.text for r in responses if r.status_code not in (201, 503)
    ]
    unavailable = [r for r in responses if r.status_code == 503]
    assert unavailable, "no request met a dropped connection; the test proved nothing"
    for response in unavailable:
        assert response.headers["retry-after"].isdigit()
        assert response.json()["code"] == "retry_later"
    acknowledged = {r.json()["receipt_hash"] for r in responses if r.status_code == 201}
    assert acknowledged, "nothing got through between the kills; the test proved nothing"

    ballots, logged, _ = await stored_ballots(settings.database_url, budget.round_id)
    assert acknowledged <= ballots, "an acknowledged ballot is missing"
    assert ballots == logged, "a ballot without its audit event, or the reverse: a partial write"

    # The service recovers without a restart: the refused voters retry and get through
    # (or learn their first attempt did count).
    for number, response in enumerate(responses):
        if response.status_code == 503:
            retry = await cast(voters[number], 0)
            assert retry.status_code in (201, 409), retry.text
    health = await client.get("/health")
    assert health.status_code == 200
    ballots, logged, _ = await stored_ballots(settings.database_url, budget.round_id)
    assert ballots == logged
    assert len(ballots) >= len(voters) - sum(1 for r in responses if r.status_code == 503)


async def test_health_reports_503_while_the_database_is_unreachable_and_recovers(
    client: Any, settings: Any
) -> None:
    _require_postgres(settings)
    assert (await client.get("/health")).status_code == 200
    name = settings.database_url.rsplit("/", 1)[1]
    await _admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false', settings.database_url)
    try:
        await _terminate_backends(settings.database_url)
        down = await client.get("/health")
        assert down.status_code == 503, down.text
        assert down.json()["status"] == "unavailable"
    finally:
        await _admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true', settings.database_url)
    assert (await client.get("/health")).status_code == 200


async def test_health_survives_its_connections_being_killed_without_a_restart(
    client: Any, settings: Any
) -> None:
    _require_postgres(settings)
    assert (await client.get("/health")).status_code == 200
    await _terminate_backends(settings.database_url)
    # The dead pooled connection is noticed and replaced: no restart needed.
    assert (await client.get("/health")).status_code == 200


# --- a worker killed mid-request --------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def _server(database_url: str, port: int, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "stemmen", "serve", "--port", str(port), "--workers", "1"],
        env={**env, "STEMMEN_DATABASE_URL": database_url},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _wait_ready(port: int, timeout: float = 30.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise AssertionError("the server did not come up")


@pytest.mark.slow
async def test_worker_killed_mid_burst_loses_no_acknowledged_ballot(
    client: Any, auth: Any, settings: Any
) -> None:
    """A real `stemmen serve` on the test's database is killed with SIGKILL while 200 casts
    are in flight, then started again: every acknowledged cast is stored with its audit
    event (sealed into the chain or still waiting for it), nothing is half-written, the
    restarted server takes the retries, and every event ends up in the chain exactly once."""
    _require_postgres(settings)
    import httpx

    from tests.conftest import TEST_JWT_SECRET, TEST_PSEUDONYM_KEY

    budget = await open_budget_round(client, auth)
    env = {
        **os.environ,
        "STEMMEN_JWT_SECRET": TEST_JWT_SECRET,
        "STEMMEN_PSEUDONYM_KEY": TEST_PSEUDONYM_KEY,
        "STEMMEN_LOG_LEVEL": "WARNING",
        "STEMMEN_RATELIMIT_CASTS_PER_VOTER": "1000",
    }
    port = _free_port()
    voters = [f"kill-{uuid.uuid4().hex[:6]}-{n}" for n in range(200)]
    acknowledged: set[str] = set()
    failed: list[str] = []
    enough_acknowledged = asyncio.Event()

    async def cast(http: httpx.AsyncClient, subject: str, index: int) -> None:
        try:
            response = await http.post(
                f"/api/rounds/{budget.round_id}/ballots",
                json={"ballot": _choice(budget, index)},
                headers=resident(auth, subject, AREA),
            )
        except httpx.HTTPError:
            failed.append(subject)
            return
        if response.status_code == 201:
            acknowledged.add(response.json()["receipt_hash"])
            if len(acknowledged) >= 20:
                enough_acknowledged.set()
        else:
            assert response.status_code in (409, 503), response.text
            failed.append(subject)

    with _server(settings.database_url, port, env) as process:
        _wait_ready(port)
        limits = httpx.Limits(max_connections=20)
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=10
        ) as http:

            async def killer() -> None:
                await enough_acknowledged.wait()
                os.killpg(process.pid, signal.SIGKILL)

            await asyncio.gather(
                *(cast(http, subject, n) for n, subject in enumerate(voters)), killer()
            )
    assert acknowledged, "nothing was acknowledged before the kill"
    assert failed, "the kill interrupted nothing"
    ballots, logged, _ = await stored_ballots(settings.database_url, budget.round_id)
    assert acknowledged <= ballots, "an acknowledged ballot was lost"
    assert ballots == logged, "a partial write survived the kill"

    with _server(settings.database_url, port, env):
        _wait_ready(port)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            for subject in failed:
                response = await http.post(
                    f"/api/rounds/{budget.round_id}/ballots",
                    json={"ballot": _choice(budget, 0)},
                    headers=resident(auth, subject, AREA),
                )
                assert response.status_code in (201, 409), response.text
    ballots, logged, _ = await stored_ballots(settings.database_url, budget.round_id)
    assert ballots == logged
    assert len(ballots) >= len(voters)
    # Whatever the killed worker left unsealed, the next reader seals: all in the chain, once.
    log = await client.get(f"/api/rounds/{budget.round_id}/log", headers=auth("auditor"))
    assert log.status_code == 200
    assert await _pending(settings.database_url, budget.round_id) == 0
    in_log = [
        e["payload"]["receipt"] for e in log.json()["entries"] if e["kind"] == BALLOT_ACCEPTED
    ]
    assert sorted(in_log) == sorted(ballots)
