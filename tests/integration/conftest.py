"""Fixtures of the integration tests: the app served for requests at once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.integration.serving import served


@pytest.fixture
async def concurrent_client(settings: Any) -> AsyncIterator[Any]:
    """The app served with httpx over ASGI in the test's own event loop (see
    :mod:`tests.integration.serving`): gathered requests really run at once, unlike through
    Litestar's test client. ``.app`` is the app and ``.in_flight`` counts requests in flight,
    so a race asserts ``client.in_flight.most > 1``."""
    from stemmen.app import create_app

    async with served(create_app(settings)) as http:
        yield http
