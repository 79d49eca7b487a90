"""add1's float search (stemmen/budget/_mes_floats.c): a float run that says it is sure buys
what the exact run buys, a proved leap holds at every start in between, and add1 returns
exactly what it returns without floats, whatever the floats do."""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from math import ceil

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stemmen.budget import _mes_floats
from stemmen.budget.mes import _add_one, _add_one_exact, _run, equal_shares
from stemmen.budget.pabulib import read_pabulib
from tests.support import PABULIB_DIR
from tests.unit.budget.strategies import elections
from tests.unit.budget.test_mes_add1 import (
    ELECTIONS,
    satisfactions,
    setting,
    summary,
)

pytestmark = pytest.mark.skipif(
    not _mes_floats.available(), reason="the C runs were not built (no C compiler at install)"
)

# Small costs and many voters: prices tie exactly again and again (equal supporter counts,
# voters with nothing left), which floats alone cannot order.
TIED = elections(max_voters=40, max_cost=6, allow_zero_cost=False)
ANY = st.one_of(ELECTIONS, TIED)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ANY, st.data())
def test_a_float_run_that_is_sure_buys_what_the_exact_run_buys_in_the_same_order(data, draw):
    instance, profile = data
    satisfaction = draw.draw(satisfactions(profile))
    electorate, candidates, costs, rank, start, step = setting(instance, profile, satisfaction)
    floats = _mes_floats.FloatRuns(electorate, candidates, costs, rank)
    at = start + draw.draw(st.integers(min_value=0, max_value=300)) * step
    bought = floats.bought(at)
    if bought is not None:
        assert bought == _run(electorate, candidates, costs, rank, at).bought


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ANY, st.data())
def test_a_proved_order_holds_at_every_start_in_between_and_proofs_chain(data, draw):
    instance, profile = data
    satisfaction = draw.draw(satisfactions(profile))
    electorate, candidates, costs, rank, start, step = setting(instance, profile, satisfaction)
    floats = _mes_floats.FloatRuns(electorate, candidates, costs, rank)
    low = start + draw.draw(st.integers(min_value=0, max_value=200)) * step
    order = floats.bought(low)
    if order is None:
        return
    reached = 0  # every start from low up to low + reached * step is proved
    short_of = None  # and every one beyond it, short of low + short_of * step
    for leap in draw.draw(st.lists(st.integers(min_value=1, max_value=60), max_size=4)):
        share, _ = floats.same_order_between(low + reached * step, low + (reached + leap) * step)
        if share > 1:
            reached += leap
            continue
        if share > 0:
            short_of = reached + Fraction(share) * leap
        break
    proved = [Fraction(between) for between in range(reached + 1)]
    if short_of is not None:
        proved += [Fraction(between) for between in range(reached + 1, ceil(short_of))]
    # The proof is about every start in the interval, not only whole increments.
    if reached:
        proved.append(draw.draw(st.fractions(min_value=0, max_value=reached)))
    if short_of is not None:
        inside = draw.draw(st.fractions(min_value=reached, max_value=short_of))
        if inside < short_of:
            proved.append(inside)
    for at in proved:
        assert _run(electorate, candidates, costs, rank, low + at * step).bought == order


@pytest.mark.slow
@pytest.mark.skipif(not PABULIB_DIR.is_dir(), reason="no ../shared/data/pabulib on this machine")
def test_the_longest_proof_from_a_real_run_holds_at_every_increment_it_covers():
    """Budapest 2024 from its first increment: the order of purchases changes after 192
    increments. The longest interval a proof will vouch for whole (found by bisection) must
    buy that order at each of its increments, by the exact run."""
    instance, profile = read_pabulib(PABULIB_DIR / "Hungary_Budapest_2024.pb")
    electorate, candidates, costs, rank, start, step = setting(instance, profile, "cost")
    floats = _mes_floats.FloatRuns(electorate, candidates, costs, rank)
    order = floats.bought(start)
    assert order is not None
    held, failed = 0, 192
    while failed - held > 1:
        middle = (held + failed) // 2
        if floats.same_order_between(start, start + middle * step)[0] > 1:
            held = middle
        else:
            failed = middle
    assert held > 0
    for between in range(held + 1):
        assert _run(electorate, candidates, costs, rank, start + between * step).bought == order


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ANY, st.data())
def test_add1_with_floats_returns_what_add1_without_them_returns(data, draw):
    instance, profile = data
    satisfaction = draw.draw(satisfactions(profile))
    electorate, candidates, costs, rank, start, _ = setting(instance, profile, satisfaction)
    if electorate.total_weight == 0:
        return
    arguments = (electorate, candidates, costs, rank, start, instance.budget, instance.unit)
    searched, _, increments = _add_one(*arguments)
    exact, _, exact_increments = _add_one_exact(*arguments)
    assert summary(searched) == summary(exact)
    assert increments == exact_increments


def add1_both_ways(name: str) -> None:
    instance, profile = read_pabulib(PABULIB_DIR / name)
    electorate, candidates, costs, rank, start, _ = setting(instance, profile, "cost")
    arguments = (electorate, candidates, costs, rank, start, instance.budget, instance.unit)
    searched, _, increments = _add_one(*arguments)
    exact, _, exact_increments = _add_one_exact(*arguments)
    assert summary(searched) == summary(exact)
    assert increments == exact_increments


@pytest.mark.skipif(not PABULIB_DIR.is_dir(), reason="no ../shared/data/pabulib on this machine")
@pytest.mark.parametrize(
    "name",
    [
        "Netherlands_Amsterdam_166.pb",
        "Netherlands_Assen_2024.pb",
        "Poland_Krakow_2019_Swoszowice.pb",
        "Switzerland_Zurich_D10.pb",
    ],
)
def test_add1_on_real_files_returns_the_exact_iterations_outcome(name):
    add1_both_ways(name)


