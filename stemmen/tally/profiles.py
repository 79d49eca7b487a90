"""Ballot profiles: who answered what, with identical ballots merged into counts.

Three shapes of ballot exist on a preferendum question, and each method reads one of them:

- a *ranking*: tiers of options from most to least preferred; options in one tier are tied;
  options in no tier are unranked (a truncated ballot);
- *grades* on a labelled scale: each option gets a grade or is left blank ("no opinion");
- *approvals*: the set of options the voter approves of.

Every profile stores one row per distinct ballot and an integer count per row, as numpy
arrays, so a million ballots with a few thousand distinct answers cost a few thousand rows.
Rows are sorted, so a profile never depends on the order in which ballots were read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from stemmen.tally.errors import TallyError

IntArray: TypeAlias = npt.NDArray[np.int64]
BoolArray: TypeAlias = npt.NDArray[np.bool_]
Ranking: TypeAlias = Sequence[Sequence[str]]

BLANK = -1
"""The grade index that stands for a blank: the voter gave this option no grade."""


def _check_options(options: Sequence[str]) -> tuple[str, ...]:
    result = tuple(str(option) for option in options)
    if not result:
        raise TallyError("no-options", "a question needs at least one option")
    if len(set(result)) != len(result):
        raise TallyError("duplicate-option", f"options must be distinct: {list(result)}")
    return result


def _merge_rows(rows: npt.NDArray[np.int64], counts: IntArray) -> tuple[IntArray, IntArray]:
    """Merge identical rows, summing their counts; rows come back in lexicographic order."""
    if rows.shape[0] == 0:
        return rows.astype(np.int64), counts.astype(np.int64)
    width = rows.shape[1]
    low = int(rows.min())
    span = int(rows.max()) - low + 1
    if width == 0:
        return rows[:1].astype(np.int64), np.array([int(counts.sum())], dtype=np.int64)
    if span**width < 2**62:
        # One integer key per row makes the merge a plain 1-D sort, much faster than axis=0.
        weights = span ** np.arange(width - 1, -1, -1, dtype=np.int64)
        keys = (rows - low) @ weights if low else rows @ weights
        order = np.argsort(keys)  # equal keys are summed, so their order does not matter
        sorted_keys = keys[order]
        starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
        merged = np.add.reduceat(counts.astype(np.int64)[order], starts)
        return rows[order[starts]], merged
    unique_rows, inverse = np.unique(rows, axis=0, return_inverse=True)
    merged = np.zeros(len(unique_rows), dtype=np.int64)
    np.add.at(merged, inverse.ravel(), counts.astype(np.int64))
    return unique_rows.astype(np.int64), merged


def weighted_column_sums(counts: IntArray, mask: BoolArray) -> IntArray:
    """``counts @ mask`` in exact integers, without widening the boolean matrix to int64."""
    sums: IntArray = np.einsum("k,km->m", counts, mask.view(np.int8), dtype=np.int64)
    return sums


def _check_counts(counts: IntArray) -> None:
    if counts.size and int(counts.min()) < 1:
        raise TallyError("bad-count", "every ballot count must be a positive integer")


@dataclass(frozen=True, eq=False)
class RankedProfile:
    """Rankings, complete or truncated, with ties inside a ranking.

    ``positions[b, o]`` is the tier (0 = most preferred) of option ``o`` on distinct ballot
    ``b``, or ``len(options)`` when the ballot leaves ``o`` unranked. Tiers are renumbered
    densely, so two ballots that express the same order have the same row.
    """

    options: tuple[str, ...]
    positions: IntArray
    counts: IntArray
    _pairwise_cache: dict[object, Any] = field(default_factory=dict, repr=False)

    @property
    def unranked(self) -> int:
        return len(self.options)

    @property
    def num_voters(self) -> int:
        return int(self.counts.sum())

    @classmethod
    def from_positions(
        cls,
        options: Sequence[str],
        positions: npt.ArrayLike,
        counts: npt.ArrayLike | None = None,
        *,
        complete_strict: bool = False,
    ) -> RankedProfile:
        """Build from a matrix of tiers (any integers, lower is better; ``-1`` = unranked).

        ``complete_strict`` vouches that every row is already a permutation of 0..m-1 (a
        reader that has checked it), which skips renumbering the tiers.
        """
        names = _check_options(options)
        raw = np.asarray(positions, dtype=np.int64).reshape(-1, len(names))
        weights = (
            np.ones(raw.shape[0], dtype=np.int64)
            if counts is None
            else np.asarray(counts, dtype=np.int64).reshape(-1)
        )
        if weights.shape[0] != raw.shape[0]:
            raise TallyError("bad-count", "one count per ballot is needed")
        _check_counts(weights)
        dense = raw if complete_strict else _dense_tiers(raw, len(names))
        rows, merged = _merge_rows(dense, weights)
        profile = cls(names, rows, merged)
        if complete_strict:
            profile._pairwise_cache.update({"strict": True, "complete": True})
        return profile

    @classmethod
    def from_rankings(
        cls, options: Sequence[str], ballots: Iterable[tuple[int, Ranking]]
    ) -> RankedProfile:
        """Build from ``(count, [[tier 1 options], [tier 2 options], ...])`` pairs."""
        names = _check_options(options)
        index = {option: i for i, option in enumerate(names)}
        rows: list[list[int]] = []
        counts: list[int] = []
        for count, ranking in ballots:
            row = [-1] * len(names)
            for tier_number, tier in enumerate(ranking):
                for option in tier:
                    if option not in index:
                        raise TallyError(
                            "unknown-option", f"ballot ranks unknown option {option!r}"
                        )
                    if row[index[option]] != -1:
                        raise TallyError("repeated-option", f"ballot ranks {option!r} twice")
                    row[index[option]] = tier_number
            rows.append(row)
            counts.append(int(count))
        positions = np.array(rows, dtype=np.int64).reshape(-1, len(names))
        return cls.from_positions(names, positions, np.array(counts, dtype=np.int64))

    def rankings(self) -> list[tuple[int, tuple[tuple[str, ...], ...]]]:
        """Each distinct ballot as ``(count, tiers)``; unranked options are left out."""
        result = []
        for row, count in zip(self.positions.tolist(), self.counts.tolist(), strict=True):
            tiers: dict[int, list[str]] = {}
            for option, tier in zip(self.options, row, strict=True):
                if tier != self.unranked:
                    tiers.setdefault(tier, []).append(option)
            result.append((int(count), tuple(tuple(tiers[t]) for t in sorted(tiers))))
        return result

    def is_strict(self) -> bool:
        """True when no ballot ties two ranked options."""
        cached = self._pairwise_cache.get("strict")
        if cached is None:
            m = self.unranked
            ranked = self.positions < m
            # Tiers are dense: a row is strict when its deepest tier is (ranked options - 1).
            deepest = np.where(ranked, self.positions, -1).max(axis=1, initial=-1)
            cached = bool(np.all(deepest == ranked.sum(axis=1) - 1))
            self._pairwise_cache["strict"] = cached
        return bool(cached)

    def is_complete(self) -> bool:
        """True when every ballot ranks every option."""
        cached = self._pairwise_cache.get("complete")
        if cached is None:
            cached = not bool(np.any(self.positions == self.unranked))
            self._pairwise_cache["complete"] = cached
        return bool(cached)

    def support_matrix(self, *, unranked_below_ranked: bool = True) -> IntArray:
        """``S[x, y]`` = number of voters who rank ``x`` strictly above ``y``.

        With ``unranked_below_ranked`` a ranked option beats every unranked one; without it a
        voter who leaves either option unranked expresses no preference between the two.
        """
        key = ("support", unranked_below_ranked)
        if key in self._pairwise_cache:
            cached: IntArray = self._pairwise_cache[key]
            return cached
        m = len(self.options)
        support = np.zeros((m, m), dtype=np.int64)
        positions = self.compact_positions()
        for x in range(m):
            above = positions[:, x : x + 1] < positions
            if not unranked_below_ranked:
                above &= positions != self.unranked
            support[x] = weighted_column_sums(self.counts, above)
        support[np.arange(m), np.arange(m)] = 0
        self._pairwise_cache[key] = support
        return support

    def compact_positions(self) -> npt.NDArray[np.int16]:
        """The positions in 16 bits: comparisons over a million rows move a quarter the bytes."""
        if "compact" not in self._pairwise_cache:
            self._pairwise_cache["compact"] = self.positions.astype(np.int16)
        compact: npt.NDArray[np.int16] = self._pairwise_cache["compact"]
        return compact

    def restrict(self, keep: Sequence[str]) -> RankedProfile:
        """The same ballots over a subset of the options (tiers renumbered)."""
        columns = [self.options.index(option) for option in keep]
        sub = self.positions[:, columns].copy()
        sub[sub == self.unranked] = -1
        return RankedProfile.from_positions(tuple(keep), sub, self.counts)


def _dense_tiers(raw: IntArray, m: int) -> IntArray:
    """Renumber each row's tiers 0, 1, 2, ... and mark unranked options (negative) with m."""
    if raw.size == 0:
        return raw.reshape(0, m)
    unranked = raw < 0
    if not unranked.any() and raw.min() >= 0 and raw.max() < m:
        # Common fast path: every row is a permutation of 0..m-1 (a complete strict order).
        sorted_rows = np.sort(raw, axis=1)
        if np.array_equal(sorted_rows, np.broadcast_to(np.arange(m), raw.shape)):
            return raw
    big = np.where(unranked, np.iinfo(np.int64).max, raw)
    order = np.argsort(big, axis=1, kind="stable")
    sorted_values = np.take_along_axis(big, order, axis=1)
    new_tier = np.zeros_like(sorted_values)
    if m > 1:
        new_tier[:, 1:] = np.cumsum(sorted_values[:, 1:] != sorted_values[:, :-1], axis=1)
    dense = np.empty_like(raw)
    np.put_along_axis(dense, order, new_tier, axis=1)
    dense[unranked] = m
    return dense


