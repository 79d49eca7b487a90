"""The hash-chained audit log: each kind of tampering is found, and said where."""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from stemmen.audit.canonical import canonical_bytes
from stemmen.audit.chain import (
    BALLOT_ACCEPTED,
    EVENT_KINDS,
    GENESIS_HASH,
    ROUND_CREATED,
    ROUND_PHASE_CHANGED,
    LogEntry,
    LogFormatError,
    append,
    entry_hash,
    format_utc,
    verify_chain,
)

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def build_chain(count: int = 8) -> list[LogEntry]:
    entries = [
        append(
            None,
            at=START,
            round_id="r1",
            kind=ROUND_CREATED,
            actor_role="official",
            actor="j.devries",
            payload={"ruleset_hash": "ab" * 32},
        )
    ]
    for index in range(1, count):
        entries.append(
            append(
                entries[-1],
                at=START + timedelta(minutes=index),
                round_id="r1",
                kind=BALLOT_ACCEPTED,
                actor_role="resident",
                actor=None,
                payload={"receipt": f"{index:064x}", "channel": "online"},
            )
        )
    return entries


def checks(report) -> list[str]:
    return [finding.check for finding in report.findings]


def test_event_kinds_are_the_documented_twelve():
    assert {
        "ruleset.published",
        "round.created",
        "round.changed",
        "round.phase_changed",
        "proposal.reviewed",
        "ballot.accepted",
        "ballot.superseded",
        "paper_batch.confirmed",
        "seed.committed",
        "seed.revealed",
        "round.closed",
        "result.published",
    } == EVENT_KINDS


def test_the_first_entry_hashes_domain_32_zero_bytes_and_the_canonical_body():
    first = build_chain(1)[0]
    body = (
        b'{"actor":"j.devries","actor_role":"official","at":"2026-03-01T09:00:00.000000Z",'
        b'"kind":"round.created","payload":{"ruleset_hash":"' + b"ab" * 32 + b'"},'
        b'"round_id":"r1","seq":1}'
    )
    assert canonical_bytes(first.body()) == body
    assert first.prev_hash == GENESIS_HASH
    assert first.hash == hashlib.sha256(b"stemmen-log-v1\x00" + bytes(32) + body).hexdigest()


def test_each_entry_links_to_the_one_before():
    entries = build_chain()
    for earlier, later in itertools.pairwise(entries):
        assert later.prev_hash == earlier.hash
        assert later.seq == earlier.seq + 1
        assert later.hash == entry_hash(earlier.hash, later.body())


def test_an_intact_chain_verifies():
    entries = build_chain()
    report = verify_chain(entries, expected_head=entries[-1].hash)
    assert report.ok
    assert report.entries == 8
    assert report.head == entries[-1].hash
    assert report.witnessed == ((entries[-1].hash, 8),)


def test_an_empty_chain_verifies_with_no_head():
    report = verify_chain([])
    assert report.ok
    assert report.head is None


def test_an_edited_payload_is_found_at_that_entry_only():
    entries = build_chain()
    entries[3] = replace(entries[3], payload={"receipt": "ff" * 32, "channel": "online"})
    report = verify_chain(entries)
    assert checks(report) == ["log.edited"]
    assert "seq 4" in report.findings[0].where


def test_an_edited_time_or_actor_is_found():
    entries = build_chain()
    entries[2] = replace(entries[2], at="2026-03-01T08:00:00.000000Z")
    entries[5] = replace(entries[5], actor_role="official", actor="someone")
    assert checks(verify_chain(entries)) == ["log.edited", "log.edited"]


def test_a_dropped_entry_leaves_a_gap_and_a_broken_link():
    entries = build_chain()
    del entries[4]
    report = verify_chain(entries)
    assert checks(report) == ["log.gap", "log.link"]
    assert "seq 5 missing" in report.findings[0].message


def test_a_dropped_last_entry_is_caught_by_the_head_published_earlier():
    entries = build_chain()
    head = entries[-1].hash
    assert verify_chain(entries[:-1]).ok  # a prefix is a valid chain on its own
    assert checks(verify_chain(entries[:-1], expected_head=head)) == ["log.rewritten"]


