"""How much support each project has: voters, points, or positional points for rankings.

Counting is exact: integer counts, and ``Fraction`` only when channel weights make a voter count
for a fraction. Weighted counts are computed per channel in integers and combined once, so a
city-wide file costs one pass over its merged ballots.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Literal

from stemmen.budget.model import CHANNEL_ATTRIBUTE, Instance, Profile, Support

SupportMeasure = Literal["auto", "voters", "points"]
SUPPORT_MEASURES: tuple[SupportMeasure, ...] = ("auto", "voters", "points")


def resolve_measure(profile: Profile, measure: str) -> Literal["voters", "points"]:
    """``auto`` counts voters for approval ballots and points for every other type."""
    if measure not in SUPPORT_MEASURES:
        raise ValueError(f"unknown support measure {measure!r}: use one of {SUPPORT_MEASURES}")
    if measure == "auto":
        return "voters" if profile.vote_type == "approval" else "points"
    if measure == "points" and profile.vote_type == "approval":
        return "voters"
    return "voters" if measure == "voters" else "points"


def _ballot_points(
    vote_type: str, projects: tuple[int, ...], points: tuple[int, ...] | None
) -> tuple[int, ...]:
    if vote_type == "ordinal":
        # A ballot that ranks k projects gives them k, k-1, ..., 1 (as Krakow counts).
        length = len(projects)
        return tuple(range(length, 0, -1))
    if points is None:
        return (1,) * len(projects)
    return points


def _integer_counts(
    profile: Profile, project_count: int, measure: Literal["voters", "points"]
) -> list[int]:
    totals = [0] * project_count
    vote_type = profile.vote_type
    # Sums of integers: the order of the ballots does not matter, so skip the canonical sort.
    for (projects, points), weight in profile.ballot_weights().items():
        if measure == "voters":
            for index in projects:
                totals[index] += weight
        else:
            for index, value in zip(
                projects, _ballot_points(vote_type, projects, points), strict=True
            ):
                totals[index] += weight * value
    return totals


def project_support(
    instance: Instance,
    profile: Profile,
    measure: str = "auto",
    channel_weights: Mapping[str, Fraction] | None = None,
) -> list[Support]:
    """Support per project, in file order; ints unless channel weights make fractions."""
    resolved = resolve_measure(profile, measure)
    count = len(instance.projects)
    if not channel_weights:
        return list(_integer_counts(profile, count, resolved))
    per_channel: dict[str, list[int]] = {}
    vote_type = profile.vote_type
    for voter in profile.voters:
        channel = voter.attributes.get(CHANNEL_ATTRIBUTE, "")
        totals = per_channel.get(channel)
        if totals is None:
            totals = per_channel[channel] = [0] * count
        if resolved == "voters":
            for index in voter.projects:
                totals[index] += 1
        else:
            for index, value in zip(
                voter.projects,
                _ballot_points(vote_type, voter.projects, voter.points),
                strict=True,
            ):
                totals[index] += value
    combined: list[Support] = [0] * count
    for channel in sorted(per_channel):
        weight = Fraction(channel_weights.get(channel, Fraction(1)))
        for index, value in enumerate(per_channel[channel]):
            if value:
                combined[index] += weight * value
    return [
        value.numerator if isinstance(value, Fraction) and value.denominator == 1 else value
        for value in combined
    ]


def equal_channel_weights(profile: Profile) -> dict[str, Fraction]:
    """Weights that make every ballot channel count equally, keeping the total weight.

    Amsterdam weighted its paper and online ballots so each made up half of the outcome: a
    channel with n_c of the N voters, among C channels, gets weight N / (C * n_c).
    """
    sizes: dict[str, int] = {}
    for voter in profile.voters:
        channel = voter.attributes.get(CHANNEL_ATTRIBUTE, "")
        sizes[channel] = sizes.get(channel, 0) + 1
    total = sum(sizes.values())
    return {channel: Fraction(total, len(sizes) * size) for channel, size in sorted(sizes.items())}


def supporter_counts(instance: Instance, profile: Profile) -> list[int]:
    """How many voters list each project (unweighted)."""
    return _integer_counts(profile, len(instance.projects), "voters")