@dataclass(frozen=True)
class Scale:
    """An ordered grade scale, lowest grade first, each grade with a numeric value.

    A numeric scale ``{"min": 0, "max": 5}`` has labels ``"0"`` ... ``"5"`` and values 0 ... 5.
    A labelled scale (``"strongly against"`` ... ``"strongly for"``) has values 0, 1, ... unless
    other values are given. Values are what score methods add up; labels are what a
    majority-judgment result reports.
    """

    labels: tuple[str, ...]
    values: tuple[int, ...]

    def __post_init__(self) -> None:
        if not self.labels or len(self.labels) != len(self.values):
            raise TallyError("bad-scale", "a scale needs one value per label, at least one")
        if len(set(self.labels)) != len(self.labels):
            raise TallyError("bad-scale", "scale labels must be distinct")
        if any(b <= a for a, b in zip(self.values, self.values[1:], strict=False)):
            raise TallyError("bad-scale", "scale values must increase from the lowest grade")

    @classmethod
    def numeric(cls, low: int, high: int) -> Scale:
        if high < low:
            raise TallyError("bad-scale", f"scale max {high} is below min {low}")
        values = tuple(range(low, high + 1))
        return cls(tuple(str(v) for v in values), values)

    @classmethod
    def labelled(cls, labels: Sequence[str], values: Sequence[int] | None = None) -> Scale:
        return cls(
            tuple(labels), tuple(values) if values is not None else tuple(range(len(labels)))
        )

    def index_of(self, grade: object) -> int:
        """The grade's index (0 = lowest) from a label or a numeric value."""
        if isinstance(grade, bool):
            raise TallyError("bad-grade", f"grade {grade!r} is not on the scale")
        if isinstance(grade, int) and grade in self.values:
            return self.values.index(grade)
        if isinstance(grade, str) and grade in self.labels:
            return self.labels.index(grade)
        raise TallyError("bad-grade", f"grade {grade!r} is not on the scale {list(self.labels)}")

    def to_json(self) -> dict[str, object]:
        if self.labels == tuple(str(v) for v in self.values) and self.values == tuple(
            range(self.values[0], self.values[-1] + 1)
        ):
            return {"min": self.values[0], "max": self.values[-1]}
        return {"labels": list(self.labels), "values": list(self.values)}


