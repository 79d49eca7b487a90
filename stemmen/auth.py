"""Bearer-token authentication and role guards.

Residents' tokens come from the municipality's identity provider (DigiD, or a voting-code
letter in front of it); stemmen only verifies them: signature with an allow-listed algorithm,
``exp``/``nbf``/``iat``, issuer and audience. Roles, areas and birth date are claims.
"""

from __future__ import annotations

import enum
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import jwt
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware._utils import (
    build_exclude_path_pattern,
    should_bypass_for_path_pattern,
)
from litestar.types import ASGIApp, Receive, Scope, Send

from stemmen.config import Settings

HMAC_ALGORITHMS = {"HS256", "HS384", "HS512"}
PUBLIC_KEY_ALGORITHMS = {"RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"}


class Role(enum.StrEnum):
    RESIDENT = "resident"
    OFFICIAL = "official"
    AUDITOR = "auditor"
    ADMIN = "admin"


@dataclass(frozen=True)
class User:
    subject: str
    role: Role
    areas: tuple[str, ...] = ()
    birth_date: date | None = None
    name: str | None = None
    claims: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_official(self) -> bool:
        return self.role in (Role.OFFICIAL, Role.ADMIN)


class TokenInvalid(Exception):
    """The token cannot be trusted; the message says why without leaking key material."""


def _verification_key(settings: Settings, token: str) -> Any:
    algorithms = set(settings.jwt_algorithms)
    if algorithms & HMAC_ALGORITHMS and algorithms & PUBLIC_KEY_ALGORITHMS:
        # Mixing families invites HS/RS confusion (a public key used as an HMAC secret).
        raise TokenInvalid(
            "the server allows both HMAC and public-key algorithms; fix its settings"
        )
    if algorithms <= HMAC_ALGORITHMS:
        return settings.jwt_secret
    if settings.jwt_jwks_file is not None:
        jwks = jwt.PyJWKSet.from_dict(json.loads(settings.jwt_jwks_file.read_text()))
        kid = jwt.get_unverified_header(token).get("kid")
        for key in jwks.keys:
            if kid is None or key.key_id == kid:
                return key
        raise TokenInvalid("no key in the identity provider's key set matches the token's kid")
    if settings.jwt_public_key_file is not None:
        return settings.jwt_public_key_file.read_text()
    raise TokenInvalid("the server has no key to verify public-key tokens")


# Tokens verified already, by their exact text and what they were verified against (the
# secret or the key file's identity, algorithms, issuer, audience): a resident's fetch and cast
# carry the same token, and its signature and claims cannot change. The time claims are
# checked again on every use, exactly as PyJWT checks them.
_VERIFIED: dict[tuple[str, tuple[Any, ...]], tuple[User, int, int]] = {}
_VERIFIED_LIMIT = 20_000


def _trust(settings: Settings) -> tuple[Any, ...]:
    files = []
    for path in (settings.jwt_jwks_file, settings.jwt_public_key_file):
        if path is not None:
            try:
                stat = path.stat()
            except OSError:
                return ()  # no key to trust: verify in full, which says why
            files.append((str(path), stat.st_mtime_ns, stat.st_size))
    return (
        settings.jwt_secret,
        tuple(settings.jwt_algorithms),
        settings.jwt_issuer,
        settings.jwt_audience,
        *files,
    )


def decode_token(token: str, settings: Settings) -> User:
    trust = _trust(settings)
    known = _VERIFIED.get((token, trust)) if trust else None
    if known is not None:
        user, not_before, expires = known
        now = time.time()
        if expires <= now - settings.jwt_leeway_seconds:
            raise TokenInvalid("the token has expired; sign in again")
        if not_before > now + settings.jwt_leeway_seconds:
            raise TokenInvalid("the token is not valid yet (nbf or iat lies in the future)")
        return user
    user = _verify(token, settings)
    if trust:
        claims = user.claims
        not_before = max(int(claims["iat"]), int(claims.get("nbf", claims["iat"])))
        if len(_VERIFIED) >= _VERIFIED_LIMIT:
            _VERIFIED.clear()
        _VERIFIED[(token, trust)] = (user, not_before, int(claims["exp"]))
    return user


