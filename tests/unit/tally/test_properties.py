"""Properties every tally keeps: order independence, merged ballots, Condorcet consistency,
ties shown unless a tie-break is given, and the tie-break's determinism."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stemmen.tally import METHODS, RankedProfile, TieBreak, tally
from stemmen.tally.tiebreak import lottery_key
from tests.unit.tally.strategies import weak_truncated_profiles

RANKED_METHODS = sorted(name for name, spec in METHODS.items() if spec.reads == "ranked")
PROPERTY = settings(max_examples=30, deadline=None)


def test_every_method_of_the_issue_is_registered() -> None:
    assert set(METHODS) == {
        "plurality", "approval", "score-sum", "score-mean", "borda", "mbc",
        "majority-judgment", "star", "irv", "copeland", "schulze", "ranked-pairs",
    }  # fmt: skip
    for spec in METHODS.values():
        assert spec.function.__doc__, spec.name


@PROPERTY
@given(weak_truncated_profiles(), st.randoms(use_true_random=False))
def test_ballot_order_and_splitting_counts_do_not_matter(profile: RankedProfile, rng) -> None:
    # Expand counts into single ballots, shuffle, and rebuild: every result is the same.
    rows = np.repeat(profile.positions, profile.counts, axis=0)
    order = list(range(len(rows)))
    rng.shuffle(order)
    shuffled = np.where(rows[order] == len(profile.options), -1, rows[order])
    rebuilt = RankedProfile.from_positions(profile.options, shuffled)
    for method in RANKED_METHODS:
        assert tally(rebuilt, method).ranking == tally(profile, method).ranking, method


@PROPERTY
@given(weak_truncated_profiles())
def test_condorcet_winner_wins_every_condorcet_method(profile: RankedProfile) -> None:
    winner = tally(profile, "schulze").condorcet_winner
    if winner is None:
        return
    for method in ("schulze", "ranked-pairs", "copeland"):
        assert tally(profile, method).winners == (winner,), method


@PROPERTY
@given(weak_truncated_profiles())
def test_ranking_is_a_partition_of_the_options_and_winners_lead_it(profile: RankedProfile) -> None:
    for method in RANKED_METHODS:
        result = tally(profile, method)
        flat = [o for tier in result.ranking for o in tier]
        assert sorted(flat) == sorted(profile.options), method
        assert result.winners == result.tied_winners
        assert result.tie_break_steps == ()


@PROPERTY
@given(weak_truncated_profiles())
def test_a_lottery_tie_break_leaves_no_tie_and_keeps_the_methods_winners(
    profile: RankedProfile,
) -> None:
    for method in RANKED_METHODS:
        plain = tally(profile, method)
        broken = tally(profile, method, tie_break=["lottery:council-2026"])
        assert all(len(tier) == 1 for tier in broken.ranking), method
        assert broken.winners[0] in plain.tied_winners or method == "irv"
        if len(plain.winners) > 1:
            assert broken.tie_break_steps, method


def test_lottery_depends_only_on_seed_and_option_ids() -> None:
    tie_break = TieBreak.parse(["lottery:seed-1"])
    assert tie_break is not None
    assert tie_break.split(["a", "b", "c"]) == tie_break.split(["c", "a", "b"])
    expected = tuple((o,) for o in sorted("abc", key=lambda o: lottery_key("seed-1", o)))
    assert tie_break.split(["b", "c", "a"]) == expected


def test_explicit_order_then_lottery_for_the_unlisted() -> None:
    tie_break = TieBreak.parse(["c", "lottery:x"])
    assert tie_break is not None
    order = tie_break.split(["a", "b", "c"])
    assert order[0] == ("c",)
    assert len(order) == 3
    only_order = TieBreak.parse(["c"])
    assert only_order is not None
    assert only_order.split(["a", "b", "c"]) == (("c",), ("a", "b"))


def test_tie_break_naming_an_unknown_option_is_refused() -> None:
    profile = RankedProfile.from_rankings(["a", "b"], [(1, [["a"]])])
    with pytest.raises(ValueError, match="bad-tie-break"):
        tally(profile, "borda", tie_break=["z"])


@pytest.mark.parametrize("method", sorted(METHODS))
def test_no_ballots_ties_every_option(method: str) -> None:
    from stemmen.tally import ApprovalProfile, GradeProfile, Scale

    options = ["a", "b", "c"]
    empty = {
        "ranked": RankedProfile.from_rankings(options, []),
        "grades": GradeProfile.from_grades(options, Scale.numeric(0, 5), []),
        "approvals": ApprovalProfile.from_sets(options, []),
    }[METHODS[method].reads]
    result = tally(empty, method)
    assert result.ranking == (("a", "b", "c"),)
    assert result.num_ballots == 0


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 5), min_size=1, max_size=25))
def test_majority_values_equal_removing_lower_medians_one_by_one(grades: list[int]) -> None:
    from stemmen.tally.methods import majority_values

    remaining = sorted(grades)
    expected = []
    while remaining:
        expected.append(remaining.pop((len(remaining) - 1) // 2))
    histogram = [grades.count(g) for g in range(6)]
    assert list(majority_values(histogram)) == expected
