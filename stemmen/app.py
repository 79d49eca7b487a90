"""The Litestar application: routes, the database session per request, and the one place
where errors become responses."""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from litestar import Litestar, MediaType, Request, Response, get
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException, ValidationException
from litestar.handlers import HTTPRouteHandler
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from sqlmodel.ext.asyncio.session import AsyncSession

from stemmen import __version__
from stemmen.audit.sealer import sealer_lifespan
from stemmen.auth import BearerTokenMiddleware
from stemmen.ballots.middleware import HotVotingRoutes
from stemmen.collector import serving_collector
from stemmen.config import Settings, get_settings
from stemmen.db import create_engine, read_one, request_session_maker, session_maker
from stemmen.errors import DomainError
from stemmen.logs import configure_logging, request_id_var
from stemmen.ratelimit import AuthFailureGate, CastRateLimit, RateLimits
from stemmen.rounds.scheduler import scheduler_lifespan

logger = logging.getLogger("stemmen.http")


def _error(
    status: int, code: str, message: str, details: dict[str, Any] | None = None
) -> Response[Any]:
    return Response(
        {"code": code, "message": message, "details": details or {}},
        status_code=status,
        media_type=MediaType.JSON,
    )


def domain_error_handler(_: Request[Any, Any, Any], error: DomainError) -> Response[Any]:
    return Response(error.to_body(), status_code=error.status_code, media_type=MediaType.JSON)


def validation_error_handler(
    _: Request[Any, Any, Any], error: ValidationException
) -> Response[Any]:
    problems = error.extra if isinstance(error.extra, list) else []
    readable = "; ".join(
        f"{problem.get('key') or 'body'}: {problem.get('message')}"
        for problem in problems
        if isinstance(problem, dict)
    )
    return _error(
        400,
        "invalid_request",
        f"the request is not valid: {readable or error.detail}",
        {"problems": problems},
    )


_STATUS_CODES = {
    400: "invalid_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    429: "too_many_requests",
}


def http_error_handler(_: Request[Any, Any, Any], error: HTTPException) -> Response[Any]:
    status = error.status_code
    code = _STATUS_CODES.get(status, "bad_request" if status < 500 else "server_error")
    response = _error(status, code, str(error.detail), {})
    if error.headers:
        response.headers.update(error.headers)
    return response


def database_error_handler(request: Request[Any, Any, Any], error: DBAPIError) -> Response[Any]:
    if isinstance(error, IntegrityError):
        # Services translate the constraints they expect; one that slips through is still a
        # conflict with the stored data, never a server fault.
        logger.warning("unhandled integrity error", extra={"path": request.url.path})
        return _error(
            409, "conflict", "the change conflicts with data stored meanwhile; reload and retry"
        )
    if (
        isinstance(error, OperationalError)
        or error.connection_invalidated
        or _is_passing(error)
        or _is_connection_lost(error)
    ):
        return database_unavailable_handler(request, error)
    if _is_unstorable_value(error):
        logger.warning("value the database refuses", extra={"path": request.url.path})
        return _error(
            422,
            "unstorable_value",
            "a value in the request cannot be stored: a number out of range or text with a "
            "character the database refuses (such as NUL)",
        )
    return internal_error_handler(request, error)


def database_unavailable_handler(request: Request[Any, Any, Any], _: Exception) -> Response[Any]:
    logger.warning("database unavailable", extra={"path": request.url.path})
    return Response(
        {
            "code": "retry_later",
            "message": "the database is briefly unavailable; nothing was saved, please retry",
            "details": {},
        },
        status_code=503,
        headers={"Retry-After": "2"},
        media_type=MediaType.JSON,
    )


def _is_passing(error: DBAPIError) -> bool:
    """SQLSTATE class 08 (connection exception) or 57 (operator intervention: the server is
    shutting down, or starting up and not yet accepting connections, as in a restart)."""
    return str(getattr(error.orig, "sqlstate", "") or "")[:2] in ("08", "57")


def _is_connection_lost(error: DBAPIError) -> bool:
    """The driver could not run the statement on its connection: the connection closed under
    it, or the driver is still reading a killed backend's goodbye ("another operation is in
    progress", which a connection killed between its checkout ping and the statement gives).
    The statement wrote whole or not at all, so the client may retry; never a server fault."""
    from asyncpg.exceptions import ConnectionDoesNotExistError, InternalClientError

    cause = getattr(error.orig, "__cause__", None)
    return isinstance(cause, (ConnectionDoesNotExistError, InternalClientError))


