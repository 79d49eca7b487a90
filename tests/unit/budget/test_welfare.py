"""Maximum welfare: exact optimum, constraints, and ties decided by the tie-break list.

Small elections are checked against brute force over every subset of projects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from fractions import Fraction
from itertools import combinations
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stemmen.budget import welfare as welfare_module
from stemmen.budget.model import Instance, Profile
from stemmen.budget.pabulib import parse_pabulib, read_pabulib
from stemmen.budget.tiebreak import TieBreak
from stemmen.budget.welfare import WelfareError, max_welfare, project_welfare
from tests.support import PABULIB_DIR
from tests.unit.budget.strategies import elections

ELECTION = """META
key;value
budget;10
vote_type;approval
PROJECTS
project_id;cost;category
p1;6;green
p2;5;green
p3;5;roads
p4;4;roads
p5;1;roads
VOTES
voter_id;vote
1;p1,p2
2;p1,p3
3;p1,p4
4;p2,p3
5;p5
"""


@pytest.fixture
def election() -> tuple[Instance, Profile]:
    return parse_pabulib(ELECTION)


def brute_force(
    instance: Instance,
    profile: Profile,
    satisfaction: str,
    tie_break: TieBreak,
    allowed: Callable[[set[int]], bool] = lambda subset: True,
) -> tuple[Fraction, set[str]]:
    """The welfare optimum and the optimal set the tie-break prefers lexicographically.

    ``allowed``: further constraints a set of project indices must meet.
    """
    values = project_welfare(instance, profile, satisfaction)
    supported = [i for i, value in enumerate(values) if value != 0]
    from stemmen.budget.support import project_support

    rank = tie_break.rank(instance, project_support(instance, profile, "voters"))
    order = sorted(range(len(instance.projects)), key=rank.__getitem__)
    best: tuple[Fraction, tuple[int, ...]] | None = None
    best_set: set[int] = set()
    for size in range(len(supported) + 1):
        for subset in combinations(supported, size):
            if sum(instance.projects[i].cost for i in subset) > instance.budget:
                continue
            if not allowed(set(subset)):
                continue
            welfare = sum((Fraction(values[i]) for i in subset), Fraction(0))
            key = (welfare, tuple(1 if i in subset else 0 for i in order))
            if best is None or key > best:
                best, best_set = key, set(subset)
    assert best is not None
    return best[0], {instance.projects[i].id for i in best_set}


def test_cardinality_welfare_finds_the_knapsack_optimum(election) -> None:
    instance, profile = election
    allocation = max_welfare(instance, profile, satisfaction="cardinality")
    # Supporters: p1 3, p2 2, p3 2, p4 1, p5 1. Within 10, five sets reach 4: p1 + p4,
    # p1 + p5, p2 + p3, p2 + p4 + p5, p3 + p4 + p5.
    assert allocation.solver is not None
    assert allocation.solver["welfare"] == 4
    assert allocation.solver["gap"] == 0
    # The tie-break (id) prefers the set containing p1, then p2 (none with p1), then p4 over p5.
    assert set(allocation.selected) == {"p1", "p4"}
    assert allocation.solver["unique_optimum"] is False


def test_cost_welfare_counts_supporters_times_cost(election) -> None:
    instance, profile = election
    allocation = max_welfare(instance, profile, satisfaction="cost")
    # p1 18, p2 10, p3 10, p4 4, p5 1: p1 + p4 = 22 is the only best.
    assert set(allocation.selected) == {"p1", "p4"}
    assert allocation.solver is not None
    assert allocation.solver["welfare"] == 22
    assert allocation.solver["unique_optimum"] is True


def test_tie_break_list_decides_between_equal_optima(election) -> None:
    instance, profile = election
    allocation = max_welfare(instance, profile, tie_break="lottery:seed-7")
    expected = brute_force(instance, profile, "cardinality", TieBreak.parse("lottery:seed-7"))
    assert set(allocation.selected) == expected[1]
    assert allocation.tie_break == ("lottery:seed-7", "id")


def test_mandatory_projects_are_funded(election) -> None:
    instance, profile = election
    allocation = max_welfare(instance, profile, mandatory=["p3"])
    assert "p3" in allocation.selected
    assert allocation.solver is not None
    assert allocation.solver["welfare"] == 4
    assert allocation.total_cost <= instance.budget


def test_mutually_exclusive_projects_are_never_both_funded(election) -> None:
    instance, profile = election
    allocation = max_welfare(instance, profile, satisfaction="cost", exclusive=[["p1", "p4"]])
    assert not {"p1", "p4"} <= set(allocation.selected)
    # Best without p1 and p4 together: p2 + p3 = 20 (p1 + p5 gives 19).
    assert allocation.solver is not None
    assert allocation.solver["welfare"] == 20
    assert set(allocation.selected) == {"p2", "p3"}


def test_spend_bounds_per_category(election) -> None:
    instance, profile = election
    allocation = max_welfare(
        instance, profile, satisfaction="cost", category_min={"roads": 9}, category_max={"green": 5}
    )
    chosen = set(allocation.selected)
    roads = sum(p.cost for p in instance.projects if p.id in chosen and "roads" in p.categories)
    green = sum(p.cost for p in instance.projects if p.id in chosen and "green" in p.categories)
    assert roads >= 9
    assert green <= 5


def test_infeasible_constraints_are_reported(election) -> None:
    instance, profile = election
    with pytest.raises(WelfareError, match="no set of projects meets the constraints"):
        max_welfare(instance, profile, mandatory=["p1", "p2"])


def test_unknown_projects_in_constraints_are_refused(election) -> None:
    instance, profile = election
    with pytest.raises(WelfareError, match="unknown projects"):
        max_welfare(instance, profile, mandatory=["p9"])


def test_unsupported_projects_are_never_funded() -> None:
    instance, profile = parse_pabulib(
        "META\nkey;value\nbudget;10\nvote_type;approval\nPROJECTS\nproject_id;cost\n"
        "a;2\nfree;0\nb;3\nVOTES\nvoter_id;vote\n1;a\n"
    )
    allocation = max_welfare(instance, profile)
    assert allocation.selected == ("a",)
    assert "nobody supports it" in allocation.outcome("free").reason


def test_points_welfare_for_cumulative_ballots() -> None:
    instance, profile = parse_pabulib(
        "META\nkey;value\nbudget;5\nvote_type;cumulative\nPROJECTS\nproject_id;cost\n"
        "p;5\nq;3\nr;2\nVOTES\nvoter_id;vote;points\n1;p;6\n2;q,r;2,3\n3;q;1\n"
    )
    allocation = max_welfare(instance, profile, satisfaction="points")
    # p (6 points) ties with q + r (3 + 3): the set holding the first id, p, wins.
    assert allocation.selected == ("p",)
    assert allocation.solver is not None
    assert allocation.solver["welfare"] == 6


@settings(max_examples=60, deadline=None)
@given(elections(vote_types=("approval", "cumulative", "ordinal"), max_voters=8))
def test_max_welfare_equals_brute_force(election) -> None:
    instance, profile = election
    for satisfaction in ("cardinality", "cost", "points"):
        for tie_break in ("id", "more-support,lower-cost"):
            order = TieBreak.parse(tie_break)
            allocation = max_welfare(instance, profile, satisfaction=satisfaction, tie_break=order)
            welfare, chosen = brute_force(instance, profile, satisfaction, order)
            assert allocation.solver is not None
            assert allocation.solver["welfare"] == welfare
            assert set(allocation.selected) == chosen
            assert allocation.total_cost <= instance.budget


def test_threshold_excludes_projects_below_the_minimum(election) -> None:
    instance, profile = election
    # With at least 2 supporters required only p1, p2 and p3 may be funded: p1 alone gives 3
    # (neither p2 nor p3 fits beside it), p2 + p3 give 4.
    allocation = max_welfare(instance, profile, threshold=2)
    assert set(allocation.selected) == {"p2", "p3"}
    assert "below the minimum of 2" in allocation.outcome("p4").reason
    assert allocation.options["threshold"] == 2


def test_welfare_differing_by_one_in_ten_billion_is_told_apart() -> None:
    instance, profile = parse_pabulib(
        "META\nkey;value\nbudget;10000000001\nvote_type;approval\nPROJECTS\nproject_id;cost\n"
        "a;10000000000\nb;10000000001\nc;5000000000\nd;5000000001\n"
        "VOTES\nvoter_id;vote\n1;a,b,c,d\n"
    )
    allocation = max_welfare(instance, profile, satisfaction="cost")
    # a alone gives 10000000000, one less than b alone or c + d (10000000001 each): those two
    # tie, and the tie-break (id) prefers the set holding b, since "b" < "c".
    assert allocation.solver is not None
    assert allocation.solver["welfare"] == 10000000001
    assert allocation.selected == ("b",)
    assert allocation.solver["unique_optimum"] is False


@settings(max_examples=30, deadline=None)
@given(elections(vote_types=("approval",), max_voters=6, max_cost=10**9))
def test_max_welfare_equals_brute_force_with_large_costs(election) -> None:
    instance, profile = election
    for satisfaction in ("cardinality", "cost"):
        allocation = max_welfare(instance, profile, satisfaction=satisfaction)
        welfare, chosen = brute_force(instance, profile, satisfaction, TieBreak.default())
        assert allocation.solver is not None
        assert allocation.solver["welfare"] == welfare
        assert set(allocation.selected) == chosen


@pytest.mark.parametrize("limit", ["EXACT_SEARCH_NODES", "EXACT_SEARCH_PROJECTS"])
@settings(max_examples=30, deadline=None)
@given(elections(vote_types=("approval", "cumulative"), max_voters=8))
def test_solver_path_equals_brute_force_when_the_exact_search_gives_up(limit, election) -> None:
    # With no search nodes (or projects) allowed, what the bounds leave open is settled by
    # further solves (the farthest optimal set, then the tie-break 20 projects per solve).
    instance, profile = election
    with mock.patch.object(welfare_module, limit, 0):
        for satisfaction in ("cardinality", "cost"):
            for tie_break in ("id", "lottery:7"):
                order = TieBreak.parse(tie_break)
                allocation = max_welfare(
                    instance, profile, satisfaction=satisfaction, tie_break=order
                )
                welfare, chosen = brute_force(instance, profile, satisfaction, order)
                assert allocation.solver is not None
                assert allocation.solver["welfare"] == welfare
                assert set(allocation.selected) == chosen


@settings(max_examples=40, deadline=None)
@given(elections(max_voters=8), st.integers(min_value=0, max_value=40), st.data())
def test_constraints_the_bounds_ignore_are_checked_on_every_set_found(
    election, category_cap, data
) -> None:
    # The integer bounds know only the budget: a cap on one category and a mutually exclusive
    # pair must still hold for the set chosen, which is the brute-force optimum under them.
    instance, profile = election
    count = len(instance.projects)
    capped = set(data.draw(st.lists(st.integers(0, count - 1), unique=True, max_size=count)))
    capped = capped or {0}
    pair = data.draw(st.lists(st.integers(0, count - 1), unique=True, max_size=min(2, count)))
    pair = pair if len(pair) == 2 else []
    projects = tuple(
        replace(project, categories=("capped",) if index in capped else ())
        for index, project in enumerate(instance.projects)
    )
    instance = replace(instance, projects=projects)

    def allowed(subset: set[int]) -> bool:
        spend = sum(instance.projects[i].cost for i in subset if i in capped)
        return spend <= category_cap and not (pair and set(pair) <= subset)

    allocation = max_welfare(
        instance,
        profile,
        satisfaction="cost",
        category_max={"capped": category_cap},
        exclusive=[[instance.projects[i].id for i in pair]] if pair else [],
    )
    welfare, chosen = brute_force(instance, profile, "cost", TieBreak.default(), allowed)
    assert allocation.solver is not None
    assert allocation.solver["welfare"] == welfare
    assert set(allocation.selected) == chosen


@pytest.mark.skipif(not PABULIB_DIR.is_dir(), reason="real pabulib files not present")
def test_a_tied_city_wide_optimum_is_settled_exactly_after_one_solve() -> None:
    # Toulouse 2022 by supporters has several optimal sets. Integer bounds and a small search
    # find them all after the first solve; the tie-break then agrees with the one that more
    # solves reach.
    instance, profile = read_pabulib(PABULIB_DIR / "France_Toulouse_2022.pb")
    exact = max_welfare(instance, profile, satisfaction="cardinality")
    assert exact.solver is not None
    assert exact.solver["proof"] == "exact"
    assert exact.solver["solves"] == 1
    assert exact.solver["unique_optimum"] is False
    with mock.patch.object(welfare_module, "EXACT_SEARCH_NODES", 0):
        solved = max_welfare(instance, profile, satisfaction="cardinality")
    assert solved.solver is not None
    assert solved.solver["proof"] == "solver"
    assert solved.solver["solves"] > 1
    assert solved.solver["welfare"] == exact.solver["welfare"]
    assert solved.selected == exact.selected


@pytest.mark.skipif(not PABULIB_DIR.is_dir(), reason="real pabulib files not present")
def test_toulouse_2022_ties_two_optima_and_the_tie_break_list_chooses_between_them() -> None:
    # Issue 3: pabutools funds project 160 where we fund 120. Both sets are optimal: 9,984
    # supporters for 7,998,220 EUR. They differ only in 120 and 160, twins that both cost
    # 20,000 EUR and have 8 supporters, so only the tie-break list can choose. Its default,
    # `id`, compares ids as text and "120" comes first; a lottery that draws 160 first funds
    # 160 and nothing else changes. pabutools' default algorithm returns an optimum it does
    # not specify (test_welfare_pabutools.py checks both sets are its optima too).
    instance, profile = read_pabulib(PABULIB_DIR / "France_Toulouse_2022.pb")
    by_id = max_welfare(instance, profile, satisfaction="cardinality")
    outcome = {p.id: p for p in by_id.projects}
    assert (outcome["120"].cost, outcome["120"].support) == (20_000, 8)
    assert (outcome["160"].cost, outcome["160"].support) == (20_000, 8)
    assert by_id.solver is not None
    assert (by_id.solver["welfare"], by_id.total_cost) == (9984, 7_998_220)
    assert by_id.solver["unique_optimum"] is False
    assert by_id.solver["proof"] == "exact"
    assert "120" in by_id.selected
    assert "160" not in by_id.selected

    lottery = TieBreak.parse("lottery:1")
    rank = lottery.rank(instance)
    position = {p.id: rank[index] for index, p in enumerate(instance.projects)}
    assert position["160"] < position["120"]
    by_lottery = max_welfare(instance, profile, satisfaction="cardinality", tie_break=lottery)
    assert by_lottery.solver is not None
    assert by_lottery.solver["welfare"] == by_id.solver["welfare"]
    assert by_lottery.total_cost == by_id.total_cost
    assert set(by_lottery.selected) == set(by_id.selected) - {"120"} | {"160"}
