"""What officials set for a round must stay inside the council's frame; a round that leaves it
is refused with a message that cites the decision and the rule."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from stemmen.rules import RuleSet, check_round_against_bounds, load_ruleset
from stemmen.rules.document import PhaseWindow, RoundOutOfBounds
from tests.support import PROJECT_ROOT

EXAMPLES_DIR = PROJECT_ROOT / "examples" / "rulesets"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def example(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EXAMPLES_DIR / name).read_text(encoding="utf-8"))
    return document


ASSEN = load_ruleset(example("assen-top-idee-2024.json"))
NIJMEGEN = load_ruleset(example("nijmegen-buurtbegroting.json"))
PREFERENDUM = load_ruleset(example("preferendum.json"))
WIJKPEILING = load_ruleset(example("wijkpeiling.json"))


def window(days: float, start: datetime = START) -> PhaseWindow:
    return PhaseWindow(start, start + timedelta(days=days))


def codes(ruleset: RuleSet, **settings: Any) -> list[tuple[str, str]]:
    return [(p.path, p.code) for p in check_round_against_bounds(ruleset, **settings)]


def test_a_round_inside_the_frame_has_no_problems() -> None:
    assert (
        check_round_against_bounds(
            NIJMEGEN,
            areas=["BU02680100", "WK026802"],
            budgets={"BU02680100": 1000000, "WK026802": 2500000},
            phase_schedule={"voting": window(14), "supports": window(14, START - timedelta(20))},
        )
        == []
    )


def test_voting_too_short_cites_the_decision_and_the_rule() -> None:
    [problem] = check_round_against_bounds(
        ASSEN, areas=["GM0106"], budgets={"GM0106": 10000000}, phase_schedule={"voting": window(7)}
    )
    assert problem.path == "/phases/voting"
    assert problem.code == "phase_too_short"
    assert problem.rule == "round_bounds.phase_days.voting.min"
    assert problem.message_en == (
        "the voting phase lasts 7 days; the council's rule set "
        "(RV 2024-017, round_bounds.phase_days.voting.min) requires at least 14"
    )
    assert problem.message_nl == (
        "de stemfase duurt 7 dagen; het kader van de raad "
        "(RV 2024-017, round_bounds.phase_days.voting.min) vraagt minstens 14"
    )


def test_phase_lengths_are_exact_to_the_second() -> None:
    just_short = PhaseWindow(START, START + timedelta(days=14) - timedelta(seconds=1))
    [problem] = check_round_against_bounds(
        ASSEN, areas=["GM0106"], budgets={"GM0106": 10000000}, phase_schedule={"voting": just_short}
    )
    assert "13 days and 23 hours" in problem.message_en
    assert (
        codes(
            ASSEN,
            areas=["GM0106"],
            budgets={"GM0106": 10000000},
            phase_schedule={"voting": window(14)},
        )
        == []
    )
    assert (
        codes(
            ASSEN,
            areas=["GM0106"],
            budgets={"GM0106": 10000000},
            phase_schedule={"voting": window(28)},
        )
        == []
    )
    assert codes(
        ASSEN,
        areas=["GM0106"],
        budgets={"GM0106": 10000000},
        phase_schedule={"voting": window(28.5)},
    ) == [("/phases/voting", "phase_too_long")]


def test_schedule_problems() -> None:
    areas, budgets = ["GM0106"], {"GM0106": 10000000}
    backwards = PhaseWindow(START, START - timedelta(days=1))
    assert codes(ASSEN, areas=areas, budgets=budgets, phase_schedule={"voting": backwards}) == [
        ("/phases/voting", "phase_ends_before_start")
    ]
    assert codes(ASSEN, areas=areas, budgets=budgets, phase_schedule={"supports": window(3)}) == [
        ("/phases/supports", "phase_not_in_ruleset")
    ]
    overlapping = {"submission": window(21), "voting": window(14, START + timedelta(days=20))}
    assert codes(ASSEN, areas=areas, budgets=budgets, phase_schedule=overlapping) == [
        ("/phases/voting", "phases_overlap")
    ]
    open_ended = {"voting": (START, None)}  # scheduled start only: nothing to measure yet
    assert codes(ASSEN, areas=areas, budgets=budgets, phase_schedule=open_ended) == []


def test_budget_outside_the_councils_range_is_refused_in_euros() -> None:
    problems = check_round_against_bounds(
        NIJMEGEN,
        areas=["BU02680100", "WK026801"],
        budgets={"BU02680100": 500000, "WK026801": 20000000},
    )
    assert [(p.path, p.code, p.rule) for p in problems] == [
        ("/budgets/BU02680100", "budget_below_bounds", "round_bounds.budget_cents_per_area.min"),
        ("/budgets/WK026801", "budget_above_bounds", "round_bounds.budget_cents_per_area.max"),
    ]
    assert problems[0].message_en == (
        "the budget of BU02680100 is EUR 5,000; the council's rule set "
        "(RV 2025-042, round_bounds.budget_cents_per_area.min) requires at least EUR 10,000"
    )
    assert problems[1].message_nl == (
        "het budget van WK026801 is € 200.000; het kader van de raad "
        "(RV 2025-042, round_bounds.budget_cents_per_area.max) staat hoogstens € 100.000 toe"
    )


def test_budgets_must_match_the_rounds_areas() -> None:
    assert codes(
        NIJMEGEN,
        areas=["BU02680100", "WK026801"],
        budgets={"BU02680100": 1000000, "WK026803": 1000000},
    ) == [
        ("/budgets/WK026801", "budget_missing"),
        ("/budgets/WK026803", "budget_for_unknown_area"),
    ]
    assert codes(PREFERENDUM, areas=["GM0268"], budgets={"GM0268": 100}) == [
        ("/budgets/GM0268", "budget_not_for_instrument")
    ]


def test_areas_must_be_allowed() -> None:
    assert codes(NIJMEGEN, areas=["WK026809"], budgets={"WK026809": 1000000}) == [
        ("/areas/0", "area_not_allowed")
    ]
    # inside an allowed district is allowed
    assert codes(NIJMEGEN, areas=["BU02680301"], budgets={"BU02680301": 1000000}) == []
    # without allowed_areas, anything inside the eligibility areas
    assert codes(WIJKPEILING, areas=["WK026805"]) == []
    [problem] = check_round_against_bounds(WIJKPEILING, areas=["WK010601"])
    assert problem.code == "area_not_allowed"
    assert problem.rule == "eligibility.areas"
    assert "GM0268" in problem.message_en
    assert codes(WIJKPEILING, areas=[]) == [("/areas", "no_areas")]
    assert codes(WIJKPEILING, areas=["WK026805", "WK026805"]) == [("/areas/1", "duplicate_area")]


def test_question_methods_must_be_allowed() -> None:
    assert (
        codes(
            PREFERENDUM,
            areas=["GM0268"],
            question_methods={"q1": "score-mean", "q2": "majority-judgment"},
        )
        == []
    )
    [problem] = check_round_against_bounds(
        PREFERENDUM, areas=["GM0268"], question_methods={"q1": "borda"}
    )
    assert (problem.path, problem.code, problem.rule) == (
        "/questions/q1/method",
        "method_not_allowed",
        "round_bounds.allowed_methods",
    )
    assert "majority-judgment, score-mean" in problem.message_en
    # without allowed_methods only the rule set's own method
    [problem] = check_round_against_bounds(
        WIJKPEILING, areas=["GM0268"], question_methods={"q": "plurality"}
    )
    assert problem.rule == "tally.method"


def test_too_many_questions() -> None:
    methods = {f"q{index}": "approval" for index in range(4)}
    assert codes(WIJKPEILING, areas=["GM0268"], question_methods=methods) == [
        ("/questions", "too_many_questions")
    ]


def test_questions_on_a_budget_round_are_refused() -> None:
    assert codes(
        NIJMEGEN,
        areas=["BU02680100"],
        budgets={"BU02680100": 1000000},
        question_methods={"q": "approval"},
    ) == [("/questions/q/method", "questions_not_for_instrument")]


def test_round_out_of_bounds_error_carries_every_problem() -> None:
    problems = check_round_against_bounds(WIJKPEILING, areas=[])
    error = RoundOutOfBounds(problems)
    assert error.code == "round_out_of_bounds"
    assert error.details["problems"][0]["rule"] == "eligibility.areas"
    assert error.message_nl is not None
    assert "RV 2025-077" in error.message_nl
