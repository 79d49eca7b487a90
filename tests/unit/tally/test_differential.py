"""Differential tests against pref_voting on generated profiles (cycles, ties, truncation).

Where pref_voting's defaults differ from the textbook definitions we follow, a test below
shows the difference on a small profile and the comparison uses pref_voting's matching
variant (extended strict preference, parallel-universe IRV, ...).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from stemmen.tally import GradeProfile, RankedProfile, Scale, tally
from tests.unit.tally.strategies import (
    complete_strict_profiles,
    grade_profiles,
    indices,
    to_pref_voting_grades,
    to_pref_voting_linear,
    to_pref_voting_with_ties,
    weak_truncated_profiles,
)

pv_c1 = pytest.importorskip("pref_voting.c1_methods")
pv_margin = pytest.importorskip("pref_voting.margin_based_methods")
pv_scoring = pytest.importorskip("pref_voting.scoring_methods")
pv_iterative = pytest.importorskip("pref_voting.iterative_methods")
pv_grades = pytest.importorskip("pref_voting.grade_methods")

# pref_voting compiles with numba on first use (about 20 s per process); examples are cheap.
SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SMALL = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def winners(profile: Any, method: str, **options: Any) -> list[int]:
    return indices(profile, tally(profile, method, **options).winners)


@SETTINGS
@given(complete_strict_profiles())
def test_linear_orders_match_pref_voting(profile: RankedProfile) -> None:
    pv = to_pref_voting_linear(profile)
    assert winners(profile, "borda") == pv_scoring.borda(pv)
    assert winners(profile, "plurality") == pv_scoring.plurality(pv)
    assert winners(profile, "copeland") == pv_c1.copeland(pv)
    assert winners(profile, "schulze") == pv_margin.beat_path(pv)
    assert winners(profile, "irv") == pv_iterative.instant_runoff_put(pv)
    result = tally(profile, "borda")
    cw, cl = pv.condorcet_winner(), pv.condorcet_loser()
    assert result.condorcet_winner == (None if cw is None else profile.options[cw])
    assert result.condorcet_loser == (None if cl is None else profile.options[cl])


# pref_voting's ranked pairs tries every order of equal margins: keep to 4 options (6 pairs),
# and to 3 options on truncated ballots, where many margins are equal.
@SETTINGS
@given(complete_strict_profiles(max_options=4))
def test_ranked_pairs_matches_pref_voting_on_linear_orders(profile: RankedProfile) -> None:
    pv = to_pref_voting_linear(profile)
    assert winners(profile, "ranked-pairs") == pv_margin.ranked_pairs(pv)


@SMALL
@given(weak_truncated_profiles(max_options=3, max_ballots=6))
def test_ranked_pairs_matches_pref_voting_on_truncated_ballots(profile: RankedProfile) -> None:
    pv = to_pref_voting_with_ties(profile, extended=True)
    assert winners(profile, "ranked-pairs") == pv_margin.ranked_pairs(pv)


@SETTINGS
@given(complete_strict_profiles())
def test_schulze_winning_votes_matches_pref_voting_support_strength(profile: RankedProfile) -> None:
    pv = to_pref_voting_linear(profile)
    ours = winners(profile, "schulze", schulze_variant="winning-votes")
    assert ours == pv_margin.beat_path(pv, strength_function=pv.support)


@SETTINGS
@given(weak_truncated_profiles())
def test_truncated_ballots_with_ties_match_extended_strict_preference(
    profile: RankedProfile,
) -> None:
    pv = to_pref_voting_with_ties(profile, extended=True)
    assert winners(profile, "copeland") == pv_c1.copeland(pv)
    assert winners(profile, "schulze") == pv_margin.beat_path(pv)
    assert winners(profile, "borda") == pv_scoring.borda_for_profile_with_ties(pv)
    support = tally(profile, "copeland").pairwise
    assert support is not None
    m = len(profile.options)
    assert [[support[x][y] for y in range(m)] for x in range(m)] == [
        [int(pv.support(x, y)) if x != y else 0 for y in range(m)] for x in range(m)
    ]


@SETTINGS
@given(weak_truncated_profiles())
def test_unranked_incomparable_matches_pref_voting_plain_strict_preference(
    profile: RankedProfile,
) -> None:
    pv = to_pref_voting_with_ties(profile, extended=False)
    options = {"unranked_below_ranked": False}
    assert winners(profile, "copeland", **options) == pv_c1.copeland(pv)
    assert winners(profile, "schulze", **options) == pv_margin.beat_path(pv)
    cw = pv.condorcet_winner()
    result = tally(profile, "schulze", **options)
    assert result.condorcet_winner == (None if cw is None else profile.options[cw])


def test_pref_voting_needs_extended_strict_preference_for_truncated_ballots() -> None:
    # 2 voters rank only a; 1 voter ranks b over a. With "ranked beats unranked" (ours and
    # pref_voting's extended preference) a beats b 2:1; pref_voting's default counts only
    # voters who ranked both, so b beats a 1:0.
    profile = RankedProfile.from_rankings(["a", "b"], [(2, [["a"]]), (1, [["b"], ["a"]])])
    assert tally(profile, "schulze").winners == ("a",)
    plain = to_pref_voting_with_ties(profile, extended=False)
    assert pv_margin.beat_path(plain) == [1]
    extended = to_pref_voting_with_ties(profile, extended=True)
    assert pv_margin.beat_path(extended) == [0]


def test_pref_voting_default_irv_eliminates_all_tied_last_at_once() -> None:
    # a 4, b 3, c 3, d 1... here b and c tie for last after d goes. Eliminating both at once
    # (pref_voting's default) leaves a alone; one at a time (textbook), whichever of b, c
    # survives wins with the other's ballots.
    profile = RankedProfile.from_rankings(
        list("abc"),
        [(4, [["a"], ["b"], ["c"]]), (3, [["b"], ["c"], ["a"]]), (3, [["c"], ["b"], ["a"]])],
    )
    ours = tally(profile, "irv")
    assert set(ours.winners) == {"b", "c"}  # a tie: every elimination order is followed
    pv = to_pref_voting_linear(profile)
    assert pv_iterative.instant_runoff(pv) == [0]
    assert pv_iterative.instant_runoff_put(pv) == [1, 2]
    broken = tally(profile, "irv", tie_break=["c", "b", "a"])
    assert broken.winners == ("c",)
    assert broken.tied_winners == ("c",)


@SETTINGS
@given(grade_profiles(blanks=True))
def test_score_sum_and_mean_match_pref_voting(profile: GradeProfile) -> None:
    pv = to_pref_voting_grades(profile)
    graded = [o for o in range(len(profile.options)) if pv.has_grade(o)]
    if len(graded) < len(profile.options):
        return  # pref_voting leaves never-graded options out; ours scores them 0 / none
    assert winners(profile, "score-sum") == pv_grades.score_voting(pv)
    assert winners(profile, "score-mean") == pv_grades.score_voting(pv, evaluation_method="mean")


@SETTINGS
@given(grade_profiles(blanks=False))
def test_majority_judgment_refines_pref_voting_first_tie_break_step(
    profile: GradeProfile,
) -> None:
    pv = to_pref_voting_grades(profile)
    ours = winners(profile, "majority-judgment")
    theirs = pv_grades.majority_judgement(pv)
    assert set(ours) <= set(theirs)


def test_pref_voting_majority_judgment_stops_after_the_first_tie_break_step() -> None:
    # Equal lower medians (2) and equal shares above/below the median for both options; the
    # full procedure goes on removing median grades and separates them, pref_voting ties.
    scale = Scale.numeric(0, 5)
    profile = GradeProfile.from_grades(
        ["a", "b"],
        scale,
        [
            (1, {"a": 0, "b": 1}),
            (1, {"a": 2, "b": 2}),
            (1, {"a": 2, "b": 2}),
            (1, {"a": 5, "b": 3}),
        ],
    )
    pv = to_pref_voting_grades(profile)
    assert pv_grades.majority_judgement(pv) == [0, 1]
    result = tally(profile, "majority-judgment")
    # a: 0,2,2,5 -> 2, then 0,2,5 -> 2, then 0,5 -> 0 ; b: 1,2,2,3 -> 2, 1,2,3 -> 2, 1,3 -> 1.
    assert result.ranking == (("b",), ("a",))


@SETTINGS
@given(grade_profiles(blanks=False))
def test_star_matches_pref_voting_when_no_tie_rule_is_needed(profile: GradeProfile) -> None:
    result = tally(profile, "star")
    if result.details["official_tie_rules"] or len(result.details["runoffs"]) != 1:
        return
    pv = to_pref_voting_grades(profile)
    assert indices(profile, result.winners) == pv_grades.star(pv)


def test_pref_voting_star_runoff_ignores_blanks() -> None:
    # One voter scores a 2 and leaves b blank; one scores b 1 and a 0... In the official
    # runoff a blank is a 0, so the first voter prefers a. pref_voting skips that voter.
    scale = Scale.numeric(0, 5)
    profile = GradeProfile.from_grades(
        ["a", "b"], scale, [(2, {"a": 2}), (1, {"a": 0, "b": 1}), (1, {"a": 0, "b": 3})]
    )
    ours = tally(profile, "star")
    assert ours.details["runoffs"][0]["preferring"] == {"a": 2, "b": 2}
    pv = to_pref_voting_grades(profile)
    assert pv.margin(0, 1) == -2  # the two blank-for-b voters are not counted for a
    assert pv_grades.star(pv) == [1]
    # Ours: runoff 2:2, then the higher score: a 4 against b 4, then five-star counts 0:0.
    assert set(ours.winners) == {"a", "b"}


@SETTINGS
@given(grade_profiles(blanks=False))
def test_approval_matches_pref_voting(profile: GradeProfile) -> None:
    from stemmen.tally import ApprovalProfile

    approvals = ApprovalProfile.from_matrix(profile.options, profile.grades >= 3, profile.counts)
    pv = to_pref_voting_grades(approvals.to_grades())
    assert winners(approvals, "approval") == pv_grades.approval(pv)
