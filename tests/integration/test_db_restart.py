"""The database restarted under the running service.

A PostgreSQL server of the test's own (initdb in a temporary directory, on a free port: never
the shared cluster other tests use) is restarted while residents cast ballots through one
running app, once with a clean fast shutdown and once with an immediate one (a crash, then
recovery from the write-ahead log). What must hold:

- every cast answers 201, or 503 ``retry_later`` with Retry-After; never a 500;
- no acknowledged ballot is lost, and nothing is half-written: every stored ballot has its
  audit event (sealed into the chain or waiting for it) and the other way round;
- the same app, never restarted, takes casts again once the server is back, the refused voters
  get through on retry, and every ballot event ends up in the round's chain exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from stemmen.audit.chain import BALLOT_ACCEPTED
from tests.integration.ballot_helpers import stored_ballots
from tests.integration.round_helpers import BudgetRound, open_budget_round, resident
from tests.integration.serving import served

AREA = "WK026801"
PG_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
# Casts needed before the restart, and after it, to call the service running and recovered.
BEFORE, AFTER = 20, 20
CASTERS = 8
RECOVERY_SECONDS = 60.0


def _pg_bin() -> Path | None:
    for directory in PG_BIN_DIRS:
        if (directory / "initdb").is_file() and (directory / "pg_ctl").is_file():
            return directory
    found = shutil.which("initdb")
    return Path(found).parent if found and shutil.which("pg_ctl") else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PrivatePostgres:
    """A throw-away PostgreSQL cluster: its own data directory, port and socket directory."""

    bin_dir: Path
    root: Path
    port: int

    @property
    def data(self) -> Path:
        return self.root / "data"

    def _run(self, *command: str, timeout: float = 120) -> None:
        argv = [str(self.bin_dir / command[0]), *command[1:]]
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            argv = ["runuser", "-u", "postgres", "--", *argv]
        subprocess.run(argv, check=True, capture_output=True, timeout=timeout)

    def _server_options(self) -> str:
        return f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=50"

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")

    def start(self) -> None:
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-w",
            "-t", "60", "-o", self._server_options(), "start",
        )  # fmt: skip

    def restart(self, mode: str) -> None:
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-w",
            "-t", "60", "-m", mode, "-o", self._server_options(), "restart",
        )  # fmt: skip

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-w", "-t", "60", "-m", "immediate", "stop")

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    bin_dir = _pg_bin()
    if bin_dir is None:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl) on this machine")
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            pytest.skip("running as root, and there is no runuser to run initdb as postgres")
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root, and there is no postgres user to run initdb as")
    # Not pytest's tmp_path: the postgres user cannot reach into root's private temp tree.
    root = Path(tempfile.mkdtemp(prefix="stemmen-pg-"))
    if os.geteuid() == 0:
        os.chown(root, owner.pw_uid, owner.pw_gid)
    server = PrivatePostgres(bin_dir, root, _free_port())
    try:
        server.init()
        server.start()
        yield server
    finally:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


async def _create_database(server: PrivatePostgres, name: str) -> str:
    import asyncpg

    connection = await asyncpg.connect(
        f"postgresql://postgres@127.0.0.1:{server.port}/postgres", timeout=10
    )
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return server.url(name)


@dataclass
class Outcome:
    voter: str
    status: int
    body: dict[str, Any]
    retry_after: str | None
    after_restart: bool


@dataclass
class Storm:
    """Casters that keep casting, each with fresh voters, until told to stop."""

    client: Any
    auth: Callable[..., dict[str, str]]
    budget: BudgetRound
    outcomes: list[Outcome] = field(default_factory=list)
    restarted: bool = False
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    def acknowledged(self, *, after_restart: bool | None = None) -> int:
        return sum(
            1
            for outcome in self.outcomes
            if outcome.status == 201
            and (after_restart is None or outcome.after_restart == after_restart)
        )

    async def cast(self, voter: str) -> Outcome:
        codes = [code for code, _ in self.budget.ballot[AREA]]
        response = await self.client.post(
            f"/api/rounds/{self.budget.round_id}/ballots",
            json={"ballot": {"approvals": [codes[len(voter) % len(codes)]]}},
            headers=resident(self.auth, voter, AREA),
        )
        try:
            body = response.json()
        except ValueError:
            body = {"text": response.text}
        return Outcome(
            voter, response.status_code, body, response.headers.get("retry-after"), self.restarted
        )

    async def caster(self, number: int) -> None:
        attempt = 0
        while not self.stop.is_set():
            attempt += 1
            self.outcomes.append(await self.cast(f"caster-{number}-{attempt}"))
            await asyncio.sleep(0.005)

    async def until(self, condition: Callable[[], bool], seconds: float, what: str) -> None:
        deadline = time.monotonic() + seconds
        while not condition():
            assert time.monotonic() < deadline, what
            await asyncio.sleep(0.05)


@pytest.fixture
async def app_on_private_postgres(
    private_postgres: PrivatePostgres,
) -> AsyncIterator[tuple[Any, Callable[..., dict[str, str]], str]]:
    from stemmen.app import create_app
    from stemmen.auth import mint_token
    from stemmen.config import Settings
    from stemmen.migrate import upgrade
    from stemmen.ratelimit import CastLimiter
    from tests.conftest import TEST_JWT_SECRET, TEST_PSEUDONYM_KEY

    database_url = await _create_database(private_postgres, "stemmen")
    await asyncio.to_thread(upgrade, database_url)
    settings = Settings(
        database_url=database_url,
        development=False,
        jwt_secret=TEST_JWT_SECRET,
        pseudonym_key=TEST_PSEUDONYM_KEY,
        log_level="WARNING",
        scheduler_interval_seconds=3600,
    )

    def auth(role: str, subject: str | None = None, **claims: Any) -> dict[str, str]:
        token = mint_token(settings, subject=subject or f"{role}-1", role=role, **claims)
        return {"Authorization": f"Bearer {token}"}

    # Served in the test's loop: the casters' requests really run at once.
    async with served(create_app(settings)) as client:
        client.app.state.cast_limits = CastLimiter(10**9, 60)
        yield client, auth, database_url


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["fast", "immediate"])
async def test_a_database_restart_while_casting_loses_nothing_and_the_service_recovers(
    app_on_private_postgres: tuple[Any, Callable[..., dict[str, str]], str],
    private_postgres: PrivatePostgres,
    mode: str,
) -> None:
    client, auth, database_url = app_on_private_postgres
    budget = await open_budget_round(client, auth)
    storm = Storm(client, auth, budget)
    client.in_flight.reset()
    casters = [asyncio.create_task(storm.caster(n)) for n in range(CASTERS)]
    try:
        await storm.until(
            lambda: storm.acknowledged() >= BEFORE, 60, "casts did not get through at all"
        )
        # In a thread: the app keeps serving (and failing) on this loop while pg_ctl waits.
        await asyncio.to_thread(private_postgres.restart, mode)
        storm.restarted = True
        await storm.until(
            lambda: storm.acknowledged(after_restart=True) >= AFTER,
            RECOVERY_SECONDS,
            f"no {AFTER} casts got through within {RECOVERY_SECONDS:.0f} s of the server being "
            "back: the service did not recover without a restart",
        )
    finally:
        storm.stop.set()
        await asyncio.gather(*casters)

    assert client.in_flight.most > 1, "the casters' requests ran one after another"
    statuses = {outcome.status for outcome in storm.outcomes}
    assert statuses <= {201, 503}, [
        (o.status, o.body) for o in storm.outcomes if o.status not in (201, 503)
    ]
    refused = [outcome for outcome in storm.outcomes if outcome.status == 503]
    assert refused, "no cast met the restart; the test proved nothing"
    for outcome in refused:
        assert outcome.body["code"] == "retry_later", outcome.body
        assert outcome.retry_after is not None
        assert outcome.retry_after.isdigit()

    acknowledged = {o.body["receipt_hash"] for o in storm.outcomes if o.status == 201}
    # (stored_ballots fails on a ballot event logged twice)
    ballots, events, _ = await stored_ballots(database_url, budget.round_id)
    assert acknowledged <= ballots, "an acknowledged ballot was lost in the restart"
    assert ballots == set(events), "a ballot without its audit event, or the reverse"

    # The refused voters retry on the same app and get through (or learn their first try,
    # answered with a 503 as the connection died, did count).
    for outcome in refused:
        retry = await storm.cast(outcome.voter)
        assert retry.status in (201, 409), retry.body
    assert (await client.get("/health")).status_code == 200
    log = await client.get(f"/api/rounds/{budget.round_id}/log", headers=auth("auditor"))
    assert log.status_code == 200, log.text
    ballots, events, waiting = await stored_ballots(database_url, budget.round_id)
    assert waiting == 0, "reading the log seals every waiting ballot event"
    in_chain = [
        e["payload"]["receipt"] for e in log.json()["entries"] if e["kind"] == BALLOT_ACCEPTED
    ]
    assert sorted(in_chain) == sorted(ballots) == sorted(events)
    voters = {outcome.voter for outcome in storm.outcomes}
    assert len(ballots) >= len(voters), "a voter who was refused did not get through on retry"


# --- the same errors without a server to restart ------------------------------------------


class _DriverError(Exception):
    """What the driver's error carries through SQLAlchemy: its SQLSTATE."""

    def __init__(self, message: str, sqlstate: str) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("raised", "status"),
    [
        (sa.exc.DBAPIError("SELECT 1", None, _DriverError("starting up", "57P03")), 503),
        (sa.exc.DBAPIError("SELECT 1", None, _DriverError("shutting down", "57P01")), 503),
        (sa.exc.DBAPIError("SELECT 1", None, _DriverError("connection failure", "08006")), 503),
        (ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)"), 503),
        (sa.exc.DBAPIError("SELECT 1", None, _DriverError("no such table", "42P01")), 500),
    ],
    ids=["cannot-connect-now", "admin-shutdown", "connection-failure", "refused", "a-real-fault"],
)
async def test_a_database_that_is_going_or_coming_back_is_a_retryable_503(
    client: Any, raised: Exception, status: int
) -> None:
    """What a restart raises, without one: a server shutting down or starting up (SQLSTATE
    classes 57 and 08) and a refused connection are 503 with Retry-After; a real fault stays a
    500."""
    from litestar import get

    @get("/api/test-database-fault", sync_to_thread=False)
    def fault() -> None:
        raise raised

    client.app.register(fault)
    response = await client.get("/api/test-database-fault")
    assert response.status_code == status, response.text
    if status == 503:
        assert response.json()["code"] == "retry_later"
        assert response.headers["retry-after"].isdigit()
