"""Ballot receipts and the tie-break seed commitment.

Receipt hash (``docs/bundle.md`` gives it byte by byte)::

    receipt_hash = SHA-256( b"stemmen-receipt-v1\\x00" || nonce (32 random bytes)
                            || canonical_json(ballot record) )

The ballot record holds only what is published about the ballot (round, area or answers,
the choices), never a pseudonym or a time, so that after publication anyone can recompute
every receipt from the published nonce and ballot. Before publication the nonce is secret,
so a receipt seen in the log (``ballot.accepted``) does not reveal the choices, however few
possible ballots there are.

Receipt code: what the resident is shown. It is the first 100 bits of the receipt hash
(exactly its first 25 hex characters) in Crockford base32, 20 characters, plus one Luhn
mod 32 check character that catches every single mistyped character and most swaps, written
as seven groups of three: ``7KQ-2M9-XDA-0RT-C4N-H8W-VE5``. The full hash is recovered from
the published record, where it is the only receipt starting with those 100 bits (a clash
between two ballots needs about 2**50 ballots).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from stemmen.audit.canonical import canonical_bytes

__all__ = [
    "CODE_ALPHABET",
    "NONCE_BYTES",
    "RECEIPT_DOMAIN",
    "SEED_DOMAIN",
    "Receipt",
    "ReceiptCodeError",
    "ballot_record_bytes",
    "budget_ballot_record",
    "check_seed",
    "code_prefix",
    "commit_seed",
    "compute_receipt_hash",
    "make_receipt",
    "new_nonce",
    "new_seed",
    "preferendum_ballot_record",
    "receipt_code",
    "receipt_hash",
]

RECEIPT_DOMAIN = b"stemmen-receipt-v1\x00"
SEED_DOMAIN = b"stemmen-seed-v1\x00"
NONCE_BYTES = 32
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
CODE_BITS = 100
CODE_DATA_CHARS = CODE_BITS // 5
CODE_HEX_CHARS = CODE_BITS // 4
CODE_GROUP = 3
# Letters people confuse with digits are read as the digit, as Crockford's base32 intends.
_READ_AS = {"I": "1", "L": "1", "O": "0"}


class ReceiptCodeError(ValueError):
    """A receipt code that cannot be read; the message says what to check."""


@dataclass(frozen=True)
class Receipt:
    """A ballot's receipt: the full hash (published, logged) and the code the resident keeps."""

    hash: str
    code: str


def new_nonce() -> bytes:
    return secrets.token_bytes(NONCE_BYTES)


def new_seed() -> str:
    """A fresh tie-break seed: 64 hex characters from the operating system's random source."""
    return secrets.token_hex(32)


def budget_ballot_record(
    round_id: str, area: str, vote: Sequence[str], points: Sequence[int] | None = None
) -> dict[str, Any]:
    """The record a budget ballot's receipt commits to.

    ``vote`` is the project ids in the order of the ``vote`` column of the published ``.pb``
    file (best first for ordinal ballots); ``points`` the ``points`` column, when it has one.
    """
    record: dict[str, Any] = {
        "kind": "budget",
        "round": round_id,
        "area": area,
        "vote": list(vote),
    }
    if points is not None:
        record["points"] = list(points)
    return record


def preferendum_ballot_record(round_id: str, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The record a preferendum ballot's receipt commits to.

    ``answers`` maps a question id to the answer in the tally JSON ballot form without
    ``count`` (``{"ranking": [[...], ...]}``, ``{"grades": {...}}`` or ``{"approvals": [...]}``);
    a question left blank is absent.
    """
    return {"kind": "preferendum", "round": round_id, "answers": dict(answers)}


def compute_receipt_hash(ballot_record_canonical_bytes: bytes, nonce: bytes) -> str:
    if len(nonce) != NONCE_BYTES:
        raise ValueError(f"a receipt nonce has {NONCE_BYTES} bytes, not {len(nonce)}")
    digest = hashlib.sha256(RECEIPT_DOMAIN)
    digest.update(nonce)
    digest.update(ballot_record_canonical_bytes)
    return digest.hexdigest()


def _check_character(data: str) -> str:
    """Luhn mod 32 over Crockford digits: the character that makes the code sum to 0."""
    base = len(CODE_ALPHABET)
    total = 0
    factor = 2
    for character in reversed(data):
        addend = factor * CODE_ALPHABET.index(character)
        total += addend // base + addend % base
        factor = 1 if factor == 2 else 2
    return CODE_ALPHABET[(base - total % base) % base]


def receipt_code(receipt_hash_hex: str) -> str:
    """The code shown to the resident for a receipt hash."""
    value = int(receipt_hash_hex[:CODE_HEX_CHARS], 16)
    data = "".join(
        CODE_ALPHABET[(value >> (5 * (CODE_DATA_CHARS - 1 - i))) & 31]
        for i in range(CODE_DATA_CHARS)
    )
    text = data + _check_character(data)
    return "-".join(text[i : i + CODE_GROUP] for i in range(0, len(text), CODE_GROUP))


def make_receipt(ballot_record_canonical_bytes: bytes, nonce: bytes) -> Receipt:
    """Hash a ballot record with its nonce; the service stores ``hash`` and shows ``code``."""
    full = compute_receipt_hash(ballot_record_canonical_bytes, nonce)
    return Receipt(hash=full, code=receipt_code(full))


def code_prefix(code: str) -> str:
    """The 25 lowercase hex characters a receipt code stands for (its hash starts with them).

    Accepts lower case, spaces and dashes anywhere, and reads I, L as 1 and O as 0.
    """
    text = "".join(code.split()).replace("-", "").upper()
    text = "".join(_READ_AS.get(character, character) for character in text)
    if len(text) != CODE_DATA_CHARS + 1:
        raise ReceiptCodeError(
            f"a receipt code has {CODE_DATA_CHARS + 1} characters (not counting dashes); "
            f"this one has {len(text)}"
        )
    bad = sorted({character for character in text if character not in CODE_ALPHABET})
    if bad:
        raise ReceiptCodeError(f"a receipt code cannot contain {', '.join(bad)}")
    data, check = text[:-1], text[-1]
    if _check_character(data) != check:
        raise ReceiptCodeError(
            "this receipt code has a typing error (its check character does not match): "
            "compare it character by character with the one you were given"
        )
    value = 0
    for character in data:
        value = value * 32 + CODE_ALPHABET.index(character)
    return f"{value:0{CODE_HEX_CHARS}x}"


def receipt_hash(code: str, published_receipts: Iterable[str]) -> str | None:
    """The full published receipt hash that ``code`` stands for, or None when none is.

    Raises :class:`ReceiptCodeError` for a mistyped code, and when two published receipts
    share the code's 100 bits (which honest random nonces make practically impossible).
    """
    prefix = code_prefix(code)
    matches = sorted({full for full in published_receipts if full.startswith(prefix)})
    if len(matches) > 1:
        raise ReceiptCodeError(f"{len(matches)} published receipts start with {prefix}")
    return matches[0] if matches else None


def commit_seed(seed: str) -> str:
    """The commitment logged when voting opens: SHA-256(domain || seed as UTF-8), hex."""
    return hashlib.sha256(SEED_DOMAIN + seed.encode("utf-8")).hexdigest()


def check_seed(seed: str, commitment: str) -> bool:
    """Whether the seed revealed at publication is the one committed to at the opening."""
    return hmac.compare_digest(commit_seed(seed), commitment.strip().lower())


def ballot_record_bytes(record: Mapping[str, Any]) -> bytes:
    return canonical_bytes(record)
