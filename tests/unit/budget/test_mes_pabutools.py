"""Equal Shares against pabutools: generated elections (ties included) and every real file."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stemmen.budget.mes import equal_shares
from stemmen.budget.model import Instance, Profile
from tests.support import LARGE_PABULIB_FILES, PABULIB_DIR, pabulib_files
from tests.unit.budget import real_elections
from tests.unit.budget.strategies import elections, pabutools_ids, to_pabutools

pabutools = pytest.importorskip("pabutools")

from pabutools.election import (  # noqa: E402
    Additive_Cardinal_Sat,
    Cardinality_Sat,
    Cost_Sat,
)
from pabutools.rules import (  # noqa: E402
    completion_by_rule_combination,
    greedy_utilitarian_welfare,
    method_of_equal_shares,
)

SAT_CLASSES = {"cost": Cost_Sat, "cardinality": Cardinality_Sat, "points": Additive_Cardinal_Sat}


def pabutools_mes(instance, profile, satisfaction: str, completion: str) -> list[str]:  # type: ignore[no-untyped-def]
    sat_class = SAT_CLASSES[satisfaction]
    increment = 1 if completion in ("add1", "add1-greedy") else None
    if completion in ("greedy", "add1-greedy"):
        outcome = completion_by_rule_combination(
            instance,
            profile,
            [method_of_equal_shares, greedy_utilitarian_welfare],
            [
                {"sat_class": sat_class, "voter_budget_increment": increment},
                {"sat_class": sat_class},
            ],
        )
    else:
        outcome = method_of_equal_shares(
            instance, profile, sat_class=sat_class, voter_budget_increment=increment
        )
    return pabutools_ids(outcome)


def ours(instance: Instance, profile: Profile, satisfaction: str, completion: str) -> list[str]:
    allocation = equal_shares(instance, profile, satisfaction=satisfaction, completion=completion)
    return sorted(allocation.selected)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    elections(max_cost=12),
    st.sampled_from(["cost", "cardinality"]),
    st.sampled_from(["none", "add1", "greedy", "add1-greedy"]),
)
def test_approval_elections_match_pabutools(data, satisfaction, completion):
    instance, profile = data
    theirs = pabutools_mes(*to_pabutools(instance, profile), satisfaction, completion)
    assert ours(instance, profile, satisfaction, completion) == theirs


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    elections(vote_types=("cumulative",), max_cost=20),
    st.sampled_from(["cost", "cardinality", "points"]),
    st.sampled_from(["none", "add1"]),
)
def test_cumulative_elections_match_pabutools(data, satisfaction, completion):
    instance, profile = data
    theirs = pabutools_mes(*to_pabutools(instance, profile), satisfaction, completion)
    assert ours(instance, profile, satisfaction, completion) == theirs


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(elections(max_voters=40, max_cost=400), st.sampled_from(["cost", "cardinality"]))
def test_larger_budgets_with_many_add1_increments_match_pabutools(data, satisfaction):
    instance, profile = data
    theirs = pabutools_mes(*to_pabutools(instance, profile), satisfaction, "add1")
    assert ours(instance, profile, satisfaction, "add1") == theirs


def _real(include_large: bool) -> list[Path]:
    return [
        path for path in pabulib_files() if include_large or path.name not in LARGE_PABULIB_FILES
    ]


def _satisfactions(profile: Profile) -> list[str]:
    return ["cost", "cardinality"] + (
        ["points"] if profile.vote_type in ("cumulative", "scoring") else []
    )


def _compare_real(path: Path, completion: str) -> None:
    instance, profile = real_elections.ours(path)
    their_instance, their_profile = real_elections.theirs(path)
    for satisfaction in _satisfactions(profile):
        theirs = pabutools_mes(their_instance, their_profile, satisfaction, completion)
        assert ours(instance, profile, satisfaction, completion) == theirs, satisfaction


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(path, marks=pytest.mark.slow) if path.name in LARGE_PABULIB_FILES else path
        for path in _real(include_large=True)
    ],
    ids=lambda path: path.stem[:40],
)
def test_real_files_match_pabutools_without_completion(path):
    _compare_real(path, "none")


# pabutools' add1 takes from a fraction of a second to minutes on these files (it reruns MES
# once per currency unit added); the ones it needs more than about 10 s for are left out here
# and compared in benchmarks/budget.py, which prints "same outcome" per file.
ADD1_FAST = {
    "Netherlands_Assen_2024.pb",
    "Netherlands_Amsterdam_643.pb",
    "Poland_Czestochowa_2020_Grabowka.pb",
    "Poland_Gdynia_2022_Dabrowa__small.pb",
    "Poland_Katowice_2021_Szopienice-Burowiec.pb",
    "Poland_Katowice_2023_Podlesie.pb",
    "Poland_Krakow_2019_Swoszowice.pb",
    "Switzerland_Zurich_D10.pb",
    "Switzerland_Zurich_S5.pb",
    "Switzerland_Zurich_S5R.pb",
    "US_Stanford_Dataset_PB_Chicago_35th_Ward_2021_vote_knapsacks.pb",
}
# (Warszawa 2019 and Rembertow 2024 agree too, but pabutools needs about a minute of CPU on
# each: benchmarks/budget.py compares them.)
ADD1_SLOW = {
    "Netherlands_Amsterdam_166.pb",
    "Poland_Poznan_2024_4_-_Gluszyna_Krzesiny-Pokrzywno-Garaszewo_Staroleka-Minikowo_Szczepankowo-Splawie-Krzesinki__small.pb",
    "Poland_Wroclaw_2015_from_500.pb",
    "Poland_Warszawa_2018_Stare_Bielany.pb",
    "Worldwide_Mechanical_Turk_Knapsack_7.pb",
    "Worldwide_Mechanical_Turk_Utilities_8.pb",
}


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(path, marks=pytest.mark.slow) if path.name in ADD1_SLOW else path
        for path in pabulib_files()
        if path.name in ADD1_FAST | ADD1_SLOW
    ],
    ids=lambda path: path.stem[:40],
)
def test_real_files_match_pabutools_with_add1(path):
    _compare_real(path, "add1")


@pytest.mark.skipif(not PABULIB_DIR.is_dir(), reason="no ../shared/data/pabulib on this machine")
@pytest.mark.parametrize("name", ["Netherlands_Assen_2024.pb", "Switzerland_Zurich_S5.pb"])
def test_real_files_match_pabutools_with_greedy_completions(name):
    for completion in ("greedy", "add1-greedy"):
        _compare_real(PABULIB_DIR / name, completion)