def _verify(token: str, settings: Settings) -> User:
    try:
        key = _verification_key(settings, token)
        claims = jwt.decode(
            token,
            key,
            algorithms=settings.jwt_algorithms,
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            leeway=settings.jwt_leeway_seconds,
            options={"require": ["exp", "iat", "sub", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError as error:
        raise TokenInvalid("the token has expired; sign in again") from error
    except jwt.ImmatureSignatureError as error:
        raise TokenInvalid("the token is not valid yet (nbf or iat lies in the future)") from error
    except jwt.InvalidAudienceError as error:
        raise TokenInvalid("the token was issued for another audience") from error
    except jwt.InvalidIssuerError as error:
        raise TokenInvalid(
            "the token was issued by an issuer this server does not trust"
        ) from error
    except jwt.InvalidAlgorithmError as error:
        raise TokenInvalid(
            "the token is signed with an algorithm this server does not allow"
        ) from error
    except jwt.InvalidSignatureError as error:
        raise TokenInvalid("the token's signature does not verify") from error
    except jwt.MissingRequiredClaimError as error:
        raise TokenInvalid(f"the token lacks the required claim '{error.claim}'") from error
    except (jwt.InvalidTokenError, ValueError, OSError) as error:
        raise TokenInvalid(f"the token cannot be read: {error}") from error
    return user_from_claims(claims)


def user_from_claims(claims: dict[str, Any]) -> User:
    try:
        role = Role(claims.get("role", ""))
    except ValueError as error:
        raise TokenInvalid(
            f"the token's role {claims.get('role')!r} is not one of "
            + ", ".join(r.value for r in Role)
        ) from error
    areas = claims.get("areas", [])
    if not isinstance(areas, list) or not all(isinstance(a, str) for a in areas):
        raise TokenInvalid("the token's 'areas' claim must be a list of area codes")
    birth_date = None
    if claims.get("birthdate"):
        try:
            birth_date = date.fromisoformat(str(claims["birthdate"]))
        except ValueError as error:
            raise TokenInvalid("the token's 'birthdate' claim must read YYYY-MM-DD") from error
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise TokenInvalid("the token's subject is empty")
    return User(
        subject=subject,
        role=role,
        areas=tuple(areas),
        birth_date=birth_date,
        name=claims.get("name"),
        claims=claims,
    )


def mint_token(
    settings: Settings,
    *,
    subject: str,
    role: Role | str,
    areas: Iterable[str] = (),
    birth_date: date | str | None = None,
    name: str | None = None,
    lifetime_seconds: int = 8 * 3600,
    private_key: str | None = None,
    extra_claims: dict[str, Any] | None = None,
) -> str:
    """A development token signed with the server's own key (HS) or a given private key."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": subject,
        "role": Role(role).value,
        "areas": list(areas),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "nbf": now,
        "exp": now + lifetime_seconds,
        "jti": uuid.uuid4().hex,
    }
    if birth_date is not None:
        claims["birthdate"] = str(birth_date)
    if name is not None:
        claims["name"] = name
    claims.update(extra_claims or {})
    algorithm = settings.jwt_algorithms[0]
    key = private_key if private_key is not None else settings.jwt_secret
    return jwt.encode(claims, key, algorithm=algorithm)


class BearerTokenMiddleware:
    """Anonymous when there is no token (public pages stay public); 401 on any bad token.

    Sets ``scope["user"]`` (a :class:`User` or None) and ``scope["auth"]`` (the token), as
    Litestar's ``AbstractAuthenticationMiddleware`` does, for HTTP and websocket requests
    except OPTIONS, paths matching ``exclude`` and handlers marked ``exclude_from_auth``; a
    plain ASGI middleware because every request passes through it."""

    def __init__(
        self,
        app: ASGIApp,
        exclude: str | list[str] | None = None,
        exclude_from_auth_key: str = "exclude_from_auth",
    ) -> None:
        self.app = app
        self.exclude = build_exclude_path_pattern(exclude=exclude, middleware_cls=type(self))
        self.exclude_opt_key = exclude_from_auth_key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] in _AUTHENTICATED_SCOPES
            and scope.get("method") != "OPTIONS"
            and not self._excluded(scope)
        ):
            try:
                scope["user"], scope["auth"] = self._authenticate(scope)
            except NotAuthorizedException as refusal:
                if scope["type"] != ScopeType.HTTP:
                    raise
                # Answered here rather than raised: an exception leaving the middleware stack
                # is answered outside it, without the request id and its log line.
                await _unauthenticated(send, str(refusal.detail))
                return
        await self.app(scope, receive, send)

    def _excluded(self, scope: Scope) -> bool:
        handler = scope.get("route_handler")
        if handler is not None and handler.opt.get(self.exclude_opt_key):
            return True
        return should_bypass_for_path_pattern(scope, self.exclude)

    @staticmethod
    def _authenticate(scope: Scope) -> tuple[User | None, str | None]:
        header = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                header = value.decode("latin-1")
                break
        if not header:
            return None, None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthorizedException("send the token as 'Authorization: Bearer <token>'")
        state = scope["litestar_app"].state
        try:
            user = decode_token(token.strip(), state.settings)
        except TokenInvalid as error:
            limiter = state.get("auth_failures")
            if limiter is not None:
                client = scope.get("client")
                limiter.record_failure(str(client[0]) if client else "unknown")
            raise NotAuthorizedException(str(error)) from error
        return user, token


_AUTHENTICATED_SCOPES = frozenset({"http", "websocket"})


async def _unauthenticated(send: Send, message: str) -> None:
    """The 401 the app's error handler gives (``stemmen.app.http_error_handler``)."""
    body = json.dumps(
        {"code": "not_authenticated", "message": message, "details": {}}, ensure_ascii=False
    ).encode()
    start: Any = {
        "type": "http.response.start",
        "status": 401,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
    }
    await send(start)
    await send({"type": "http.response.body", "body": body, "more_body": False})


# Async on purpose: Litestar runs a sync guard in a worker thread (sync_to_thread), a thread
# hop on every guarded request that cost about a tenth of a loaded worker's CPU.
Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]


def current_user(connection: ASGIConnection[Any, Any, Any, Any]) -> User | None:
    user = connection.scope.get("user")
    return user if isinstance(user, User) else None


def requires_role(*roles: Role) -> Guard:
    allowed: Sequence[Role] = roles

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        user = current_user(connection)
        if user is None:
            raise NotAuthorizedException("sign in first: this needs a bearer token")
        if user.role not in allowed:
            raise PermissionDeniedException(
                f"a {user.role.value} may not do this; it needs the role "
                + " or ".join(role.value for role in allowed)
            )

    return guard


signed_in = requires_role(*Role)
officials_only = requires_role(Role.OFFICIAL, Role.ADMIN)
residents_only = requires_role(Role.RESIDENT)
auditors = requires_role(Role.AUDITOR, Role.OFFICIAL, Role.ADMIN)
admins_only = requires_role(Role.ADMIN)
