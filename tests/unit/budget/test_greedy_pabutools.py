"""Greedy against pabutools' greedy_utilitarian_welfare, on generated and real elections.

pabutools' greedy orders by satisfaction per cost: with cost satisfaction that is the number of
supporters (our ``greedy``), with cardinality satisfaction supporters per cost (our
``greedy-per-cost``), with additive cardinal satisfaction points per cost. It breaks ties by
project id as text and keeps unsupported projects as candidates, as our default does.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings

from stemmen.budget.greedy import greedy
from tests.support import pabulib_files
from tests.unit.budget import real_elections
from tests.unit.budget.strategies import elections, pabutools_ids, to_pabutools

pabutools = pytest.importorskip("pabutools")

from pabutools.election import (  # noqa: E402
    Additive_Cardinal_Sat,
    Cardinality_Sat,
    Cost_Sat,
)
from pabutools.rules import greedy_utilitarian_welfare  # noqa: E402


def _theirs(instance, profile, satisfaction):  # type: ignore[no-untyped-def]
    their_instance, their_profile = to_pabutools(instance, profile)
    return pabutools_ids(
        greedy_utilitarian_welfare(their_instance, their_profile, sat_class=satisfaction)
    )


@settings(max_examples=120, deadline=None)
@given(elections(vote_types=("approval", "cumulative")))
def test_greedy_by_votes_equals_pabutools_with_cost_satisfaction(election) -> None:
    instance, profile = election
    ours = greedy(instance, profile, support="voters")
    assert sorted(ours.selected) == _theirs(instance, profile, Cost_Sat)


@settings(max_examples=120, deadline=None)
@given(elections(vote_types=("approval", "cumulative")))
def test_greedy_per_cost_equals_pabutools_with_cardinality_satisfaction(election) -> None:
    instance, profile = election
    ours = greedy(instance, profile, support="voters", per_cost=True)
    assert sorted(ours.selected) == _theirs(instance, profile, Cardinality_Sat)


@settings(max_examples=80, deadline=None)
@given(elections(vote_types=("cumulative",)))
def test_points_per_cost_equals_pabutools_with_additive_cardinal_satisfaction(election) -> None:
    instance, profile = election
    ours = greedy(instance, profile, support="points", per_cost=True)
    assert sorted(ours.selected) == _theirs(instance, profile, Additive_Cardinal_Sat)


# Every real file, the city-wide ones too; pabutools reads ordinal ballots as the set of projects
# ranked, as our support count does. Ballots merged for pabutools (same outcome, faster).
REAL = pabulib_files()


@pytest.mark.slow
@pytest.mark.skipif(not REAL, reason="no ../shared/data/pabulib on this machine")
@pytest.mark.parametrize("path", REAL, ids=lambda path: path.name[:50])
def test_greedy_equals_pabutools_on_real_files(path: Path) -> None:
    instance, profile = real_elections.ours(path)
    their_instance, their_profile = real_elections.theirs(path)
    for per_cost, satisfaction in ((False, Cost_Sat), (True, Cardinality_Sat)):
        ours = greedy(instance, profile, support="voters", per_cost=per_cost)
        theirs = greedy_utilitarian_welfare(their_instance, their_profile, sat_class=satisfaction)
        assert sorted(ours.selected) == pabutools_ids(theirs)