@dataclass(frozen=True, eq=False)
class GradeProfile:
    """Grades on a scale; ``grades[b, o]`` is a grade index, or ``BLANK`` for no opinion."""

    options: tuple[str, ...]
    scale: Scale
    grades: IntArray
    counts: IntArray

    @property
    def num_voters(self) -> int:
        return int(self.counts.sum())

    @classmethod
    def from_indices(
        cls,
        options: Sequence[str],
        scale: Scale,
        grades: npt.ArrayLike,
        counts: npt.ArrayLike | None = None,
    ) -> GradeProfile:
        names = _check_options(options)
        raw = np.asarray(grades, dtype=np.int64).reshape(-1, len(names))
        if raw.size and (raw.min() < BLANK or raw.max() >= len(scale.labels)):
            raise TallyError("bad-grade", "grade index outside the scale")
        weights = (
            np.ones(raw.shape[0], dtype=np.int64)
            if counts is None
            else np.asarray(counts, dtype=np.int64).reshape(-1)
        )
        if weights.shape[0] != raw.shape[0]:
            raise TallyError("bad-count", "one count per ballot is needed")
        _check_counts(weights)
        rows, merged = _merge_rows(raw, weights)
        return cls(names, scale, rows, merged)

    @classmethod
    def from_grades(
        cls,
        options: Sequence[str],
        scale: Scale,
        ballots: Iterable[tuple[int, Mapping[str, object]]],
    ) -> GradeProfile:
        """Build from ``(count, {option: grade label or value})``; absent options are blank."""
        names = _check_options(options)
        index = {option: i for i, option in enumerate(names)}
        rows: list[list[int]] = []
        counts: list[int] = []
        for count, grades in ballots:
            row = [BLANK] * len(names)
            for option, grade in grades.items():
                if option not in index:
                    raise TallyError("unknown-option", f"ballot grades unknown option {option!r}")
                if grade is not None:
                    row[index[option]] = scale.index_of(grade)
            rows.append(row)
            counts.append(int(count))
        return cls.from_indices(
            names, scale, np.array(rows, dtype=np.int64).reshape(-1, len(names)), counts
        )

    def distribution(self) -> IntArray:
        """``D[o, g]`` = voters giving option ``o`` grade ``g``; the last column counts blanks."""
        levels = len(self.scale.labels)
        table = np.zeros((len(self.options), levels + 1), dtype=np.int64)
        for o in range(len(self.options)):
            column = np.where(self.grades[:, o] == BLANK, levels, self.grades[:, o])
            np.add.at(table[o], column, self.counts)
        return table

    def values_matrix(self, blank_value: int) -> IntArray:
        """Each grade's numeric value, with blanks replaced by ``blank_value``."""
        lookup = np.array([*self.scale.values, blank_value], dtype=np.int64)
        values: IntArray = lookup[
            np.where(self.grades == BLANK, len(self.scale.values), self.grades)
        ]
        return values

    def restrict(self, keep: Sequence[str]) -> GradeProfile:
        columns = [self.options.index(option) for option in keep]
        return GradeProfile.from_indices(
            tuple(keep), self.scale, self.grades[:, columns], self.counts
        )

    def to_ranked(self) -> RankedProfile:
        """Rank options by grade, higher first; equal grades tie; blanks are unranked."""
        top = len(self.scale.labels) - 1
        tiers = np.where(self.grades == BLANK, -1, top - self.grades)
        return RankedProfile.from_positions(self.options, tiers, self.counts)


