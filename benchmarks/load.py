"""Load: how many ballots per second the service takes, at what latency, against the database's
own limit for the same writes; and how long a 100,000-ballot round takes to close and publish.

    .venv/bin/python benchmarks/load.py [--workers 2] [--concurrency 48] [--residents 20000]
        [--per-request 1000]

What it does, all on this machine over loopback:

1. creates a fresh PostgreSQL database and migrates it;
2. starts ``stemmen serve`` with several workers on it;
3. seeds a budget round through the API (rule set, round, proposals, review, voting);
4. drives it with a bounded number of concurrent simulated residents, each of whom fetches
   their ballot and casts it over a keep-alive connection (a lean asyncio client with prebuilt
   requests, so the generator leaves the cores to the service); it stops when every resident
   has voted, and reports the service's CPU per ballot and the generator's own;
5. checks every acknowledged ballot is in the database (``lost``);
6. measures the database's own rate for the same writes, in the same statement the service
   sends for a first ballot (the round row's share lock and phase check, the ballot row, the
   pending audit event, one implicit transaction each), through asyncpg directly, and
   PostgreSQL's own CPU per ballot in both runs;
7. fills a third round with 100,000 ballots and times the close and the publication (the
   result computed by the engine) through the API;
8. drops the database (unless --keep-db) and ends with one line:
   ``ballots/s=<n> p50_ms=<n> p99_ms=<n> raw_ratio=<n> lost=<n>``.

Targets (issue 7): >= 1,000 ballots/s with p99 < 200 ms, >= 40% of the raw rate, and the
100,000-ballot close and publication in under 10 s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import dataclasses
import itertools
import json
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ADMIN_URL = os.environ.get(
    "STEMMEN_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
AREAS = (("WK026801", "Oost", 5_000_000), ("WK026802", "Centrum", 4_000_000))
PROPOSALS = (
    ("WK026801", "Speeltuin Bottendaal", "Spelen en sport", 2_000_000),
    ("WK026801", "Bankjes langs de Waal", "Ontmoeting", 1_200_000),
    ("WK026801", "Geveltuinen", "Groen", 2_500_000),
    ("WK026801", "Buurtmoestuin", "Groen", 800_000),
    ("WK026802", "Buurtfeest", "Cultuur", 300_000),
    ("WK026802", "Fietsenstalling", "Verkeer en veiligheid", 1_800_000),
    ("WK026802", "Bomen op het plein", "Groen", 2_400_000),
)


RATIO_TARGET = 0.40  # issue 7: the HTTP rate against the database's own


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _raw(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


def _with_database(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


@contextlib.contextmanager
def scratch_database(prefix: str, *, keep: bool = False) -> Iterator[str]:
    """A fresh PostgreSQL database for one benchmark run, migrated: its URL. Dropped afterwards
    (connections and all) unless ``keep``."""
    from stemmen.migrate import upgrade

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"

    async def admin(statement: str) -> None:
        connection = await asyncpg.connect(_raw(ADMIN_URL))
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        database_url = _with_database(ADMIN_URL, name)
        upgrade(database_url)
        yield database_url
    finally:
        if not keep:
            asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _ruleset() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        (ROOT / "examples" / "rulesets" / "nijmegen-buurtbegroting.json").read_text()
    )
    document = copy.deepcopy(document)
    document["phases"] = ["submission", "review", "voting"]
    document["proposals"]["supports_needed"] = 0
    document["proposals"].pop("supports_per_resident", None)
    document["round_bounds"]["phase_days"].pop("supports", None)
    document["allocation"]["min_support"] = None
    return document


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(database_url: str, secret: str, pseudonym_key: str, pool: int) -> dict[str, str]:
    """The environment of a measured server: production mode, warnings only, ``pool``
    connections per worker, no cast limit a benchmark voter could hit, no scheduler runs."""
    return {
        **os.environ,
        "STEMMEN_DATABASE_URL": database_url,
        "STEMMEN_JWT_SECRET": secret,
        "STEMMEN_PSEUDONYM_KEY": pseudonym_key,
        "STEMMEN_DEVELOPMENT": "false",
        "STEMMEN_LOG_LEVEL": "WARNING",
        "STEMMEN_DB_POOL_SIZE": str(pool),
        "STEMMEN_DB_MAX_OVERFLOW": "0",
        "STEMMEN_RATELIMIT_CASTS_PER_VOTER": "1000",
        "STEMMEN_SCHEDULER_INTERVAL_SECONDS": "3600",
    }


@contextlib.contextmanager
def serving(
    env: dict[str, str], port: int, workers: int, tree: Path | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """``stemmen serve`` until the block ends; ``tree``: run that checkout's code instead of
    this one's (its directory on ``PYTHONPATH`` and as working directory)."""
    if tree is not None:
        env = {**env, "PYTHONPATH": str(tree)}
    command = [
        *(sys.executable, "-m", "stemmen", "serve", "--no-migrate"),
        *("--port", str(port), "--workers", str(workers)),
    ]
    with server_process(command, env, tree or ROOT, port) as process:
        yield process


