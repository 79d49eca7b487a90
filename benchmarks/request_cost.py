"""The service's CPU per request of each kind, for two checkouts of stemmen measured in
alternation, so that both see the same load on a shared machine.

    .venv/bin/python benchmarks/request_cost.py --before /path/to/older/worktree
        [--after .] [--workers 2] [--requests 1000] [--rounds 6]

Each checkout gets a fresh PostgreSQL database (migrated by this checkout's code), its own
``stemmen serve`` (run with that checkout's code: ``PYTHONPATH`` and working directory) and a
budget round in voting. Then, round after round, new residents' requests of each kind (the
health check, a first ballot fetch, the same fetch again, a cast) go to one server and then
the other (the order alternates), 16 at once over keep-alive connections, and the service's
CPU (user + system of the server's process tree, from /proc) per request is taken for each
batch. The medians and minima per kind and checkout are the result; the load average is
printed with every round. The figures in docs/reliability.md ("overhead runs") come from here.

The last kind, "ballot", is what ``load.py`` measures, per ballot: new residents each fetch
their ballot and cast it on one keep-alive connection, ``--concurrency`` (48) at once, and the
batch's CPU is read only once the server's sealer has moved every waiting ballot event into the
audit chain (``audit_pending`` empty), so sealing is counted with the ballots it seals. Its
difference from "first fetch" + "cast" is what the load run costs beyond single requests.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import secrets
import statistics
import sys
import uuid
from pathlib import Path
from typing import Any

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load import (
    ADMIN_URL,
    AREAS,
    Api,
    _choice,
    _free_port,
    _raw,
    _request,
    _send_all,
    _with_database,
    drive,
    process_tree_cpu,
    run,
    say,
    server_env,
    serving,
)

KINDS = ("health", "first fetch", "fetch again", "cast", "ballot")


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(_raw(ADMIN_URL))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def _sealed(database_url: str, round_id: str) -> None:
    """Until no ballot event of the round waits for the sealer (polled from here, so the
    waiting costs the service only its sealer's idle runs)."""
    connection = await asyncpg.connect(_raw(database_url))
    try:
        query = "SELECT count(*) FROM audit_pending WHERE chain = $1"
        while True:
            if await connection.fetchval(query, round_id) == 0:
                return
            await asyncio.sleep(0.05)
    finally:
        await connection.close()


async def _ballots_sealed(
    port: int,
    database_url: str,
    round_id: str,
    residents: list[tuple[str, str, dict[str, str]]],
    ballot: dict[str, list[list[str]]],
    concurrency: int,
) -> dict[Any, int]:
    driven = await drive(f"http://127.0.0.1:{port}", round_id, residents, ballot, concurrency)
    await _sealed(database_url, round_id)
    return driven.statuses


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--before", type=Path, required=True, help="checkout of the older code")
    parser.add_argument("--after", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--requests", type=int, default=1000, help="per kind, round and server")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument(
        "--concurrency", type=int, default=48, help="residents at once for the ballot kind"
    )
    args = parser.parse_args()

    from stemmen.config import Settings
    from stemmen.migrate import upgrade

    servers: dict[str, tuple[Any, int, Api, str, dict[str, list[list[str]]], str]] = {}
    with contextlib.ExitStack() as stack:
        for label, tree in (("before", args.before.resolve()), ("after", args.after.resolve())):
            name = f"stemmen_cost_{uuid.uuid4().hex[:10]}"
            database_url = _with_database(ADMIN_URL, name)
            asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
            stack.callback(
                lambda name=name: asyncio.run(
                    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                )
            )
            upgrade(database_url)
            secret, pseudonym_key = secrets.token_urlsafe(48), secrets.token_urlsafe(48)
            env = server_env(database_url, secret, pseudonym_key, 12)
            port = _free_port()
            server = stack.enter_context(serving(env, port, args.workers, tree))
            settings = Settings(
                database_url=database_url, jwt_secret=secret, pseudonym_key=pseudonym_key
            )
            api = Api(f"http://127.0.0.1:{port}", settings)
            round_id, ballot = api.voting_round("Request cost")
            servers[label] = (server, port, api, round_id, ballot, database_url)
            say(f"{label}: {tree} on port {port}, round {round_id}")

        rng = random.Random(3)
        cpu_ms: dict[tuple[str, str], list[float]] = {}
        for number in range(args.rounds):
            batches: dict[str, dict[str, list[bytes]]] = {}
            voters: dict[str, list[tuple[str, str, dict[str, str]]]] = {}
            for label, (_, _, api, round_id, ballot, _) in servers.items():
                people = [
                    (api.headers("resident", f"cost-{number}-{n}", (area,)), area)
                    for n in range(args.requests)
                    for area in (AREAS[n % len(AREAS)][0],)
                ]
                fetches = [_request("GET", f"/api/rounds/{round_id}/ballot", h) for h, _ in people]
                batches[label] = {
                    "health": [_request("GET", "/health", {})] * args.requests,
                    "first fetch": fetches,
                    "fetch again": fetches,
                    "cast": [
                        _request(
                            "POST",
                            f"/api/rounds/{round_id}/ballots",
                            headers,
                            {"ballot": _choice(rng, ballot[area])},
                        )
                        for headers, area in people
                    ],
                }
                voters[label] = [
                    (subject, area, api.headers("resident", subject, (area,)))
                    for n in range(args.requests)
                    for subject, area in ((f"voter-{number}-{n}", AREAS[n % len(AREAS)][0]),)
                ]
            order = list(servers) if number % 2 == 0 else list(reversed(servers))
            for kind in KINDS:
                for label in order:
                    server, port, _, round_id, ballot, database_url = servers[label]
                    before = process_tree_cpu(server.pid)
                    if kind == "ballot":
                        statuses = run(
                            _ballots_sealed(
                                port,
                                database_url,
                                round_id,
                                voters[label],
                                ballot,
                                args.concurrency,
                            )
                        )
                    else:
                        statuses = run(_send_all(port, batches[label][kind], 16))
                    used = process_tree_cpu(server.pid) - before
                    if not set(statuses) <= {200, 201}:
                        raise SystemExit(f"{label} {kind}: unexpected statuses {statuses}")
                    cpu_ms.setdefault((kind, label), []).append(1000 * used / args.requests)
            say(f"round {number + 1} of {args.rounds}; load average {os.getloadavg()[0]:.1f}")

    print("service CPU per request, ms: median (min)")
    for kind in KINDS:
        cells = [
            f"{label} {statistics.median(cpu_ms[(kind, label)]):.3f} "
            f"({min(cpu_ms[(kind, label)]):.3f})"
            for label in servers
        ]
        print(f"{kind:12s} " + "  ".join(cells))
    per_ballot = {
        label: statistics.median(cpu_ms[("first fetch", label)])
        + statistics.median(cpu_ms[("cast", label)])
        for label in servers
    }
    print(
        "first fetch + cast per ballot: "
        + ", ".join(f"{label} {value:.2f} ms" for label, value in per_ballot.items())
        + f"; load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"a ballot at {args.concurrency} at once, sealed, beyond first fetch + cast: "
        + ", ".join(
            f"{label} {statistics.median(cpu_ms[('ballot', label)]) - value:+.2f} ms"
            for label, value in per_ballot.items()
        )
    )


if __name__ == "__main__":
    main()
