"""The hash-chained audit log: every entry commits to the one before it.

Hash of an entry (``docs/bundle.md`` gives the same definition byte by byte)::

    entry_hash = SHA-256( b"stemmen-log-v1\\x00"
                          || prev_hash (32 raw bytes; 32 zero bytes before the first entry)
                          || canonical_json({"seq", "at", "round_id", "kind",
                                             "actor_role", "actor", "payload"}) )

The entry also stores ``prev_hash`` (hex) although it is already inside the hash: that lets a
verifier tell an edited entry (its own hash no longer matches its content) from a dropped,
inserted or moved one (its ``prev_hash`` no longer matches the entry before it).

A chain proves its own consistency, not that it was never rebuilt: whoever holds every entry
can recompute all hashes after an edit. That attack is caught by comparing with a head hash
published earlier, outside the server (``expected_head`` of :func:`verify_chain`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from stemmen.audit.canonical import CanonicalJSONError, canonical_bytes, to_canonical_value

__all__ = [
    "ACTOR_ROLES",
    "BALLOT_ACCEPTED",
    "BALLOT_SUPERSEDED",
    "EVENT_KINDS",
    "GENESIS_HASH",
    "LOG_DOMAIN",
    "PAPER_BATCH_CONFIRMED",
    "PROPOSAL_REVIEWED",
    "RESULT_PUBLISHED",
    "ROUND_CHANGED",
    "ROUND_CLOSED",
    "ROUND_CREATED",
    "ROUND_PHASE_CHANGED",
    "RULESET_PUBLISHED",
    "SEED_COMMITTED",
    "SEED_REVEALED",
    "ChainReport",
    "Finding",
    "LogEntry",
    "LogFormatError",
    "append",
    "entry_hash",
    "format_utc",
    "verify_chain",
]

LOG_DOMAIN = b"stemmen-log-v1\x00"
GENESIS_HASH = "00" * 32

RULESET_PUBLISHED = "ruleset.published"
ROUND_CREATED = "round.created"
ROUND_CHANGED = "round.changed"
ROUND_PHASE_CHANGED = "round.phase_changed"
PROPOSAL_REVIEWED = "proposal.reviewed"
BALLOT_ACCEPTED = "ballot.accepted"
BALLOT_SUPERSEDED = "ballot.superseded"
PAPER_BATCH_CONFIRMED = "paper_batch.confirmed"
SEED_COMMITTED = "seed.committed"
SEED_REVEALED = "seed.revealed"
ROUND_CLOSED = "round.closed"
RESULT_PUBLISHED = "result.published"

EVENT_KINDS = frozenset(
    {
        RULESET_PUBLISHED,
        ROUND_CREATED,
        ROUND_CHANGED,
        ROUND_PHASE_CHANGED,
        PROPOSAL_REVIEWED,
        BALLOT_ACCEPTED,
        BALLOT_SUPERSEDED,
        PAPER_BATCH_CONFIRMED,
        SEED_COMMITTED,
        SEED_REVEALED,
        ROUND_CLOSED,
        RESULT_PUBLISHED,
    }
)

# Officials and admins are named, because the council may ask who did what; residents never
# are (their ballots must not be linkable to them), nor is the scheduler ("system").
ROLES_WITH_ACTOR = frozenset({"official", "admin", "auditor"})
ROLES_WITHOUT_ACTOR = frozenset({"resident", "system"})
ACTOR_ROLES = ROLES_WITH_ACTOR | ROLES_WITHOUT_ACTOR

_RFC3339_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z")
_HEX64 = re.compile(r"[0-9a-f]{64}")


class LogFormatError(ValueError):
    """An entry that cannot be part of a log at all (wrong types, unknown kind, bad time)."""


@dataclass(frozen=True)
class Finding:
    """One discrepancy: which check, where (a person can find it), and what is wrong."""

    check: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.check} at {self.where}: {self.message}"


def format_utc(moment: datetime) -> str:
    """RFC 3339 in UTC with microseconds and a ``Z``, the form every log time takes."""
    if moment.tzinfo is None:
        raise LogFormatError("a log time must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _shape_problems(
    *, seq: Any, at: Any, round_id: Any, kind: Any, actor_role: Any, actor: Any, payload: Any
) -> list[str]:
    problems = []
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        problems.append(f"seq {seq!r} is not a positive integer")
    if not isinstance(at, str) or not _RFC3339_UTC.fullmatch(at):
        problems.append(f"time {at!r} is not RFC 3339 UTC (YYYY-MM-DDTHH:MM:SS[.f]Z)")
    if round_id is not None and not isinstance(round_id, str):
        problems.append(f"round_id {round_id!r} is neither a string nor null")
    if kind not in EVENT_KINDS:
        problems.append(f"unknown event kind {kind!r}")
    if actor_role not in ACTOR_ROLES:
        problems.append(f"unknown actor role {actor_role!r}")
    elif actor_role in ROLES_WITH_ACTOR and not (isinstance(actor, str) and actor):
        problems.append(
            f"an entry by a{'n' if actor_role[0] in 'aeiou' else ''} {actor_role} "
            "must name the actor"
        )
    elif actor_role in ROLES_WITHOUT_ACTOR and actor is not None:
        problems.append(f"an entry by a {actor_role} must not name an actor")
    if not isinstance(payload, Mapping):
        problems.append("payload is not a JSON object")
    return problems


@dataclass(frozen=True)
class LogEntry:
    """One audit-log event with its place in the chain. Build new ones with :func:`append`."""

    seq: int
    at: str
    round_id: str | None
    kind: str
    actor_role: str
    actor: str | None
    payload: Mapping[str, Any]
    prev_hash: str
    hash: str

    def body(self) -> dict[str, Any]:
        """The hashed fields, as the JSON object that is canonicalised."""
        return {
            "seq": self.seq,
            "at": self.at,
            "round_id": self.round_id,
            "kind": self.kind,
            "actor_role": self.actor_role,
            "actor": self.actor,
            "payload": self.payload,
        }

    def to_json(self) -> dict[str, Any]:
        return {**self.body(), "prev_hash": self.prev_hash, "hash": self.hash}

    @classmethod
    def from_json(cls, data: Any) -> LogEntry:
        """Read an entry as published; refuses anything that is not even shaped like one."""
        if not isinstance(data, Mapping):
            raise LogFormatError("a log entry must be a JSON object")
        expected = {
            "seq",
            "at",
            "round_id",
            "kind",
            "actor_role",
            "actor",
            "payload",
            "prev_hash",
            "hash",
        }
        missing = sorted(expected - set(data))
        extra = sorted(set(data) - expected)
        if missing or extra:
            raise LogFormatError(f"log entry fields: missing {missing}, unexpected {extra}")
        for name in ("prev_hash", "hash"):
            if not isinstance(data[name], str) or not _HEX64.fullmatch(data[name]):
                raise LogFormatError(f"{name} must be 64 lowercase hex characters")
        seq = data["seq"]
        if not isinstance(seq, int) or isinstance(seq, bool):
            raise LogFormatError(f"seq {seq!r} is not an integer")
        payload = data["payload"]
        if not isinstance(payload, Mapping):
            raise LogFormatError("payload is not a JSON object")
        # Kind, role and time are checked by verify_chain, so that one odd entry is reported
        # in place instead of making the whole log unreadable.
        return cls(
            seq=seq,
            at=str(data["at"]),
            round_id=data["round_id"],
            kind=str(data["kind"]),
            actor_role=str(data["actor_role"]),
            actor=data["actor"],
            payload=payload,
            prev_hash=data["prev_hash"],
            hash=data["hash"],
        )


def entry_hash(prev_hash: str, body: Mapping[str, Any]) -> str:
    """SHA-256(domain || prev hash bytes || canonical body), as hex."""
    digest = hashlib.sha256(LOG_DOMAIN)
    digest.update(bytes.fromhex(prev_hash))
    digest.update(canonical_bytes(body))
    return digest.hexdigest()


def append(
    prev: LogEntry | None,
    *,
    at: str | datetime,
    round_id: str | None,
    kind: str,
    actor_role: str,
    actor: str | None,
    payload: Mapping[str, Any],
) -> LogEntry:
    """The entry that follows ``prev`` (or starts a chain when ``prev`` is None), hashed."""
    at_text = format_utc(at) if isinstance(at, datetime) else at
    seq = 1 if prev is None else prev.seq + 1
    problems = _shape_problems(
        seq=seq,
        at=at_text,
        round_id=round_id,
        kind=kind,
        actor_role=actor_role,
        actor=actor,
        payload=payload,
    )
    if problems:
        raise LogFormatError("; ".join(problems))
    try:
        plain_payload = to_canonical_value(payload, "payload")
    except CanonicalJSONError as error:
        raise LogFormatError(str(error)) from error
    prev_hash = GENESIS_HASH if prev is None else prev.hash
    entry = LogEntry(
        seq=seq,
        at=at_text,
        round_id=round_id,
        kind=kind,
        actor_role=actor_role,
        actor=actor,
        payload=plain_payload,
        prev_hash=prev_hash,
        hash="",
    )
    return replace(entry, hash=entry_hash(prev_hash, entry.body()))


@dataclass(frozen=True)
class ChainReport:
    """What :func:`verify_chain` found. ``ok`` only when there is nothing to report."""

    entries: int
    head: str | None
    findings: tuple[Finding, ...] = ()
    # (head hash, seq at which it was found) for every head published earlier that matched.
    witnessed: tuple[tuple[str, int], ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.findings

    def summary(self) -> str:
        head = "empty" if self.head is None else f"head {self.head[:12]}..."
        text = f"{self.entries} entries, {head}"
        if self.witnessed:
            text += ", " + ", ".join(
                f"matches published head at seq {seq}" for _, seq in self.witnessed
            )
        return text


def verify_chain(
    entries: Sequence[LogEntry],
    expected_head: str | Iterable[str] | None = None,
) -> ChainReport:
    """Check a chain that starts at genesis: numbering, links, content, earlier heads.

    ``expected_head``: one or more head hashes published earlier (at the close, say). Each
    must be the hash of some entry of this chain whose prefix is intact; a chain rebuilt
    after an edit has different hashes from the edit on and so misses them.
    """
    findings: list[Finding] = []
    expected_seq = 1
    prev_hash = GENESIS_HASH
    first_bad_index: int | None = None
    for index, entry in enumerate(entries):
        where = f"log entry {index + 1} (seq {entry.seq})"
        before = len(findings)
        shape = _shape_problems(
            seq=entry.seq,
            at=entry.at,
            round_id=entry.round_id,
            kind=entry.kind,
            actor_role=entry.actor_role,
            actor=entry.actor,
            payload=entry.payload,
        )
        findings.extend(Finding("log.format", where, problem) for problem in shape)
        if entry.seq > expected_seq:
            missing = (
                f"seq {expected_seq}"
                if entry.seq == expected_seq + 1
                else f"seq {expected_seq} to {entry.seq - 1}"
            )
            findings.append(Finding("log.gap", where, f"{missing} missing: entries were dropped"))
        elif entry.seq < expected_seq:
            findings.append(
                Finding(
                    "log.order",
                    where,
                    f"seq {entry.seq} comes after seq {expected_seq - 1}: entries were moved or "
                    "inserted",
                )
            )
        if entry.prev_hash != prev_hash:
            findings.append(
                Finding(
                    "log.link",
                    where,
                    f"prev_hash {entry.prev_hash[:12]}... is not the hash of the entry before it "
                    f"({prev_hash[:12]}...): an entry before it was dropped, inserted or moved",
                )
            )
        try:
            recomputed = entry_hash(entry.prev_hash, entry.body())
        except (CanonicalJSONError, ValueError) as error:
            findings.append(Finding("log.format", where, f"cannot be hashed: {error}"))
        else:
            if recomputed != entry.hash:
                findings.append(
                    Finding(
                        "log.edited",
                        where,
                        f"content does not match its hash {entry.hash[:12]}... (recomputed "
                        f"{recomputed[:12]}...): the entry was changed after it was written",
                    )
                )
        if len(findings) > before and first_bad_index is None:
            first_bad_index = index
        prev_hash = entry.hash
        expected_seq = entry.seq + 1

    heads = [expected_head] if isinstance(expected_head, str) else list(expected_head or [])
    witnessed: list[tuple[str, int]] = []
    intact = len(entries) if first_bad_index is None else first_bad_index
    hash_to_index = {entry.hash: index for index, entry in enumerate(entries[:intact])}
    for head in heads:
        head = head.strip().lower()
        if head in hash_to_index:
            witnessed.append((head, entries[hash_to_index[head]].seq))
        else:
            findings.append(
                Finding(
                    "log.rewritten",
                    f"published head {head[:12]}...",
                    "no intact entry of this log has this hash: the log was rewritten after the "
                    "head was published (or the head belongs to another log)",
                )
            )
    return ChainReport(
        entries=len(entries),
        head=entries[-1].hash if entries else None,
        findings=tuple(findings),
        witnessed=tuple(witnessed),
    )