@contextlib.contextmanager
def server_process(
    command: list[str], env: dict[str, str], cwd: Path, port: int
) -> Iterator[subprocess.Popen[bytes]]:
    """A server started by ``command``, once its /health answers, until the block ends (then
    stopped with its workers)."""
    process = subprocess.Popen(
        command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit(f"the server {' '.join(command[1:4])} in {cwd} did not start")
            time.sleep(0.2)
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


class Api:
    """The seeding steps an official and a few residents take, over HTTP."""

    def __init__(self, base: str, settings: Any) -> None:
        self.http = httpx.Client(base_url=base, timeout=300)
        self.settings = settings

    def headers(self, role: str, subject: str, areas: tuple[str, ...] = ()) -> dict[str, str]:
        from stemmen.auth import mint_token

        token = mint_token(
            self.settings, subject=subject, role=role, areas=areas, birth_date="1980-04-01"
        )
        return {"Authorization": f"Bearer {token}"}

    def call(self, method: str, path: str, expect: tuple[int, ...], **kwargs: Any) -> Any:
        response = self.http.request(method, path, **kwargs)
        if response.status_code not in expect:
            raise SystemExit(f"{method} {path} -> {response.status_code}: {response.text[:300]}")
        return response.json() if response.content else None

    def voting_round(
        self, title: str, *, open_voting: bool = True
    ) -> tuple[str, dict[str, list[list[str]]]]:
        official = self.headers("official", "bench-official")
        published = self.call(
            "POST",
            "/api/rulesets",
            (200, 201, 409),
            json={"slug": "bench", "document": _ruleset()},
            headers=official,
        )
        ruleset_hash = (
            published["version"]["hash"]
            if "version" in published
            else self.call("GET", "/api/rulesets/bench", (200,))["latest"]["hash"]
        )
        created = self.call(
            "POST",
            "/api/rounds",
            (201,),
            json={
                "ruleset_hash": ruleset_hash,
                "title": title,
                "areas": [{"code": c, "name": n, "budget_cents": b} for c, n, b in AREAS],
            },
            headers=official,
        )
        round_id = created["id"]
        if not open_voting:
            return round_id, {}
        self.call(
            "POST",
            f"/api/rounds/{round_id}/phase",
            (200,),
            json={"to": "submission"},
            headers=official,
        )
        ids = []
        for number, (area, title_, category, cost) in enumerate(PROPOSALS):
            proposal = self.call(
                "POST",
                f"/api/rounds/{round_id}/proposals",
                (201,),
                json={
                    "title": title_,
                    "description": title_,
                    "area": area,
                    "category": category,
                    "estimated_cost_cents": cost,
                },
                headers=self.headers("resident", f"author-{number}", (area,)),
            )
            ids.append((proposal["id"], cost))
        self.call(
            "POST", f"/api/rounds/{round_id}/phase", (200,), json={"to": "review"}, headers=official
        )
        for proposal_id, cost in ids:
            self.call(
                "POST",
                f"/api/rounds/{round_id}/proposals/{proposal_id}/review",
                (200,),
                json={"decision": "accept", "final_cost_cents": cost},
                headers=official,
            )
        self.call(
            "POST", f"/api/rounds/{round_id}/phase", (200,), json={"to": "voting"}, headers=official
        )
        costs: dict[str, list[tuple[str, int]]] = {}
        for proposal in self.call(
            "GET", f"/api/rounds/{round_id}/proposals", (200,), headers=official
        ):
            if proposal["on_ballot"]:
                costs.setdefault(proposal["area"], []).append(
                    (proposal["ballot_code"], proposal["final_cost_cents"])
                )
        budgets = {code: budget for code, _, budget in AREAS}
        # Every choice of one or two projects that fits the area's budget.
        ballot = {
            area: [
                sorted(code for code, _ in pair)
                for size in (1, 2)
                for pair in itertools.combinations(items, size)
                if sum(cost for _, cost in pair) <= budgets[area]
            ]
            for area, items in costs.items()
        }
        return round_id, ballot


def _choice(rng: random.Random, choices: list[list[str]]) -> dict[str, Any]:
    return {"approvals": rng.choice(choices)}


class HttpConnectionLost(Exception):
    """The server closed the connection or sent something that is not HTTP/1.1."""


class LeanConnection:
    """One keep-alive HTTP/1.1 connection over asyncio streams, for requests prebuilt as bytes.

    A few microseconds of the generator's CPU per request where httpx spends about a
    millisecond: on a 2-core machine shared with the service, the generator must not eat the
    cores it measures. Reads a Content-Length or chunked body; reconnects after a close.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        try:
            self.writer.write(raw)
            head = await self.reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            headers = head.lower()
            at = headers.find(b"\r\ncontent-length:")
            if at >= 0:
                end = headers.index(b"\r\n", at + 2)
                body = await self.reader.readexactly(int(headers[at + 17 : end]))
            elif b"\r\ntransfer-encoding: chunked" in headers:
                parts = []
                while size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
                    parts.append(await self.reader.readexactly(size))
                    await self.reader.readexactly(2)
                await self.reader.readuntil(b"\r\n")
                body = b"".join(parts)
            else:
                body = b""
        except (
            OSError,
            ValueError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
        ) as error:
            self.close()
            raise HttpConnectionLost(type(error).__name__) from error
        if b"\r\nconnection: close" in headers:
            self.close()
        return status, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def _request(method: str, path: str, headers: dict[str, str], body: Any = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: bench", *(f"{k}: {v}" for k, v in headers.items())]
    payload = b""
    if body is not None:
        payload = json.dumps(body).encode()
        lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


def run(coroutine: Any) -> Any:
    """asyncio.run on uvloop where it is installed (the generator's own CPU is then smaller)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coroutine)


@dataclasses.dataclass
class Drive:
    elapsed: float
    cast_ms: list[float]
    fetch_ms: list[float]
    acknowledged: set[str]
    statuses: dict[Any, int]
    generator_cpu: float


async def drive(
    base: str,
    round_id: str,
    residents: list[tuple[str, str, dict[str, str]]],
    ballot: dict[str, list[list[str]]],
    concurrency: int,
) -> Drive:
    """Every resident fetches their ballot and casts it, at most ``concurrency`` at once, each
    simulated resident on its own keep-alive connection; requests are built before the clock
    starts."""
    rng = random.Random(2026)
    queue: asyncio.Queue[tuple[bytes, bytes]] = asyncio.Queue()
    for _, area, headers in residents:
        queue.put_nowait(
            (
                _request("GET", f"/api/rounds/{round_id}/ballot", headers),
                _request(
                    "POST",
                    f"/api/rounds/{round_id}/ballots",
                    headers,
                    {"ballot": _choice(rng, ballot[area])},
                ),
            )
        )
    cast_ms: list[float] = []
    fetch_ms: list[float] = []
    acknowledged: set[str] = set()
    statuses: dict[Any, int] = {}
    host, port = base.removeprefix("http://").rsplit(":", 1)

    async def resident_loop() -> None:
        connection = LeanConnection(host, int(port))
        try:
            while True:
                try:
                    fetch, cast = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                started = time.perf_counter()
                try:
                    status, _ = await connection.request(fetch)
                except HttpConnectionLost as error:
                    # A dropped connection (a worker restarted): the resident got no ballot.
                    key = f"fetch {error}"
                    statuses[key] = statuses.get(key, 0) + 1
                    continue
                fetch_ms.append((time.perf_counter() - started) * 1000)
                if status != 200:
                    statuses[status] = statuses.get(status, 0) + 1
                    continue
                started = time.perf_counter()
                try:
                    status, body = await connection.request(cast)
                except HttpConnectionLost as error:
                    # Not acknowledged, so not counted as lost whatever happened to it.
                    key = f"cast {error}"
                    statuses[key] = statuses.get(key, 0) + 1
                    continue
                cast_ms.append((time.perf_counter() - started) * 1000)
                statuses[status] = statuses.get(status, 0) + 1
                if status == 201:
                    acknowledged.add(json.loads(body)["receipt_hash"])
        finally:
            connection.close()

    cpu = time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(resident_loop() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return Drive(elapsed, cast_ms, fetch_ms, acknowledged, statuses, time.process_time() - cpu)


async def missing(database_url: str, round_id: str, acknowledged: set[str]) -> int:
    connection = await asyncpg.connect(_raw(database_url))
    try:
        stored = {
            row[0]
            for row in await connection.fetch(
                "SELECT receipt_hash FROM ballots WHERE round_id = $1 AND status = 'counted'",
                round_id,
            )
        }
    finally:
        await connection.close()
    return len(acknowledged - stored)


def _event_row(
    chain: str, seq: int, prev_hash: str, kind: str, payload: dict[str, Any], moment: datetime
) -> tuple[Any, ...]:
    from stemmen.audit.chain import LogEntry, entry_hash, format_utc

    entry = LogEntry(
        seq=seq,
        at=format_utc(moment),
        round_id=chain,
        kind=kind,
        actor_role="resident",
        actor=None,
        payload=payload,
        prev_hash=prev_hash,
        hash="",
    )
    digest = entry_hash(prev_hash, entry.body())
    return (
        chain,
        seq,
        moment,
        entry.at,
        chain,
        kind,
        "resident",
        None,
        json.dumps(payload),
        prev_hash,
        digest,
    )


def _ballot_row(
    round_id: str, area: str, choices: list[list[str]], rng: random.Random
) -> tuple[Any, ...]:
    from stemmen.audit.receipts import (
        ballot_record_bytes,
        budget_ballot_record,
        make_receipt,
        new_nonce,
    )

    record = budget_ballot_record(round_id, area, rng.choice(choices))
    nonce = new_nonce()
    receipt = make_receipt(ballot_record_bytes(record), nonce)
    voter_key = secrets.token_hex(32)
    return (
        round_id,
        area,
        voter_key,
        f"{round_id}:{area}:{voter_key}",  # one ballot per area, as the rule set says
        "online",
        "counted",
        json.dumps(record),
        receipt.hash,
        nonce.hex(),
        datetime.now(UTC),
    )


BALLOT_COLUMNS = (
    "round_id", "area_code", "voter_key", "live_slot", "channel", "status", "content",
    "receipt_hash", "receipt_nonce", "created_at",
)  # fmt: skip
EVENT_COLUMNS = (
    "chain", "seq", "at", "at_text", "round_id", "kind", "actor_role", "actor", "payload",
    "prev_hash", "hash",
)  # fmt: skip


@dataclasses.dataclass(frozen=True)
class RawRun:
    rate: float
    database_cpu_per_ballot: float


async def raw_rate(
    database_url: str,
    round_id: str,
    ballot: dict[str, list[list[str]]],
    count: int,
    connections: int,
) -> RawRun:
    """The database's own limit for a cast's writes: exactly the statement the service sends
    for a voter's first online ballot (``stemmen.ballots.service.FIRST_BALLOT``: share-lock
    the round's row and check its phase, rule set and voting end, check the voter's live
    slot, insert the ballot and its pending ``ballot.accepted`` event, in one implicit
    transaction), with parameters made the service's way (``first_ballot_args``), one
    statement per ballot, straight through asyncpg from ``connections`` connections. Not
    included: the service's Python (token, validation, receipt) and HTTP; the parameters are
    made before the clock starts. The chain head is not touched: the server's sealer appends
    the events later, as for casts over HTTP."""
    from stemmen.audit.receipts import budget_ballot_record
    from stemmen.ballots.service import FIRST_BALLOT, first_ballot_args, live_slot

    connection = await asyncpg.connect(_raw(database_url))
    try:
        ruleset_hash, closes_at = await connection.fetchrow(
            "SELECT rounds.ruleset_hash, round_phases.ends_at FROM rounds LEFT JOIN round_phases "
            "ON round_phases.round_id = rounds.id AND round_phases.phase = 'voting' "
            "WHERE rounds.id = $1",
            round_id,
        )
    finally:
        await connection.close()
    rng = random.Random(7)
    areas = sorted(ballot)
    statements = []
    for n in range(count):
        area = areas[n % len(areas)]
        voter_key = secrets.token_hex(32)
        _, args = first_ballot_args(
            round_id=round_id,
            ruleset_hash=ruleset_hash,
            closes_at=closes_at,
            area_code=area,
            area_in_event=True,
            voter_key=voter_key,
            slot=live_slot(round_id, area, voter_key),  # one ballot per area, as the rule set says
            record=budget_ballot_record(round_id, area, rng.choice(ballot[area])),
            actor="resident",
        )
        statements.append(args)
    pool = await asyncpg.create_pool(_raw(database_url), min_size=connections, max_size=connections)
    queue: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()
    for args in statements:
        queue.put_nowait(args)
    written = 0

    async def writer() -> None:
        nonlocal written
        async with pool.acquire() as connection:
            while True:
                try:
                    args = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                row = await connection.fetchrow(FIRST_BALLOT, *args)
                written += row["written"]

    database_before = database_cpu()
    started = time.perf_counter()
    await asyncio.gather(*(writer() for _ in range(connections)))
    elapsed = time.perf_counter() - started
    # Read before the pool closes: a backend's CPU goes with it.
    database = database_cpu() - database_before
    await pool.close()
    assert written == count, f"the raw run wrote {written} of {count} ballots"
    return RawRun(count / elapsed, database / count)


async def fill(
    database_url: str, round_id: str, ballot: dict[str, list[list[str]]], count: int
) -> None:
    """``count`` valid ballots with their audit events, chained, written in bulk (set-up only)."""
    from stemmen.audit.chain import BALLOT_ACCEPTED

    rng = random.Random(11)
    areas = sorted(ballot)
    connection = await asyncpg.connect(_raw(database_url))
    try:
        async with connection.transaction():
            seq, prev_hash = await connection.fetchrow(
                "SELECT seq, hash FROM audit_heads WHERE chain = $1 FOR UPDATE", round_id
            )
            moment = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
            ballots, events = [], []
            for number in range(count):
                area = areas[number % len(areas)]
                row = _ballot_row(round_id, area, ballot[area], rng)
                ballots.append(row)
                seq += 1
                event = _event_row(
                    round_id, seq, prev_hash, BALLOT_ACCEPTED,
                    {"receipt": row[7], "channel": "online", "area": area}, moment,
                )  # fmt: skip
                events.append(event)
                prev_hash = event[-1]
            await connection.copy_records_to_table(
                "ballots",
                records=[(*row[:6], row[6], *row[7:]) for row in ballots],
                columns=list(BALLOT_COLUMNS),
            )
            await connection.copy_records_to_table(
                "audit_events", records=events, columns=list(EVENT_COLUMNS)
            )
            await connection.execute(
                "UPDATE audit_heads SET seq = $2, hash = $3 WHERE chain = $1",
                round_id,
                seq,
                prev_hash,
            )
    finally:
        await connection.close()


def _cpu_seconds(process: Path) -> float:
    """CPU seconds (user + system) used so far by the process under ``process`` in /proc."""
    fields = (process / "stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_tree_cpu(root: int) -> float:
    """CPU seconds (user + system) used so far by ``root`` and its descendants (Linux /proc):
    a measure of the service's cost per ballot that other load on the machine does not skew."""
    total, pending = 0.0, [root]
    while pending:
        pid = pending.pop()
        try:
            total += _cpu_seconds(Path(f"/proc/{pid}"))
            for task in Path(f"/proc/{pid}/task").iterdir():
                children = (task / "children").read_text().split()
                pending.extend(int(child) for child in children)
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
    return total


def database_cpu() -> float:
    """CPU seconds (user + system) used so far by the PostgreSQL server's processes on this
    machine (every process named ``postgres``: backends, WAL writer, checkpointer): what the
    database spends per ballot, over HTTP and in the raw run, so the ratio can be read."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() == "postgres":
                total += _cpu_seconds(entry)
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


async def _send_all(port: int, requests: list[bytes], concurrency: int) -> dict[Any, int]:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for request in requests:
        queue.put_nowait(request)
    statuses: dict[Any, int] = {}

    async def sender() -> None:
        connection = LeanConnection("127.0.0.1", port)
        try:
            while not queue.empty():
                status, _ = await connection.request(queue.get_nowait())
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            connection.close()

    await asyncio.gather(*(sender() for _ in range(concurrency)))
    return statuses


def cpu_per_request(
    server: subprocess.Popen[bytes],
    port: int,
    round_id: str,
    residents: list[tuple[str, str, dict[str, str]]],
    ballot: dict[str, list[list[str]]],
    concurrency: int,
) -> None:
    """The service's CPU per request of each kind, one kind at a time: the health check (the
    floor: the framework and one database round trip), a first ballot fetch, a cast, and a
    fetch after voting."""
    rng = random.Random(5)
    kinds = {
        "health": [_request("GET", "/health", {})] * len(residents),
        "fetch": [_request("GET", f"/api/rounds/{round_id}/ballot", h) for _, _, h in residents],
        "cast": [
            _request(
                "POST",
                f"/api/rounds/{round_id}/ballots",
                headers,
                {"ballot": _choice(rng, ballot[area])},
            )
            for _, area, headers in residents
        ],
    }
    kinds["fetch after voting"] = kinds["fetch"]
    figures = []
    for kind, requests in kinds.items():
        before = process_tree_cpu(server.pid)
        statuses = run(_send_all(port, requests, concurrency))
        used = process_tree_cpu(server.pid) - before
        figures.append(f"{kind} {1000 * used / len(requests):.2f} ms {statuses}")
    say(f"service CPU per request ({concurrency} at once): " + "; ".join(figures))


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def close_and_publish(api: Api, database_url: str, count: int) -> None:
    big_round, big_ballot = api.voting_round("Honderdduizend")
    started = time.perf_counter()
    asyncio.run(fill(database_url, big_round, big_ballot, count))
    say(f"filled {count} ballots in {time.perf_counter() - started:.1f} s (set-up)")
    official = api.headers("official", "bench-official")
    started = time.perf_counter()
    api.call(
        "POST", f"/api/rounds/{big_round}/phase", (200,), json={"to": "closed"}, headers=official
    )
    closed = time.perf_counter() - started
    api.call(
        "POST",
        f"/api/rounds/{big_round}/phase",
        (200,),
        json={"to": "published"},
        headers=official,
    )
    total = time.perf_counter() - started
    result = api.call("GET", f"/api/rounds/{big_round}/result", (200,))
    say(
        f"{count} ballots: close {closed:.2f} s, publish (compute) {total - closed:.2f} s, "
        f"total {total:.2f} s; result counts {result.get('ballot_count', result.get('ballots'))}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=48, help="simulated residents at once")
    parser.add_argument("--residents", type=int, default=20_000)
    parser.add_argument("--raw-ballots", type=int, default=20_000)
    parser.add_argument("--close-ballots", type=int, default=100_000)
    parser.add_argument("--pool-size", type=int, default=12, help="database connections per worker")
    parser.add_argument(
        "--per-request",
        type=int,
        default=0,
        metavar="N",
        help="first measure the service's CPU per request of each kind over N requests each",
    )
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument(
        "--only-close", action="store_true", help="skip the casting and raw runs (profiling)"
    )
    args = parser.parse_args()

    from stemmen.config import Settings

    with scratch_database("stemmen_load", keep=args.keep_db) as database_url:
        name = database_url.rsplit("/", 1)[-1]
        secret, pseudonym_key = secrets.token_urlsafe(48), secrets.token_urlsafe(48)
        settings = Settings(
            database_url=database_url, jwt_secret=secret, pseudonym_key=pseudonym_key
        )
        env = server_env(database_url, secret, pseudonym_key, args.pool_size)
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        say(f"database {name}; {args.workers} workers on {base}; {os.cpu_count()} cores")
        with serving(env, port, args.workers) as server:
            api = Api(base, settings)
            if args.only_close:
                close_and_publish(api, database_url, args.close_ballots)
                return
            round_id, ballot = api.voting_round("Load round")
            say(f"round {round_id} in voting: {ballot}")
            if args.per_request:
                probes = [(f"probe-{n}", AREAS[n % len(AREAS)][0]) for n in range(args.per_request)]
                cpu_per_request(
                    server,
                    port,
                    round_id,
                    [(s, a, api.headers("resident", s, (a,))) for s, a in probes],
                    ballot,
                    16,
                )
            residents = []
            for number in range(args.residents):
                area = AREAS[number % len(AREAS)][0]
                subject = f"resident-{number}"
                residents.append((subject, area, api.headers("resident", subject, (area,))))
            warm_up, timed = residents[: args.concurrency * 4], residents[args.concurrency * 4 :]
            run(drive(base, round_id, warm_up, ballot, args.concurrency))
            cpu_before, database_before = process_tree_cpu(server.pid), database_cpu()
            timed_run = run(drive(base, round_id, timed, ballot, args.concurrency))
            service_cpu = process_tree_cpu(server.pid) - cpu_before
            database_http = database_cpu() - database_before
            load_average = os.getloadavg()
            cast_ms, acknowledged = timed_run.cast_ms, timed_run.acknowledged
            elapsed = timed_run.elapsed
            rate = len(acknowledged) / elapsed
            lost = asyncio.run(missing(database_url, round_id, acknowledged))
            per_ballot_ms = 1000 * service_cpu / max(1, len(acknowledged))
            generator_ms = 1000 * timed_run.generator_cpu / max(1, len(acknowledged))
            say(
                f"service CPU: {service_cpu:.1f} s for {len(acknowledged)} ballots = "
                f"{per_ballot_ms:.2f} ms per ballot (fetch + cast); {os.cpu_count()} idle cores "
                f"would serve at most {1000 * (os.cpu_count() or 1) / per_ballot_ms:.0f} ballots/s"
            )
            say(
                f"generator CPU: {timed_run.generator_cpu:.1f} s = "
                f"{generator_ms:.2f} ms per ballot; "
                f"load average {load_average[0]:.2f} / {load_average[1]:.2f} (1 / 5 min)"
            )
            say(
                f"HTTP: {len(acknowledged)} ballots in {elapsed:.2f} s = {rate:.0f} ballots/s "
                f"({2 * len(timed) / elapsed:.0f} requests/s); statuses {timed_run.statuses}"
            )
            fetch_ms = timed_run.fetch_ms
            say(
                f"cast latency ms: p50 {percentile(cast_ms, 0.5):.1f} p90 "
                f"{percentile(cast_ms, 0.9):.1f} p99 {percentile(cast_ms, 0.99):.1f} max "
                f"{max(cast_ms):.1f}; fetch p50 {percentile(fetch_ms, 0.5):.1f} p99 "
                f"{percentile(fetch_ms, 0.99):.1f}; mean {statistics.fmean(cast_ms):.1f}"
            )

            raw_round, raw_ballot = api.voting_round("Raw round")
            connections = args.workers * args.pool_size
            raw_run = asyncio.run(
                raw_rate(database_url, raw_round, raw_ballot, args.raw_ballots, connections)
            )
            raw = raw_run.rate
            ratio = rate / raw
            say(
                f"raw asyncpg, same writes, {connections} connections: {raw:.0f} ballots/s; ratio {ratio:.2f}"
            )
            database_ms = 1000 * database_http / max(1, len(acknowledged))
            say(
                f"database CPU per ballot: {database_ms:.2f} ms over HTTP (fetch, cast, "
                f"sealing), {1000 * raw_run.database_cpu_per_ballot:.2f} ms in the raw run"
            )
            # What the ratio target asks of the machine, from this run's own figures.
            cores = os.cpu_count() or 1
            wanted = RATIO_TARGET * raw
            say(
                f"{RATIO_TARGET:.0%} of the raw rate is {wanted:.0f} ballots/s: "
                f"{1000 * cores / wanted:.2f} ms of the {cores} cores per ballot for the database, "
                f"the generator and the service, which took {database_ms:.2f} + "
                f"{generator_ms:.2f} + {per_ballot_ms:.2f} = "
                f"{database_ms + generator_ms + per_ballot_ms:.2f} ms here"
            )

            close_and_publish(api, database_url, args.close_ballots)
    print(
        f"ballots/s={rate:.0f} p50_ms={percentile(cast_ms, 0.5):.1f} "
        f"p99_ms={percentile(cast_ms, 0.99):.1f} raw_ratio={ratio:.2f} lost={lost}"
    )


if __name__ == "__main__":
    main()
