"""Types of the budget engine: an instance (projects, budget), a profile (ballots), an allocation.

Money is an integer number of minor units (``Instance.unit`` minor units per currency unit), so a
budget such as ``804828.79`` is held exactly. Weights and shares are ``fractions.Fraction``.
Nothing here imports anything heavier than the standard library.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import repeat
from operator import itemgetter
from types import MappingProxyType
from typing import Literal, NamedTuple

VoteType = Literal["approval", "cumulative", "scoring", "ordinal"]
VOTE_TYPES: tuple[VoteType, ...] = ("approval", "cumulative", "scoring", "ordinal")

Support = int | Fraction

_EMPTY: Mapping[str, str] = MappingProxyType({})


def format_money(minor: int, unit: int) -> str:
    """An exact decimal string in currency units: ``format_money(80482879, 100) == "804828.79"``."""
    if unit == 1:
        return str(minor)
    digits = len(str(unit)) - 1
    if unit != 10**digits:
        return str(Fraction(minor, unit))
    sign = "-" if minor < 0 else ""
    whole, rest = divmod(abs(minor), unit)
    return f"{sign}{whole}.{rest:0{digits}d}"


def format_fraction(value: Support) -> str:
    """A Fraction as text that reads back exactly: ``"7"``, ``"-3/4"``."""
    return str(value)


@dataclass(frozen=True, slots=True)
class Project:
    """One costed project on the ballot."""

    id: str
    cost: int
    name: str = ""
    categories: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    attributes: Mapping[str, str] = field(default_factory=lambda: _EMPTY, hash=False)


@dataclass(frozen=True, slots=True)
class Instance:
    """What is to be decided: the projects (in file order) and the budget."""

    projects: tuple[Project, ...]
    budget: int
    unit: int = 1
    meta: Mapping[str, str] = field(default_factory=lambda: _EMPTY, hash=False)
    # The PROJECTS header as in the file, so writing keeps the column order.
    project_columns: tuple[str, ...] = ()

    def index_of(self, project_id: str) -> int:
        for index, project in enumerate(self.projects):
            if project.id == project_id:
                return index
        raise KeyError(project_id)

    @property
    def costs(self) -> tuple[int, ...]:
        return tuple(project.cost for project in self.projects)

    def money(self, minor: int) -> str:
        return format_money(minor, self.unit)


class Voter(NamedTuple):
    """One voter as in the file: ``projects`` in the order written (ordinal: best first).

    A named tuple rather than a dataclass: a city-wide file has a hundred thousand voters and a
    tuple is built several times faster, while staying immutable.
    """

    id: str
    projects: tuple[int, ...]
    points: tuple[int, ...] | None = None
    attributes: Mapping[str, str] = _EMPTY


# Fractions are immutable: small whole weights are shared rather than built each time.
_SMALL_FRACTIONS = tuple(Fraction(count) for count in range(256))


def _fraction(value: int | Fraction) -> Fraction:
    if isinstance(value, int) and 0 <= value < len(_SMALL_FRACTIONS):
        return _SMALL_FRACTIONS[value]
    return Fraction(value)


_PROJECTS = itemgetter(1)
_POINTS = itemgetter(2)


@dataclass(frozen=True, slots=True)
class Ballot:
    """Identical voters merged: ``weight`` voters cast exactly this ballot.

    ``projects`` are indices into ``Instance.projects``: best first for ordinal ballots,
    ascending otherwise (``points`` follow the same order).
    """

    projects: tuple[int, ...]
    points: tuple[int, ...] | None
    weight: Fraction


def _canonical_ballot(
    vote_type: VoteType, projects: tuple[int, ...], points: tuple[int, ...] | None
) -> tuple[tuple[int, ...], tuple[int, ...] | None]:
    if vote_type == "ordinal":
        return projects, None
    if points is None:
        return tuple(sorted(projects)), None
    pairs = sorted(zip(projects, points, strict=True))
    return tuple(p for p, _ in pairs), tuple(q for _, q in pairs)


CHANNEL_ATTRIBUTE = "voting_method"


@dataclass(frozen=True)
class Profile:
    """The ballots of one instance, voter by voter, and the ballot rules from META."""

    vote_type: VoteType
    voters: tuple[Voter, ...]
    min_length: int | None = None
    max_length: int | None = None
    min_sum_points: int | None = None
    max_sum_points: int | None = None
    min_points: int | None = None
    max_points: int | None = None
    # The VOTES header as in the file, so writing keeps the column order.
    voter_columns: tuple[str, ...] = ()
    # Voters per distinct (projects, points) as the reader counted them while parsing: merging
    # a city-wide file then starts from a few thousand entries, not a hundred thousand voters.
    # Not an __init__ argument, so dataclasses.replace(profile, voters=...) never carries
    # counts that no longer match; the reader sets it with ``with_ballot_counts``.
    ballot_counts: Mapping[tuple[tuple[int, ...], tuple[int, ...] | None], int] | None = field(
        default=None, init=False, compare=False, repr=False, hash=False
    )
    _merged_cache: dict[object, tuple[Ballot, ...]] = field(
        default_factory=dict, init=False, compare=False, repr=False, hash=False
    )
    _raw_counts: list[Mapping[tuple[tuple[int, ...], tuple[int, ...] | None], int]] = field(
        default_factory=list, init=False, compare=False, repr=False, hash=False
    )

    def with_ballot_counts(
        self, counts: Mapping[tuple[tuple[int, ...], tuple[int, ...] | None], int]
    ) -> Profile:
        """This profile, told how many voters cast each distinct ballot (must match voters)."""
        if sum(counts.values()) != len(self.voters):
            raise ValueError("ballot counts do not add up to the number of voters")
        object.__setattr__(self, "ballot_counts", counts)
        return self

    @property
    def voter_count(self) -> int:
        return len(self.voters)

    def merged(self, channel_weights: Mapping[str, Fraction] | None = None) -> tuple[Ballot, ...]:
        """Identical ballots merged into one with a weight, sorted canonically.

        With ``channel_weights`` each voter counts ``channel_weights[voter.voting_method]``
        (a voter whose channel is not listed counts 1).
        """
        cache_key: object = (
            None if channel_weights is None else tuple(sorted(channel_weights.items()))
        )
        cached = self._merged_cache.get(cache_key)
        if cached is not None:
            return cached
        counts: dict[tuple[tuple[int, ...], tuple[int, ...] | None], Fraction | int] = {}
        if channel_weights is None:
            # Count in C first (voters who cast the same text share one tuple), then bring the
            # few distinct ballots to their canonical form.
            raw: Mapping[tuple[tuple[int, ...], tuple[int, ...] | None], int]
            if self.ballot_counts is not None:
                raw = self.ballot_counts
            elif self.vote_type in ("approval", "ordinal"):
                raw = Counter(zip(map(_PROJECTS, self.voters), repeat(None)))
            else:
                raw = Counter(
                    zip(map(_PROJECTS, self.voters), map(_POINTS, self.voters), strict=True)
                )
            for (projects, points), count in raw.items():
                canonical = _canonical_ballot(self.vote_type, projects, points)
                counts[canonical] = counts.get(canonical, 0) + count
        else:
            for voter in self.voters:
                weight = channel_weights.get(
                    voter.attributes.get(CHANNEL_ATTRIBUTE, ""), Fraction(1)
                )
                canonical = _canonical_ballot(self.vote_type, voter.projects, voter.points)
                counts[canonical] = counts.get(canonical, 0) + weight
        # Approval and ordinal keys differ in their projects, so plain tuple order is total
        # and needs no (slow) key function; points may be None beside a tuple otherwise.
        keys = (
            sorted(counts)
            if self.vote_type in ("approval", "ordinal")
            else sorted(counts, key=lambda key: (key[0], key[1] or ()))
        )
        ballots = tuple(
            Ballot(projects=key[0], points=key[1], weight=_fraction(counts[key]))
            for key in keys
            if counts[key] != 0
        )
        self._merged_cache[cache_key] = ballots
        return ballots

    def ballot_weights(self) -> Mapping[tuple[tuple[int, ...], tuple[int, ...] | None], int]:
        """Voters per distinct (projects, points) as written, in no meaningful order.

        For sums that do not depend on order (support, reach), this skips the canonical sort
        that ``merged`` does.
        """
        if self.ballot_counts is not None:
            return self.ballot_counts
        if not self._raw_counts:
            self._raw_counts.append(
                Counter(zip(map(_PROJECTS, self.voters), map(_POINTS, self.voters), strict=True))
            )
        return self._raw_counts[0]

    def channels(self) -> tuple[str, ...]:
        """The distinct ballot channels (``voting_method``) present, sorted."""
        return tuple(sorted({voter.attributes.get(CHANNEL_ATTRIBUTE, "") for voter in self.voters}))


@dataclass(frozen=True)
class ProjectOutcome:
    """One project's fate under a rule, with the reason in words a resident understands."""

    id: str
    cost: int
    support: Support
    funded: bool
    reason: str
    details: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Allocation:
    """The result of one rule on one instance; carries its own explanation."""

    rule: str
    options: Mapping[str, object]
    selected: tuple[str, ...]
    total_cost: int
    budget: int
    unit: int
    projects: tuple[ProjectOutcome, ...]
    tie_break: tuple[str, ...]
    voters_with_funded_project: int
    steps: tuple[Mapping[str, object], ...] = ()
    solver: Mapping[str, object] | None = None

    @property
    def leftover(self) -> int:
        return self.budget - self.total_cost

    def outcome(self, project_id: str) -> ProjectOutcome:
        for outcome in self.projects:
            if outcome.id == project_id:
                return outcome
        raise KeyError(project_id)

    def to_json(self) -> dict[str, object]:
        """Plain JSON types; money both as exact decimal strings and as integer minor units."""
        return {
            "rule": self.rule,
            "options": {key: _jsonable(value) for key, value in self.options.items()},
            "selected": list(self.selected),
            "total_cost": format_money(self.total_cost, self.unit),
            "total_cost_minor": self.total_cost,
            "budget": format_money(self.budget, self.unit),
            "budget_minor": self.budget,
            "leftover": format_money(self.leftover, self.unit),
            "leftover_minor": self.leftover,
            "unit": self.unit,
            "tie_break": list(self.tie_break),
            "voters_with_funded_project": self.voters_with_funded_project,
            "projects": [
                {
                    "id": outcome.id,
                    "cost": format_money(outcome.cost, self.unit),
                    "cost_minor": outcome.cost,
                    "support": _jsonable(outcome.support),
                    "funded": outcome.funded,
                    "reason": outcome.reason,
                    "details": {key: _jsonable(value) for key, value in outcome.details.items()},
                }
                for outcome in self.projects
            ],
            "steps": [
                {key: _jsonable(value) for key, value in step.items()} for step in self.steps
            ],
            "solver": None
            if self.solver is None
            else {key: _jsonable(value) for key, value in self.solver.items()},
        }


def _jsonable(value: object) -> object:
    if isinstance(value, Fraction):
        return value.numerator if value.denominator == 1 else str(value)
    if isinstance(value, bool | int | str | float) or value is None:
        return value
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [_jsonable(item) for item in items]
    return str(value)


def voters_with_funded_project(profile: Profile, funded_indices: frozenset[int] | set[int]) -> int:
    """How many voters listed at least one funded project."""
    count = 0
    for (projects, _), weight in profile.ballot_weights().items():
        if not funded_indices.isdisjoint(projects):
            count += weight
    return count
