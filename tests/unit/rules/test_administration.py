"""administration.officials: whether every official may act on a round, or only its team.

The field is optional and its default (any-official) is never written into the document, so
every rule set published before the field existed keeps its meaning and its id."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from stemmen.rules import load_ruleset, ruleset_hash, validate_ruleset
from tests.support import PROJECT_ROOT

EXAMPLES_DIR = PROJECT_ROOT / "examples" / "rulesets"

# The ids of the shipped examples as published before administration.officials existed.
EXAMPLE_IDS = {
    "assen-top-idee-2024.json": "8ef4bffb6ef5d78ddecc5ef72c5a82f9dd4b37ecdc0e6ed828aadc8ee503f684",
    "burgerbegroting-wijken.json": "2328d18008721071d82e75186c9410313ca7b2feaf3a139f672887987b4a8673",
    "nijmegen-buurtbegroting.json": "3a5282f66253d8c67856c6c7d27f8debc63706323a3071342ebbb88954949291",
    "preferendum.json": "2fc1c301327ae09e803cc24caeaf51eec3e84ac378a3980f97ae6ffd07083b2b",
    "wijkpeiling.json": "a33ba06477165b5d0fd9da8a7b69cf280235cb4077e27f807e7e5f879bba2747",
}


def nijmegen() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        (EXAMPLES_DIR / "nijmegen-buurtbegroting.json").read_text(encoding="utf-8")
    )
    return document


@pytest.mark.parametrize("name", sorted(EXAMPLE_IDS))
def test_a_rule_set_without_the_field_keeps_its_id_and_lets_any_official_act(name: str) -> None:
    document = json.loads((EXAMPLES_DIR / name).read_text(encoding="utf-8"))
    before = copy.deepcopy(document)
    ruleset = load_ruleset(document)
    assert ruleset.id == ruleset_hash(document) == EXAMPLE_IDS[name]
    assert document == before  # the default is not written into the document
    assert "administration" not in ruleset.document()
    assert ruleset.administration.officials == "any-official"
    assert not ruleset.administration.round_team_only


def test_round_team_limits_rounds_to_their_team_and_is_a_new_version() -> None:
    document = nijmegen()
    document["administration"] = {"officials": "round-team"}
    ruleset = load_ruleset(document)
    assert ruleset.administration.round_team_only
    assert ruleset.id != EXAMPLE_IDS["nijmegen-buurtbegroting.json"]


def test_naming_the_default_is_allowed_and_means_the_same() -> None:
    document = nijmegen()
    document["administration"] = {"officials": "any-official"}
    assert not load_ruleset(document).administration.round_team_only
    document["administration"] = {}
    assert load_ruleset(document).administration.officials == "any-official"


@pytest.mark.parametrize(
    ("administration", "path", "code"),
    [
        ({"officials": "team"}, "/administration/officials", "schema_enum"),
        ({"officials": True}, "/administration/officials", None),
        ({"officials": "round-team", "admins": "all"}, "/administration/admins", "unknown_field"),
        ("round-team", "/administration", None),
    ],
    ids=["unknown-mode", "not-a-string", "unknown-field", "not-an-object"],
)
def test_a_wrong_administration_is_refused_where_it_is_wrong(
    administration: Any, path: str, code: str | None
) -> None:
    document = nijmegen()
    document["administration"] = administration
    problems = validate_ruleset(document)
    assert problems, "the document should have been refused"
    assert any(problem.path == path for problem in problems), problems
    if code is not None:
        assert any(problem.code == code for problem in problems), problems
    assert all(problem.message_nl for problem in problems)
