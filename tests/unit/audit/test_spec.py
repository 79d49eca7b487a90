"""docs/bundle.md is enough to verify a bundle: an independent verifier written from it alone.

Nothing here imports stemmen's hashing code; only hashlib, the RFC 8785 package and the text
of the specification. If this test and the engine ever disagree, the documentation is wrong.
"""

from __future__ import annotations

import csv
import hashlib
import io

import rfc8785

from .rounds import budget_round, preferendum_round


def H(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def spec_receipt(nonce: bytes, record: dict) -> str:
    return H(b"stemmen-receipt-v1\x00" + nonce + rfc8785.dumps(record)).hex()


def spec_root(leaves: list[bytes]) -> bytes:
    if not leaves:
        return H(b"")
    if len(leaves) == 1:
        return H(b"\x00" + leaves[0])
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return H(b"\x01" + spec_root(leaves[:k]) + spec_root(leaves[k:]))


def spec_entry_hash(entry: dict) -> str:
    body = {
        key: entry[key]
        for key in ("seq", "at", "round_id", "kind", "actor_role", "actor", "payload")
    }
    return H(b"stemmen-log-v1\x00" + bytes.fromhex(entry["prev_hash"]) + rfc8785.dumps(body)).hex()


CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def spec_code(receipt: str) -> str:
    value = int(receipt[:25], 16)
    data = [(value >> (5 * (19 - i))) & 31 for i in range(20)]
    total = 0
    for position, digit in enumerate(reversed(data)):
        doubled = digit * 2 if position % 2 == 0 else digit
        total += doubled // 32 + doubled % 32
    text = "".join(CROCKFORD[d] for d in data) + CROCKFORD[(32 - total % 32) % 32]
    return "-".join(text[i : i + 3] for i in range(0, 21, 3))


def test_the_documented_test_vectors():
    nonce = bytes(range(32))
    record = {"area": "WK026801", "kind": "budget", "round": "r-budget-1", "vote": ["p2", "p7"]}
    receipt = spec_receipt(nonce, record)
    assert receipt == "c36035d0a5da39c67fe9c415daac1e1e7629061845ff0498985e92b07b102d2f"
    assert spec_code(receipt) == "RDG-3BM-55V-8WW-CZZ-9RG-AXV"
    assert spec_root([bytes.fromhex(receipt)]).hex() == (
        "0383bd898a9061bbfe637370eade1abc5295d701e3af334b70992d2691b024c5"
    )
    preferendum = {
        "answers": {
            "q1": {"ranking": [["groen"], ["auto", "markt"]]},
            "q2": {"grades": {"m1": "voor"}},
        },
        "kind": "preferendum",
        "round": "r-pref-1",
    }
    assert spec_receipt(nonce, preferendum) == (
        "d51d0646d1cb58d3361931642a0d888ec0bad1260af1dc25c34dde5f2d3c6594"
    )
    assert H(b"stemmen-seed-v1\x00" + ("5eed" * 16).encode()).hex() == (
        "184c075e17149dd504a5ec9dadca2cbcfa523dd0619d5c8011a0474c8bdcb2f5"
    )
    entry = {
        "seq": 1,
        "at": "2026-03-02T09:07:00.000000Z",
        "round_id": "r-budget-1",
        "kind": "round.created",
        "actor_role": "official",
        "actor": "j.devries",
        "payload": {"ruleset_hash": "1a" * 32},
        "prev_hash": "0" * 64,
    }
    assert spec_entry_hash(entry) == (
        "447ae5d107baf1c109670357febac5fee41a008b924495e8b734a0ebd9964b6e"
    )


def _verify_common(bundle: dict) -> None:
    entries = bundle["log"]["entries"]
    previous = "0" * 64
    for number, entry in enumerate(entries, start=1):
        assert entry["seq"] == number
        assert entry["prev_hash"] == previous
        assert spec_entry_hash(entry) == entry["hash"]
        previous = entry["hash"]
    assert bundle["log"]["head"] == previous
    receipts = bundle["receipts"]
    assert receipts == sorted(set(receipts))
    root = spec_root([bytes.fromhex(r) for r in receipts]).hex()
    assert root == bundle["merkle_root"]
    closed = next(e for e in entries if e["kind"] == "round.closed")
    assert closed["payload"]["merkle_root"] == root
    ruleset = bundle["ruleset"]
    assert H(rfc8785.dumps(ruleset["document"])).hex() == ruleset["hash"]
    frame = {k: v for k, v in bundle["round"].items() if k != "phases"}
    opening = next(
        e for e in entries if e["kind"] == "round.phase_changed" and e["payload"]["to"] == "voting"
    )
    assert opening["payload"]["round_hash"] == H(rfc8785.dumps(frame)).hex()
    assert opening["payload"]["ruleset_hash"] == ruleset["hash"]
    assert (
        H(rfc8785.dumps(bundle["results"])).hex()
        == next(e for e in entries if e["kind"] == "result.published")["payload"]["results_hash"]
    )


def test_a_budget_bundle_verifies_from_the_specification_alone():
    bundle = budget_round(voters=30).bundle
    _verify_common(bundle)
    seen = []
    for area in bundle["cast_vote_record"]["areas"]:
        rows = list(csv.reader(io.StringIO(area["pabulib"]), delimiter=";"))
        start = next(i for i, row in enumerate(rows) if row == ["VOTES"]) + 1
        header = rows[start]
        for row in rows[start + 1 :]:
            ballot = dict(zip(header, row, strict=True))
            record = {
                "kind": "budget",
                "round": bundle["round"]["id"],
                "area": area["area"],
                "vote": ballot["vote"].split(",") if ballot["vote"] else [],
            }
            assert spec_receipt(bytes.fromhex(ballot["nonce"]), record) == ballot["voter_id"]
            seen.append(ballot["voter_id"])
    assert sorted(seen) == bundle["receipts"]


def test_a_preferendum_bundle_verifies_from_the_specification_alone():
    bundle = preferendum_round(voters=30).bundle
    _verify_common(bundle)
    for ballot in bundle["cast_vote_record"]["ballots"]:
        record = {
            "kind": "preferendum",
            "round": bundle["round"]["id"],
            "answers": ballot["answers"],
        }
        assert spec_receipt(bytes.fromhex(ballot["nonce"]), record) == ballot["receipt"]
    assert (
        sorted(b["receipt"] for b in bundle["cast_vote_record"]["ballots"]) == (bundle["receipts"])
    )
