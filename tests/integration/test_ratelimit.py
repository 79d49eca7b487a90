"""Rate limits: an address that keeps failing to sign in is refused with 429 and Retry-After
before its tokens are checked; a voter who keeps casting is refused with 429 before any
database work. The limiter itself is an exact sliding window with bounded memory."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar, Request, post
from litestar.datastructures import State
from litestar.middleware import DefineMiddleware
from litestar.testing import AsyncTestClient

from stemmen.auth import BearerTokenMiddleware
from stemmen.ratelimit import (
    AuthFailureGate,
    AuthFailureLimiter,
    CastLimiter,
    CastRateLimit,
    RateLimits,
    RateLimitSettings,
    SlidingWindowLimiter,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --- the limiter ---------------------------------------------------------------------------


def test_limiter_allows_exactly_the_limit_within_the_window() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(3, 60, clock=clock)
    assert [limiter.acquire("a") for _ in range(3)] == [None, None, None]
    wait = limiter.acquire("a")
    assert wait == pytest.approx(60)


def test_limiter_window_slides_one_event_at_a_time() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(2, 10, clock=clock)
    limiter.acquire("a")
    clock.now += 4
    limiter.acquire("a")
    assert limiter.retry_after("a") == pytest.approx(6)
    clock.now += 6  # the first event leaves the window, the second stays
    assert limiter.acquire("a") is None
    assert limiter.retry_after("a") == pytest.approx(4)


def test_refused_attempts_do_not_extend_the_wait() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(1, 10, clock=clock)
    limiter.acquire("a")
    for _ in range(50):
        clock.now += 0.1
        limiter.acquire("a")
    clock.now = 1010.0
    assert limiter.acquire("a") is None


def test_keys_are_independent() -> None:
    limiter = SlidingWindowLimiter(1, 60, clock=FakeClock())
    assert limiter.acquire("10.0.0.1") is None
    assert limiter.acquire("10.0.0.1") is not None
    assert limiter.acquire("10.0.0.2") is None


def test_recorded_failures_count_towards_the_limit() -> None:
    limiter = AuthFailureLimiter(2, 60, clock=FakeClock())
    limiter.record_failure("h")
    assert limiter.retry_after("h") is None
    limiter.record_failure("h")
    assert limiter.retry_after("h") is not None


def test_memory_is_bounded_by_forgetting_the_least_recently_seen_keys() -> None:
    limiter = SlidingWindowLimiter(1, 60, max_keys=100, clock=FakeClock())
    for number in range(1000):
        limiter.record(f"host-{number}")
    assert limiter.tracked_keys() == 100
    assert limiter.retry_after("host-999") is not None
    assert limiter.retry_after("host-0") is None


def test_expired_keys_are_dropped() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(1, 5, clock=clock)
    limiter.record("a")
    clock.now += 5
    assert limiter.retry_after("a") is None
    assert limiter.tracked_keys() == 0


def test_cast_limiter_keys_hold_no_subject_in_the_clear() -> None:
    key = CastLimiter.key_for("999999990")
    assert "999999990" not in key
    assert key == CastLimiter.key_for("999999990")
    assert key != CastLimiter.key_for("999999991")


def test_nonsense_limits_are_refused() -> None:
    with pytest.raises(ValueError, match="limit"):
        SlidingWindowLimiter(0, 60)


def test_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEMMEN_RATELIMIT_AUTH_FAILURES", "7")
    monkeypatch.setenv("STEMMEN_RATELIMIT_CASTS_PER_VOTER", "3")
    limits = RateLimits.from_settings(RateLimitSettings())
    assert limits.auth_failures.limit == 7
    assert limits.casts.limit == 3


# --- failed authentication, through the real app -------------------------------------------

PROTECTED = "/api/rulesets"
BAD_TOKEN = {"Authorization": "Bearer not.a.token"}


async def test_address_over_the_failure_limit_gets_429_even_with_a_valid_token(
    client: Any, auth: Any
) -> None:
    client.app.state.auth_failures = AuthFailureLimiter(3, 60)
    for _ in range(3):
        assert (await client.get(PROTECTED, headers=BAD_TOKEN)).status_code == 401
    refused = await client.get(PROTECTED, headers=auth("official"))
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    body = refused.json()
    assert body["code"] == "too_many_requests"
    assert body["details"]["retry_after_seconds"] == int(refused.headers["retry-after"])
    assert "wacht" in body["message_nl"]


async def test_throttled_address_keeps_public_reads(client: Any) -> None:
    client.app.state.auth_failures = AuthFailureLimiter(1, 60)
    assert (await client.get(PROTECTED, headers=BAD_TOKEN)).status_code == 401
    assert (await client.get(PROTECTED, headers=BAD_TOKEN)).status_code == 429
    assert (await client.get(PROTECTED)).status_code == 200
    assert (await client.get("/health")).status_code == 200


async def test_successful_sign_ins_are_not_counted(client: Any, auth: Any) -> None:
    client.app.state.auth_failures = AuthFailureLimiter(2, 60)
    for _ in range(10):
        assert (await client.get(PROTECTED, headers=auth("official"))).status_code == 200


async def test_the_app_has_limits_by_default(client: Any) -> None:
    assert isinstance(client.app.state.auth_failures, AuthFailureLimiter)
    assert isinstance(client.app.state.cast_limits, CastLimiter)


# --- casting, on a stand-in route so the middleware is tested on its own ---------------------


@post("/api/rounds/{round_id:str}/ballots", status_code=201)
async def stand_in_cast(round_id: str, request: Request[Any, Any, Any]) -> dict[str, str]:
    return {"round": round_id}


@post("/api/rounds/{round_id:str}/ballots/paper", status_code=201)
async def stand_in_paper(round_id: str) -> dict[str, str]:
    return {"round": round_id}


def _casting_app(settings: Any, casts: CastLimiter) -> Litestar:
    return Litestar(
        route_handlers=[stand_in_cast, stand_in_paper],
        state=State({"settings": settings, "cast_limits": casts}),
        middleware=[AuthFailureGate, DefineMiddleware(BearerTokenMiddleware), CastRateLimit],
    )


@pytest.fixture
def casting_settings() -> Any:
    from stemmen.config import Settings
    from tests.conftest import TEST_JWT_SECRET, TEST_PSEUDONYM_KEY

    return Settings(jwt_secret=TEST_JWT_SECRET, pseudonym_key=TEST_PSEUDONYM_KEY)


def _bearer(settings: Any, subject: str) -> dict[str, str]:
    from stemmen.auth import mint_token

    token = mint_token(settings, subject=subject, role="resident")
    return {"Authorization": f"Bearer {token}"}


async def test_voter_over_the_cast_limit_gets_429_and_others_do_not(casting_settings: Any) -> None:
    app = _casting_app(casting_settings, CastLimiter(2, 60))
    async with AsyncTestClient(app=app) as http:
        alice, bob = _bearer(casting_settings, "alice"), _bearer(casting_settings, "bob")
        statuses = [
            (await http.post("/api/rounds/r1/ballots", json={}, headers=alice)).status_code
            for _ in range(3)
        ]
        assert statuses == [201, 201, 429]
        # The limit is per voter, across rounds; another voter is untouched.
        assert (
            await http.post("/api/rounds/r2/ballots", json={}, headers=alice)
        ).status_code == 429
        assert (await http.post("/api/rounds/r1/ballots", json={}, headers=bob)).status_code == 201
        refused = await http.post("/api/rounds/r1/ballots", json={}, headers=alice)
        assert refused.headers["retry-after"].isdigit()


async def test_cast_limit_touches_only_the_casting_route(casting_settings: Any) -> None:
    app = _casting_app(casting_settings, CastLimiter(1, 60))
    async with AsyncTestClient(app=app) as http:
        official = _bearer(casting_settings, "official-1")
        for _ in range(3):
            response = await http.post("/api/rounds/r1/ballots/paper", json={}, headers=official)
            assert response.status_code == 201


async def test_the_real_casting_route_is_limited_per_voter(client: Any, auth: Any) -> None:
    from tests.integration.round_helpers import open_budget_round, resident

    client.app.state.cast_limits = CastLimiter(2, 60)
    budget = await open_budget_round(client, auth)
    code = budget.ballot["WK026801"][0][0]
    headers = resident(auth, "hasty", "WK026801")
    statuses = [
        (
            await client.post(
                f"/api/rounds/{budget.round_id}/ballots",
                json={"ballot": {"approvals": [code]}},
                headers=headers,
            )
        ).status_code
        for _ in range(3)
    ]
    assert statuses == [201, 201, 429]
