"""The budget types: exact money, canonical merged ballots, JSON of an allocation."""

from __future__ import annotations

import json
from fractions import Fraction

from stemmen.budget.greedy import greedy
from stemmen.budget.model import Profile, Voter, format_money
from stemmen.budget.pabulib import parse_pabulib


def test_money_is_formatted_exactly() -> None:
    assert format_money(80482879, 100) == "804828.79"
    assert format_money(5, 100) == "0.05"
    assert format_money(-150, 100) == "-1.50"
    assert format_money(42, 1) == "42"
    assert format_money(7, 1000) == "0.007"


def test_merged_ballots_are_canonical_whatever_the_voter_order() -> None:
    voters = (
        Voter("1", (2, 0)),
        Voter("2", (0, 2)),
        Voter("3", (1,)),
    )
    merged = Profile("approval", voters).merged()
    again = Profile("approval", tuple(reversed(voters))).merged()
    assert merged == again
    assert [(b.projects, b.weight) for b in merged] == [((0, 2), 2), ((1,), 1)]


def test_ordinal_ballots_keep_their_order_when_merged() -> None:
    voters = (Voter("1", (2, 0)), Voter("2", (0, 2)))
    merged = Profile("ordinal", voters).merged()
    assert [b.projects for b in merged] == [(0, 2), (2, 0)]


def test_points_follow_their_projects_when_sorted() -> None:
    merged = Profile("cumulative", (Voter("1", (2, 0), (5, 1)),)).merged()
    assert (merged[0].projects, merged[0].points) == ((0, 2), (1, 5))


def test_channel_weights_weigh_each_voter() -> None:
    voters = (
        Voter("1", (0,), None, {"voting_method": "paper"}),
        Voter("2", (0,), None, {"voting_method": "internet"}),
    )
    merged = Profile("approval", voters).merged({"paper": Fraction(3, 2)})
    assert merged[0].weight == Fraction(5, 2)


def test_allocation_json_carries_exact_money_and_every_project() -> None:
    instance, profile = parse_pabulib(
        "META\nkey;value\nbudget;10.50\nvote_type;approval\nPROJECTS\nproject_id;cost\n"
        "x;4.25\ny;7\nVOTES\nvoter_id;vote\n1;x,y\n2;y\n"
    )
    data = greedy(instance, profile).to_json()
    json.dumps(data)  # plain JSON types only
    assert data["rule"] == "greedy"
    assert data["selected"] == ["y"]
    assert data["total_cost"] == "7.00"
    assert data["total_cost_minor"] == 700
    assert data["leftover"] == "3.50"
    assert data["budget_minor"] == 1050
    assert [p["id"] for p in data["projects"]] == ["x", "y"]
    assert data["projects"][0]["cost"] == "4.25"
    assert data["projects"][0]["funded"] is False
    assert data["tie_break"] == ["id"]


def test_replacing_voters_never_keeps_counts_from_the_reader() -> None:
    import dataclasses

    _, profile = parse_pabulib(
        "META\nkey;value\nbudget;5\nvote_type;approval\nPROJECTS\nproject_id;cost\na;1\nb;1\n"
        "VOTES\nvoter_id;vote\n1;a\n2;a\n3;b\n"
    )
    assert profile.ballot_counts is not None
    fewer = dataclasses.replace(profile, voters=profile.voters[:1])
    assert [(b.projects, b.weight) for b in fewer.merged()] == [((0,), 1)]
