"""Method of Equal Shares: known answers worked by hand, properties, and the official Assen result."""

from __future__ import annotations

from fractions import Fraction
from types import MappingProxyType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stemmen.budget.mes import EqualSharesError, equal_shares
from stemmen.budget.model import Instance, Profile, Project, Voter
from stemmen.budget.pabulib import read_pabulib
from stemmen.budget.registry import allocate
from tests.support import PABULIB_DIR
from tests.unit.budget.strategies import elections


def election(
    costs: dict[str, int],
    budget: int,
    ballots: list[list[str]],
    *,
    points: list[list[int]] | None = None,
) -> tuple[Instance, Profile]:
    ids = list(costs)
    instance = Instance(
        projects=tuple(Project(id=pid, cost=cost) for pid, cost in costs.items()), budget=budget
    )
    voters = tuple(
        Voter(
            id=str(number),
            projects=tuple(ids.index(pid) for pid in ballot),
            points=None if points is None else tuple(points[number]),
        )
        for number, ballot in enumerate(ballots)
    )
    vote_type = "approval" if points is None else "cumulative"
    return instance, Profile(vote_type=vote_type, voters=voters)


# Three voters with 10 each: a (20) and c (10) both cost each supporter half of their value.
TIE = election({"a": 20, "b": 10, "c": 10}, 30, [["a", "b"], ["a", "c"], ["c"]])


def test_tied_prices_go_to_the_lower_id_by_default():
    allocation = equal_shares(*TIE)
    assert allocation.selected == ("a", "c")
    assert allocation.outcome("a").details["rho"] == Fraction(1, 2)
    assert allocation.outcome("c").details["rho"] == Fraction(1)  # voter 2 had nothing left
    assert allocation.total_cost == 30


def test_tie_break_list_decides_which_tied_project_is_bought_first():
    allocation = equal_shares(*TIE, tie_break="lower-cost")
    # c first: voters 2 and 3 pay 5 each, so a's supporters only have 15 of its 20.
    assert allocation.selected == ("c", "b")
    assert allocation.tie_break == ("lower-cost", "id")
    reason = allocation.outcome("a").reason
    assert "had 5 left" in reason
    assert "less than its cost of 20" in reason
    assert allocation.outcome("a").details["supporters_money_left"] == 5


def test_cardinality_satisfaction_prefers_the_cheaper_project():
    allocation = equal_shares(*TIE, satisfaction="cardinality")
    assert allocation.selected == ("c", "b")
    assert allocation.outcome("c").details["rho"] == 5


def test_majority_and_minority_get_their_proportional_share():
    # 6 voters want P1..P5, 4 voters want Q1..Q5, everything costs 20, budget 100.
    costs = {f"P{n}": 20 for n in range(1, 6)} | {f"Q{n}": 20 for n in range(1, 6)}
    majority = [f"P{n}" for n in range(1, 6)]
    minority = [f"Q{n}" for n in range(1, 6)]
    instance, profile = election(costs, 100, [majority] * 6 + [minority] * 4)
    allocation = equal_shares(instance, profile)
    assert allocation.selected == ("P1", "P2", "P3", "Q1", "Q2")
    assert [step["rho"] for step in allocation.steps] == [Fraction(1, 6)] * 3 + [Fraction(1, 4)] * 2
    assert allocation.outcome("P4").details["supporters_money_left"] == 0
    assert allocation.voters_with_funded_project == 10


UNDERSPENT = election({"X": 60, "Y": 40, "Z": 1}, 100, [["X"], ["Y"]])


def test_without_completion_equal_shares_can_leave_money_unspent():
    allocation = equal_shares(*UNDERSPENT)
    assert allocation.selected == ("Y",)
    assert allocation.outcome("X").details["supporters_money_left"] == 50
    assert "no voter supports it" in allocation.outcome("Z").reason


def test_add1_raises_the_voter_budget_one_unit_at_a_time_until_it_would_overspend():
    allocation = equal_shares(*UNDERSPENT, completion="add1")
    # At 60 per voter X becomes affordable and X + Y spends exactly the budget.
    assert set(allocation.selected) == {"X", "Y"}
    assert allocation.options["per_voter_budget"] == 60
    assert allocation.options["add1_increments"] == 10


def test_add1_returns_the_previous_outcome_once_the_next_overspends():
    # At 30 per voter only Y is bought and Z would still fit; at 31 X and Y together cost 91.
    instance, profile = election({"X": 61, "Y": 30, "Z": 5}, 90, [["X"], ["X"], ["Y", "Z"]])
    allocation = equal_shares(instance, profile, completion="add1")
    assert allocation.selected == ("Y",)
    assert allocation.options["per_voter_budget"] == 30


def test_greedy_completion_fills_the_budget_left_including_unsupported_projects():
    allocation = equal_shares(*UNDERSPENT, completion="greedy")
    assert allocation.selected == ("Y", "X")
    assert "greedy completion" in allocation.outcome("X").reason
    instance, profile = election({"X": 61, "Y": 40, "Z": 1}, 102, [["X"], ["Y"]])
    assert equal_shares(instance, profile, completion="greedy").selected == ("Y", "X", "Z")


