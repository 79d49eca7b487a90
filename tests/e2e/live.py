"""A real ``stemmen serve`` for browser tests and screenshots: a subprocess on a free loopback
port with a fresh SQLite database in development mode, the shared Chromium, and set-up
through the documented API (the same helpers the integration tests use, over real HTTP)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
JWT_SECRET = "e2e-secret-that-is-long-enough-for-hs256-0123456789"
PSEUDONYM_KEY = "e2e-pseudonym-key-that-is-long-enough-0123456789"


def why_no_browser() -> str | None:
    """Why browser tests cannot run here, or None when they can."""
    if not CHROMIUM.exists():
        return (
            "Debian's Chromium is not installed at /usr/bin/chromium "
            "(apt-get install -y chromium); no browser can be downloaded here"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -e '.[test]')"
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class LiveServer:
    url: str
    settings: Any

    def token(self, role: str, subject: str | None = None, **claims: Any) -> str:
        from stemmen.auth import mint_token

        return mint_token(self.settings, subject=subject or f"{role}-1", role=role, **claims)

    def auth(self, role: str, subject: str | None = None, **claims: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, subject, **claims)}"}

    def api(self, steps: Callable[[httpx.AsyncClient, Any], Any]) -> Any:
        """Run ``steps(client, auth)`` against the server (the integration helpers' shape)."""

        async def run() -> Any:
            async with httpx.AsyncClient(base_url=self.url, timeout=30) as client:
                return await steps(client, self.auth)

        # Playwright's sync API keeps an event loop on this thread: run ours on another.
        with ThreadPoolExecutor(max_workers=1) as worker:
            return worker.submit(asyncio.run, run()).result()


@contextlib.contextmanager
def live_server() -> Iterator[LiveServer]:
    from stemmen.config import Settings

    workdir = Path(tempfile.mkdtemp(prefix="stemmen-e2e-"))
    database_url = f"sqlite+aiosqlite:///{workdir / 'stemmen.db'}"
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("STEMMEN_")},
        "STEMMEN_DEVELOPMENT": "true",
        "STEMMEN_DATABASE_URL": database_url,
        "STEMMEN_JWT_SECRET": JWT_SECRET,
        "STEMMEN_PSEUDONYM_KEY": PSEUDONYM_KEY,
        "STEMMEN_LOG_LEVEL": "WARNING",
        "STEMMEN_SCHEDULER_INTERVAL_SECONDS": "3600",
    }
    command = [sys.executable, "-m", "stemmen", "serve", "--host", "127.0.0.1", "--port", str(port)]
    log = (workdir / "server.log").open("wb")
    # cwd is the empty work dir, so no .env file of a developer leaks into the run.
    process = subprocess.Popen(command, cwd=workdir, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    "stemmen serve stopped: " + (workdir / "server.log").read_text(errors="replace")
                )
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("stemmen serve did not answer /health within 60 s")
            time.sleep(0.2)
        settings = Settings(
            database_url=database_url,
            development=True,
            jwt_secret=JWT_SECRET,
            pseudonym_key=PSEUDONYM_KEY,
        )
        yield LiveServer(url, settings)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        log.close()
        shutil.rmtree(workdir, ignore_errors=True)


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def sign_in_page(
    page: Any, url: str, role: str, subject: str, areas: str = "", birth: str = ""
) -> None:
    """Sign in through the development sign-in page, as a person would."""
    page.goto(f"{url}/signin")
    page.get_by_label("Rol").select_option(role)
    page.get_by_label("Naam of nummer (test)").fill(subject)
    if areas:
        page.get_by_label("Wijk- of buurtcode").fill(areas)
    if birth:
        page.get_by_label("Geboortedatum").fill(birth)
    page.locator("form[action='/signin'] button[type=submit]").click()
    page.wait_for_url(f"{url}/")
