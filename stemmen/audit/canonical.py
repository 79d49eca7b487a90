"""Canonical JSON (RFC 8785, the JSON Canonicalization Scheme) and the hashes built on it.

Everything stemmen hashes (rule-set versions, log entries, ballot records, results) goes
through :func:`canonical_bytes`, so the same content always has the same bytes, whoever
serialises it and in whatever language.

What RFC 8785 cannot take, and our rule for it:

- ``float``: refused (:class:`CanonicalJSONError`). A float in an outcome means a rounding
  decision nobody can reproduce; money is integer cents and shares are fractions.
- ``fractions.Fraction``: written as the string ``"p/q"`` in lowest terms with ``q >= 1``,
  also when ``q == 1`` (``Fraction(3)`` is ``"3/1"``), so a reader never has to guess whether
  a string is a fraction.
- integers outside I-JSON's exact range (``|n| > 2**53 - 1``): refused; JavaScript readers
  would silently round them.
- ``bool`` and ``None`` are JSON's own ``true``, ``false``, ``null``; tuples are arrays;
  mappings must have string keys. Any other type is refused rather than guessed at.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import rfc8785

__all__ = [
    "MAX_SAFE_INTEGER",
    "CanonicalJSONError",
    "canonical_bytes",
    "canonical_hash",
    "sha256_hex",
    "to_canonical_value",
]

MAX_SAFE_INTEGER = 2**53 - 1


class CanonicalJSONError(ValueError):
    """A value that has no canonical JSON form under our rules; the message says where."""


def sha256_hex(data: bytes) -> str:
    """SHA-256 of ``data`` as 64 lowercase hexadecimal characters."""
    return hashlib.sha256(data).hexdigest()


def to_canonical_value(value: Any, path: str = "$") -> Any:
    """The plain JSON value (dict, list, str, int, bool, None) that ``value`` stands for."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise CanonicalJSONError(
                f"{path}: integer {value} is outside the exact JSON range (|n| <= 2**53 - 1)"
            )
        return value
    if isinstance(value, Fraction):
        return f"{value.numerator}/{value.denominator}"
    if isinstance(value, float):
        raise CanonicalJSONError(
            f"{path}: float {value!r} refused; use integer cents or fractions.Fraction"
        )
    if isinstance(value, Mapping):
        result: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise CanonicalJSONError(f"{path}: object key {key!r} is not a string")
            result[key] = to_canonical_value(item, f"{path}.{key}")
        return result
    if isinstance(value, (list, tuple)):
        return [to_canonical_value(item, f"{path}[{index}]") for index, item in enumerate(value)]
    raise CanonicalJSONError(f"{path}: {type(value).__name__} has no canonical JSON form")


class _NeedsCarefulPath(Exception):
    """Raised by the fast walk for anything it does not simply copy; the careful one decides."""


def _fast_plain(value: Any) -> Any:
    """:func:`to_canonical_value` for the common case, without paths or Fractions.

    Raises :class:`_NeedsCarefulPath` on anything unusual, including object keys that
    Python would sort differently from RFC 8785 (characters from U+E000 up, where UTF-16
    order and code-point order part ways).
    """
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return value
    if kind is int:
        if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            return value
        raise _NeedsCarefulPath
    if kind is dict:
        result = {}
        for key, item in value.items():
            if type(key) is not str or not (key.isascii() or max(key, default="") < "\ue000"):
                raise _NeedsCarefulPath
            result[key] = _fast_plain(item)
        return result
    if kind is list or kind is tuple:
        return [_fast_plain(item) for item in value]
    raise _NeedsCarefulPath


def canonical_bytes(value: Any) -> bytes:
    """The RFC 8785 serialisation of ``value`` (UTF-8, sorted keys, no whitespace)."""
    # For integers, strings, booleans and null, Python's own serialiser writes exactly what
    # RFC 8785 prescribes (same escapes, lowercase \u00xx, nothing else escaped) and is about
    # ten times faster than the reference package, which handles everything else.
    try:
        plain = _fast_plain(value)
    except _NeedsCarefulPath:
        pass
    else:
        text = json.dumps(plain, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:
            pass  # a lone surrogate: let the reference package refuse it with its message
    plain = to_canonical_value(value)
    try:
        return rfc8785.dumps(plain)
    except rfc8785.CanonicalizationError as error:  # e.g. a lone surrogate in a string
        raise CanonicalJSONError(f"$: {error}") from error


def canonical_hash(value: Any) -> str:
    """SHA-256 hex of the canonical JSON of ``value``: the content id used everywhere."""
    return sha256_hex(canonical_bytes(value))
