"""Properties that hold for every ballot, checked on generated ballots and ballot contexts."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from stemmen.ballots import (
    BallotInvalid,
    BallotProject,
    BudgetBallotContext,
    validate_ballot,
)
from stemmen.ballots.validation import ANSWER_KEYS, REFUSAL_CODES
from stemmen.rules import RuleSet
from tests.unit.ballots.helpers import (
    BINNENSTAD,
    BOTTENDAAL,
    BUDGET_RANKING,
    BUDGET_SCORES,
    COMPLETE_RANKING,
    CUMULATIVE,
    GRADES,
    GRADES_NO_BLANK_NO_ABSTAIN,
    K_APPROVAL,
    KNAPSACK,
    POLL_APPROVAL,
    RANKING_WITH_TIES,
    SCORES,
    bottendaal,
)

PROPERTY_SETTINGS = settings(max_examples=150, deadline=None)


@st.composite
def knapsack_cases(draw: st.DrawFn) -> tuple[BudgetBallotContext, list[str]]:
    costs = draw(st.lists(st.integers(0, 5_000_000), min_size=1, max_size=8))
    projects = tuple(
        BallotProject(f"p{index}", f"Project {index}", cost, BOTTENDAAL)
        for index, cost in enumerate(costs)
    )
    budget = draw(st.integers(0, 10_000_000))
    ids = [project.id for project in projects] + ["unknown"]
    chosen = draw(st.lists(st.sampled_from(ids), max_size=10))
    return BudgetBallotContext(BOTTENDAAL, "Bottendaal", budget, projects), chosen


@PROPERTY_SETTINGS
@given(knapsack_cases())
def test_a_valid_knapsack_ballot_never_exceeds_the_budget(
    case: tuple[BudgetBallotContext, list[str]],
) -> None:
    context, chosen = case
    cost = {project.id: project.cost_cents for project in context.projects}
    fits = (
        len(chosen) >= 1
        and len(set(chosen)) == len(chosen)
        and "unknown" not in chosen
        and sum(cost[option] for option in chosen) <= context.budget_cents
    )
    try:
        ballot = validate_ballot(KNAPSACK, context, {"approvals": chosen})
    except BallotInvalid:
        ballot = None
    assert (ballot is not None) == fits
    if ballot is None:
        return
    assert ballot.cost_cents == sum(cost[option] for option in chosen)
    assert ballot.cost_cents <= context.budget_cents


@PROPERTY_SETTINGS
@given(knapsack_cases(), st.randoms(use_true_random=False))
def test_the_order_a_voter_clicks_in_never_matters(
    case: tuple[BudgetBallotContext, list[str]], rng: Any
) -> None:
    context, chosen = case
    shuffled = list(chosen)
    rng.shuffle(shuffled)
    outcomes = []
    for order in (chosen, shuffled):
        try:
            outcomes.append(validate_ballot(KNAPSACK, context, {"approvals": order}))
        except BallotInvalid as refusal:
            outcomes.append(refusal.code)
    if isinstance(outcomes[0], str):
        # which duplicate or unknown id is named first may differ, the kind of refusal not
        assert isinstance(outcomes[1], str)
    else:
        assert outcomes[0] == outcomes[1]


# Repeats weight the draw towards projects on the ballot; x1 is another buurt's project.
BUDGET_OPTIONS = ["p1", "p2", "p3", "p4", "p5"] * 3 + ["x1", "nope"]
QUESTION_OPTIONS = ["d", "e", "f", "g", "a"]
LABELS = ["zeer oneens", "oneens", "neutraal", "eens", "zeer eens", "misschien"]


def answers(options: list[str], ballot_format: str) -> st.SearchStrategy[dict[str, Any]]:
    """Answers in the rule set's format, mostly well formed, sometimes wrong in each way."""
    some = st.lists(st.sampled_from(options), max_size=6, unique=True)
    number = st.integers(-1, 7)
    grade = st.none() | st.integers(0, 4) | st.sampled_from(LABELS) | st.integers(-1, 6)
    by_format: dict[str, st.SearchStrategy[dict[str, Any]]] = {
        "approvals": st.builds(
            lambda chosen: {"approvals": chosen}, some | st.lists(st.sampled_from(options))
        ),
        "points": st.builds(
            lambda points: {"points": points},
            st.dictionaries(st.sampled_from(options), number, max_size=5),
        ),
        "ranking": st.builds(
            lambda tiers: {"ranking": tiers},
            st.lists(
                st.sampled_from(options)
                | st.lists(st.sampled_from(options), min_size=1, max_size=2),
                max_size=6,
            ),
        ),
        "grades": st.builds(
            lambda grades: {"grades": grades},
            st.dictionaries(st.sampled_from(options), grade, max_size=5),
        ),
        "scores": st.builds(
            lambda scores: {"scores": scores},
            st.dictionaries(st.sampled_from(options), st.none() | number, max_size=5),
        ),
    }
    own = by_format[ANSWER_KEYS[ballot_format]]
    others = st.sampled_from(sorted(by_format)).flatmap(by_format.__getitem__)
    # Mostly the right format, so that many ballots pass and each later check is reached.
    return st.integers(0, 9).flatmap(
        lambda pick: own if pick < 8 else others if pick == 8 else st.just({"abstain": True})
    )