@pytest.mark.slow
@pytest.mark.skipif(not PABULIB_DIR.is_dir(), reason="no ../shared/data/pabulib on this machine")
def test_add1_on_a_long_real_iteration_returns_the_exact_iterations_outcome():
    """Rembertow 2024: long stretches where leaps hold."""
    add1_both_ways("Poland_Warszawa_2024_Rembertow.pb")


@pytest.mark.skipif(not PABULIB_DIR.is_dir(), reason="no ../shared/data/pabulib on this machine")
@pytest.mark.parametrize(
    ("name", "per_voter", "increments", "funded", "total_cost"),
    [
        # 1,618 increments, with exact ties between projects whose poorer supporters have
        # nothing left (projects 68 and 203, both at 1/74, from increment 620).
        ("France_Toulouse_2022.pb", Fraction(3832061, 1133), 1618, 128, 7986220),
        # 22,001 increments, the order of purchases changing 122 times, mostly leapt over by
        # proofs.
        pytest.param(
            "Hungary_Budapest_2024.pb",
            Fraction(1636774943, 28943),
            22001,
            31,
            999000000,
            marks=pytest.mark.slow,
        ),
    ],
)
def test_add1_on_long_real_iterations_ends_where_the_exact_iteration_ends(
    name, per_voter, increments, funded, total_cost
):
    """The exact iterations take half a minute (Toulouse 2022) and minutes (Budapest 2024):
    what they returned is pinned here instead."""
    instance, profile = read_pabulib(PABULIB_DIR / name)
    allocation = equal_shares(instance, profile, completion="add1")
    assert allocation.options["per_voter_budget"] == per_voter
    assert allocation.options["add1_increments"] == increments
    assert allocation.options["funded_by_equal_shares"] == funded
    assert allocation.total_cost == total_cost


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ANY, st.data())
def test_floats_that_are_never_sure_leave_every_start_to_the_exact_run(data, draw):
    instance, profile = data
    satisfaction = draw.draw(satisfactions(profile))
    electorate, candidates, costs, rank, start, _ = setting(instance, profile, satisfaction)
    if electorate.total_weight == 0 or not candidates:
        return
    arguments = (electorate, candidates, costs, rank, start, instance.budget, instance.unit)
    with pytest.MonkeyPatch.context() as patch:
        # Every decision is then "too close to call".
        patch.setattr(_mes_floats, "MARGIN", 10.0)
        searched, _, increments = _add_one(*arguments)
    exact, _, exact_increments = _add_one_exact(*arguments)
    assert summary(searched) == summary(exact)
    assert increments == exact_increments


def test_a_float_run_the_exact_run_contradicts_makes_add1_redo_everything_exactly(monkeypatch):
    instance, profile = read_small_election()
    electorate, candidates, costs, rank, start, _ = setting(instance, profile, "cost")
    arguments = (electorate, candidates, costs, rank, start, instance.budget, instance.unit)
    exact = _add_one_exact(*arguments)

    def everything(self, at):  # type: ignore[no-untyped-def]
        return list(candidates)  # overspends at once: the exact run says otherwise

    monkeypatch.setattr(_mes_floats.FloatRuns, "bought", everything)
    searched, runs, increments = _add_one(*arguments)
    assert summary(searched) == summary(exact[0])
    assert increments == exact[2]
    assert runs > exact[1]  # the float run, the exact check, then the whole exact iteration


def test_without_the_c_runs_add1_iterates_exactly(monkeypatch):
    instance, profile = read_small_election()
    electorate, candidates, costs, rank, start, _ = setting(instance, profile, "cost")
    arguments = (electorate, candidates, costs, rank, start, instance.budget, instance.unit)
    monkeypatch.setattr(_mes_floats, "available", lambda: False)
    monkeypatch.setattr(_mes_floats, "FloatRuns", lambda *args: pytest.fail("the C runs were used"))
    run, runs, increments = _add_one(*arguments)
    exact, exact_runs, exact_increments = _add_one_exact(*arguments)
    assert (summary(run), runs, increments) == (summary(exact), exact_runs, exact_increments)


def read_small_election():  # type: ignore[no-untyped-def]
    """Five projects, seven voters, a budget add1 needs several increments to fill."""
    from tests.unit.budget.test_mes import election

    return election(
        {"a": 40, "b": 30, "c": 25, "d": 20, "e": 60},
        100,
        [["a", "b"], ["a", "c"], ["b", "c", "d"], ["d"], ["e", "a"], ["e"], ["b", "e"]],
    )


def test_add1_reports_its_increments_and_the_start_it_ended_at():
    instance, profile = read_small_election()
    electorate, candidates, costs, rank, start, step = setting(instance, profile, "cost")
    run, _, increments = _add_one(
        electorate, candidates, costs, rank, start, instance.budget, instance.unit
    )
    assert run is not None
    assert run.start in (start + increments * step, start + (increments - 1) * step)
    assert Fraction(run.start) >= start


@settings(max_examples=100, deadline=None)
@given(ELECTIONS)
def test_which_projects_share_a_supporter_is_the_same_counted_either_way(data):
    """Past a size the electorate carries no table of projects sharing a supporter; the float
    runs then count it themselves, and must find the same table."""
    instance, profile = data
    electorate, *_ = setting(instance, profile, "cost")
    counted = dataclasses.replace(electorate, sharing=None, shares=None)
    assert np.array_equal(_mes_floats._sharing(counted), _mes_floats._sharing(electorate))
