"""Structured logs: one JSON object per line, each carrying the request id.

Privacy: nothing here logs subject ids, ballot contents or addresses; code that logs at info
level passes only ids of rounds, proposals and receipts.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

import msgspec

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)


_FIELDS = ("method", "path", "status", "duration_ms", "code", "round_id")
_encode = msgspec.json.Encoder(decimal_format="number").encode


class JsonFormatter(logging.Formatter):
    """One JSON object per record; a request's line costs a few microseconds (the service
    writes one per request at info level)."""

    def __init__(self) -> None:
        super().__init__()
        self._second = -1
        self._stamp = ""

    def _time(self, created: float) -> str:
        # The date and time to the second, formatted once a second; milliseconds appended.
        second = int(created)
        if second != self._second:
            self._second = second
            self._stamp = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        return f"{self._stamp}.{int((created - second) * 1000):03d}+00:00"

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self._time(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        fields = record.__dict__
        for key in _FIELDS:
            if key in fields:
                entry[key] = fields[key]
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        try:
            return _encode(entry).decode()
        except (TypeError, msgspec.EncodeError):
            return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("stemmen")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
