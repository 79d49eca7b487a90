"""add1 in leaps: a checked leap proves every start in between buys the same projects, so add1
with leaps returns exactly what trying every single increment returns."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stemmen.budget.mes import _add_one, _electorate, _Reference, _Run, _run
from stemmen.budget.model import Instance, Profile
from stemmen.budget.tiebreak import TieBreak
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


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ELECTIONS, st.data())
def test_add1_with_leaps_returns_what_every_increment_returns(data, draw):
    instance, profile = data
    satisfaction = draw.draw(satisfactions(profile))
    electorate, candidates, costs, rank, start, _ = setting(instance, profile, satisfaction)
    if electorate.total_weight == 0:
        return
    ours, _, _ = _add_one(
        electorate, candidates, costs, rank, start, instance.budget, instance.unit
    )
    assert summary(ours) == summary(every_increment(instance, profile, satisfaction))
