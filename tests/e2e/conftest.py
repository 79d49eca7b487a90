"""Browser tests: one live server and one Chromium for the whole session.

They skip, saying why, where Chromium or Playwright is missing, except under CI=true, where a
missing browser is a failure (.ci/run installs Debian's chromium)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.live import LiveServer, chromium, live_server, why_no_browser

IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def browser_available() -> None:
    reason = why_no_browser()
    if reason is None:
        return
    if IN_CI:
        pytest.fail(f"CI=true needs the browser tests to run: {reason}")
    pytest.skip(reason)


# Package scope, not session: Playwright's sync API keeps an event loop running in this thread
# while the browser is open, and the async tests after this package need the thread free.
@pytest.fixture(scope="package")
def server(browser_available: None) -> Iterator[LiveServer]:
    with live_server() as running:
        yield running


@pytest.fixture(scope="package")
def browser(browser_available: None) -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context per test (its own cookies), at phone-friendly desktop size."""
    context = browser.new_context(viewport={"width": 1024, "height": 900}, locale="nl-NL")
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()
