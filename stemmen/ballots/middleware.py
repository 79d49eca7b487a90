"""The two requests a city-wide evening is made of, a resident fetching their ballot and
casting it, answered without Litestar's per-request machinery.

:class:`HotVotingRoutes` is the innermost middleware: the request has passed the request id,
the sign-in throttle, the token check and the cast limit, and Litestar's router has chosen the
handler. For the handlers marked ``opt={HOT_ROUTE: ...}`` it runs the handler's guards and
then the handler's own one-line body (the same service call, on a session opened the same
lazy way), so the answer and every refusal are the handler's; Litestar's exception handlers
still turn whatever it raises into the response. What it skips is the rest of a route's
work per request: building the signature model, resolving the session dependency, validating
the body with pydantic, and the response pipeline (a fifth of a ballot's CPU under load,
measured in docs/reliability.md).

It answers only requests whose parameters need no validation beyond what it checks itself;
anything else (a query string, an ``area`` in the body, extra fields, a body that is not a JSON
object, a round id the route's pattern refuses, a guard that refuses) goes to the route
unchanged, before anything was done for it but reading the body, which Litestar keeps for the
route.
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Request
from litestar._asgi.utils import wrap_in_exception_handler
from litestar.handlers import HTTPRouteHandler
from litestar.serialization import encode_json
from litestar.types import ASGIApp, Receive, Scope, Send

from stemmen.ballots import service
from stemmen.ballots.schemas import ROUND_ID_PATTERN

HOT_ROUTE = "stemmen_hot_route"
FETCH = "ballot.fetch"
CAST = "ballot.cast"

# The route's pattern for the round id, as a full match (a trailing newline passes Python's
# ``$``, not the route's).
ROUND_ID = re.compile(ROUND_ID_PATTERN)
_CAST_FIELDS = frozenset({"area", "ballot"})

_JSON = (b"content-type", b"application/json")


class HotVotingRoutes:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # What the handler bodies raise (a refusal, a database fault) is answered by the
        # route's own exception handling, here inside the middlewares as it is for the route
        # (so the answer carries the request id and is logged with its status).
        self._serving = wrap_in_exception_handler(self._serve)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if _hot_route(scope) is None:
            await self.app(scope, receive, send)
        else:
            await self._serving(scope, receive, send)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        hot = _hot_route(scope)
        assert hot is not None
        handler, route, round_id = hot
        request: Request[Any, Any, Any] = Request(scope, receive, send)
        try:
            await handler.authorize_connection(request)
        except Exception:
            # The route runs the same guards again and answers with their refusal.
            await self.app(scope, receive, send)
            return
        serve = _fetch if route == FETCH else _cast
        if not await serve(request, round_id, handler.status_code, send):
            await self.app(scope, receive, send)


def _hot_route(scope: Scope) -> tuple[HTTPRouteHandler, str, str] | None:
    """The marked handler Litestar routed the request to, its mark and the round id, when
    the round id is one the route accepts."""
    handler = scope.get("route_handler")
    if not isinstance(handler, HTTPRouteHandler):
        return None
    route = handler.opt.get(HOT_ROUTE)
    round_id = scope["path_params"].get("round_id")
    if route is None or not isinstance(round_id, str) or not ROUND_ID.fullmatch(round_id):
        return None
    return handler, route, round_id


async def _fetch(request: Request[Any, Any, Any], round_id: str, status: int, send: Send) -> bool:
    """``BallotController.read_ballot`` for a request without query parameters."""
    if request.scope["query_string"]:
        return False
    state = request.app.state
    async with state.request_sessions() as session:
        body = await service.read_ballot_json(session, state.settings, request.user, round_id, None)
    await _send_json(send, status, body)
    return True


async def _cast(request: Request[Any, Any, Any], round_id: str, status: int, send: Send) -> bool:
    """``BallotController.cast_ballot`` for a body ``{"ballot": {...}}`` (with ``"area":
    null`` at most)."""
    await request.body()  # the route's own reader: its size limit; kept for the route
    try:
        data = await request.json()
    except Exception:
        return False  # the route decodes the body again and says what is wrong with it
    if (
        not isinstance(data, dict)
        or not data.keys() <= _CAST_FIELDS
        or data.get("area") is not None
        or not isinstance(data.get("ballot"), dict)
    ):
        return False
    state = request.app.state
    async with state.request_sessions() as session:
        receipt = await service.cast_ballot(
            session, state.settings, request.user, round_id, None, data["ballot"]
        )
    await _send_json(send, status, encode_json(receipt.model_dump(mode="json")))
    return True


async def _send_json(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [_JSON, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})
