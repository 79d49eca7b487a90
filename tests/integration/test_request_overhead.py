"""What every request pays for, kept small without dropping a guarantee: the request's
database session is built only when a handler uses it (and then always closed), the hot reads
go straight to the driver yet fail exactly as the Core reads do, and authentication, request
ids and their log line behave as before."""

from __future__ import annotations

import json
import logging
from typing import Any, ClassVar

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from stemmen.db import RequestSession, _read_one_core, create_engine, read_one
from tests.integration.ballot_helpers import cast, cast_ok
from tests.integration.round_helpers import open_budget_round, resident


class _Recorded(RequestSession):
    made: ClassVar[list[_Recorded]] = []
    closed: ClassVar[list[_Recorded]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.made.append(self)

    async def close(self) -> None:
        self.closed.append(self)
        await super().close()


@pytest.fixture
def recorded_sessions(client: Any) -> type[_Recorded]:
    from sqlalchemy.ext.asyncio import async_sessionmaker

    _Recorded.made, _Recorded.closed = [], []
    client.app.state.request_sessions = async_sessionmaker(
        client.app.state.engine, class_=_Recorded, expire_on_commit=False
    )
    return _Recorded


# --- the request's session, built on first use ------------------------------------------------


async def test_a_ballot_fetch_served_from_the_cache_never_builds_a_session(
    client: Any, auth: Any, recorded_sessions: type[_Recorded]
) -> None:
    budget = await open_budget_round(client, auth)
    url = f"/api/rounds/{budget.round_id}/ballot"
    first = await client.get(url, headers=resident(auth, "r1", "WK026801"))
    assert first.status_code == 200
    recorded_sessions.made.clear()
    for subject in ("r1", "r2", "r3"):
        again = await client.get(url, headers=resident(auth, subject, "WK026801"))
        assert again.status_code == 200
        assert again.json()["projects"] == first.json()["projects"]
    assert len(recorded_sessions.made) == 3
    assert not any(session.opened for session in recorded_sessions.made)


async def test_a_session_a_handler_used_is_closed_on_success_and_on_refusal(
    client: Any, auth: Any, recorded_sessions: type[_Recorded]
) -> None:
    budget = await open_budget_round(client, auth)
    code = budget.ballot["WK026801"][0][0]
    recorded_sessions.made.clear()
    await cast_ok(client, auth, budget.round_id, "v1", "WK026801", {"approvals": [code]})
    refused = await cast(client, auth, budget.round_id, "v2", "WK026801", {"approvals": ["nope"]})
    assert refused.status_code == 422
    missing = await client.get(
        "/api/rounds/no-such-round/ballot", headers=resident(auth, "v3", "WK026801")
    )
    assert missing.status_code == 404
    opened = [session for session in recorded_sessions.made if session.opened]
    assert len(opened) == 3
    assert all(session in recorded_sessions.closed for session in opened)
    assert not any(session.in_transaction() for session in opened)


async def test_a_request_session_answers_its_bind_without_being_built(settings: Any) -> None:
    engine = create_engine(settings)
    try:
        session = RequestSession(engine)
        assert session.bind is engine
        async with session:
            pass
        assert not session.opened
        used = RequestSession(engine)
        async with used:
            assert (await used.execute(sa.text("SELECT 1"))).scalar_one() == 1
            assert used.opened
            assert used.bind is engine
        assert not used.in_transaction()
    finally:
        await engine.dispose()


# --- one row straight from the driver ---------------------------------------------------------


async def test_a_fast_read_answers_like_the_core_read(
    client: Any, auth: Any, settings: Any
) -> None:
    from stemmen.ballots.service import _BALLOT_QUERY

    budget = await open_budget_round(client, auth)
    # The test client serves the app on a loop of its own: read with an engine of this loop.
    engine = create_engine(settings)
    try:
        params = {"round_id": budget.round_id, "slot": "no-such-slot"}
        fast = await read_one(engine, _BALLOT_QUERY, params)
        core = await _read_one_core(engine, _BALLOT_QUERY, params)
        assert tuple(fast) == tuple(core)
        assert fast.ends_at == core.ends_at
        assert fast.title == core.title
        assert fast.phase == "voting"
        assert fast.voted is False
        assert await read_one(engine, _BALLOT_QUERY, {**params, "round_id": "none"}) is None
    finally:
        await engine.dispose()


async def test_a_fast_read_the_database_refuses_raises_the_core_error(settings: Any) -> None:
    engine = create_engine(settings)
    try:
        missing = sa.select(sa.table("no_such_table", sa.column("x")).c.x)
        with pytest.raises(DBAPIError):
            await read_one(engine, missing, {})
        answer = sa.select(sa.bindparam("n", type_=sa.Integer).label("n"))
        assert (await read_one(engine, answer, {"n": 7})).n == 7
        assert engine.pool.checkedout() == 0
    finally:
        await engine.dispose()


async def test_a_fast_read_on_a_killed_connection_answers_and_drops_it(settings: Any) -> None:
    if settings.is_sqlite:
        pytest.skip("SQLite has no server connections to kill")
    from tests.integration.test_db_pool import _terminate

    engine = create_engine(settings)
    backend = sa.select(sa.func.pg_backend_pid().label("pid"))
    try:
        killed = (await read_one(engine, backend, {})).pid
        await _terminate(engine, killed)
        replacement = (await read_one(engine, backend, {})).pid
        assert replacement != killed
        assert (await read_one(engine, backend, {})).pid == replacement
        assert engine.pool.checkedout() == 0
    finally:
        await engine.dispose()


# --- what every request still gets ------------------------------------------------------------


async def test_every_answer_carries_a_request_id_and_keeps_a_sane_one(client: Any) -> None:
    fresh = await client.get("/health")
    assert len(fresh.headers["x-request-id"]) == 32
    kept = await client.get("/health", headers={"X-Request-ID": "abc123"})
    assert kept.headers["x-request-id"] == "abc123"
    replaced = await client.get("/health", headers={"X-Request-ID": "a b\nc"})
    assert replaced.headers["x-request-id"] != "a b\nc"
    refused = await client.get("/api/rounds/x/ballot", headers={"Authorization": "Bearer x"})
    assert refused.status_code == 401
    assert refused.headers["x-request-id"]


async def test_each_request_is_logged_once_with_its_id_and_status(client: Any) -> None:
    from tests.integration.test_privacy import Collect

    collector = Collect()
    logger = logging.getLogger("stemmen")
    level = logger.level
    logger.addHandler(collector)
    logger.setLevel(logging.INFO)
    try:
        await client.get("/health", headers={"X-Request-ID": "trace42"})
        await client.get("/api/rounds/x/ballot", headers={"Authorization": "Bearer x"})
    finally:
        logger.removeHandler(collector)
        logger.setLevel(level)
    lines = [json.loads(line) for line in collector.lines]
    requests = [line for line in lines if line["message"] == "request"]
    assert len(requests) == 2
    assert requests[0]["request_id"] == "trace42"
    assert (requests[0]["path"], requests[0]["status"]) == ("/health", 200)
    # A refused token is answered inside the request's middleware: its id and status logged.
    assert (requests[1]["method"], requests[1]["status"]) == ("GET", 401)
    assert "bearer" not in json.dumps(lines).lower()


async def test_authentication_is_skipped_only_where_the_route_says_so(
    client: Any, auth: Any
) -> None:
    # Public routes take no token and ignore a bad one; every other route refuses a bad one.
    bad = {"Authorization": "Bearer not-a-token"}
    assert (await client.get("/health", headers=bad)).status_code == 200
    assert (await client.get("/api/receipts/ABC", headers=bad)).status_code != 401
    assert (await client.get("/api/rounds", headers=bad)).status_code == 401
    assert (await client.options("/api/rounds", headers=bad)).status_code != 401
    wrong_scheme = {"Authorization": "Basic abc"}
    refused = await client.get("/api/rounds", headers=wrong_scheme)
    assert refused.status_code == 401
    assert "Bearer" in refused.json()["message"]


def test_a_log_line_is_one_json_object_with_the_request_id_and_known_fields() -> None:
    from datetime import UTC, datetime

    from stemmen.logs import JsonFormatter, request_id_var

    formatter = JsonFormatter()
    record = logging.LogRecord("stemmen.http", logging.INFO, "x", 1, "gezien: %s", ("Privé",), None)
    record.status, record.path, record.secret = 200, "/p", "not a known field"
    record.round_id = object()  # not JSON: written as its text, never an error
    token = request_id_var.set("req1")
    try:
        line = json.loads(formatter.format(record))
    finally:
        request_id_var.reset(token)
    assert line["time"] == datetime.fromtimestamp(record.created, UTC).isoformat(
        timespec="milliseconds"
    )
    assert (line["level"], line["logger"], line["message"]) == (
        "info",
        "stemmen.http",
        "gezien: Privé",
    )
    assert (line["request_id"], line["status"], line["path"]) == ("req1", 200, "/p")
    assert line["round_id"].startswith("<object")
    assert "secret" not in line


# --- the served app's garbage collector -------------------------------------------------------


async def test_the_served_app_sets_the_collector_while_it_runs(settings: Any) -> None:
    import gc

    from litestar.testing import AsyncTestClient

    from stemmen.app import create_served_app
    from stemmen.collector import SERVING_THRESHOLDS

    before = gc.get_threshold()
    async with AsyncTestClient(app=create_served_app(settings)) as served:
        assert gc.get_threshold() == SERVING_THRESHOLDS
        assert gc.get_freeze_count() > 0
        assert (await served.get("/health")).status_code == 200
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