@dataclass(frozen=True, eq=False)
class ApprovalProfile:
    """Approval sets; ``approved[b, o]`` is True when distinct ballot ``b`` approves ``o``."""

    options: tuple[str, ...]
    approved: BoolArray
    counts: IntArray

    @property
    def num_voters(self) -> int:
        return int(self.counts.sum())

    @classmethod
    def from_sets(
        cls, options: Sequence[str], ballots: Iterable[tuple[int, Iterable[str]]]
    ) -> ApprovalProfile:
        names = _check_options(options)
        index = {option: i for i, option in enumerate(names)}
        rows: list[list[int]] = []
        counts: list[int] = []
        for count, approvals in ballots:
            row = [0] * len(names)
            for option in approvals:
                if option not in index:
                    raise TallyError("unknown-option", f"ballot approves unknown option {option!r}")
                row[index[option]] = 1
            rows.append(row)
            counts.append(int(count))
        return cls.from_matrix(
            names, np.array(rows, dtype=np.int64).reshape(-1, len(names)), counts
        )

    @classmethod
    def from_matrix(
        cls, options: Sequence[str], approved: npt.ArrayLike, counts: npt.ArrayLike | None = None
    ) -> ApprovalProfile:
        names = _check_options(options)
        raw = np.asarray(approved, dtype=np.int64).reshape(-1, len(names))
        weights = (
            np.ones(raw.shape[0], dtype=np.int64)
            if counts is None
            else np.asarray(counts, dtype=np.int64).reshape(-1)
        )
        _check_counts(weights)
        rows, merged = _merge_rows((raw != 0).astype(np.int64), weights)
        return cls(names, rows.astype(bool), merged)

    def restrict(self, keep: Sequence[str]) -> ApprovalProfile:
        columns = [self.options.index(option) for option in keep]
        return ApprovalProfile.from_matrix(tuple(keep), self.approved[:, columns], self.counts)

    def to_ranked(self) -> RankedProfile:
        """Approved options tied on top; the others unranked."""
        tiers = np.where(self.approved, 0, -1)
        return RankedProfile.from_positions(self.options, tiers, self.counts)

    def to_grades(self) -> GradeProfile:
        """Approved = grade 1, not approved = grade 0, on the scale 0..1 (never blank)."""
        return GradeProfile.from_indices(
            self.options, Scale.numeric(0, 1), self.approved.astype(np.int64), self.counts
        )


Profile: TypeAlias = RankedProfile | GradeProfile | ApprovalProfile
