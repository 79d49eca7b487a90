"""A resident's ballot fetch and cast are answered by ``stemmen.ballots.middleware`` without
the route's machinery; every answer must be the one the route gives.

Each test sends the same request to the app twice: as it runs (the hot path answers or hands
the request on) and with the hot path standing aside (the route answers everything), and
compares status, headers and body. A counter on the hot path's own answers shows which
requests it took, so a comparison never passes because both sides went the same way by
accident.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from stemmen.ballots import middleware as hot
from stemmen.ballots.middleware import HOT_ROUTE
from tests.integration.ballot_helpers import close
from tests.integration.round_helpers import (
    BudgetRound,
    budget_ruleset_without_supports,
    open_budget_round,
    resident,
)

AREA = "WK026801"
Auth = Callable[..., dict[str, str]]


@pytest.fixture
def hot_outcomes(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """What became of each request the hot path took, in order: the status it answered with,
    "handed on" (to the route) or the exception it raised (for the route's handling)."""
    outcomes: list[Any] = []
    for name in ("_fetch", "_cast"):
        answer = getattr(hot, name)

        async def recorded(
            request: Any, round_id: str, status: int, send: Any, answer: Any = answer
        ) -> bool:
            try:
                answered = await answer(request, round_id, status, send)
            except Exception as error:
                outcomes.append(type(error).__name__)
                raise
            outcomes.append(status if answered else "handed on")
            return bool(answered)

        monkeypatch.setattr(hot, name, recorded)
    return outcomes


def _marked_handlers(app: Any) -> list[Any]:
    return [
        handler
        for route in app.routes
        for handler in getattr(route, "route_handlers", ())
        if HOT_ROUTE in handler.opt
    ]


@asynccontextmanager
async def route_only(app: Any) -> AsyncIterator[None]:
    """The same app, its hot path handing every request on to the route."""
    marks = [(handler, handler.opt.pop(HOT_ROUTE)) for handler in _marked_handlers(app)]
    try:
        yield
    finally:
        for handler, mark in marks:
            handler.opt[HOT_ROUTE] = mark


def _comparable(response: Any) -> tuple[int, str, set[str], Any]:
    """Status, content type, header names and JSON body, with each cast's own receipt (a fresh
    nonce every time) left out."""
    body = response.json()
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k not in ("receipt", "receipt_hash")}
    return (
        response.status_code,
        response.headers.get("content-type"),
        set(response.headers.keys()),
        body,
    )


async def _both_ways(
    client: Any, send: Callable[[str], Any], hot_outcomes: list[Any]
) -> tuple[Any, Any, list[Any]]:
    """``send(who)`` through the app as it runs (``who`` = "hot") and with the route
    answering (``who`` = "route"); both responses and what became of the request on the hot
    path."""
    before = len(hot_outcomes)
    through_hot = await send("hot")
    taken = hot_outcomes[before:]
    async with route_only(client.app):
        through_route = await send("route")
    assert hot_outcomes[before:] == taken, "the hot path took the route's turn"
    return through_hot, through_route, taken


async def _round(client: Any, auth: Auth, revote: str = "last_counts") -> BudgetRound:
    document = copy.deepcopy(budget_ruleset_without_supports())
    document["ballot"]["revote"] = revote
    return await open_budget_round(client, auth, document=document)


def _choice(budget: BudgetRound) -> dict[str, Any]:
    return {"approvals": [budget.ballot[AREA][0][0]]}


async def test_a_resident_s_fetch_and_cast_are_the_routes_answers(
    client: Any, auth: Auth, hot_outcomes: list[Any]
) -> None:
    budget = await _round(client, auth)
    path = f"/api/rounds/{budget.round_id}"

    async def fetch(who: str) -> Any:
        return await client.get(f"{path}/ballot", headers=resident(auth, who, AREA))

    async def cast(who: str) -> Any:
        return await client.post(
            f"{path}/ballots", json={"ballot": _choice(budget)}, headers=resident(auth, who, AREA)
        )

    # The first fetch of a round fills the worker's cache (the route's own read); from then
    # on the hot path answers.
    await fetch("first")
    for send, status in ((fetch, 200), (cast, 201), (fetch, 200)):
        through_hot, through_route, taken = await _both_ways(client, send, hot_outcomes)
        assert taken == [status]
        assert _comparable(through_hot) == _comparable(through_route)
        assert "x-request-id" in through_hot.headers
    assert (await fetch("hot")).json()["already_voted"] is True


