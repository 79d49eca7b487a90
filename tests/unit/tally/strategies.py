"""Hypothesis strategies for profiles, and their translation into pref_voting's classes."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from stemmen.tally import GradeProfile, RankedProfile, Scale

OPTION_NAMES = "abcdef"


@st.composite
def complete_strict_profiles(draw: Any, max_options: int = 5, max_ballots: int = 12) -> Any:
    m = draw(st.integers(2, max_options))
    options = list(OPTION_NAMES[:m])
    ballots = draw(
        st.lists(
            st.tuples(st.integers(1, 4), st.permutations(options)), min_size=1, max_size=max_ballots
        )
    )
    return RankedProfile.from_rankings(options, [(c, [[o] for o in order]) for c, order in ballots])


@st.composite
def weak_truncated_profiles(draw: Any, max_options: int = 5, max_ballots: int = 12) -> Any:
    """Rankings with ties inside and options left unranked (tier -1)."""
    m = draw(st.integers(2, max_options))
    options = list(OPTION_NAMES[:m])
    rows = draw(
        st.lists(
            st.tuples(
                st.integers(1, 4),
                st.lists(st.integers(-1, m - 1), min_size=m, max_size=m).filter(
                    lambda row: any(t >= 0 for t in row)
                ),
            ),
            min_size=1,
            max_size=max_ballots,
        )
    )
    return RankedProfile.from_positions(options, [r for _, r in rows], [c for c, _ in rows])


@st.composite
def grade_profiles(
    draw: Any, max_options: int = 4, max_ballots: int = 10, blanks: bool = True
) -> Any:
    m = draw(st.integers(2, max_options))
    options = list(OPTION_NAMES[:m])
    low = -1 if blanks else 0
    rows = draw(
        st.lists(
            st.tuples(st.integers(1, 3), st.lists(st.integers(low, 5), min_size=m, max_size=m)),
            min_size=1,
            max_size=max_ballots,
        )
    )
    return GradeProfile.from_indices(
        options,
        Scale.numeric(0, 5),
        [r for _, r in rows],
        [c for c, _ in rows],
    )


def to_pref_voting_linear(profile: RankedProfile) -> Any:
    from pref_voting.profiles import Profile

    orders = [
        [int(x) for x in sorted(range(len(profile.options)), key=lambda o: row[o])]
        for row in profile.positions.tolist()
    ]
    return Profile(orders, rcounts=[int(c) for c in profile.counts])


def to_pref_voting_with_ties(profile: RankedProfile, *, extended: bool = True) -> Any:
    from pref_voting.profiles_with_ties import ProfileWithTies

    m = len(profile.options)
    rankings = [
        {o: int(t) + 1 for o, t in enumerate(row) if t != m} for row in profile.positions.tolist()
    ]
    result = ProfileWithTies(
        rankings, rcounts=[int(c) for c in profile.counts], candidates=list(range(m))
    )
    if extended:
        result.use_extended_strict_preference()
    return result


def to_pref_voting_grades(profile: GradeProfile) -> Any:
    from pref_voting.grade_profiles import GradeProfile as PVGradeProfile

    values = profile.scale.values
    maps = [{o: values[g] for o, g in enumerate(row) if g >= 0} for row in profile.grades.tolist()]
    return PVGradeProfile(
        maps,
        list(values),
        gcounts=[int(c) for c in profile.counts],
        candidates=list(range(len(profile.options))),
    )


def indices(profile: Any, winners: tuple[str, ...]) -> list[int]:
    return sorted(profile.options.index(w) for w in winners)
