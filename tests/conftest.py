"""Fixtures shared by every test: the two databases, the app, and tokens for each role.

Every database test runs on SQLite and on PostgreSQL. Each test gets a fresh database, cloned
from one migrated by Alembic at the start of the session, so the schema under test is the one
the migrations build (triggers included), not a shortcut.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest

T = TypeVar("T")

POSTGRES_URL = os.environ.get(
    "STEMMEN_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() == "true"
TEST_JWT_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"
TEST_PSEUDONYM_KEY = "test-pseudonym-key-that-is-long-enough-0123456789"


def _raw_postgres_dsn(url: str, database: str | None = None) -> str:
    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    if database is not None:
        dsn = dsn.rsplit("/", 1)[0] + "/" + database
    return dsn


def _with_database(url: str, database: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + database


def run_coroutine(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from synchronous code, even when this thread already
    runs an event loop (Playwright's sync API, for one, leaves a loop running): a thread of
    its own gets a fresh loop."""
    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(asyncio.run, coroutine).result()


def run_blocking(function: Callable[..., T], *args: Any) -> T:
    """Run blocking code that may itself call asyncio.run (Alembic's env) in its own thread."""
    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(function, *args).result()


async def _postgres_execute(*statements: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(_raw_postgres_dsn(POSTGRES_URL), timeout=5)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str | None]:
    """A migrated template database, or None (with the reason) when PostgreSQL is absent."""
    from stemmen.migrate import upgrade

    template = f"stemmen_template_{os.getpid()}"
    try:
        run_coroutine(
            _postgres_execute(
                f'DROP DATABASE IF EXISTS "{template}"', f'CREATE DATABASE "{template}"'
            )
        )
    except Exception as error:
        reason = f"PostgreSQL at {POSTGRES_URL} cannot be reached ({type(error).__name__}: {error})"
        if IN_CI:
            pytest.fail(
                f"{reason}; CI=true requires PostgreSQL. Start it with: "
                "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
            )
        yield None
        return
    run_blocking(upgrade, _with_database(POSTGRES_URL, template))
    yield template
    run_coroutine(_postgres_execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from stemmen.migrate import upgrade

    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    run_blocking(upgrade, f"sqlite+aiosqlite:///{path}")
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return path


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated, empty database for one test, on each backend in turn."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "stemmen.db"
        shutil.copyfile(template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    pg_template = request.getfixturevalue("postgres_template")
    if pg_template is None:
        pytest.skip(f"PostgreSQL at {POSTGRES_URL} cannot be reached")
    name = f"stemmen_test_{uuid.uuid4().hex[:12]}"
    run_coroutine(_postgres_execute(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"'))
    try:
        yield _with_database(POSTGRES_URL, name)
    finally:
        run_coroutine(_postgres_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def settings(database_url: str) -> Any:
    from stemmen.config import Settings

    return Settings(
        database_url=database_url,
        development=False,
        jwt_secret=TEST_JWT_SECRET,
        pseudonym_key=TEST_PSEUDONYM_KEY,
        log_level="WARNING",
        scheduler_interval_seconds=3600,
    )


@pytest.fixture
async def client(settings: Any) -> AsyncIterator[Any]:
    from litestar.testing import AsyncTestClient

    from stemmen.app import create_app

    app = create_app(settings)
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


@pytest.fixture
def token(settings: Any) -> Callable[..., str]:
    """token(role, subject=..., areas=..., birth_date=...) -> a signed bearer token."""
    from stemmen.auth import mint_token

    def make(role: str, subject: str | None = None, **claims: Any) -> str:
        return mint_token(settings, subject=subject or f"{role}-1", role=role, **claims)

    return make


@pytest.fixture
def auth(token: Callable[..., str]) -> Callable[..., dict[str, str]]:
    """auth(role, ...) -> headers carrying a bearer token for that role."""

    def headers(role: str, subject: str | None = None, **claims: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {token(role, subject, **claims)}"}

    return headers