@pytest.mark.parametrize(
    "case",
    [
        "area in the query",
        "area in the body",
        "an unknown field",
        "a body that is a list",
        "a ballot that is a list",
        "unreadable JSON",
        "no token",
        "an official's token",
        "a round id with a newline",
    ],
)
async def test_requests_the_hot_path_does_not_take_reach_the_route(
    case: str, client: Any, auth: Auth, hot_outcomes: list[Any]
) -> None:
    budget = await _round(client, auth)
    path = f"/api/rounds/{budget.round_id}"
    await client.get(f"{path}/ballot", headers=resident(auth, "first", AREA))
    choice = _choice(budget)
    casts: dict[str, Any] = {
        "area in the body": {"json": {"ballot": choice, "area": AREA}},
        "an unknown field": {"json": {"ballot": choice, "comment": "hallo"}},
        "a body that is a list": {"json": [choice]},
        "a ballot that is a list": {"json": {"ballot": [choice]}},
        "unreadable JSON": {
            "content": b'{"ballot": {',
            "headers": {"content-type": "application/json"},
        },
    }

    async def send(who: str) -> Any:
        headers = resident(auth, who, AREA)
        if case == "area in the query":
            return await client.get(f"{path}/ballot?area={AREA}", headers=headers)
        if case == "no token":
            return await client.get(f"{path}/ballot")
        if case == "an official's token":
            return await client.post(
                f"{path}/ballots", json={"ballot": choice}, headers=auth("official")
            )
        if case == "a round id with a newline":
            return await client.get("/api/rounds/abc%0A/ballot", headers=headers)
        request = dict(casts[case])
        headers.update(request.pop("headers", {}))
        return await client.post(f"{path}/ballots", headers=headers, **request)

    through_hot, through_route, taken = await _both_ways(client, send, hot_outcomes)
    refused_before = case in ("no token", "an official's token", "a round id with a newline")
    assert taken == ([] if refused_before else ["handed on"])
    assert _comparable(through_hot) == _comparable(through_route)


async def test_refusals_on_the_hot_path_are_the_routes_refusals(
    client: Any, auth: Auth, hot_outcomes: list[Any]
) -> None:
    budget = await _round(client, auth, revote="forbidden")
    path = f"/api/rounds/{budget.round_id}"
    everything = {"approvals": [code for code, _ in budget.ballot[AREA]]}  # over the budget

    async def cast(who: str, ballot: dict[str, Any]) -> Any:
        return await client.post(
            f"{path}/ballots", json={"ballot": ballot}, headers=resident(auth, who, AREA)
        )

    await cast("voted-hot", _choice(budget))
    async with route_only(client.app):
        await cast("voted-route", _choice(budget))

    over_budget = await _both_ways(client, lambda who: cast(who, everything), hot_outcomes)
    second = await _both_ways(
        client, lambda who: cast(f"voted-{who}", _choice(budget)), hot_outcomes
    )
    await close(client, auth, budget.round_id)
    after_close = await _both_ways(client, lambda who: cast(who, _choice(budget)), hot_outcomes)

    for through_hot, through_route, _ in (over_budget, second, after_close):
        assert _comparable(through_hot) == _comparable(through_route)
    assert [r[0].status_code for r in (over_budget, second, after_close)] == [422, 409, 409]
    assert [r[2] for r in (over_budget, second, after_close)] == [
        ["BallotInvalid"],
        ["Conflict"],
        ["Conflict"],
    ]


async def test_an_oversized_cast_is_refused_as_the_route_refuses_it(
    client: Any, auth: Auth, settings: Any, hot_outcomes: list[Any]
) -> None:
    budget = await _round(client, auth)
    padding = "x" * (settings.max_request_body_bytes + 1)

    async def cast(who: str) -> Any:
        return await client.post(
            f"/api/rounds/{budget.round_id}/ballots",
            json={"ballot": _choice(budget), "padding": padding},
            headers=resident(auth, who, AREA),
        )

    through_hot, through_route, taken = await _both_ways(client, cast, hot_outcomes)
    assert through_hot.status_code == 413
    assert _comparable(through_hot) == _comparable(through_route)
    assert taken == ["RequestEntityTooLarge"]


def test_the_hot_routes_have_nothing_the_hot_path_would_skip(settings: Any) -> None:
    """The hot path calls the handlers' bodies without the route's hooks, headers, cookies or
    parameter parsing: should any of these be added to the two routes, it must learn them
    first (and this test says so)."""
    from stemmen.app import create_app

    handlers = {
        handler.opt[HOT_ROUTE]: handler for handler in _marked_handlers(create_app(settings))
    }
    assert set(handlers) == {hot.FETCH, hot.CAST}
    for handler in handlers.values():
        assert handler.resolve_before_request() is None
        assert handler.resolve_after_response() is None
        assert all(layer.after_request is None for layer in handler.ownership_layers)
        assert not handler.resolve_response_headers()
        assert not handler.resolve_response_cookies()
    parameters = {
        mark: list(inspect.signature(handler.fn).parameters) for mark, handler in handlers.items()
    }
    assert parameters == {
        hot.FETCH: ["round_id", "request", "db_session", "area"],
        hot.CAST: ["round_id", "data", "request", "db_session"],
    }
