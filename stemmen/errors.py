"""Domain errors with stable codes, mapped to HTTP responses in one place (stemmen.app)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class DomainError(Exception):
    """A refusal a person can act on. ``code`` is stable: clients and translations key on it."""

    status_code = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: Mapping[str, Any] | None = None,
        message_nl: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.message_nl = message_nl
        if code is not None:
            self.code = code
        self.details: dict[str, Any] = dict(details or {})

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message, "details": self.details}
        if self.message_nl:
            body["message_nl"] = self.message_nl
        return body


class InvalidInput(DomainError):
    status_code = 422
    code = "invalid_input"


class NotAuthenticated(DomainError):
    status_code = 401
    code = "not_authenticated"


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class TooManyRequests(DomainError):
    status_code = 429
    code = "too_many_requests"


class ServiceUnavailable(DomainError):
    """A passing fault (database restarting, connection dropped): the client may retry."""

    status_code = 503
    code = "retry_later"