def _is_unstorable_value(error: DBAPIError) -> bool:
    """SQLSTATE class 22 (data exception: numeric value out of range, NUL or bad encoding in
    text), or the driver refusing a parameter before it is sent (asyncpg's DataError): the
    client's input, not a fault of the service."""
    if isinstance(error, DataError):
        return True
    original = error.orig
    if str(getattr(original, "sqlstate", "") or "").startswith("22"):
        return True
    from asyncpg.exceptions import DataError as DriverRefusedValue

    return isinstance(getattr(original, "__cause__", None), DriverRefusedValue)


def input_too_deep_handler(request: Request[Any, Any, Any], _: RecursionError) -> Response[Any]:
    # Deeply nested JSON exhausts the decoder's recursion limit before any handler runs.
    logger.warning("request nested too deeply", extra={"path": request.url.path})
    return _error(400, "too_deeply_nested", "the request body is nested too deeply to read")


def number_too_large_handler(request: Request[Any, Any, Any], _: OverflowError) -> Response[Any]:
    # SQLite's driver refuses integers beyond 64 bits with OverflowError before any SQL runs.
    logger.warning("number out of range", extra={"path": request.url.path})
    return _error(422, "number_out_of_range", "a number in the request is too large to store")


def internal_error_handler(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    logger.error("unhandled error", exc_info=error, extra={"path": request.url.path})
    return _error(
        500,
        "server_error",
        "something went wrong on our side; nothing was saved. Quote the request id "
        f"{request_id_var.get()} when you report it.",
    )


_DOCUMENTED_ERRORS = {
    "400": "The request is malformed (wrong types, missing fields, unreadable JSON).",
    "401": "No usable bearer token where one is needed, or a token that cannot be trusted.",
    "403": "The token is fine but its role or areas do not allow this.",
    "404": "Nothing found under this id.",
    "409": "Conflicts with the stored state (wrong phase, duplicate, changed meanwhile).",
    "413": "The request body is larger than the service accepts.",
    "422": "Well-formed, but the rule set or the data refuse it; the message says why.",
    "429": "Too many failed sign-ins from this address or casts by this voter; see Retry-After.",
    "500": "A fault on the service's side; nothing was saved. Quote the X-Request-ID.",
    "503": "The database is briefly unavailable; nothing was saved. Retry after Retry-After.",
}


@dataclass(frozen=True)
class ErrorBody:
    """The body of every error response."""

    code: str
    message: str
    details: dict[str, Any]
    message_nl: str | None = None


def document_error_responses(app: Litestar) -> None:
    """Every operation can answer with these statuses, all with one body shape, so the
    published schema says so: clients and schemathesis can rely on it instead of Litestar's
    default 400 shape, which this service never sends. Set on the handlers (cheap); the
    schema itself is still built only when someone asks for it."""
    specs = {
        int(status): ResponseSpec(
            data_container=ErrorBody, description=description, generate_examples=False
        )
        for status, description in _DOCUMENTED_ERRORS.items()
    }
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            if isinstance(handler, HTTPRouteHandler) and handler.include_in_schema:
                handler.responses = {**specs, **(handler.responses or {})}


def _request_id(headers: Iterable[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name == b"x-request-id":
            incoming = value.decode("latin-1")
            if incoming.isalnum() and len(incoming) <= 64:
                return incoming
            break
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Gives every request an id (or keeps a sane one the client sent), sends it back in
    ``X-Request-ID`` and logs one line per request with it. Pure ASGI and lean: every request
    pays for it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope["headers"])
        header = (b"x-request-id", request_id.encode())
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 0

        async def send_with_id(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if logger.isEnabledFor(logging.INFO):
                logger.info(
                    "request",
                    extra={
                        "method": scope.get("method"),
                        "path": scope.get("path"),
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    },
                )
            request_id_var.reset(token)


async def provide_db_session(state: State) -> AsyncIterator[AsyncSession]:
    # Lazy (stemmen.db.RequestSession): built on the handler's first use of it, so a ballot
    # fetch served from the cache, or a request refused early, costs no session at all.
    async with state.request_sessions() as session:
        yield session


_PING = sa.select(sa.literal(1).label("ok"))


@get(
    "/health",
    tags=["service"],
    summary="Is the service up and can it reach its database?",
    exclude_from_auth=True,
)
async def health(state: State) -> Response[dict[str, Any]]:
    try:
        await read_one(state.engine, _PING, {})
    except (DBAPIError, OSError) as error:
        return Response(
            {
                "status": "unavailable",
                "database": f"unreachable: {type(error).__name__}",
                "version": __version__,
            },
            status_code=503,
        )
    return Response({"status": "ok", "database": "ok", "version": __version__})


WEB_DIR = Path(__file__).resolve().parent / "web"


def route_handlers() -> list[Any]:
    from stemmen.rules.controller import RuleSetController

    handlers: list[Any] = [
        health,
        RuleSetController,
        create_static_files_router(
            path="/static", directories=[WEB_DIR / "static"], include_in_schema=False
        ),
    ]
    for optional in (
        "stemmen.rounds.controller:RoundController",
        "stemmen.proposals.controller:ProposalController",
        "stemmen.ballots.controller:BallotController",
        "stemmen.results.controller:ResultController",
        "stemmen.audit.controller:AuditController",
        "stemmen.web.controller:PageController",
        "stemmen.web.pages:ResidentPages",
        "stemmen.web.official:OfficialPages",
    ):
        module_name, name = optional.split(":")
        try:
            module = __import__(module_name, fromlist=[name])
        except ModuleNotFoundError as error:
            if error.name != module_name:
                raise
            continue
        handlers.append(getattr(module, name))
    return handlers


def create_served_app(settings: Settings | None = None) -> Litestar:
    """The app as ``stemmen serve`` runs it in each worker: :func:`create_app`, with the
    garbage collector set for a long-running server once it has started
    (``stemmen.collector``)."""
    return create_app(settings, lifespans_after=[serving_collector])


def create_app(
    settings: Settings | None = None, *, lifespans_after: Iterable[Any] = ()
) -> Litestar:
    settings = settings or get_settings()
    settings.require_secure()
    configure_logging(settings.log_level)

    @asynccontextmanager
    async def database(app: Litestar) -> AsyncIterator[None]:
        engine = create_engine(settings)
        app.state.engine = engine
        app.state.session_maker = session_maker(engine)
        app.state.request_sessions = request_session_maker(engine)
        try:
            yield
        finally:
            await engine.dispose()

    limits = RateLimits.from_settings()
    app = Litestar(
        route_handlers=route_handlers(),
        lifespan=[database, scheduler_lifespan, sealer_lifespan, *lifespans_after],
        state=State(
            {
                "settings": settings,
                "auth_failures": limits.auth_failures,
                "cast_limits": limits.casts,
            }
        ),
        dependencies={"db_session": Provide(provide_db_session)},
        middleware=[
            RequestIdMiddleware,
            # Throttled addresses are refused before their token is even looked at; casts
            # are counted per voter once the token says who is casting.
            AuthFailureGate,
            DefineMiddleware(BearerTokenMiddleware, exclude=["/schema", "/health"]),
            CastRateLimit,
            # Innermost: the resident's fetch and cast without the route's machinery.
            HotVotingRoutes,
        ],
        exception_handlers={
            DomainError: domain_error_handler,
            ValidationException: validation_error_handler,
            HTTPException: http_error_handler,
            DBAPIError: database_error_handler,
            # A database server that is down refuses the connection before the driver can
            # wrap the socket's error (the app opens no other connections while serving).
            ConnectionError: database_unavailable_handler,
            RecursionError: input_too_deep_handler,
            OverflowError: number_too_large_handler,
            Exception: internal_error_handler,
        },
        openapi_config=OpenAPIConfig(
            title="stemmen",
            version=__version__,
            description="Participatory budgets and preferenda under the council's rule sets.",
            path="/schema",
            render_plugins=[ScalarRenderPlugin(), SwaggerRenderPlugin(path="/swagger")],
            components=Components(
                security_schemes={
                    "BearerToken": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")
                }
            ),
            security=[{"BearerToken": []}],
        ),
        template_config=TemplateConfig(directory=WEB_DIR / "templates", engine=JinjaTemplateEngine),
        csrf_config=CSRFConfig(
            secret=hmac.new(
                settings.pseudonym_key.encode(), b"stemmen-csrf", hashlib.sha256
            ).hexdigest(),
            cookie_name="stemmen_csrf",
            cookie_httponly=True,
            # The JSON API authenticates with bearer headers, never cookies, so CSRF cannot
            # reach it; the pages use cookies and every form carries the token.
            exclude=["/api", "/health", "/schema"],
        ),
        request_max_body_size=settings.max_request_body_bytes,
        debug=False,
    )
    document_error_responses(app)
    return app
