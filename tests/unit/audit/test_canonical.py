"""Canonical JSON: RFC 8785 bytes, and a clear refusal for what has no exact form."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stemmen.audit.canonical import (
    CanonicalJSONError,
    canonical_bytes,
    canonical_hash,
    sha256_hex,
)


def test_keys_are_sorted_and_there_is_no_whitespace():
    assert canonical_bytes({"b": 1, "a": [True, None, "x"]}) == b'{"a":[true,null,"x"],"b":1}'


def test_non_ascii_text_is_utf8_not_escaped():
    assert canonical_bytes({"naam": "Bottendaal é"}) == '{"naam":"Bottendaal é"}'.encode()


def test_keys_sort_by_utf16_code_units_as_rfc8785_requires():
    # U+1F600 is a surrogate pair starting 0xD83D, which sorts before U+FFFF (RFC 8785 3.2.3).
    assert canonical_bytes({"\uffff": 1, "\U0001f600": 2}) == '{"😀":2,"\uffff":1}'.encode()


def test_fractions_become_p_over_q_in_lowest_terms_even_when_whole():
    assert (
        canonical_bytes([Fraction(6, 4), Fraction(3), Fraction(-1, 3)]) == b'["3/2","3/1","-1/3"]'
    )


def test_tuples_are_arrays():
    assert canonical_bytes((1, (2, 3))) == b"[1,[2,3]]"


@pytest.mark.parametrize("value", [1.5, {"share": 0.1}, [1, 2.0]])
def test_floats_are_refused_with_the_path(value):
    with pytest.raises(CanonicalJSONError, match="float"):
        canonical_bytes(value)


def test_the_refusal_names_where_the_float_is():
    with pytest.raises(CanonicalJSONError, match=r"\$\.result\[1\]"):
        canonical_bytes({"result": [1, 0.5]})


def test_integers_beyond_the_exact_json_range_are_refused():
    assert canonical_bytes(2**53 - 1) == b"9007199254740991"
    with pytest.raises(CanonicalJSONError, match="exact JSON range"):
        canonical_bytes(2**53)


@pytest.mark.parametrize("value", [{1: "a"}, {"a": object()}, {"a": {1, 2}}, b"bytes"])
def test_other_types_are_refused_rather_than_guessed(value):
    with pytest.raises(CanonicalJSONError):
        canonical_bytes(value)


def test_sha256_hex_matches_the_known_empty_digest():
    assert sha256_hex(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_the_hash_does_not_depend_on_key_order(value):
    if isinstance(value, dict):
        reordered = dict(reversed(list(value.items())))
        assert canonical_hash(reordered) == canonical_hash(value)
    assert canonical_bytes(value) == canonical_bytes(value)


any_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=6)
any_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | any_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(any_json)
def test_the_fast_path_writes_exactly_what_the_reference_rfc8785_package_writes(value):
    import rfc8785

    assert canonical_bytes(value) == rfc8785.dumps(value)


def test_a_lone_surrogate_is_refused():
    with pytest.raises(CanonicalJSONError):
        canonical_bytes({"a": "\ud800"})
