"""Outside development mode the service refuses guessable secrets and says how to fix it."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from stemmen.config import InsecureSettings, Settings

GOOD_SECRET = "a-real-secret-from-the-identity-provider-0123456789"
GOOD_KEY = "a-real-pseudonym-key-kept-for-the-life-of-rounds-42"


def test_default_database_is_an_sqlite_file_in_the_working_directory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("STEMMEN_DATABASE_URL", raising=False)
    assert Settings(_env_file=None).database_url == "sqlite+aiosqlite:///./stemmen.db"  # type: ignore[call-arg]


def test_default_secrets_are_refused_in_production() -> None:
    settings = Settings(_env_file=None, development=False)  # type: ignore[call-arg]
    with pytest.raises(InsecureSettings) as refused:
        settings.require_secure()
    assert "STEMMEN_JWT_SECRET" in str(refused.value)
    assert "STEMMEN_PSEUDONYM_KEY" in str(refused.value)


def test_short_secret_is_refused() -> None:
    settings = Settings(_env_file=None, jwt_secret="short", pseudonym_key=GOOD_KEY)  # type: ignore[call-arg]
    with pytest.raises(InsecureSettings, match="32 bytes"):
        settings.require_secure()


def test_development_mode_accepts_the_built_in_secrets() -> None:
    Settings(_env_file=None, development=True).require_secure()  # type: ignore[call-arg]


def test_real_secrets_pass() -> None:
    Settings(_env_file=None, jwt_secret=GOOD_SECRET, pseudonym_key=GOOD_KEY).require_secure()  # type: ignore[call-arg]


def test_public_key_algorithms_need_a_key_file() -> None:
    settings = Settings(_env_file=None, jwt_algorithms=["RS256"], pseudonym_key=GOOD_KEY)  # type: ignore[call-arg]
    with pytest.raises(InsecureSettings, match="PUBLIC_KEY_FILE"):
        settings.require_secure()


def test_the_sealer_interval_defaults_to_a_fifth_of_a_second_and_is_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("STEMMEN_SEAL_INTERVAL_SECONDS", raising=False)
    assert Settings(_env_file=None).seal_interval_seconds == 0.2  # type: ignore[call-arg]
    monkeypatch.setenv("STEMMEN_SEAL_INTERVAL_SECONDS", "1.5")
    assert Settings(_env_file=None).seal_interval_seconds == 1.5  # type: ignore[call-arg]


@pytest.mark.parametrize("seconds", ["0", "-1", "5.5", "soon"])
def test_a_sealer_interval_that_is_not_a_positive_number_up_to_five_seconds_is_refused(
    monkeypatch: pytest.MonkeyPatch, seconds: str
) -> None:
    monkeypatch.setenv("STEMMEN_SEAL_INTERVAL_SECONDS", seconds)
    with pytest.raises(ValidationError, match="seal_interval_seconds"):
        Settings(_env_file=None)  # type: ignore[call-arg]
