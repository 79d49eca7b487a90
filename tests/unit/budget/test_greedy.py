"""Greedy rules: known answers, every option, and the explanation each project gets."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings

from stemmen.budget.greedy import GreedyOptionError, greedy, greedy_no_skip, greedy_per_cost
from stemmen.budget.greedy import greedy_threshold as greedy_with_threshold
from stemmen.budget.pabulib import parse_pabulib
from stemmen.budget.support import equal_channel_weights, project_support
from tests.unit.budget.strategies import elections

APPROVAL = """META
key;value
budget;100
vote_type;approval
currency;EUR
PROJECTS
project_id;cost;name;category
a;60;Park;green
b;50;Bench;green
c;30;Lamp;light
d;10;Sign;light
z;0;Nobody wants it;light
VOTES
voter_id;vote;voting_method
1;a,b;paper
2;a,c;paper
3;a,b,d;internet
4;b,c;internet
5;c;internet
"""


@pytest.fixture
def election():
    return parse_pabulib(APPROVAL)


def test_greedy_funds_by_votes_and_skips_what_does_not_fit(election) -> None:
    instance, profile = election
    allocation = greedy(instance, profile)
    # Votes: a 3, b 3, c 3, d 1, z 0; ties by id: a, b (does not fit: 40 left), c, d, z.
    assert allocation.selected == ("a", "c", "d", "z")
    assert allocation.total_cost == 100
    assert allocation.leftover == 0
    assert [step["budget_left"] for step in allocation.steps] == [40, 10, 0, 0]


def test_zero_support_projects_stay_candidates(election) -> None:
    instance, profile = election
    allocation = greedy(instance, profile)
    assert allocation.outcome("z").funded
    assert allocation.outcome("z").support == 0


def test_explanation_gives_budget_left_when_reached(election) -> None:
    instance, profile = election
    allocation = greedy(instance, profile)
    bench = allocation.outcome("b")
    assert not bench.funded
    assert bench.details["budget_left_when_reached"] == 40
    assert "costs 50 EUR but only 40 EUR was left" in bench.reason
    park = allocation.outcome("a")
    assert park.details == {"step": 1, "budget_left_when_reached": 100, "budget_left_after": 40}
    assert park.reason.startswith("funded at step 1: 3 votes")


def test_no_skip_stops_at_the_first_project_that_does_not_fit(election) -> None:
    instance, profile = election
    allocation = greedy_no_skip(instance, profile)
    assert allocation.rule == "greedy-no-skip"
    assert allocation.selected == ("a",)
    assert "stopped at project b" in allocation.outcome("c").reason


def test_tie_break_list_changes_the_order_among_equal_support(election) -> None:
    instance, profile = election
    allocation = greedy(instance, profile, tie_break="lower-cost")
    assert allocation.selected[:2] == ("c", "b")
    assert allocation.tie_break == ("lower-cost", "id")


def test_threshold_excludes_projects_below_the_minimum(election) -> None:
    instance, profile = election
    allocation = greedy_with_threshold(instance, profile, threshold=2)
    assert set(allocation.selected) == {"a", "c"}
    assert "below the minimum support of 2" in allocation.outcome("d").reason
    assert allocation.outcome("z").details == {"below_threshold": True}


def test_threshold_as_share_of_voters(election) -> None:
    instance, profile = election
    # 3/5 of 5 voters = 3 votes: a, b and c reach it.
    allocation = greedy(instance, profile, threshold_share="60%")
    assert set(allocation.selected) == {"a", "c"}
    assert allocation.options["threshold"] == 3


def test_greedy_threshold_without_a_threshold_is_refused(election) -> None:
    instance, profile = election
    with pytest.raises(GreedyOptionError):
        greedy_with_threshold(instance, profile)


def test_per_cost_orders_by_exact_support_per_cost(election) -> None:
    instance, profile = election
    allocation = greedy_per_cost(instance, profile)
    # Per cost: d 1/10, c 1/10, a 1/20, b 3/50, z 0: ties c and d broken by id.
    assert allocation.selected == ("c", "d", "b", "z")
    assert allocation.outcome("d").details["support_per_cost"] == Fraction(1, 10)


def test_category_caps_hold_back_projects(election) -> None:
    instance, profile = election
    allocation = greedy(instance, profile, category_caps={"light": 35})
    assert allocation.selected == ("a", "c", "z")
    assert "cap of 35 EUR on category 'light'" in allocation.outcome("d").reason


def test_caps_naming_an_unknown_group_are_refused(election) -> None:
    instance, profile = election
    with pytest.raises(GreedyOptionError, match="no project belongs to"):
        greedy(instance, profile, category_caps={"roads": 10})


THREE = (
    "META\nkey;value\nbudget;100\nvote_type;approval\nPROJECTS\nproject_id;cost\n"
    "x;50\ny;60\nw;10\nVOTES\nvoter_id;vote\n1;x,y,w\n2;x,y\n3;x\n"
)


def test_partial_leftover_gives_what_is_left_to_the_best_project_not_funded() -> None:
    instance, profile = parse_pabulib(THREE)
    # x (50) and w (10) are funded; 40 is left and y, the best not funded, receives it.
    allocation = greedy(instance, profile, leftover="partial")
    assert allocation.selected == ("x", "w", "y")
    assert allocation.total_cost == 100
    assert allocation.outcome("y").details["partial_amount"] == 40
    assert "partially funded" in allocation.outcome("y").reason


def test_reserve_funds_the_first_miss_when_enough_of_its_cost_is_left() -> None:
    instance, profile = parse_pabulib(THREE)
    # 50 left when y (60) is reached: 50 >= 80% of 60 = 48, so y is funded from the reserve.
    allocation = greedy(instance, profile, leftover="reserve:80%")
    assert allocation.selected == ("x", "y")
    assert allocation.outcome("y").details["reserve_used"] == 10
    assert not allocation.outcome("w").funded
    stricter = greedy(instance, profile, leftover="reserve:0.9")
    assert stricter.selected == ("x",)


def test_channel_weights_make_each_channel_count_for_half(election) -> None:
    instance, profile = election
    weights = equal_channel_weights(profile)
    # 2 paper and 3 internet voters: paper counts 5/4, internet 5/6 per voter.
    assert weights == {"internet": Fraction(5, 6), "paper": Fraction(5, 4)}
    support = project_support(instance, profile, "voters", weights)
    assert support[0] == Fraction(5, 4) * 2 + Fraction(5, 6)
    allocation = greedy(instance, profile, channel_weights=weights)
    assert allocation.selected[0] == "a"
    assert allocation.options["channel_weights"] == weights


def test_ordinal_ballots_count_positional_points() -> None:
    instance, profile = parse_pabulib(
        "META\nkey;value\nbudget;10\nvote_type;ordinal\nPROJECTS\nproject_id;cost\n"
        "p;5\nq;5\nr;5\nVOTES\nvoter_id;vote\n1;q,p,r\n2;p,q\n3;r\n"
    )
    # q: 3 + 1, p: 2 + 2, r: 1 + 1.
    assert project_support(instance, profile) == [4, 4, 2]
    assert greedy(instance, profile).selected == ("p", "q")


def test_cumulative_ballots_count_points_unless_asked_for_voters() -> None:
    instance, profile = parse_pabulib(
        "META\nkey;value\nbudget;5\nvote_type;cumulative\nPROJECTS\nproject_id;cost\n"
        "p;5\nq;5\nVOTES\nvoter_id;vote;points\n1;p;5\n2;q;1\n3;q;1\n"
    )
    assert greedy(instance, profile).selected == ("p",)
    assert greedy(instance, profile, support="voters").selected == ("q",)


def test_unknown_leftover_policy_is_refused(election) -> None:
    instance, profile = election
    with pytest.raises(GreedyOptionError, match="unknown leftover policy"):
        greedy(instance, profile, leftover="spend-it-all")


def test_voters_with_a_funded_project(election) -> None:
    instance, profile = election
    assert greedy_no_skip(instance, profile).voters_with_funded_project == 3


@settings(max_examples=150, deadline=None)
@given(elections(vote_types=("approval", "cumulative", "ordinal")))
def test_greedy_properties(election) -> None:
    instance, profile = election
    for leftover in ("skip", "stop"):
        allocation = greedy(instance, profile, leftover=leftover)
        assert allocation.total_cost <= instance.budget
        assert len(set(allocation.selected)) == len(allocation.selected)
        assert [o.id for o in allocation.projects] == [p.id for p in instance.projects]
        funded = {o.id for o in allocation.projects if o.funded}
        assert funded == set(allocation.selected)
        if leftover == "skip":
            # Exhaustive: nothing left out still fits.
            left = instance.budget - allocation.total_cost
            assert all(p.cost > left for p in instance.projects if p.id not in funded)
    no_skip = greedy(instance, profile, leftover="stop")
    skip = greedy(instance, profile)
    assert skip.selected[: len(no_skip.selected)] == no_skip.selected
