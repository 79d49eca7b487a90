"""Settings, read once from the environment (and an optional ``.env`` file).

Every variable is prefixed ``STEMMEN_``. Outside development mode the service refuses to
start with a secret that is a known default or too short, and says how to set one.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_JWT_SECRET = "stemmen-development-secret-do-not-use-in-production"  # noqa: S105
DEVELOPMENT_PSEUDONYM_KEY = "stemmen-development-pseudonym-key-not-for-production"
MIN_SECRET_BYTES = 32


class InsecureSettings(RuntimeError):
    """The settings would run a production service with guessable secrets."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="STEMMEN_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = "sqlite+aiosqlite:///./stemmen.db"
    development: bool = Field(
        default=False,
        description="Development mode: allows the built-in secrets and the `stemmen token` keys.",
    )
    jwt_algorithms: list[str] = Field(default_factory=lambda: ["HS256"])
    jwt_secret: str = DEVELOPMENT_JWT_SECRET
    jwt_public_key_file: Path | None = None
    jwt_jwks_file: Path | None = None
    jwt_issuer: str = "stemmen-dev"
    jwt_audience: str = "stemmen"
    jwt_leeway_seconds: int = 30
    pseudonym_key: str = DEVELOPMENT_PSEUDONYM_KEY
    db_pool_size: int = 10
    db_max_overflow: int = 5
    max_request_body_bytes: int = 1_048_576
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    scheduler_interval_seconds: float = 30.0
    # At most the sealer's longest back-off (5 s), which must stay the longer wait.
    seal_interval_seconds: float = Field(
        default=0.2,
        gt=0,
        le=5,
        description="How often each worker's sealer moves waiting ballot events into their "
        "round's audit chain. Readers of a chain and the close seal first, so a longer interval "
        "delays only when a witnessed head shows the latest ballots.",
    )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def insecurities(self) -> list[str]:
        """What makes these settings unfit for production, as instructions a person can follow."""
        problems: list[str] = []
        uses_hmac = any(algorithm.startswith("HS") for algorithm in self.jwt_algorithms)
        if uses_hmac and (
            self.jwt_secret == DEVELOPMENT_JWT_SECRET
            or len(self.jwt_secret.encode()) < MIN_SECRET_BYTES
        ):
            problems.append(
                "STEMMEN_JWT_SECRET is the development default or shorter than 32 bytes: set it "
                "to the identity provider's shared secret, e.g. "
                "`export STEMMEN_JWT_SECRET=$(python -c 'import secrets; print(secrets.token_urlsafe(48))')`, "
                "or use RS256/EdDSA with STEMMEN_JWT_PUBLIC_KEY_FILE."
            )
        if not uses_hmac and not (self.jwt_public_key_file or self.jwt_jwks_file):
            problems.append(
                "STEMMEN_JWT_ALGORITHMS asks for public-key tokens but neither "
                "STEMMEN_JWT_PUBLIC_KEY_FILE nor STEMMEN_JWT_JWKS_FILE is set."
            )
        if (
            self.pseudonym_key == DEVELOPMENT_PSEUDONYM_KEY
            or len(self.pseudonym_key.encode()) < MIN_SECRET_BYTES
        ):
            problems.append(
                "STEMMEN_PSEUDONYM_KEY is the development default or shorter than 32 bytes: set "
                "it to a random secret of at least 32 bytes and keep it for the life of every "
                "round (it links a resident to their ballot pseudonym)."
            )
        return problems

    def require_secure(self) -> None:
        if self.development:
            return
        problems = self.insecurities()
        if problems:
            raise InsecureSettings(
                "stemmen refuses to start outside development mode:\n- "
                + "\n- ".join(problems)
                + "\nFor a local trial set STEMMEN_DEVELOPMENT=true instead."
            )


@functools.cache
def get_settings() -> Settings:
    return Settings()
