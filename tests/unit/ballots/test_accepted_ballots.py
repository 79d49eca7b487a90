"""Ballots that may be counted come back in one normal form, whatever order they were made in."""

from __future__ import annotations

import pytest

from stemmen.ballots import (
    Abstain,
    BallotInvalid,
    Grades,
    PreferendumBallot,
    Ranking,
    Selection,
    ValidBallot,
    parse_ballot,
    validate_ballot,
)
from tests.unit.ballots.helpers import (
    ASSEN_APPROVAL,
    BINNENSTAD,
    BOTTENDAAL,
    BUDGET_RANKING,
    BUDGET_SCORES,
    COMPLETE_RANKING,
    CUMULATIVE,
    GRADES,
    K_APPROVAL,
    KNAPSACK,
    ONE_QUESTION,
    POLL_APPROVAL,
    RANKING_WITH_TIES,
    SCORES,
    bottendaal,
)


def test_knapsack_ballot_within_budget_is_accepted_with_its_cost() -> None:
    ballot = validate_ballot(KNAPSACK, bottendaal(), {"approvals": ["p5", "p1"]})
    assert ballot.format == "knapsack"
    assert not ballot.abstained
    assert ballot.area == BOTTENDAAL
    assert ballot.cost_cents == 900000
    assert ballot.answer.approvals == ("p1", "p5")  # ballot order, not click order
    assert ballot.answer.question is None
    assert ballot.as_json() == {"approvals": ["p1", "p5"]}


def test_knapsack_ballot_spending_the_budget_exactly_is_accepted() -> None:
    ballot = validate_ballot(KNAPSACK, bottendaal(950000), {"approvals": ["p1", "p3"]})
    assert ballot.cost_cents == 950000
    with pytest.raises(BallotInvalid):
        validate_ballot(KNAPSACK, bottendaal(949999), {"approvals": ["p1", "p3"]})


def test_approval_ballot_without_budget_limit_may_cost_more_than_the_budget() -> None:
    ballot = validate_ballot(ASSEN_APPROVAL, bottendaal(), {"approvals": ["p1", "p2", "p4"]})
    assert ballot.cost_cents == 1490000


def test_k_approval_accepts_between_min_and_max() -> None:
    for chosen in (["p1", "p2"], ["p1", "p2", "p3"]):
        assert validate_ballot(K_APPROVAL, bottendaal(), {"approvals": chosen}).answer.approvals


def test_cumulative_ballot_drops_zero_points() -> None:
    ballot = validate_ballot(CUMULATIVE, bottendaal(), {"points": {"p4": 5, "p2": 0, "p1": 5}})
    assert ballot.answer.points == (("p1", 5), ("p4", 5))
    assert ballot.cost_cents == 1050000
    assert ballot.as_json() == {"points": {"p1": 5, "p4": 5}}


def test_budget_ranking_and_scores() -> None:
    ranked = validate_ballot(BUDGET_RANKING, bottendaal(), {"ranking": ["p3", ["p1"]]})
    assert ranked.answer.ranking == (("p3",), ("p1",))
    scored = validate_ballot(BUDGET_SCORES, bottendaal(), {"scores": {"p2": 5, "p3": None}})
    assert scored.answer.scores == (("p2", 5),)


def test_preferendum_grades_by_label_or_position_with_blanks() -> None:
    ballot = validate_ballot(
        GRADES,
        BINNENSTAD,
        {
            "questions": {
                "groen": {"grades": {"g": "zeer eens", "d": 0, "e": None}},
                "autoluw": {"grades": {"b": "neutraal"}},
            }
        },
    )
    assert [answer.question for answer in ballot.answers] == ["autoluw", "groen"]
    autoluw, groen = ballot.answers
    assert autoluw.grades == (("b", 2),)
    assert groen.grades == (("d", 0), ("g", 4))
    assert ballot.as_json() == {
        "questions": {"autoluw": {"grades": {"b": 2}}, "groen": {"grades": {"d": 0, "g": 4}}}
    }


def test_preferendum_question_left_out_is_abstained_on_where_allowed() -> None:
    ballot = validate_ballot(GRADES, BINNENSTAD, {"questions": {"groen": {"grades": {"d": 3}}}})
    autoluw, groen = ballot.answers
    assert autoluw.abstained
    assert not groen.abstained
    assert not ballot.abstained


def test_whole_preferendum_abstained_where_allowed() -> None:
    ballot = validate_ballot(GRADES, BINNENSTAD, {"abstain": True})
    assert ballot.abstained
    assert all(answer.abstained for answer in ballot.answers)
    assert ballot.as_json() == {"abstain": True}


