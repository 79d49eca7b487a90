"""Every refusal a voter can meet: its stable code, its details, and a message in English and
Dutch that says what to change. The catalogue covers every code the validator knows."""

from __future__ import annotations

from typing import Any

import pytest

from stemmen.ballots import BallotInvalid, Grades, Points, Selection, validate_ballot
from stemmen.ballots.validation import REFUSAL_CODES
from stemmen.errors import InvalidInput
from stemmen.rules import RuleSet
from tests.unit.ballots.helpers import (
    ASSEN_APPROVAL,
    BINNENSTAD,
    BUDGET_RANKING,
    BUDGET_SCORES,
    COMPLETE_RANKING,
    CUMULATIVE,
    GRADES,
    GRADES_NO_BLANK_NO_ABSTAIN,
    K_APPROVAL,
    KNAPSACK,
    ONE_QUESTION,
    POLL_APPROVAL,
    SCORES,
    bottendaal,
)

BUDGET_CONTEXT = bottendaal()
# (case, rule set, context, submitted, code, details that must be there, words the English
# message must contain, words the Dutch message must contain)
CATALOGUE: list[tuple[str, RuleSet, Any, Any, str, dict[str, Any], str, str]] = [
    (
        "not an object",
        KNAPSACK,
        BUDGET_CONTEXT,
        {"approvals": "p1"},
        "ballot_malformed",
        {},
        "list of ids",
        "lijst",
    ),
    (
        "unknown field",
        KNAPSACK,
        BUDGET_CONTEXT,
        {"choices": ["p1"]},
        "ballot_malformed",
        {"field": "choices"},
        '"approvals"',
        "onverwacht veld",
    ),
    (
        "ids as numbers",
        KNAPSACK,
        BUDGET_CONTEXT,
        {"approvals": [1]},
        "ballot_malformed",
        {},
        "as text",
        "als tekst",
    ),
    (
        "points as decimals",
        CUMULATIVE,
        BUDGET_CONTEXT,
        {"points": {"p1": 1.5}},
        "ballot_malformed",
        {"option": "p1"},
        "whole number",
        "geheel getal",
    ),
    (
        "ranking place empty",
        BUDGET_RANKING,
        BUDGET_CONTEXT,
        {"ranking": [[]]},
        "ballot_malformed",
        {},
        "non-empty",
        "niet-lege",
    ),
    (
        "points on an approval ballot",
        KNAPSACK,
        BUDGET_CONTEXT,
        {"points": {"p1": 1}},
        "ballot_wrong_format",
        {"format": "knapsack", "given": "points"},
        "tick the projects",
        "aan te kruisen",
    ),
    (
        "typed form of another format",
        CUMULATIVE,
        BUDGET_CONTEXT,
        Selection(("p1",)),
        "ballot_wrong_format",
        {"format": "cumulative"},
        "give points",
        "punten te geven",
    ),
    (
        "several questions on a budget",
        KNAPSACK,
        BUDGET_CONTEXT,
        {"questions": {}},
        "ballot_malformed",
        {"field": "questions"},
        "unexpected field",
        "onverwacht",
    ),
    (
        "unknown project",
        KNAPSACK,
        BUDGET_CONTEXT,
        {"approvals": ["p9"]},
        "ballot_unknown_option",
        {"option": "p9"},
        "Bottendaal",
        "getoonde projecten",
    ),
    (
        "project of another buurt",
        KNAPSACK,
        BUDGET_CONTEXT,
        {"approvals": ["x1"]},
        "ballot_other_area",
        {"option": "x1", "area": "BU02680101"},
        "Jeu de boules-baan",
        "niet van Bottendaal",
    ),
    (
        "same project twice",
        KNAPSACK,
        BUDGET_CONTEXT,
        {"approvals": ["p3", "p3"]},
        "ballot_duplicate_option",
        {"option": "p3"},
        "Geveltuinen",
        "kies elk project één keer",
    ),
    (
        "same option twice",
        POLL_APPROVAL,
        ONE_QUESTION,
        {"approvals": ["d", "d"]},
        "ballot_duplicate_option",
        {"option": "d", "question": "groen"},
        "choose each option once",
        "kies elke optie één keer",
    ),
    (
        "too few",
        ASSEN_APPROVAL,
        BUDGET_CONTEXT,
        {"approvals": ["p3"]},
        "ballot_too_few_selections",
        {"count": 1, "min_selections": 2},
        "choose at least 2",
        "minstens 2",
    ),
    (
        "too many",
        K_APPROVAL,
        BUDGET_CONTEXT,
        {"approvals": ["p2", "p3", "p4", "p5"]},
        "ballot_too_many_selections",
        {"count": 4, "max_selections": 3},
        "at most 3",
        "hoogstens 3",
    ),
    (
        "over budget",
        KNAPSACK,
        BUDGET_CONTEXT,
        {"approvals": ["p1", "p2"]},
        "ballot_over_budget",
        {"cost_cents": 1240000, "budget_cents": 1000000, "over_cents": 240000},
        "EUR 2,400 over",
        "€ 2.400 meer",
    ),
    (
        "negative points",
        CUMULATIVE,
        BUDGET_CONTEXT,
        Points((("p1", -2),)),
        "ballot_negative_points",
        {"option": "p1", "points": -2},
        "cannot be negative",
        "niet negatief",
    ),
    (
        "too many points",
        CUMULATIVE,
        BUDGET_CONTEXT,
        {"points": {"p1": 5, "p2": 4, "p3": 3}},
        "ballot_too_many_points",
        {"points": 12, "max_points": 10},
        "10 to give",
        "10 te geven",
    ),
    (
        "too many points for one",
        CUMULATIVE,
        BUDGET_CONTEXT,
        {"points": {"p1": 6}},
        "ballot_too_many_points_for_option",
        {"max_points_per_option": 5},
        "at most 5",
        "hoogstens 5",
    ),
    (
        "grade not on the scale",
        GRADES,
        ONE_QUESTION,
        {"grades": {"d": "helemaal eens"}},
        "ballot_grade_not_on_scale",
        {"question": "groen", "option": "d"},
        "zeer oneens",
        "zeer eens",
    ),
    (
        "grade position past the end",
        GRADES,
        ONE_QUESTION,
        Grades((("d", 5),)),
        "ballot_grade_not_on_scale",
        {"grade": 5},
        "0 to 4",
        "0 tot en met 4",
    ),
    (
        "score not on the scale",
        SCORES,
        ONE_QUESTION,
        {"scores": {"d": 6, "e": 1, "f": 1, "g": 1}},
        "ballot_score_not_on_scale",
        {"score": 6, "max": 5},
        "from 0 to 5",
        "0 tot en met 5",
    ),
    (
        "score blank where not allowed",
        SCORES,
        ONE_QUESTION,
        {"scores": {"d": 5, "e": None, "f": 1, "g": 1}},
        "ballot_blank_not_allowed",
        {"option": "e"},
        "Plein 1944",
        "open",
    ),
    (
        "grade missing where blanks are not allowed",
        GRADES_NO_BLANK_NO_ABSTAIN,
        ONE_QUESTION,
        {"grades": {"d": 4, "e": 4, "f": 4}},
        "ballot_blank_not_allowed",
        {"option": "g"},
        "Valkhof",
        "oordeel",
    ),
    (
        "blank budget ballot",
        KNAPSACK,
        BUDGET_CONTEXT,
        {"abstain": True},
        "ballot_too_few_selections",
        {"count": 0},
        "at least 1",
        "minstens 1",
    ),
    (
        "blank where none allowed and no minimum",
        COMPLETE_RANKING,
        BINNENSTAD,
        {"abstain": True},
        "ballot_abstain_not_allowed",
        {},
        "blank vote",
        "blanco",
    ),
    (
        "scores all blank budget ballot",
        BUDGET_SCORES,
        BUDGET_CONTEXT,
        {"scores": {"p1": None}},
        "ballot_too_few_selections",
        {"count": 0},
        "at least 1",
        "minstens 1",
    ),
    (
        "tie where ties are not allowed",
        COMPLETE_RANKING,
        ONE_QUESTION,
        {"ranking": [["d", "e"], "f", "g"]},
        "ballot_tie_not_allowed",
        {"options": ["d", "e"]},
        "share a place",
        "eigen plaats",
    ),
    (
        "incomplete ranking",
        COMPLETE_RANKING,
        ONE_QUESTION,
        {"ranking": ["g", "d"]},
        "ballot_ranking_incomplete",
        {"missing": ["e", "f"]},
        "Plein 1944",
        "rangschik alle",
    ),
    (
        "unknown question",
        GRADES,
        BINNENSTAD,
        {"questions": {"parkeren": {"grades": {"a": 1}}}},
        "ballot_unknown_question",
        {"question": "parkeren"},
        '"parkeren"',
        "geen vraag",
    ),
    (
        "question left out",
        COMPLETE_RANKING,
        BINNENSTAD,
        {"questions": {"groen": {"ranking": ["d", "e", "f", "g"]}}},
        "ballot_question_unanswered",
        {"question": "autoluw"},
        "autoluw",
        "beantwoord elke vraag",
    ),
    (
        "unknown option of a question",
        POLL_APPROVAL,
        BINNENSTAD,
        {"questions": {"groen": {"approvals": ["a"]}}},
        "ballot_unknown_option",
        {"question": "groen", "option": "a"},
        'question "Waar komt meer groen?"',
        "vraag",
    ),
    (
        "answer outside questions on a multi-question ballot",
        GRADES,
        BINNENSTAD,
        {"grades": {"a": 1}},
        "ballot_malformed",
        {},
        '"questions"',
        "meerdere vragen",
    ),
]


