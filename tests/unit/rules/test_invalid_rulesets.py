"""Every way a rule set can be wrong is refused, naming the field and saying what to change."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from stemmen.errors import InvalidInput
from stemmen.rules import RuleSetInvalid, load_ruleset, validate_ruleset
from tests.support import PROJECT_ROOT

EXAMPLES_DIR = PROJECT_ROOT / "examples" / "rulesets"
DELETE = object()


def example(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EXAMPLES_DIR / name).read_text(encoding="utf-8"))
    return document


BUDGET = example("nijmegen-buurtbegroting.json")
PREFERENDUM = example("preferendum.json")


def changed(base: dict[str, Any], *edits: tuple[str, Any]) -> dict[str, Any]:
    """A copy of ``base`` with each (JSON pointer, value) set, or deleted for DELETE."""
    document = copy.deepcopy(base)
    for pointer, value in edits:
        *parents, last = pointer.strip("/").split("/")
        node = document
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
        if value is DELETE:
            del node[last]
        elif isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return document


# (case, base, edits, the path the problem must name, its code)
CASES: list[tuple[str, dict[str, Any], tuple[tuple[str, Any], ...], str, str]] = [
    # what the schema itself refuses
    ("missing instrument", BUDGET, (("/instrument", DELETE),), "/instrument", "missing_field"),
    ("unknown instrument", BUDGET, (("/instrument", "referendum"),), "/instrument", "schema_enum"),
    ("wrong schema version", BUDGET, (("/schema_version", 2),), "/schema_version", "schema_const"),
    ("empty title", BUDGET, (("/title", ""),), "/title", "schema_minLength"),
    (
        "misspelt field",
        BUDGET,
        (("/ballot/max_selection", 3),),
        "/ballot/max_selection",
        "unknown_field",
    ),
    (
        "decision date not written as a date",
        BUDGET,
        (("/council_decision/date", "28-02-2024"),),
        "/council_decision/date",
        "schema_pattern",
    ),
    (
        "decision url not a web address",
        BUDGET,
        (("/council_decision/url", "nijmegen.nl"),),
        "/council_decision/url",
        "schema_pattern",
    ),
    (
        "binding missing",
        BUDGET,
        (("/council_decision/binding", DELETE),),
        "/council_decision/binding",
        "missing_field",
    ),
    (
        "area that is no CBS code",
        BUDGET,
        (("/eligibility/areas", ["Nijmegen"]),),
        "/eligibility/areas/0",
        "schema_pattern",
    ),
    ("no areas", BUDGET, (("/eligibility/areas", []),), "/eligibility/areas", "schema_minItems"),
    (
        "negative age",
        BUDGET,
        (("/eligibility/min_age", -1),),
        "/eligibility/min_age",
        "schema_minimum",
    ),
    (
        "age as text",
        BUDGET,
        (("/eligibility/min_age", "16"),),
        "/eligibility/min_age",
        "schema_type",
    ),
    (
        "one ballot per household",
        BUDGET,
        (("/eligibility/one_ballot_per", "household"),),
        "/eligibility/one_ballot_per",
        "schema_enum",
    ),
    (
        "phase listed twice",
        BUDGET,
        (("/phases", ["voting", "voting"]),),
        "/phases",
        "schema_uniqueItems",
    ),
    (
        "unknown ballot format",
        BUDGET,
        (("/ballot/format", "stars"),),
        "/ballot/format",
        "schema_enum",
    ),
    (
        "cost in euros with decimals",
        BUDGET,
        (("/proposals/cost_min_cents", 1000.5),),
        "/proposals/cost_min_cents",
        "schema_type",
    ),
    (
        "revote sometimes",
        BUDGET,
        (("/ballot/revote", "sometimes"),),
        "/ballot/revote",
        "schema_enum",
    ),
    ("fax channel", BUDGET, (("/ballot/channels", ["fax"]),), "/ballot/channels/0", "schema_enum"),
    (
        "unknown allocation rule",
        BUDGET,
        (("/allocation/rule", "lottery"),),
        "/allocation/rule",
        "schema_enum",
    ),
    (
        "min support as a bare number",
        BUDGET,
        (("/allocation/min_support", 10),),
        "/allocation/min_support",
        "schema_oneOf",
    ),
    (
        "unknown tie-breaker",
        BUDGET,
        (("/tie_break", ["coin", "lottery"]),),
        "/tie_break/0",
        "schema_enum",
    ),
    ("empty tie-break", BUDGET, (("/tie_break", []),), "/tie_break", "schema_minItems"),
    (
        "group size zero",
        BUDGET,
        (("/publication/min_group_size", 0),),
        "/publication/min_group_size",
        "schema_minimum",
    ),
    (
        "phase bounds of an unknown phase",
        BUDGET,
        (("/round_bounds/phase_days/counting", {"min": 1}),),
        "/round_bounds/phase_days/counting",
        "unknown_field",
    ),
    (
        "unknown tally method",
        PREFERENDUM,
        (("/tally/method", "dowdall"),),
        "/tally/method",
        "schema_enum",
    ),
    # what only the cross-field checks can see
    (
        "decision date not in the calendar",
        BUDGET,
        (("/council_decision/date", "2025-02-30"),),
        "/council_decision/date",
        "invalid_date",
    ),
    (
        "maximum age below minimum",
        BUDGET,
        (("/eligibility/max_age", 12),),
        "/eligibility/max_age",
        "max_below_min",
    ),
    (
        "cost_min above cost_max",
        BUDGET,
        (("/proposals/cost_min_cents", 3000000),),
        "/proposals/cost_max_cents",
        "max_below_min",
    ),
    (
        "min_selections above max_selections",
        BUDGET,
        (("/ballot/min_selections", 4), ("/ballot/max_selections", 3)),
        "/ballot/max_selections",
        "max_below_min",
    ),
    (
        "budget without allocation",
        BUDGET,
        (("/allocation", DELETE),),
        "/allocation",
        "missing_field",
    ),
    (
        "budget without proposals",
        BUDGET,
        (("/proposals", DELETE), ("/phases", ["voting"])),
        "/proposals",
        "missing_field",
    ),
    (
        "budget with a tally",
        BUDGET,
        (("/tally", {"method": "approval"}),),
        "/tally",
        "not_for_instrument",
    ),
    (
        "preferendum with an allocation",
        PREFERENDUM,
        (("/allocation", {"rule": "greedy"}),),
        "/allocation",
        "not_for_instrument",
    ),
    ("preferendum without a tally", PREFERENDUM, (("/tally", DELETE),), "/tally", "missing_field"),
    (
        "preferendum with a submission phase",
        PREFERENDUM,
        (("/phases", ["submission", "voting"]),),
        "/phases/0",
        "not_for_instrument",
    ),
    (
        "no voting phase",
        BUDGET,
        (("/phases", ["submission", "review", "supports"]),),
        "/phases",
        "voting_phase_missing",
    ),
    (
        "phases out of order",
        BUDGET,
        (("/phases", ["submission", "supports", "review", "voting"]),),
        "/phases",
        "phases_out_of_order",
    ),
    (
        "review required but no review phase",
        BUDGET,
        (
            ("/phases", ["submission", "supports", "voting"]),
            ("/round_bounds/phase_days/review", DELETE),
        ),
        "/phases",
        "phase_missing",
    ),
    (
        "supports phase with nothing to support",
        BUDGET,
        (("/proposals/supports_needed", 0),),
        "/proposals/supports_needed",
        "phase_without_purpose",
    ),
    (
        "knapsack not within budget",
        BUDGET,
        (("/ballot/within_budget", False),),
        "/ballot/within_budget",
        "knapsack_within_budget",
    ),
    (
        "k-approval without max_selections",
        BUDGET,
        (("/ballot/format", "k-approval"),),
        "/ballot/max_selections",
        "missing_field",
    ),
    (
        "cumulative without max_points",
        BUDGET,
        (("/ballot/format", "cumulative"),),
        "/ballot/max_points",
        "missing_field",
    ),
    (
        "max_points on an approval ballot",
        BUDGET,
        (("/ballot/max_points", 10),),
        "/ballot/max_points",
        "not_for_format",
    ),
    (
        "more points per option than in all",
        BUDGET,
        (
            ("/ballot/format", "cumulative"),
            ("/ballot/within_budget", DELETE),
            ("/ballot/max_points", 5),
            ("/ballot/max_points_per_option", 6),
        ),
        "/ballot/max_points_per_option",
        "max_above_total",
    ),
    (
        "grades on a budget",
        BUDGET,
        (
            ("/ballot/format", "grades"),
            ("/ballot/within_budget", DELETE),
            ("/ballot/scale", {"labels": ["nee", "ja"], "blank_allowed": False}),
        ),
        "/ballot/format",
        "format_not_for_instrument",
    ),
    (
        "knapsack on a preferendum",
        PREFERENDUM,
        (("/ballot/format", "knapsack"), ("/ballot/scale", DELETE)),
        "/ballot/format",
        "format_not_for_instrument",
    ),
    (
        "grades without labels",
        PREFERENDUM,
        (("/ballot/scale", {"min": 0, "max": 4, "blank_allowed": True}),),
        "/ballot/scale/labels",
        "missing_field",
    ),
    (
        "grades without a scale",
        PREFERENDUM,
        (("/ballot/scale", DELETE),),
        "/ballot/scale",
        "missing_field",
    ),
    (
        "scores scale upside down",
        PREFERENDUM,
        (
            ("/ballot/format", "scores"),
            ("/ballot/scale", {"min": 5, "max": 0, "blank_allowed": True}),
            ("/tally/method", "star"),
            ("/round_bounds/allowed_methods", ["star"]),
        ),
        "/ballot/scale/max",
        "max_below_min",
    ),
    (
        "max_questions on a budget",
        BUDGET,
        (("/ballot/max_questions", 2),),
        "/ballot/max_questions",
        "not_for_instrument",
    ),
    (
        "paper and online exclusive with one channel",
        BUDGET,
        (("/ballot/channels", ["online"]),),
        "/ballot/paper_online_exclusive",
        "needs_both_channels",
    ),
    (
        "satisfaction on greedy",
        BUDGET,
        (("/allocation/satisfaction", "cost"),),
        "/allocation/satisfaction",
        "not_for_rule",
    ),
    (
        "points satisfaction on approval ballots",
        BUDGET,
        (("/allocation/rule", "mes"), ("/allocation/satisfaction", "points")),
        "/allocation/satisfaction",
        "points_without_points",
    ),
    (
        "completion on greedy",
        BUDGET,
        (("/allocation/completion", "add1"),),
        "/allocation/completion",
        "not_for_rule",
    ),
    (
        "support threshold under the Method of Equal Shares",
        BUDGET,
        (("/allocation/rule", "mes"),),
        "/allocation/min_support",
        "not_for_rule",
    ),
    (
        "category cap under sequential Phragmen",
        BUDGET,
        (
            ("/allocation/rule", "phragmen"),
            ("/allocation/min_support", None),
            ("/allocation/category_caps_cents", {"Groen": 1000000}),
        ),
        "/allocation/category_caps_cents",
        "not_for_rule",
    ),
    (
        "cap on an unknown category",
        BUDGET,
        (("/allocation/category_caps_cents", {"Armoede": 5200000}),),
        "/allocation/category_caps_cents/Armoede",
        "unknown_category",
    ),
    (
        "weight for a channel not used",
        BUDGET,
        (
            ("/ballot/channels", ["online"]),
            ("/ballot/paper_online_exclusive", False),
            ("/allocation/channel_weights", {"paper": 1}),
        ),
        "/allocation/channel_weights/paper",
        "unknown_channel",
    ),
    (
        "majority judgment on rankings",
        PREFERENDUM,
        (("/ballot/format", "ranking"), ("/ballot/scale", DELETE)),
        "/tally/method",
        "method_not_for_format",
    ),
    (
        "unranked_below_ranked on grades",
        PREFERENDUM,
        (("/tally/unranked_below_ranked", True),),
        "/tally/unranked_below_ranked",
        "not_for_format",
    ),
    (
        "tie-break without a lottery",
        BUDGET,
        (("/tie_break", ["more-support", "lower-cost"]),),
        "/tie_break/1",
        "tie_break_without_lottery",
    ),
    (
        "lottery not last",
        BUDGET,
        (("/tie_break", ["lottery", "more-support"]),),
        "/tie_break/1",
        "tie_break_without_lottery",
    ),
    (
        "id before the lottery",
        BUDGET,
        (("/tie_break", ["more-support", "id", "lottery"]),),
        "/tie_break/1",
        "lottery_unreachable",
    ),
    (
        "cost tie-break on a preferendum",
        PREFERENDUM,
        (("/tie_break", ["lower-cost", "lottery"]),),
        "/tie_break/0",
        "not_for_instrument",
    ),
    (
        "support tie-break on a preferendum",
        PREFERENDUM,
        (("/tie_break", ["more-support", "lottery"]),),
        "/tie_break/0",
        "not_for_instrument",
    ),
    (
        "budget range upside down",
        BUDGET,
        (("/round_bounds/budget_cents_per_area", {"min": 5000000, "max": 1000000}),),
        "/round_bounds/budget_cents_per_area/max",
        "max_below_min",
    ),
    (
        "proposals that can never fit any budget",
        BUDGET,
        (("/round_bounds/budget_cents_per_area", {"min": 10000, "max": 50000}),),
        "/proposals/cost_min_cents",
        "proposal_exceeds_budget",
    ),
    (
        "budget bounds on a preferendum",
        PREFERENDUM,
        (("/round_bounds/budget_cents_per_area", {"min": 1, "max": 2}),),
        "/round_bounds/budget_cents_per_area",
        "not_for_instrument",
    ),
    (
        "voting shortest above longest",
        BUDGET,
        (("/round_bounds/phase_days/voting", {"min": 30, "max": 14}),),
        "/round_bounds/phase_days/voting/max",
        "max_below_min",
    ),
    (
        "bounds for a phase the rule set does not run",
        PREFERENDUM,
        (("/round_bounds/phase_days/review", {"min": 7}),),
        "/round_bounds/phase_days/review",
        "phase_not_used",
    ),
    (
        "allowed area in another municipality",
        BUDGET,
        (("/round_bounds/allowed_areas", ["WK010601"]),),
        "/round_bounds/allowed_areas/0",
        "area_outside_eligibility",
    ),
    (
        "allowed methods on a budget",
        BUDGET,
        (("/round_bounds/allowed_methods", ["approval"]),),
        "/round_bounds/allowed_methods",
        "not_for_instrument",
    ),
    (
        "allowed method that cannot read the ballots",
        PREFERENDUM,
        (("/round_bounds/allowed_methods", ["majority-judgment", "schulze"]),),
        "/round_bounds/allowed_methods/1",
        "method_not_for_format",
    ),
    (
        "default method not among the allowed",
        PREFERENDUM,
        (("/round_bounds/allowed_methods", ["score-mean"]),),
        "/round_bounds/allowed_methods",
        "default_method_not_allowed",
    ),
]


@pytest.mark.parametrize(
    ("base", "edits", "path", "code"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_invalid_rule_set_is_refused_naming_its_field(
    base: dict[str, Any], edits: tuple[tuple[str, Any], ...], path: str, code: str
) -> None:
    problems = validate_ruleset(changed(base, *edits))
    assert (path, code) in [(problem.path, problem.code) for problem in problems], problems
    for problem in problems:
        assert problem.message_en
        assert problem.message_nl
        assert problem.message_en != problem.message_nl


def test_load_ruleset_raises_with_every_problem_for_the_service_to_show() -> None:
    document = changed(BUDGET, ("/eligibility/min_age", -1), ("/ballot/format", "stars"))
    with pytest.raises(RuleSetInvalid) as raised:
        load_ruleset(document)
    paths = [problem.path for problem in raised.value.problems]
    assert paths == ["/ballot/format", "/eligibility/min_age"]
    assert isinstance(raised.value, InvalidInput)
    assert raised.value.code == "ruleset_invalid"
    assert [p["path"] for p in raised.value.details["problems"]] == paths
    assert "/ballot/format" in raised.value.message
    assert raised.value.message_nl is not None
    assert "kies uit" in raised.value.message_nl


def test_messages_tell_the_clerk_what_to_change() -> None:
    [problem] = validate_ruleset(changed(BUDGET, ("/ballot/max_selection", 3)))
    assert "max_selection" in problem.message_en
    assert "max_selections" in problem.message_en  # the known fields name the right spelling
    [problem] = validate_ruleset(changed(BUDGET, ("/eligibility/areas", ["Nijmegen"])))
    assert "GM0268" in problem.message_en
    assert "CBS" in problem.message_nl


def test_a_document_that_is_not_an_object_is_refused() -> None:
    for document in (None, [], "buurtbegroting", 3):
        [problem] = validate_ruleset(document)
        assert problem.path == "/"


def test_problems_come_in_a_stable_order() -> None:
    document = changed(
        BUDGET, ("/title", ""), ("/eligibility/min_age", -1), ("/ballot/format", "stars")
    )
    first = validate_ruleset(document)
    assert first == validate_ruleset(json.loads(json.dumps(document, sort_keys=True)))
    assert [problem.path for problem in first] == sorted(problem.path for problem in first)


def test_json_pointer_escapes_slashes_in_category_names() -> None:
    document = changed(BUDGET, ("/allocation/category_caps_cents", {"Groen/blauw": 100}))
    paths = [problem.path for problem in validate_ruleset(document)]
    assert "/allocation/category_caps_cents/Groen~1blauw" in paths


@pytest.mark.parametrize("number", [2**60, 1e300, float("inf"), float("nan")])
def test_numbers_too_large_for_canonical_json_are_refused_not_crashed_on(number: float) -> None:
    document = changed(BUDGET, ("/proposals/per_resident", number))
    problems = validate_ruleset(document)
    assert ("/proposals/per_resident", "number_out_of_range") in [
        (problem.path, problem.code) for problem in problems
    ]
    with pytest.raises(RuleSetInvalid):
        load_ruleset(document)