def test_points_satisfaction_uses_the_points_of_cumulative_ballots():
    instance, profile = election(
        {"a": 10, "b": 10}, 10, [["a", "b"], ["a", "b"]], points=[[1, 4], [1, 4]]
    )
    assert equal_shares(instance, profile, satisfaction="points").selected == ("b",)
    # Cost satisfaction ignores the points (as pabutools): a tie, broken by id.
    assert equal_shares(instance, profile, satisfaction="cost").selected == ("a",)


def test_a_free_project_with_support_is_funded_before_equal_shares_starts():
    instance, profile = election({"free": 0, "a": 10}, 10, [["free", "a"]])
    allocation = equal_shares(instance, profile, satisfaction="cardinality")
    assert allocation.selected == ("free", "a")
    # Cost satisfaction values a free project at nothing.
    assert equal_shares(instance, profile, satisfaction="cost").selected == ("a",)


def test_explanation_names_step_price_and_payment():
    allocation = equal_shares(*TIE)
    outcome = allocation.outcome("a")
    assert outcome.funded
    assert outcome.details["step"] == 1
    assert outcome.details["rho_decimal"] == "0.5"
    assert outcome.details["payment_per_supporter"] == 10
    assert "step 1" in outcome.reason
    assert "1/2" in outcome.reason
    json_form = allocation.to_json()
    assert json_form["selected"] == ["a", "c"]


def test_unknown_options_are_refused():
    with pytest.raises(EqualSharesError):
        equal_shares(*TIE, satisfaction="happiness")
    with pytest.raises(EqualSharesError):
        equal_shares(*TIE, completion="add2")


def test_registered_as_mes():
    assert allocate(*TIE, "mes", satisfaction="cost").selected == ("a", "c")


def test_channel_weights_scale_each_voter_budget_and_voice():
    instance = Instance(projects=(Project("a", 10), Project("b", 10)), budget=15)
    voters = tuple(
        Voter(str(n), (0,) if n < 2 else (1,), attributes=MappingProxyType({"voting_method": ch}))
        for n, ch in enumerate(["paper", "paper", "internet"])
    )
    profile = Profile(vote_type="approval", voters=voters)
    assert equal_shares(instance, profile).selected == ("a",)
    weighted = equal_shares(
        instance, profile, channel_weights={"paper": Fraction(1, 4), "internet": Fraction(1)}
    )
    assert weighted.selected == ("b",)


@settings(max_examples=80, deadline=None)
@given(
    elections(vote_types=("approval", "cumulative")),
    st.sampled_from(["cost", "cardinality", "points"]),
    st.sampled_from(["none", "add1", "greedy", "add1-greedy"]),
)
def test_every_outcome_fits_the_budget(data, satisfaction, completion):
    instance, profile = data
    allocation = equal_shares(instance, profile, satisfaction=satisfaction, completion=completion)
    assert allocation.total_cost <= instance.budget
    assert len(set(allocation.selected)) == len(allocation.selected)
    funded = {outcome.id for outcome in allocation.projects if outcome.funded}
    assert funded == set(allocation.selected)
    if completion in ("greedy", "add1-greedy"):
        leftover = instance.budget - allocation.total_cost
        assert all(p.cost > leftover for p in instance.projects if p.id not in funded)


@settings(max_examples=60, deadline=None)
@given(elections(), st.sampled_from(["cost", "cardinality"]))
def test_prices_never_fall_and_only_supported_projects_are_bought(data, satisfaction):
    instance, profile = data
    allocation = equal_shares(instance, profile, satisfaction=satisfaction)
    rhos = [step["rho"] for step in allocation.steps]
    assert rhos == sorted(rhos)
    for outcome in allocation.projects:
        if outcome.funded and outcome.cost > 0:
            assert outcome.support > 0


@settings(max_examples=60, deadline=None)
@given(elections(), st.integers(min_value=2, max_value=3))
def test_cloning_every_voter_changes_nothing(data, copies):
    instance, profile = data
    cloned = Profile(
        vote_type=profile.vote_type,
        voters=tuple(
            Voter(f"{voter.id}-{copy}", voter.projects, voter.points)
            for voter in profile.voters
            for copy in range(copies)
        ),
    )
    assert equal_shares(instance, cloned).selected == equal_shares(instance, profile).selected


@settings(max_examples=40, deadline=None)
@given(elections(), st.randoms(use_true_random=False))
def test_voter_order_does_not_matter(data, random):
    instance, profile = data
    shuffled = list(profile.voters)
    random.shuffle(shuffled)
    other = Profile(vote_type=profile.vote_type, voters=tuple(shuffled))
    for completion in ("none", "add1"):
        assert (
            equal_shares(instance, other, completion=completion).selected
            == equal_shares(instance, profile, completion=completion).selected
        )


@pytest.mark.skipif(not PABULIB_DIR.is_dir(), reason="no ../shared/data/pabulib on this machine")
def test_assen_2024_official_result_is_equal_shares_with_add1():
    instance, profile = read_pabulib(PABULIB_DIR / "Netherlands_Assen_2024.pb")
    official = {p.id for p in instance.projects if p.attributes.get("selected") == "1"}
    allocation = equal_shares(instance, profile, satisfaction="cost", completion="add1")
    assert set(allocation.selected) == official
    # Plain Equal Shares funds less than the city did.
    assert set(equal_shares(instance, profile).selected) < official
