"""Rate limits: failed sign-ins per client address, ballot casts per voter.

A small sliding-window limiter held in the worker's memory. Nothing here decides an outcome:
the database's unique constraints keep one counted ballot per voter whatever any limiter
lets through; these limits only slow down guessing tokens and hammering the casting route.

Limits are per worker process. With ``stemmen serve --workers N`` a client whose requests are
spread over the workers gets up to N times each limit before every worker refuses it; size
the limits for that (the defaults already allow for a handful of workers). A limit shared by
all workers would need the database or a cache in front of it, which these limits do not
justify: their job is to make brute force slow, not to be exact.

Configured from the environment (``STEMMEN_RATELIMIT_*``, see :class:`RateLimitSettings`).
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic_settings import BaseSettings, SettingsConfigDict

Clock = Callable[[], float]

# Requests that cast a ballot: POST /api/rounds/{id}/ballots (online voting only; paper ballots
# are entered by officials and are not a resident's cast).
CASTING_PATH = re.compile(r"^/api/rounds/[^/]+/ballots/?$")


class RateLimitSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="STEMMEN_RATELIMIT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    auth_failures: int = 20
    auth_failure_window_seconds: float = 60.0
    casts_per_voter: int = 10
    cast_window_seconds: float = 60.0
    # Bounds memory under a flood of distinct addresses or voters: the least recently seen
    # keys are forgotten first (a forgotten attacker merely starts a fresh window).
    max_tracked_keys: int = 100_000


class SlidingWindowLimiter:
    """At most ``limit`` events per key in any ``window_seconds``; exact, per key.

    Methods never await, so within one event loop each call is atomic.
    """

    def __init__(
        self,
        limit: int,
        window_seconds: float,
        *,
        max_keys: int = 100_000,
        clock: Clock = time.monotonic,
    ) -> None:
        if limit < 1 or window_seconds <= 0 or max_keys < 1:
            raise ValueError("a limiter needs limit >= 1, a positive window and max_keys >= 1")
        self.limit = limit
        self.window_seconds = window_seconds
        self.max_keys = max_keys
        self._clock = clock
        self._events: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, key: str, now: float) -> deque[float] | None:
        events = self._events.get(key)
        if events is None:
            return None
        horizon = now - self.window_seconds
        while events and events[0] <= horizon:
            events.popleft()
        if not events:
            del self._events[key]
            return None
        return events

    def _append(self, key: str, now: float) -> None:
        events = self._events.get(key)
        if events is None:
            events = self._events[key] = deque()
        events.append(now)
        self._events.move_to_end(key)
        while len(self._events) > self.max_keys:
            self._events.popitem(last=False)

    def retry_after(self, key: str) -> float | None:
        """Seconds until ``key`` may act again, or None when it may act now."""
        now = self._clock()
        events = self._recent(key, now)
        if events is None or len(events) < self.limit:
            return None
        # The window frees a place when its oldest remembered event falls out of it.
        return max(events[-self.limit] + self.window_seconds - now, 0.001)

    def record(self, key: str) -> None:
        """Count one event for ``key`` (a failure, say) without asking whether it may act."""
        now = self._clock()
        self._recent(key, now)
        self._append(key, now)

    def acquire(self, key: str) -> float | None:
        """Count one event if ``key`` is under its limit (None); else the seconds to wait."""
        wait = self.retry_after(key)
        if wait is None:
            self._append(key, self._clock())
        return wait

    def tracked_keys(self) -> int:
        return len(self._events)


class AuthFailureLimiter(SlidingWindowLimiter):
    """Failed authentications per client address (the auth middleware calls
    ``record_failure``; :class:`RateLimitMiddleware` refuses the address once over)."""

    def record_failure(self, host: str) -> None:
        self.record(host)


class CastLimiter(SlidingWindowLimiter):
    """Ballot casts per voter. Keyed by a hash of the subject, so the limiter's memory holds
    no identity in the clear."""

    @staticmethod
    def key_for(subject: str) -> str:
        return hashlib.sha256(b"stemmen-cast-limit\x00" + subject.encode()).hexdigest()


@dataclass(frozen=True)
class RateLimits:
    auth_failures: AuthFailureLimiter
    casts: CastLimiter

    @classmethod
    def from_settings(cls, settings: RateLimitSettings | None = None) -> RateLimits:
        settings = settings or RateLimitSettings()
        return cls(
            auth_failures=AuthFailureLimiter(
                settings.auth_failures,
                settings.auth_failure_window_seconds,
                max_keys=settings.max_tracked_keys,
            ),
            casts=CastLimiter(
                settings.casts_per_voter,
                settings.cast_window_seconds,
                max_keys=settings.max_tracked_keys,
            ),
        )


def too_many_requests_body(wait_seconds: int, what: str, what_nl: str) -> dict[str, Any]:
    return {
        "code": "too_many_requests",
        "message": f"too many {what} from you in a short time; wait {wait_seconds} s and retry",
        "message_nl": f"te veel {what_nl} in korte tijd; wacht {wait_seconds} s en probeer het opnieuw",
        "details": {"retry_after_seconds": wait_seconds},
    }


def retry_after_header(wait: float) -> int:
    return max(1, math.ceil(wait))


# --- ASGI middlewares (wired in stemmen.app) -------------------------------------------------


def client_host(scope: Any) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


async def _refuse(send: Any, wait: float, what: str, what_nl: str) -> None:
    import json

    seconds = retry_after_header(wait)
    body = json.dumps(too_many_requests_body(seconds, what, what_nl)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(seconds).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class AuthFailureGate:
    """Placed before the token check: an address that failed to authenticate too often gets
    429 with Retry-After for every request that carries credentials, so it cannot keep
    guessing tokens. Requests without credentials (public pages) pass: a library or school
    behind one address keeps its public reads while one of its machines is throttled."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and any(
            name == b"authorization" for name, _ in scope["headers"]
        ):
            limiter = scope["litestar_app"].state.get("auth_failures")
            wait = limiter.retry_after(client_host(scope)) if limiter is not None else None
            if wait is not None:
                await _refuse(send, wait, "failed sign-ins", "mislukte aanmeldingen")
                return
        await self.app(scope, receive, send)


class CastRateLimit:
    """Placed after the token check: a resident may cast (or re-cast) at most the configured
    number of ballots per window; further casts get 429 with Retry-After before any database
    work. Refused casts are not counted, so waiting always helps."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if (
            scope["type"] == "http"
            and scope.get("method") == "POST"
            and CASTING_PATH.match(scope.get("path", ""))
        ):
            user = scope.get("user")
            subject = getattr(user, "subject", None)
            limits = scope["litestar_app"].state.get("cast_limits")
            if subject and limits is not None:
                wait = limits.acquire(CastLimiter.key_for(subject))
                if wait is not None:
                    await _refuse(send, wait, "ballots cast", "uitgebrachte stemmen")
                    return
        await self.app(scope, receive, send)