def test_reordered_entries_are_found():
    entries = build_chain()
    entries[2], entries[3] = entries[3], entries[2]
    found = checks(verify_chain(entries))
    assert "log.order" in found
    assert "log.link" in found
    assert "log.edited" not in found


def test_an_inserted_entry_is_found():
    entries = build_chain()
    forged = append(
        entries[2],
        at=START,
        round_id="r1",
        kind=BALLOT_ACCEPTED,
        actor_role="resident",
        actor=None,
        payload={"receipt": "ee" * 32, "channel": "online"},
    )
    entries.insert(3, forged)
    report = verify_chain(entries)
    assert checks(report) == ["log.order", "log.link"]
    assert "seq 4" in report.findings[0].where


def test_a_rewritten_chain_is_consistent_but_misses_the_head_published_earlier():
    entries = build_chain()
    published_at_close = entries[5].hash
    # The attacker edits entry 3 and recomputes every hash after it.
    rewritten = entries[:2]
    for entry in entries[2:]:
        payload = {"receipt": "dd" * 32, "channel": "online"} if entry.seq == 3 else entry.payload
        rewritten.append(
            append(
                rewritten[-1],
                at=entry.at,
                round_id=entry.round_id,
                kind=entry.kind,
                actor_role=entry.actor_role,
                actor=entry.actor,
                payload=payload,
            )
        )
    assert verify_chain(rewritten).ok
    report = verify_chain(rewritten, expected_head=published_at_close)
    assert checks(report) == ["log.rewritten"]
    assert verify_chain(entries, expected_head=[entries[1].hash, published_at_close]).ok


def test_a_published_head_behind_an_edit_does_not_count_as_witnessed():
    entries = build_chain()
    head = entries[6].hash
    entries[2] = replace(entries[2], payload={"receipt": "00" * 32})
    assert checks(verify_chain(entries, expected_head=head)) == ["log.edited", "log.rewritten"]


def test_entries_round_trip_through_json():
    entries = build_chain()
    assert [LogEntry.from_json(entry.to_json()) for entry in entries] == entries


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "ballot.stuffed"}, "unknown event kind"),
        ({"actor_role": "resident", "actor": "p.jansen"}, "must not name an actor"),
        ({"actor_role": "official", "actor": None}, "must name the actor"),
        ({"at": "2026-03-01 09:00"}, "RFC 3339"),
        ({"at": "2026-03-01T09:00:00+01:00"}, "RFC 3339"),
    ],
)
def test_append_refuses_malformed_entries(change, message):
    arguments = {
        "at": "2026-03-01T09:00:00Z",
        "round_id": "r1",
        "kind": ROUND_PHASE_CHANGED,
        "actor_role": "official",
        "actor": "j.devries",
        "payload": {},
    }
    with pytest.raises(LogFormatError, match=message):
        append(None, **{**arguments, **change})


def test_floats_in_a_payload_are_refused():
    with pytest.raises(LogFormatError, match="float"):
        append(
            None,
            at=START,
            round_id=None,
            kind=ROUND_CREATED,
            actor_role="system",
            actor=None,
            payload={"share": 0.5},
        )


def test_a_malformed_entry_in_a_published_log_is_reported_not_raised():
    entries = build_chain(3)
    odd = replace(entries[1], kind="ballot.stuffed")
    odd = replace(odd, hash=entry_hash(odd.prev_hash, odd.body()))
    entries[1] = odd
    entries[2] = replace(entries[2], prev_hash=odd.hash)
    entries[2] = replace(entries[2], hash=entry_hash(odd.hash, entries[2].body()))
    assert checks(verify_chain(entries)) == ["log.format"]


def test_times_are_written_in_utc_with_microseconds():
    amsterdam = timezone(timedelta(hours=1))
    assert format_utc(datetime(2026, 3, 1, 10, 0, 0, 5, tzinfo=amsterdam)) == (
        "2026-03-01T09:00:00.000005Z"
    )
    with pytest.raises(LogFormatError):
        format_utc(datetime(2026, 3, 1))
