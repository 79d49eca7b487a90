"""The immutable result of one tally, carrying what an auditor needs to check it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from types import MappingProxyType
from typing import TypeAlias

from stemmen.tally.tiebreak import TieBreakStep

Score: TypeAlias = int | Fraction | str | None
"""Integers for counts, Fractions for means and Borda-like points, a grade label for
majority judgment, None for an option nobody graded."""


def frozen_mapping(items: Mapping[str, object]) -> Mapping[str, object]:
    return MappingProxyType(dict(items))


def json_number(value: object) -> object:
    """Exact numbers for JSON: integers stay integers, other fractions become "p/q" strings."""
    if isinstance(value, Fraction):
        return (
            value.numerator if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
        )
    return value


def to_jsonable(value: object) -> object:
    if isinstance(value, Fraction):
        return json_number(value)
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [to_jsonable(v) for v in value]
    if hasattr(value, "to_json"):
        return value.to_json()
    return value


@dataclass(frozen=True)
class IrvRound:
    """One instant-runoff round: the votes of each continuing option and who went out."""

    number: int
    votes: Mapping[str, Fraction]
    exhausted: Fraction
    majority: str | None
    eliminated: str | None
    tied_for_last: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "round": self.number,
            "votes": {k: json_number(v) for k, v in self.votes.items()},
            "exhausted": json_number(self.exhausted),
            "majority": self.majority,
            "eliminated": self.eliminated,
            "tied_for_last": list(self.tied_for_last),
        }


@dataclass(frozen=True)
class Tally:
    """The outcome of one method on one question.

    ``ranking`` is the full ordering as tiers of tied options, after the rule set's tie-break
    when one was given (``tie_break_steps`` then lists every use of it); ``tied_winners`` is the
    method's own winning set before the tie-break splits the final ordering (IRV, ranked pairs
    and STAR use it inside the method where they must decide, and those uses are steps too),
    and ``winners`` the first tier of ``ranking``. ``pairwise`` is the support matrix ``pairwise[x][y]`` = voters who rank x
    above y (margins are ``pairwise[x][y] - pairwise[y][x]``), present on every ranked
    question; ``details`` holds method-specific evidence (path strengths, locked pairs, the
    STAR runoff, ...).
    """

    method: str
    options: tuple[str, ...]
    ranking: tuple[tuple[str, ...], ...]
    tied_winners: tuple[str, ...]
    scores: Mapping[str, Score]
    num_ballots: int
    counts: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    pairwise: tuple[tuple[int, ...], ...] | None = None
    condorcet_winner: str | None = None
    condorcet_loser: str | None = None
    rounds: tuple[IrvRound, ...] = ()
    grade_distributions: Mapping[str, Mapping[str, int]] | None = None
    tie_break_steps: tuple[TieBreakStep, ...] = ()
    details: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    parameters: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def winners(self) -> tuple[str, ...]:
        return self.ranking[0] if self.ranking else ()

    @property
    def is_tied(self) -> bool:
        return len(self.winners) > 1

    def margin(self, x: str, y: str) -> int:
        if self.pairwise is None:
            raise ValueError("this tally has no pairwise matrix")
        i, j = self.options.index(x), self.options.index(y)
        return self.pairwise[i][j] - self.pairwise[j][i]

    def to_json(self) -> dict[str, object]:
        result: dict[str, object] = {
            "method": self.method,
            "winners": list(self.winners),
            "tied_winners": list(self.tied_winners),
            "ranking": [list(tier) for tier in self.ranking],
            "scores": {k: json_number(v) for k, v in self.scores.items()},
            "ballots": self.num_ballots,
            "parameters": to_jsonable(self.parameters),
            "counts": to_jsonable(self.counts),
        }
        if self.pairwise is not None:
            result["pairwise"] = {
                "options": list(self.options),
                "support": [list(row) for row in self.pairwise],
            }
            result["condorcet_winner"] = self.condorcet_winner
            result["condorcet_loser"] = self.condorcet_loser
        if self.rounds:
            result["rounds"] = [r.to_json() for r in self.rounds]
        if self.grade_distributions is not None:
            result["grade_distributions"] = to_jsonable(self.grade_distributions)
        result["tie_break_steps"] = [s.to_json() for s in self.tie_break_steps]
        if self.details:
            result["details"] = to_jsonable(self.details)
        return result
