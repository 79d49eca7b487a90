"""Receipts: a hash of the ballot record with a nonce; a short code with a check character."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stemmen.audit.canonical import canonical_bytes
from stemmen.audit.receipts import (
    CODE_ALPHABET,
    ReceiptCodeError,
    budget_ballot_record,
    check_seed,
    code_prefix,
    commit_seed,
    compute_receipt_hash,
    make_receipt,
    new_nonce,
    new_seed,
    preferendum_ballot_record,
    receipt_code,
    receipt_hash,
)

NONCE = bytes(range(32))
RECORD = budget_ballot_record("r1", "WK026801", ["p2", "p7"])


def test_the_receipt_hash_is_sha256_of_domain_nonce_and_canonical_record():
    expected = hashlib.sha256(
        b"stemmen-receipt-v1\x00"
        + NONCE
        + b'{"area":"WK026801","kind":"budget","round":"r1","vote":["p2","p7"]}'
    ).hexdigest()
    assert make_receipt(canonical_bytes(RECORD), NONCE).hash == expected


def test_the_same_ballot_with_another_nonce_has_another_receipt():
    first = make_receipt(canonical_bytes(RECORD), new_nonce())
    second = make_receipt(canonical_bytes(RECORD), new_nonce())
    assert first.hash != second.hash


def test_a_nonce_must_have_32_bytes():
    with pytest.raises(ValueError, match="32 bytes"):
        compute_receipt_hash(b"{}", b"short")


def test_the_code_is_seven_groups_of_three_from_the_crockford_alphabet():
    code = make_receipt(canonical_bytes(RECORD), NONCE).code
    groups = code.split("-")
    assert [len(group) for group in groups] == [3] * 7
    assert set("".join(groups)) <= set(CODE_ALPHABET)


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=32, max_size=32))
def test_the_code_stands_for_the_first_100_bits_of_the_hash(raw):
    full = raw.hex()
    assert code_prefix(receipt_code(full)) == full[:25]


def test_codes_are_read_forgivingly_lower_case_spaces_and_look_alike_letters():
    full = make_receipt(canonical_bytes(RECORD), NONCE).hash
    code = receipt_code(full)
    sloppy = " " + code.lower().replace("-", " ").replace("1", "l").replace("0", "o") + " "
    assert code_prefix(sloppy) == full[:25]


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=32, max_size=32), st.data())
def test_every_single_mistyped_character_is_caught_by_the_check_character(raw, data):
    text = receipt_code(raw.hex()).replace("-", "")
    position = data.draw(st.integers(0, len(text) - 1))
    wrong = data.draw(st.sampled_from([c for c in CODE_ALPHABET if c != text[position]]))
    with pytest.raises(ReceiptCodeError, match="typing error"):
        code_prefix(text[:position] + wrong + text[position + 1 :])


def test_swapped_neighbours_are_caught():
    text = receipt_code("0123456789abcdef" * 4).replace("-", "")
    caught = 0
    pairs = 0
    for i in range(len(text) - 1):
        if text[i] != text[i + 1]:
            pairs += 1
            swapped = text[:i] + text[i + 1] + text[i] + text[i + 2 :]
            try:
                code_prefix(swapped)
            except ReceiptCodeError:
                caught += 1
    assert caught == pairs


@pytest.mark.parametrize(
    ("code", "message"), [("ABC-DEF", "21 characters"), ("U" * 21, "cannot contain U")]
)
def test_malformed_codes_say_what_is_wrong(code, message):
    with pytest.raises(ReceiptCodeError, match=message):
        code_prefix(code)


def test_the_full_hash_is_found_among_the_published_receipts():
    receipts = [make_receipt(canonical_bytes(RECORD), new_nonce()) for _ in range(20)]
    published = [r.hash for r in receipts]
    for receipt in receipts:
        assert receipt_hash(receipt.code, published) == receipt.hash
    missing = make_receipt(canonical_bytes(RECORD), new_nonce())
    assert receipt_hash(missing.code, published) is None


def test_preferendum_records_carry_the_answers_per_question():
    record = preferendum_ballot_record("r2", {"q1": {"grades": {"a": 4}}})
    assert (
        canonical_bytes(record)
        == b'{"answers":{"q1":{"grades":{"a":4}}},"kind":"preferendum","round":"r2"}'
    )


def test_a_revealed_seed_matches_its_commitment_and_no_other_seed_does():
    seed = new_seed()
    commitment = commit_seed(seed)
    assert commitment == hashlib.sha256(b"stemmen-seed-v1\x00" + seed.encode()).hexdigest()
    assert check_seed(seed, commitment)
    assert not check_seed(seed + "0", commitment)
    assert not check_seed(new_seed(), commitment)
