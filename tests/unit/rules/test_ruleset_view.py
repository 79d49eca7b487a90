"""The typed, frozen view the services read instead of the raw document."""

from __future__ import annotations

import dataclasses
import inspect
import json
from datetime import date
from typing import Any

import pytest

from stemmen.budget.mes import equal_shares
from stemmen.budget.welfare import max_welfare
from stemmen.rules import load_ruleset
from stemmen.rules.document import DEFAULT_SATISFACTION, area_within
from tests.support import PROJECT_ROOT

EXAMPLES_DIR = PROJECT_ROOT / "examples" / "rulesets"


def example(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EXAMPLES_DIR / name).read_text(encoding="utf-8"))
    return document


def test_budget_view_exposes_what_the_services_need() -> None:
    ruleset = load_ruleset(example("nijmegen-buurtbegroting.json"))
    assert ruleset.is_budget
    assert not ruleset.is_questions
    assert ruleset.reference == "RV 2025-042"
    assert ruleset.council_decision.date == date(2025, 6, 25)
    assert ruleset.council_decision.binding
    assert ruleset.phases == ("submission", "review", "supports", "voting")
    assert ruleset.has_phase("supports")
    assert ruleset.has_phase("draft")
    assert ruleset.has_phase("published")
    assert ruleset.proposals is not None
    assert ruleset.proposals.admits_cost(100000)
    assert not ruleset.proposals.admits_cost(99999)
    assert ruleset.proposals.supports_needed == 10
    assert ruleset.ballot.revote_allowed
    assert ruleset.ballot.paper_online_exclusive
    assert ruleset.allocation is not None
    assert ruleset.allocation.min_support is not None
    assert ruleset.allocation.min_support.votes == 10
    assert ruleset.tally is None
    assert ruleset.allowed_methods == ()
    assert ruleset.tie_break == ("more-support", "lower-cost", "lottery")
    voting = ruleset.round_bounds.phase_bounds("voting")
    assert voting is not None
    assert (voting.min, voting.max) == (14, 28)


def test_question_view_and_defaults() -> None:
    ruleset = load_ruleset(example("wijkpeiling.json"))
    assert ruleset.is_questions
    assert ruleset.proposals is None
    assert ruleset.allocation is None
    assert ruleset.tally is not None
    assert ruleset.tally.unranked_below_ranked  # default: ranked beats unranked
    assert ruleset.tally.quorum.min_turnout == 50
    assert ruleset.tally.quorum.min_graders is None
    assert not ruleset.ballot.revote_allowed
    assert ruleset.allowed_methods == ("approval",)  # no allowed_methods: only tally.method
    assert not ruleset.eligibility.residents_only
    assert not ruleset.publication.auditor_sees_before_publication
    assert ruleset.round_bounds.budget_cents_per_area is None
    assert ruleset.round_bounds.phase_bounds("review") is None


def test_mes_defaults_to_cost_satisfaction_and_no_completion() -> None:
    document = example("burgerbegroting-wijken.json")
    del document["allocation"]["satisfaction"]
    del document["allocation"]["completion"]
    allocation = load_ruleset(document).allocation
    assert allocation is not None
    assert (allocation.satisfaction, allocation.completion) == ("cost", "none")


def test_max_welfare_without_satisfaction_reads_as_the_cardinality_it_is_computed_with() -> None:
    document = example("burgerbegroting-wijken.json")
    document["allocation"] = {"rule": "max-welfare"}
    allocation = load_ruleset(document).allocation
    assert allocation is not None
    assert allocation.satisfaction == "cardinality"


@pytest.mark.parametrize("rule", sorted(DEFAULT_SATISFACTION))
def test_the_views_default_satisfaction_is_the_engines(rule: str) -> None:
    """A rule set that leaves satisfaction out is computed with the engine's default; the view
    (shown on pages and in results) must name that same default."""
    function = {"max-welfare": max_welfare, "mes": equal_shares}[rule]
    engine_default = inspect.signature(function).parameters["satisfaction"].default
    assert DEFAULT_SATISFACTION[rule] == engine_default


def test_category_caps_and_channel_weights_are_read_in_a_stable_order() -> None:
    document = example("nijmegen-buurtbegroting.json")
    document["allocation"]["category_caps_cents"] = {"Groen": 500000, "Cultuur": 200000}
    document["allocation"]["channel_weights"] = {"paper": 1, "online": 1}
    allocation = load_ruleset(document).allocation
    assert allocation is not None
    assert allocation.category_caps_cents == (("Cultuur", 200000), ("Groen", 500000))
    assert allocation.category_cap_cents("Groen") == 500000
    assert allocation.category_cap_cents("Sport") is None
    assert allocation.channel_weights == (("online", 1), ("paper", 1))


def test_view_is_immutable_and_hashable() -> None:
    ruleset = load_ruleset(example("preferendum.json"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        ruleset.title = "changed"  # type: ignore[misc]
    assert hash(ruleset) == hash(load_ruleset(example("preferendum.json")))


@pytest.mark.parametrize(
    ("area", "outer", "inside"),
    [
        ("GM0268", "GM0268", True),
        ("WK026801", "GM0268", True),
        ("BU02680100", "GM0268", True),
        ("BU02680100", "WK026801", True),
        ("BU02680200", "WK026801", False),
        ("WK026801", "BU02680100", False),
        ("GM0268", "WK026801", False),
        ("WK010601", "GM0268", False),
        ("GM1026", "GM0102", False),
    ],
)
def test_cbs_areas_nest_by_their_digits(area: str, outer: str, inside: bool) -> None:
    assert area_within(area, outer) is inside


@pytest.mark.parametrize(
    ("area", "outer"), [("Oost", "GM0268"), ("GM0268", "Oost"), ("XX0268", "XX0268")]
)
def test_an_area_claim_that_is_no_cbs_code_matches_only_itself(area: str, outer: str) -> None:
    # Tokens come from outside: a claim such as "Oost" must never crash a request.
    assert area_within(area, outer) is (area == outer)


def test_whole_numbers_written_as_decimals_are_read_as_integers() -> None:
    document = example("nijmegen-buurtbegroting.json")
    document["eligibility"]["min_age"] = 16.0
    document["proposals"]["cost_max_cents"] = 2500000.0
    ruleset = load_ruleset(document)
    assert type(ruleset.eligibility.min_age) is int
    assert type(ruleset.proposals.cost_max_cents) is int  # type: ignore[union-attr]
    assert ruleset.id == load_ruleset(example("nijmegen-buurtbegroting.json")).id