JUNK = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=8,
)
BUDGET_RULESETS = [KNAPSACK, K_APPROVAL, CUMULATIVE, BUDGET_RANKING, BUDGET_SCORES]
QUESTION_RULESETS = [
    GRADES,
    GRADES_NO_BLANK_NO_ABSTAIN,
    POLL_APPROVAL,
    RANKING_WITH_TIES,
    COMPLETE_RANKING,
    SCORES,
]


def check_outcome(ruleset: RuleSet, context: Any, submitted: Any) -> None:
    """Either a ballot that survives a round trip through its JSON, or a proper refusal."""
    refusal: BallotInvalid | None = None
    try:
        ballot = validate_ballot(ruleset, context, submitted)
    except BallotInvalid as raised:
        refusal = raised
    if refusal is not None:
        assert refusal.code in REFUSAL_CODES
        assert refusal.message_en
        assert refusal.message_nl
        return
    assert validate_ballot(ruleset, context, ballot.as_json()) == ballot
    rules = ruleset.ballot
    for answer in ballot.answers:
        if answer.abstained:
            assert rules.allow_abstain
            continue
        assert len(answer.chosen) == len(set(answer.chosen)) >= max(rules.min_selections, 1)
        if rules.max_selections is not None:
            assert len(answer.chosen) <= rules.max_selections
        if rules.max_points is not None:
            assert sum(points for _, points in answer.points) <= rules.max_points
        if rules.scale is not None:
            for _, value in answer.grades + answer.scores:
                assert rules.scale.min <= value <= rules.scale.max
    if ruleset.ballot.within_budget:
        assert ballot.cost_cents is not None
        assert ballot.cost_cents <= context.budget_cents


@PROPERTY_SETTINGS
@given(st.sampled_from(BUDGET_RULESETS), st.data())
def test_every_budget_ballot_is_either_counted_in_normal_form_or_refused_with_a_code(
    ruleset: RuleSet, data: st.DataObject
) -> None:
    submitted = data.draw(
        st.integers(0, 9).flatmap(
            lambda pick: answers(BUDGET_OPTIONS, ruleset.ballot.format) if pick else JUNK
        )
    )
    check_outcome(ruleset, bottendaal(), submitted)


@PROPERTY_SETTINGS
@given(st.sampled_from(QUESTION_RULESETS), st.data())
def test_every_preferendum_ballot_is_either_counted_in_normal_form_or_refused_with_a_code(
    ruleset: RuleSet, data: st.DataObject
) -> None:
    answer = answers(QUESTION_OPTIONS, ruleset.ballot.format)
    kind = ruleset.ballot.format
    # Repeats weight the draw towards each question's own options.
    questions = st.fixed_dictionaries(
        {},
        optional={
            "autoluw": answers(["a", "b", "c", "a", "b", "c", "d"], kind),
            "groen": answers(["d", "e", "f", "g", "d", "e", "f", "g", "a"], kind),
            "elders": answers(["a"], kind),
        },
    )
    submitted = data.draw(
        st.integers(0, 9).flatmap(
            lambda pick: (
                questions.map(lambda given: {"questions": given})
                if pick < 8
                else answer
                if pick == 8
                else JUNK
            )
        )
    )
    check_outcome(ruleset, BINNENSTAD, submitted)
