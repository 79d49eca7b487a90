"""Sequential Phragmén: hand-worked answers, properties, and pabutools on generated and real files."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from stemmen.budget.model import Instance, Profile, Project, Voter
from stemmen.budget.phragmen import phragmen
from stemmen.budget.registry import allocate
from tests.support import LARGE_PABULIB_FILES, pabulib_files
from tests.unit.budget import real_elections
from tests.unit.budget.strategies import elections, pabutools_ids, to_pabutools


def election(
    costs: dict[str, int], budget: int, ballots: list[list[str]]
) -> tuple[Instance, Profile]:
    ids = list(costs)
    instance = Instance(
        projects=tuple(Project(id=pid, cost=cost) for pid, cost in costs.items()), budget=budget
    )
    voters = tuple(
        Voter(id=str(number), projects=tuple(sorted(ids.index(pid) for pid in ballot)))
        for number, ballot in enumerate(ballots)
    )
    return instance, Profile(vote_type="approval", voters=voters)


def test_loads_spread_over_supporters_and_ties_go_to_the_lower_id():
    # Three voters approve a and b, one approves c; everything costs 1.
    instance, profile = election({"a": 1, "b": 1, "c": 1}, 2, [["a", "b"]] * 3 + [["c"]])
    allocation = phragmen(instance, profile)
    assert allocation.selected == ("a", "b")
    assert [step["load"] for step in allocation.steps] == [Fraction(1, 3), Fraction(2, 3)]
    assert "stopped after step 2" in allocation.outcome("c").reason
    instance, profile = election({"a": 1, "b": 1, "c": 1}, 3, [["a", "b"]] * 3 + [["c"]])
    assert phragmen(instance, profile).selected == ("a", "b", "c")


def test_stops_at_the_first_project_that_does_not_fit_instead_of_skipping_it():
    # a: load 1; then b (load 3/2) does not fit; d (load 2) would fit but is never reached.
    ballots = [["a"]] * 4 + [["b"]] * 2 + [["d"]]
    instance, profile = election({"a": 4, "b": 3, "d": 2}, 6, ballots)
    allocation = phragmen(instance, profile)
    assert allocation.selected == ("a",)
    assert allocation.outcome("d").details == {"stopped_after_step": 1, "budget_left": 2}
    assert "project b was next" in allocation.outcome("d").reason


def test_projects_without_support_come_last_and_too_expensive_ones_never():
    instance, profile = election({"a": 2, "z": 1, "huge": 50}, 10, [["a"]])
    allocation = phragmen(instance, profile)
    assert allocation.selected == ("a", "z")
    assert "more than the whole budget" in allocation.outcome("huge").reason


def test_tie_break_list_orders_equal_loads():
    instance, profile = election({"a": 2, "b": 1}, 2, [["a"], ["a"], ["b"]])
    assert phragmen(instance, profile).selected == ("a",)  # both load 1: a by id, then b stops
    assert phragmen(instance, profile, tie_break="lower-cost").selected == ("b",)


def test_registered_as_phragmen():
    instance, profile = election({"a": 1}, 1, [["a"]])
    assert allocate(instance, profile, "phragmen").selected == ("a",)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(elections(max_cost=12))
def test_generated_approval_elections_match_pabutools(data):
    from pabutools.rules import sequential_phragmen

    instance, profile = data
    theirs = pabutools_ids(sequential_phragmen(*to_pabutools(instance, profile)))
    allocation = phragmen(instance, profile)
    assert sorted(allocation.selected) == theirs
    assert allocation.total_cost <= instance.budget


@pytest.mark.parametrize(
    "path",
    list(pabulib_files(include_large=False)),
    ids=lambda path: path.stem[:40],
)
def test_real_approval_files_match_pabutools(path: Path):
    from pabutools.rules import sequential_phragmen

    instance, profile = real_elections.ours(path)
    if profile.vote_type != "approval":
        pytest.skip("pabutools' Phragmén takes approval ballots only")
    theirs = pabutools_ids(sequential_phragmen(*real_elections.theirs(path)))
    assert sorted(phragmen(instance, profile).selected) == theirs


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(LARGE_PABULIB_FILES))
def test_city_wide_files_stay_within_budget_and_explain_every_project(name):
    paths = [path for path in pabulib_files() if path.name == name]
    if not paths:
        pytest.skip("no ../shared/data/pabulib on this machine")
    instance, profile = real_elections.ours(paths[0])
    allocation = phragmen(instance, profile)
    assert allocation.total_cost <= instance.budget
    assert all(outcome.reason for outcome in allocation.projects)
