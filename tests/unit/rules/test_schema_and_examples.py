"""The published schema and the shipped examples: one schema, everywhere the same, and every
example a council could adopt as it stands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from stemmen.rules import load_ruleset, ruleset_schema, schema_document, validate_ruleset
from tests.support import PABULIB_DIR, PROJECT_ROOT

EXAMPLES_DIR = PROJECT_ROOT / "examples" / "rulesets"
EXAMPLES = sorted(EXAMPLES_DIR.glob("*.json"))
PACKAGED_SCHEMA = PROJECT_ROOT / "stemmen" / "rules" / "ruleset.schema.json"
DOCS_SCHEMA = PROJECT_ROOT / "docs" / "ruleset.schema.json"


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    schema = ruleset_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_docs_copy_of_the_schema_is_identical_to_the_packaged_one() -> None:
    assert DOCS_SCHEMA.read_bytes() == PACKAGED_SCHEMA.read_bytes(), (
        "docs/ruleset.schema.json differs: cp stemmen/rules/ruleset.schema.json docs/"
    )


def test_schema_document_is_a_copy_callers_may_change() -> None:
    served = schema_document()
    served["title"] = "changed"
    assert ruleset_schema()["title"] != "changed"


def test_every_object_in_the_schema_refuses_unknown_fields() -> None:
    def objects(node: Any) -> list[dict[str, Any]]:
        found = []
        if isinstance(node, dict):
            if node.get("type") in ("object", ["object", "null"]) and "properties" in node:
                found.append(node)
            for child in node.values():
                found.extend(objects(child))
        elif isinstance(node, list):
            for child in node:
                found.extend(objects(child))
        return found

    for node in objects(ruleset_schema()):
        assert node.get("additionalProperties") is False, sorted(node["properties"])


def test_the_five_examples_are_shipped() -> None:
    assert {path.name for path in EXAMPLES} >= {
        "nijmegen-buurtbegroting.json",
        "burgerbegroting-wijken.json",
        "preferendum.json",
        "wijkpeiling.json",
        "assen-top-idee-2024.json",
    }


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name)
def test_every_example_validates(path: Path) -> None:
    document = load(path)
    assert validate_ruleset(document) == []
    assert jsonschema.Draft202012Validator(ruleset_schema()).is_valid(document)
    load_ruleset(document)


def test_nijmegen_example_is_a_knapsack_greedy_buurtbegroting_from_16() -> None:
    ruleset = load_ruleset(load(EXAMPLES_DIR / "nijmegen-buurtbegroting.json"))
    assert ruleset.instrument == "buurtbegroting"
    assert ruleset.ballot_format == "knapsack"
    assert ruleset.ballot.within_budget
    assert ruleset.allocation is not None
    assert ruleset.allocation.rule == "greedy"
    assert ruleset.eligibility.min_age == 16
    assert ruleset.eligibility.covers_area("BU02680100")
    assert not ruleset.eligibility.covers_area("BU01060100")


def test_burgerbegroting_example_gives_each_district_its_own_budget_under_mes_add1() -> None:
    ruleset = load_ruleset(load(EXAMPLES_DIR / "burgerbegroting-wijken.json"))
    assert ruleset.eligibility.one_ballot_per == "area"
    assert ruleset.allocation is not None
    assert (ruleset.allocation.rule, ruleset.allocation.completion) == ("mes", "add1")
    allowed = ruleset.round_bounds.allowed_areas
    assert allowed is not None
    assert all(area.startswith("WK") for area in allowed)


def test_preferendum_example_grades_on_a_five_point_dutch_scale_with_blank() -> None:
    ruleset = load_ruleset(load(EXAMPLES_DIR / "preferendum.json"))
    assert ruleset.ballot.scale is not None
    assert ruleset.ballot.scale.labels == ("zeer oneens", "oneens", "neutraal", "eens", "zeer eens")
    assert ruleset.ballot.scale.blank_allowed
    assert ruleset.tally is not None
    assert ruleset.tally.method == "majority-judgment"
    assert ruleset.ballot.max_questions is not None
    assert ruleset.ballot.max_questions > 1


def test_wijkpeiling_example_is_an_approval_poll() -> None:
    ruleset = load_ruleset(load(EXAMPLES_DIR / "wijkpeiling.json"))
    assert ruleset.is_questions
    assert ruleset.ballot_format == "approval"
    assert ruleset.tally is not None
    assert ruleset.tally.method == "approval"


def _pabulib_meta(path: Path) -> dict[str, str]:
    meta: dict[str, str] = {}
    with path.open(encoding="utf-8-sig") as handle:
        for line in handle:
            if line.strip() == "PROJECTS":
                break
            key, _, value = line.rstrip("\n").partition(";")
            meta[key] = value
    return meta


@pytest.mark.skipif(
    not (PABULIB_DIR / "Netherlands_Assen_2024.pb").is_file(), reason="no ../shared pabulib data"
)
def test_assen_example_says_what_the_real_2024_round_did() -> None:
    meta = _pabulib_meta(PABULIB_DIR / "Netherlands_Assen_2024.pb")
    ruleset = load_ruleset(load(EXAMPLES_DIR / "assen-top-idee-2024.json"))
    assert meta["rule"] == "equalshares/add1"
    assert ruleset.allocation is not None
    assert (ruleset.allocation.rule, ruleset.allocation.completion) == ("mes", "add1")
    assert ruleset.ballot.min_selections == int(meta["min_length"]) == 2
    assert ruleset.eligibility.admits_age(12)
    assert ruleset.eligibility.admits_age(27)
    assert not ruleset.eligibility.admits_age(28)
    bounds = ruleset.round_bounds.budget_cents_per_area
    assert bounds is not None
    budget_cents = int(meta["budget"]) * 100
    assert bounds.min is not None
    assert bounds.max is not None
    assert bounds.min <= budget_cents <= bounds.max


def test_docs_describe_every_field_of_the_schema() -> None:
    text = (PROJECT_ROOT / "docs" / "rulesets.md").read_text(encoding="utf-8")
    schema = ruleset_schema()
    missing = []
    for name, node in schema["properties"].items():
        if f"`{name}`" not in text:
            missing.append(name)
        for child in node.get("properties", {}):
            if f"`{child}`" not in text and f"`{name}.{child}`" not in text:
                missing.append(f"{name}.{child}")
    assert missing == []
