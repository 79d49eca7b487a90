"""Where the floor is: the server CPU per request of uvicorn alone, of Litestar on it, of one
database round trip, and of stemmen's health check, under the same lean client.

    .venv/bin/python benchmarks/floor.py [--requests 4000] [--rounds 3]

Each server runs with ``stemmen serve``'s uvicorn set-up (uvloop, httptools, 2 workers, no
access log) on loopback; 16 keep-alive connections send ``GET`` requests prebuilt as bytes
(``load.LeanConnection``), and the CPU (user + system) of the server's process tree is read
from /proc around each batch. The servers are measured in turn, round after round, so all of
them see the same load on a shared machine. What each one does per request:

- ``asgi``: a bare ASGI callable answering a constant 16-byte JSON body (uvicorn, httptools
  and the event loop: the floor of any Python service on this stack);
- ``asgi + asyncpg``: the same, after one ``SELECT 1`` on a pooled asyncpg connection (one
  round trip: the pool's reset on release is skipped);
- ``litestar``: one Litestar route returning a constant dict, no middleware;
- ``stemmen health``: ``stemmen serve``'s ``/health`` (its middleware stack, one ``SELECT 1``
  through ``stemmen.db.read_one``).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import statistics
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load import (
    _free_port,
    _raw,
    _request,
    _send_all,
    process_tree_cpu,
    run,
    say,
    scratch_database,
    server_env,
    server_process,
    serving,
)

_BODY = b'{"status":"ok"}\n'
_HEADERS = [(b"content-type", b"application/json"), (b"content-length", b"16")]


async def bare_asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": _BODY})


_POOL: list[Any] = []


async def _kept_as_is(_connection: Any) -> None:
    """The pool's reset on release is a round trip of its own; a ``SELECT 1`` changes
    nothing to reset, and the floor is one round trip."""


async def asgi_with_asyncpg(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (message := await receive())["type"] != "lifespan.shutdown":
            if message["type"] == "lifespan.startup":
                _POOL.append(
                    await asyncpg.create_pool(
                        os.environ["FLOOR_DSN"], min_size=4, max_size=12, reset=_kept_as_is
                    )
                )
            await send({"type": "lifespan.startup.complete"})
        await _POOL[0].close()
        await send({"type": "lifespan.shutdown.complete"})
        return
    async with _POOL[0].acquire() as connection:
        await connection.fetchval("SELECT 1")
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": _BODY})


def litestar_app() -> Any:
    from litestar import Litestar, get

    @get("/health", sync_to_thread=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return Litestar(route_handlers=[health], debug=False)


@contextlib.contextmanager
def uvicorn_serving(app: str, port: int, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """``app`` of this module under uvicorn as ``stemmen serve`` runs it."""
    command = [
        *(sys.executable, "-m", "uvicorn", app, "--app-dir", str(Path(__file__).parent)),
        *("--port", str(port), "--workers", "2", "--no-access-log", "--log-level", "warning"),
        *(("--factory",) if app.endswith("_app") else ()),
    ]
    with server_process(command, env, Path(__file__).parent, port) as process:
        yield process


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=4000, help="per server and round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    with scratch_database("stemmen_floor") as database_url:
        env = server_env(
            database_url, secrets.token_urlsafe(48), secrets.token_urlsafe(48), pool=12
        )
        env["FLOOR_DSN"] = _raw(database_url)
        with contextlib.ExitStack() as stack:
            servers: dict[str, tuple[subprocess.Popen[bytes], int]] = {}
            for label, app in (
                ("asgi", "floor:bare_asgi"),
                ("asgi + asyncpg", "floor:asgi_with_asyncpg"),
                ("litestar", "floor:litestar_app"),
            ):
                port = _free_port()
                servers[label] = (stack.enter_context(uvicorn_serving(app, port, env)), port)
            port = _free_port()
            servers["stemmen health"] = (stack.enter_context(serving(env, port, 2)), port)
            request = [_request("GET", "/health", {})] * args.requests
            cpu_ms: dict[str, list[float]] = {label: [] for label in servers}
            for number in range(args.rounds):
                for label, (server, port) in servers.items():
                    before = process_tree_cpu(server.pid)
                    statuses = run(_send_all(port, request, 16))
                    used = process_tree_cpu(server.pid) - before
                    if set(statuses) != {200}:
                        raise SystemExit(f"{label}: unexpected statuses {statuses}")
                    cpu_ms[label].append(1000 * used / args.requests)
                say(f"round {number + 1} of {args.rounds}; load average {os.getloadavg()[0]:.1f}")
    print("server CPU per request, ms: median (min)")
    for label, values in cpu_ms.items():
        print(f"{label:16s} {statistics.median(values):.3f} ({min(values):.3f})")


if __name__ == "__main__":
    main()
