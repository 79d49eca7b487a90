"""Real ballots from pabulib, validated under a rule set that says what each city's ballot
said (its META: vote type, min_length, max_length, max_sum_points): every ballot the city
counted must be accepted, and a knapsack file's ballots must fit its budget."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from stemmen.ballots import (
    BallotInvalid,
    BallotProject,
    BudgetBallotContext,
    Points,
    Ranking,
    Selection,
    SubmittedBallot,
    validate_ballot,
)
from stemmen.budget.pabulib import read_pabulib
from stemmen.rules import RuleSet, load_ruleset
from tests.support import pabulib_files
from tests.unit.ballots.helpers import example

AREA = "GM0268"
# Files whose voters were asked for a set of projects within the budget. (Stanford's Chicago
# "vote knapsacks" file is not one: its voters approved projects costing up to the whole budget
# each, 10 of its 13 distinct ballots together above it.)
KNAPSACK_FILES = ("Worldwide_Mechanical_Turk_Knapsack_7.pb",)
# Ballots a city's record holds that its own rules refuse, each with the reason.
EXPECTED_REFUSALS = {
    # voter 414 chose 5 projects costing 683,000 of the 500,000 budget; a knapsack ballot may not
    "Worldwide_Mechanical_Turk_Knapsack_7.pb": Counter({"ballot_over_budget": 1}),
}


def ruleset_for(meta_vote_type: str, profile: Any, knapsack: bool) -> RuleSet:
    document = example("nijmegen-buurtbegroting.json")
    ballot: dict[str, Any] = {
        "format": "approval",
        "revote": "last_counts",
        "channels": ["online", "paper"],
        "paper_online_exclusive": True,
        "min_selections": profile.min_length or 1,
    }
    if profile.max_length is not None:
        ballot["max_selections"] = profile.max_length
    if knapsack:
        ballot["format"] = "knapsack"
    elif meta_vote_type == "choose-1":
        ballot.update(format="k-approval", max_selections=1)
    elif meta_vote_type == "cumulative":
        ballot.update(format="cumulative", max_points=profile.max_sum_points)
    elif meta_vote_type == "ordinal":
        ballot.update(format="ranking", ranking={"complete": False, "ties_allowed": False})
    document["ballot"] = ballot
    return load_ruleset(document)


def submitted(
    vote_type: str, ids: list[str], projects: tuple[int, ...], points: Any
) -> SubmittedBallot:
    chosen = [ids[index] for index in projects]
    if vote_type == "cumulative":
        return Points(tuple(zip(chosen, points, strict=True)))
    if vote_type == "ordinal":
        return Ranking(tuple((option,) for option in chosen))
    return Selection(tuple(chosen))


@pytest.mark.parametrize("path", pabulib_files(include_large=False), ids=lambda path: path.name)
def test_every_real_ballot_is_accepted_under_its_citys_rules(path: Path) -> None:
    instance, profile = read_pabulib(path)
    meta_vote_type = instance.meta.get("vote_type", "approval")
    knapsack = path.name in KNAPSACK_FILES
    ruleset = ruleset_for(meta_vote_type, profile, knapsack)
    ids = [project.id for project in instance.projects]
    context = BudgetBallotContext(
        AREA,
        str(instance.meta.get("unit", "the city")),
        instance.budget * 100,
        tuple(
            BallotProject(project.id, project.name or project.id, project.cost * 100, AREA)
            for project in instance.projects
        ),
    )
    refused: Counter[str] = Counter()
    distinct = {(voter.projects, voter.points) for voter in profile.voters}
    for projects, points in sorted(distinct, key=repr):
        try:
            validate_ballot(ruleset, context, submitted(profile.vote_type, ids, projects, points))
        except BallotInvalid as refusal:
            refused[refusal.code] += 1
    expected = EXPECTED_REFUSALS.get(path.name, Counter())
    assert refused == expected, f"{sum(refused.values())} of {len(distinct)} distinct ballots"
