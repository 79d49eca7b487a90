"""A rule-set version is identified by the SHA-256 of its RFC 8785 canonical JSON: the same
content always gets the same id, whatever the key order or whitespace of the file."""

from __future__ import annotations

import hashlib
import json
import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from stemmen.rules import canonical_json, load_ruleset, ruleset_hash
from tests.support import PROJECT_ROOT

EXAMPLES_DIR = PROJECT_ROOT / "examples" / "rulesets"
EXAMPLE_TEXTS = {
    path.name: path.read_text(encoding="utf-8") for path in sorted(EXAMPLES_DIR.glob("*.json"))
}


def shuffled(value: Any, rng: random.Random) -> Any:
    """The same JSON value with every object's keys in a random order (lists keep theirs)."""
    if isinstance(value, dict):
        keys = list(value)
        rng.shuffle(keys)
        return {key: shuffled(value[key], rng) for key in keys}
    if isinstance(value, list):
        return [shuffled(item, rng) for item in value]
    return value


def test_canonical_json_sorts_keys_and_drops_whitespace() -> None:
    document = {"b": 1, "a": [True, None, "é"], "c": {"z": "", "y": -5}}
    assert canonical_json(document) == b'{"a":[true,null,"\xc3\xa9"],"b":1,"c":{"y":-5,"z":""}}'


def test_hash_is_hex_sha256_of_the_canonical_json() -> None:
    document = {"title": "Top Idee", "schema_version": 1}
    expected = hashlib.sha256(b'{"schema_version":1,"title":"Top Idee"}').hexdigest()
    assert ruleset_hash(document) == expected
    assert len(expected) == 64


def test_hash_ignores_key_order_and_whitespace_of_every_example() -> None:
    rng = random.Random(2024)
    for name, text in EXAMPLE_TEXTS.items():
        document = json.loads(text)
        reference = ruleset_hash(document)
        for indent in (None, 0, 2, 7):
            reformatted = json.dumps(shuffled(document, rng), indent=indent, ensure_ascii=False)
            assert ruleset_hash(json.loads(reformatted)) == reference, name
        compact = json.dumps(document, separators=(",", ":"), ensure_ascii=True)
        assert ruleset_hash(json.loads(compact)) == reference, name


def test_any_change_of_content_changes_the_hash() -> None:
    document = json.loads(EXAMPLE_TEXTS["nijmegen-buurtbegroting.json"])
    reference = ruleset_hash(document)
    document["eligibility"]["min_age"] = 18
    assert ruleset_hash(document) != reference
    document["eligibility"]["min_age"] = 16
    assert ruleset_hash(document) == reference
    document["tie_break"] = ["lower-cost", "more-support", "lottery"]  # order of a list matters
    assert ruleset_hash(document) != reference


def test_loaded_ruleset_carries_its_hash_and_canonical_bytes() -> None:
    document = json.loads(EXAMPLE_TEXTS["preferendum.json"])
    ruleset = load_ruleset(document)
    assert ruleset.id == ruleset_hash(document)
    assert ruleset.canonical == canonical_json(document)
    assert ruleset.document() == document
    assert load_ruleset(shuffled(document, random.Random(1))) == ruleset


def test_loaded_ruleset_does_not_follow_later_changes_to_its_input() -> None:
    document = json.loads(EXAMPLE_TEXTS["wijkpeiling.json"])
    ruleset = load_ruleset(document)
    document["title"] = "changed afterwards"
    assert ruleset.title == "Wijkpeiling"
    assert ruleset.id != ruleset_hash(document)
    copy = ruleset.document()
    copy["title"] = "changed copy"
    assert ruleset.document()["title"] == "Wijkpeiling"


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(value=JSON_VALUES, seed=st.integers(0, 2**32 - 1))
def test_hash_depends_only_on_content_for_any_json(value: Any, seed: int) -> None:
    rng = random.Random(seed)
    assert ruleset_hash(shuffled(value, rng)) == ruleset_hash(value)
    assert json.loads(canonical_json(value)) == value
