"""The app served so that requests really run at the same time (for the concurrency tests).

Litestar's ``AsyncTestClient`` hands each request to a portal and blocks the test's event
loop until it is answered, so ``asyncio.gather`` over it sends the requests one after
another (at most one in flight). :func:`served` serves the app with httpx over ASGI in the
test's own event loop, where requests interleave with each other and with the test's own
database connections, and counts the requests in flight so a test can assert that its
requests did overlap (and cannot silently degrade into a sequence again).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any


class InFlight:
    """An ASGI wrapper counting the HTTP requests inside the app: now, and the most at once."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.now = 0
        self.most = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            await self.app(scope, receive, send)
        finally:
            self.now -= 1

    def reset(self) -> None:
        """Forget the peak so far (the setup's requests), to measure one burst alone."""
        self.most = self.now


@asynccontextmanager
async def served(app: Any) -> AsyncIterator[Any]:
    """An ``httpx.AsyncClient`` on ``app`` (a Litestar app) in the running event loop, with
    the app's lifespan around it; ``.app`` is the app (for ``app.state``) and ``.in_flight``
    the :class:`InFlight` counter."""
    import httpx

    in_flight = InFlight(app)
    started, stop = asyncio.Event(), asyncio.Event()

    async def serve() -> None:
        # The app's lifespan is entered and left in one task (anyio's cancel scopes ask it).
        async with app.lifespan():
            started.set()
            await stop.wait()

    serving = asyncio.ensure_future(serve())
    await started.wait()
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=in_flight), base_url="http://testserver"
        ) as http:
            http.app = app  # type: ignore[attr-defined]
            http.in_flight = in_flight  # type: ignore[attr-defined]
            yield http
    finally:
        stop.set()
        await serving
