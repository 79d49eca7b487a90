"""add1 in leaps: a checked leap proves every start in between buys the same projects, so add1
with leaps returns exactly what trying every single increment returns; both the exact iteration
and the one searched with float runs (test_mes_floats.py has more on those)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stemmen.budget.mes import _add_one, _add_one_exact, _electorate, _Reference, _Run, _run
from stemmen.budget.model import Instance, Profile
from stemmen.budget.pabulib import read_pabulib
from stemmen.budget.tiebreak import TieBreak
from tests.support import PABULIB_DIR
from tests.unit.budget.strategies import elections

WEIGHTS = {"paper": Fraction(3, 2), "online": Fraction(1)}

ELECTIONS = st.one_of(
    elections(max_voters=30, max_cost=300, allow_zero_cost=False),
    elections(vote_types=("cumulative", "scoring"), max_voters=30, max_cost=300),
    elections(max_voters=20, max_cost=200, channels=("paper", "online")),
)


def setting(instance: Instance, profile: Profile, satisfaction: str):  # type: ignore[no-untyped-def]
    """What MES's add1 iteration works with: the electorate, candidates, costs, ranks, start."""
    weights = WEIGHTS if any(voter.attributes for voter in profile.voters) else None
    electorate = _electorate(instance, profile, satisfaction, weights, many_runs=True)  # type: ignore[arg-type]
    costs = [project.cost for project in instance.projects]
    rank = TieBreak.parse(None).rank(instance, list(electorate.support))
    candidates = [
        index
        for index in range(len(costs))
        if electorate.total_utility[index] > 0 and costs[index] > 0
    ]
    start = Fraction(instance.budget, max(electorate.total_weight, 1))
    step = Fraction(instance.unit, electorate.weight_scale)
    return electorate, candidates, costs, rank, start, step


def satisfactions(profile: Profile) -> st.SearchStrategy[str]:
    extra = ["points"] if profile.vote_type in ("cumulative", "scoring") else []
    return st.sampled_from(["cost", "cardinality", *extra])


def summary(run: _Run | None) -> tuple[object, ...] | None:
    if run is None:
        return None
    return (run.start, tuple((p.project, p.rho, p.payment, p.paid_all) for p in run.purchases))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ELECTIONS, st.data())
def test_a_checked_leap_buys_the_same_projects_at_every_start_in_between(data, draw):
    instance, profile = data
    satisfaction = draw.draw(satisfactions(profile))
    electorate, candidates, costs, rank, start, step = setting(instance, profile, satisfaction)
    assert electorate.sharing is not None
    low = start + draw.draw(st.integers(min_value=0, max_value=200)) * step
    leap = draw.draw(st.integers(min_value=1, max_value=40))
    reference = _run(electorate, candidates, costs, rank, low)
    checked = _run(
        electorate,
        candidates,
        costs,
        rank,
        low + leap * step,
        reference=_Reference(reference, electorate.sharing),
    )
    # The check never changes the run itself.
    assert summary(checked) == summary(_run(electorate, candidates, costs, rank, low + leap * step))
    if checked.certified:
        for between in range(leap + 1):
            run = _run(electorate, candidates, costs, rank, low + between * step)
            assert set(run.bought) == set(reference.bought), between


def every_increment(instance: Instance, profile: Profile, satisfaction: str) -> _Run | None:
    """pabutools' add1 as written: a run at every increment, no leaps."""
    electorate, candidates, costs, rank, start, step = setting(instance, profile, satisfaction)
    previous = None
    increment = 0
    while True:
        run = _run(electorate, candidates, costs, rank, start + increment * step)
        spent = sum(costs[index] for index in run.bought)
        if spent > instance.budget:
            return previous
        left = [index for index in candidates if index not in run.bought]
        if all(spent + costs[index] > instance.budget for index in left):
            return run
        previous = run
        increment += 1


ITERATIONS = pytest.mark.parametrize(
    "add_one", [_add_one, _add_one_exact], ids=["float-search", "exact"]
)


@ITERATIONS
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ELECTIONS, st.data())
def test_add1_with_leaps_returns_what_every_increment_returns(add_one, data, draw):
    instance, profile = data
    satisfaction = draw.draw(satisfactions(profile))
    electorate, candidates, costs, rank, start, _ = setting(instance, profile, satisfaction)
    if electorate.total_weight == 0:
        return
    ours, _, _ = add_one(electorate, candidates, costs, rank, start, instance.budget, instance.unit)
    assert summary(ours) == summary(every_increment(instance, profile, satisfaction))


def decisions(run: _Run) -> tuple[object, ...]:
    """What a run decided, whatever the start: the projects bought in order, who paid all
    they had at each purchase, and which candidates were left unaffordable."""
    return (
        tuple((purchase.project, purchase.paid_all) for purchase in run.purchases),
        frozenset(run.dropped),
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ELECTIONS, st.data())
def test_every_start_below_a_runs_horizon_makes_the_same_decisions(data, draw):
    """Only the prices of projects bought and the candidates dropped bound the horizon: a
    price that served as a lower bound only may change how it splits its supporters."""
    instance, profile = data
    satisfaction = draw.draw(satisfactions(profile))
    electorate, candidates, costs, rank, start, step = setting(instance, profile, satisfaction)
    low = start + draw.draw(st.integers(min_value=0, max_value=200)) * step
    run = _run(electorate, candidates, costs, rank, low, horizon_wanted=True)
    # The horizon never changes the run itself.
    assert summary(run) == summary(_run(electorate, candidates, costs, rank, low))
    if run.same_until is None:
        later = [low + step, low + 50 * step, low + 1000 * step]
    else:
        assert run.same_until >= low
        gap = run.same_until - low
        # Points in between and one just below the horizon.
        later = [low + gap * Fraction(part, 7) for part in range(1, 7)]
        later.append(run.same_until - Fraction(1, 10**9) * step)
    for start_later in later:
        if start_later <= low:
            continue
        again = _run(electorate, candidates, costs, rank, start_later)
        assert decisions(again) == decisions(run), start_later


@pytest.mark.skipif(not PABULIB_DIR.is_dir(), reason="no ../shared/data/pabulib on this machine")
@pytest.mark.parametrize(
    "name",
    [
        "Poland_Krakow_2019_Swoszowice.pb",
        "Switzerland_Zurich_D10.pb",
        "Worldwide_Mechanical_Turk_Knapsack_7.pb",
    ],
)
@ITERATIONS
def test_add1_on_real_files_returns_what_every_increment_returns(add_one, name):
    """Real elections where long leaps fail their check and the iteration then closes in on
    the leap that failed, and where the horizon is switched on and off: still exactly the
    run at every increment (hypothesis's small elections rarely go through all of this)."""
    instance, profile = read_pabulib(PABULIB_DIR / name)
    electorate, candidates, costs, rank, start, _ = setting(instance, profile, "cost")
    ours, _, _ = add_one(electorate, candidates, costs, rank, start, instance.budget, instance.unit)
    assert summary(ours) == summary(every_increment(instance, profile, "cost"))
