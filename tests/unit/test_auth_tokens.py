"""A token verified once is trusted again only while its time claims allow, and only by a
server that still holds the key it was verified with."""

from __future__ import annotations

import time
from typing import Any

import pytest

from stemmen import auth
from stemmen.auth import TokenInvalid, decode_token, mint_token
from stemmen.config import Settings

SECRET = "s" * 64


def _settings(secret: str = SECRET) -> Settings:
    return Settings(
        database_url="sqlite+aiosqlite:///:memory:",
        jwt_secret=secret,
        pseudonym_key="p" * 64,
        jwt_leeway_seconds=30,
    )


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Moves the time the token's claims are checked against (PyJWT reads the real clock, so
    a verification that happens in full would notice: tests below only move it forward after
    the token was verified once)."""
    fake = Clock(time.time())
    monkeypatch.setattr(auth.time, "time", fake.time)
    return fake


def test_a_token_used_again_gives_the_same_user(clock: Clock) -> None:
    settings = _settings()
    token = mint_token(settings, subject="r1", role="resident", areas=["WK026801"])
    first = decode_token(token, settings)
    assert decode_token(token, settings) == first
    assert first.subject == "r1"


def test_a_token_verified_before_is_refused_once_it_expires(clock: Clock) -> None:
    settings = _settings()
    token = mint_token(settings, subject="r1", role="resident", lifetime_seconds=60)
    decode_token(token, settings)
    clock.now += 60 + 29
    assert decode_token(token, settings).subject == "r1"  # within the leeway
    clock.now += 1
    with pytest.raises(TokenInvalid, match="expired"):
        decode_token(token, settings)


def test_a_token_not_valid_yet_is_refused_until_its_time(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings()
    start = int(clock.now) + 120
    token = mint_token(
        settings, subject="r1", role="resident", extra_claims={"nbf": start, "iat": start - 200}
    )
    with pytest.raises(TokenInvalid, match="not valid yet"):
        decode_token(token, settings)
    # Verified in full once its time has come (PyJWT's own clock moved too)...
    monkeypatch.setattr("jwt.api_jwt.datetime", _FrozenDatetime(start))
    clock.now = start
    assert decode_token(token, settings).subject == "r1"
    # ...and refused again for a clock that lies before nbf minus the leeway.
    clock.now = start - 31
    with pytest.raises(TokenInvalid, match="not valid yet"):
        decode_token(token, settings)


def test_a_token_is_not_trusted_by_a_server_with_another_secret(clock: Clock) -> None:
    settings = _settings()
    token = mint_token(settings, subject="r1", role="resident")
    decode_token(token, settings)
    with pytest.raises(TokenInvalid, match="signature"):
        decode_token(token, _settings("t" * 64))


class _FrozenDatetime:
    """Stands in for the datetime class PyJWT reads the time from."""

    def __init__(self, timestamp: float) -> None:
        self.timestamp = timestamp

    def now(self, tz: Any = None) -> Any:
        from datetime import datetime

        return datetime.fromtimestamp(self.timestamp, tz)