def test_all_blank_grades_count_as_abstaining() -> None:
    ballot = validate_ballot(GRADES, ONE_QUESTION, {"grades": {"d": None}})
    assert ballot.abstained


def test_one_question_poll_may_be_answered_without_the_questions_wrapper() -> None:
    ballot = validate_ballot(POLL_APPROVAL, ONE_QUESTION, {"approvals": ["g", "d"]})
    assert ballot.answer.question == "groen"
    assert ballot.answer.approvals == ("d", "g")


def test_ranking_with_ties_sorts_each_place_in_ballot_order() -> None:
    ballot = validate_ballot(RANKING_WITH_TIES, ONE_QUESTION, {"ranking": [["g", "d"], "e"]})
    assert ballot.answer.ranking == (("d", "g"), ("e",))
    # stored with its question, even when submitted without the wrapper
    assert ballot.as_json() == {"questions": {"groen": {"ranking": [["d", "g"], ["e"]]}}}


def test_complete_ranking_accepts_every_option_ranked() -> None:
    ballot = validate_ballot(COMPLETE_RANKING, ONE_QUESTION, {"ranking": ["g", "e", "d", "f"]})
    assert ballot.answer.chosen == ("g", "e", "d", "f")


def test_complete_budget_ranking_asks_only_for_the_voters_own_projects() -> None:
    document = BUDGET_RANKING.document()
    document["ballot"]["ranking"]["complete"] = True
    from stemmen.rules import load_ruleset

    ruleset = load_ruleset(document)
    ballot = validate_ballot(ruleset, bottendaal(), {"ranking": ["p1", "p2", "p3", "p4", "p5"]})
    assert len(ballot.answer.chosen) == 5
    with pytest.raises(BallotInvalid) as raised:
        validate_ballot(ruleset, bottendaal(), {"ranking": ["p1", "p2", "p3", "p4"]})
    assert raised.value.details["missing"] == ["p5"]


def test_scores_ballot_fills_every_option() -> None:
    ballot = validate_ballot(SCORES, ONE_QUESTION, {"scores": {"d": 0, "e": 5, "f": 3, "g": 3}})
    assert ballot.answer.scores == (("d", 0), ("e", 5), ("f", 3), ("g", 3))


def test_typed_forms_and_json_give_the_same_ballot() -> None:
    from_json = validate_ballot(GRADES, BINNENSTAD, {"questions": {"groen": {"grades": {"d": 1}}}})
    typed = validate_ballot(
        GRADES, BINNENSTAD, PreferendumBallot((("groen", Grades((("d", "oneens"),))),))
    )
    assert typed == from_json
    assert validate_ballot(KNAPSACK, bottendaal(), Selection(("p3",))) == validate_ballot(
        KNAPSACK, bottendaal(), {"approvals": ["p3"]}
    )
    assert validate_ballot(RANKING_WITH_TIES, ONE_QUESTION, Ranking((("d",),))).answer.ranking


def test_abstain_form_on_a_budget_where_allowed() -> None:
    document = KNAPSACK.document()
    document["ballot"]["allow_abstain"] = True
    from stemmen.rules import load_ruleset

    ruleset = load_ruleset(document)
    for submitted in ({"abstain": True}, {"approvals": []}, Abstain()):
        ballot = validate_ballot(ruleset, bottendaal(), submitted)
        assert ballot.abstained
        assert ballot.cost_cents == 0
        assert ballot.as_json() == {"abstain": True}


def test_parse_ballot_reads_json_into_forms() -> None:
    assert parse_ballot(KNAPSACK, {"approvals": ["p1"]}) == Selection(("p1",))
    assert parse_ballot(GRADES, {"questions": {"q": {"abstain": True}}}) == PreferendumBallot(
        (("q", Abstain()),)
    )


def test_context_of_the_wrong_kind_is_a_programming_error() -> None:
    with pytest.raises(TypeError):
        validate_ballot(KNAPSACK, BINNENSTAD, {"approvals": ["p1"]})
    with pytest.raises(TypeError):
        validate_ballot(GRADES, bottendaal(), {"grades": {}})


def test_valid_ballot_is_immutable() -> None:
    ballot: ValidBallot = validate_ballot(KNAPSACK, bottendaal(), {"approvals": ["p1"]})
    with pytest.raises(AttributeError):
        ballot.cost_cents = 0  # type: ignore[misc]
    assert hash(ballot) == hash(validate_ballot(KNAPSACK, bottendaal(), {"approvals": ["p1"]}))
