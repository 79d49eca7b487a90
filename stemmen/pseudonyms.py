"""Per-round pseudonyms: a keyed hash of round and subject.

Ballots, supports and proposal authorship are stored under these, never under the subject,
so the database alone cannot tell who voted what; the key lives only in the service's
settings. The same resident gets unrelated pseudonyms in different rounds.
"""

from __future__ import annotations

import hashlib
import hmac


def pseudonym(key: str, round_id: str, subject: str, purpose: str = "voter") -> str:
    message = f"stemmen-pseudonym-v1\x00{purpose}\x00{round_id}\x00{subject}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()