@pytest.mark.parametrize(
    ("ruleset", "context", "submitted", "code", "details", "english", "dutch"),
    [case[1:] for case in CATALOGUE],
    ids=[case[0] for case in CATALOGUE],
)
def test_refusal(
    ruleset: RuleSet,
    context: Any,
    submitted: Any,
    code: str,
    details: dict[str, Any],
    english: str,
    dutch: str,
) -> None:
    with pytest.raises(BallotInvalid) as raised:
        validate_ballot(ruleset, context, submitted)
    refusal = raised.value
    assert refusal.code == code
    assert refusal.details.items() >= details.items()
    assert english in refusal.message_en
    assert refusal.message_nl is not None
    assert dutch in refusal.message_nl
    assert refusal.message_en != refusal.message_nl
    assert isinstance(refusal, InvalidInput)  # the app maps it to 422 {"code", "message", ...}
    assert refusal.to_body()["code"] == code


def test_catalogue_covers_every_refusal_code() -> None:
    assert {case[4] for case in CATALOGUE} == set(REFUSAL_CODES)


def test_over_budget_message_is_the_one_a_resident_reads() -> None:
    with pytest.raises(BallotInvalid) as raised:
        validate_ballot(KNAPSACK, bottendaal(), {"approvals": ["p2", "p1"]})
    assert raised.value.message_en == (
        "your choice costs EUR 12,400, which is EUR 2,400 over the EUR 10,000 budget of Bottendaal"
    )
    assert raised.value.message_nl == (
        "uw keuze kost € 12.400, dat is € 2.400 meer dan het budget van € 10.000 voor Bottendaal"
    )
