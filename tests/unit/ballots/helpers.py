"""Rule sets and ballots of every format for the ballot tests, built from the shipped examples."""

from __future__ import annotations

import copy
import json
from typing import Any

from stemmen.ballots import (
    BallotProject,
    BudgetBallotContext,
    Question,
    QuestionOption,
    QuestionsBallotContext,
)
from stemmen.rules import RuleSet, load_ruleset
from tests.support import PROJECT_ROOT

EXAMPLES_DIR = PROJECT_ROOT / "examples" / "rulesets"
BOTTENDAAL = "BU02680100"


def example(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EXAMPLES_DIR / name).read_text(encoding="utf-8"))
    return document


def budget_rules(**ballot: Any) -> RuleSet:
    """The Nijmegen buurtbegroting with its ballot section changed (None deletes a field)."""
    document = example("nijmegen-buurtbegroting.json")
    document["ballot"]["within_budget"] = False
    document["ballot"]["format"] = "approval"
    for key, value in ballot.items():
        if value is None:
            document["ballot"].pop(key, None)
        else:
            document["ballot"][key] = value
    return load_ruleset(document)


def question_rules(tally: str, **ballot: Any) -> RuleSet:
    """The preferendum example with another ballot section and tally method."""
    document = example("preferendum.json")
    document["tally"]["method"] = tally
    document["round_bounds"]["allowed_methods"] = [tally]
    for key, value in ballot.items():
        if value is None:
            document["ballot"].pop(key, None)
        else:
            document["ballot"][key] = value
    return load_ruleset(document)


KNAPSACK = load_ruleset(example("nijmegen-buurtbegroting.json"))
ASSEN_APPROVAL = load_ruleset(example("assen-top-idee-2024.json"))
K_APPROVAL = budget_rules(format="k-approval", min_selections=2, max_selections=3)
CUMULATIVE = budget_rules(format="cumulative", max_points=10, max_points_per_option=5)
BUDGET_RANKING = budget_rules(format="ranking", ranking={"complete": False, "ties_allowed": False})
BUDGET_SCORES = budget_rules(format="scores", scale={"min": 0, "max": 5, "blank_allowed": True})

GRADES = load_ruleset(example("preferendum.json"))
GRADES_NO_BLANK_NO_ABSTAIN = question_rules(
    "majority-judgment",
    scale={
        "labels": ["zeer oneens", "oneens", "neutraal", "eens", "zeer eens"],
        "blank_allowed": False,
    },
    allow_abstain=False,
)
POLL_APPROVAL = load_ruleset(example("wijkpeiling.json"))
RANKING_WITH_TIES = question_rules(
    "schulze", format="ranking", scale=None, ranking={"complete": False, "ties_allowed": True}
)
COMPLETE_RANKING = question_rules(
    "irv",
    format="ranking",
    scale=None,
    ranking={"complete": True, "ties_allowed": False},
    allow_abstain=False,
)
SCORES = question_rules("star", format="scores", scale={"min": 0, "max": 5, "blank_allowed": False})


def bottendaal(budget_cents: int = 1000000) -> BudgetBallotContext:
    """Bottendaal's ballot: five projects, and one of a neighbouring buurt."""
    projects = (
        BallotProject("p1", "Speeltuin Kronenburgerpark", 800000, BOTTENDAAL, "Spelen en sport"),
        BallotProject("p2", "Bankjes op het plein", 440000, BOTTENDAAL, "Ontmoeting"),
        BallotProject("p3", "Geveltuinen", 150000, BOTTENDAAL, "Groen"),
        BallotProject("p4", "Buurtfeest", 250000, BOTTENDAAL, "Ontmoeting"),
        BallotProject("p5", "Fietsenrekken", 100000, BOTTENDAAL, "Verkeer en veiligheid"),
        BallotProject("x1", "Jeu de boules-baan", 300000, "BU02680101", "Spelen en sport"),
    )
    return BudgetBallotContext(BOTTENDAAL, "Bottendaal", budget_cents, projects)


def options(*pairs: tuple[str, str]) -> tuple[QuestionOption, ...]:
    return tuple(QuestionOption(option_id, label) for option_id, label in pairs)


BINNENSTAD = QuestionsBallotContext(
    (
        Question(
            "autoluw",
            "Hoe maken we de binnenstad autoluw?",
            options(
                ("a", "Knip bij de Waalbrug"),
                ("b", "Alleen bestemmingsverkeer"),
                ("c", "Niets veranderen"),
            ),
        ),
        Question(
            "groen",
            "Waar komt meer groen?",
            options(
                ("d", "Grote Markt"), ("e", "Plein 1944"), ("f", "Kelfkensbos"), ("g", "Valkhof")
            ),
        ),
    )
)
ONE_QUESTION = QuestionsBallotContext((BINNENSTAD.questions[1],))


def deep(value: Any) -> Any:
    return copy.deepcopy(value)
