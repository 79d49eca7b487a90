"""The Method of Equal Shares (MES), exact, with its completions.

Every voter gets an equal share of the budget. Step by step, MES buys the project whose
supporters can pay for it at the lowest price per unit of satisfaction (``rho``): each supporter
pays ``min(money left, rho * utility)``. It stops when no project's supporters can afford it.

Exactness and speed. Money stays exact: all voter budgets are integers over one common
denominator, prices are ``Fraction``. Voters are handled in groups: identical ballots are
merged (an integer weight each), and ballots whose money left is equal share one "wallet"
entry, so a price computation sorts a few hundred wallets instead of ninety thousand voters.
Prices only rise as money is spent, so a price computed earlier is a lower bound: a heap keyed
by (price, tie-break rank) recomputes only projects that reach its top after their supporters
paid for something. numpy does the counting (which wallet each supporter uses); the integer
sums it returns are exact (they stay far below 2**53), and every decision compares exact
integers or fractions.

Completions (pabutools' definitions, which the official results of Assen 2024 follow):

- ``add1``: start at B/n per voter, add one currency unit per voter and rerun until the outcome
  either costs more than the budget (then the previous outcome is returned) or leaves no project
  MES could fund that still fits (then it is returned).
- ``greedy``: fund the projects left, by satisfaction per cost (for cost satisfaction, by
  number of supporters), each that still fits; projects without support are still candidates.
- ``add1-greedy``: ``add1`` then ``greedy``.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from math import ceil, gcd, lcm
from operator import mul
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from stemmen.budget._exact import decimal_text, money_text
from stemmen.budget.model import (
    Allocation,
    Instance,
    Profile,
    ProjectOutcome,
    voters_with_funded_project,
)
from stemmen.budget.tiebreak import TieBreak

if TYPE_CHECKING:
    from stemmen.budget._mes_floats import FloatRuns

Satisfaction = Literal["cost", "cardinality", "points"]
Completion = Literal["none", "add1", "greedy", "add1-greedy"]
SATISFACTIONS: tuple[Satisfaction, ...] = ("cost", "cardinality", "points")
COMPLETIONS: tuple[Completion, ...] = ("none", "add1", "greedy", "add1-greedy")

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
Counts = npt.NDArray[Any]  # weighted counts from numpy (whole numbers, as floats)

# numpy sums integer weights in float64; below this bound every such sum is exact.
_EXACT_FLOAT_INTEGERS = 2**53
# Projects x ballots up to which the table of projects sharing a supporter is precomputed.
_SHARES_TABLE_LIMIT = 40_000_000
# add1 tracks the horizon while it reaches this many times as far as runs without it advance
# on average (tracking makes a run three to four times as costly).
_HORIZON_WORTH = 3


class EqualSharesError(ValueError):
    """Options Equal Shares cannot work with."""


@dataclass(frozen=True, slots=True)
class _Electorate:
    """The profile as MES sees it: whole weights, and supporters with utilities per project."""

    weights: IntArray  # per merged ballot, scaled by weight_scale so every weight is whole
    weight_scale: int  # how many weight units one voter of weight 1 is
    total_weight: int
    supporters: tuple[IntArray, ...]  # ballot indices per project
    supporter_weights: tuple[FloatArray, ...]  # their weights, for numpy's weighted counts
    weight_lists: tuple[list[int], ...]  # the same weights as Python integers
    utilities: tuple[IntArray | None, ...]  # per supporter; None when every utility is 1
    # rho is the price per unit of satisfaction: payment per unit of utility / scale.
    # Cost satisfaction values a project at its cost for every supporter.
    utility_scale: tuple[int, ...]
    support: tuple[Fraction, ...]  # voters (or points) behind each project, in voter units
    total_utility: tuple[int, ...]  # sum of weight * utility over supporters (weight units)
    max_utility: int
    # shares[j][k]: some ballot supports both j and k (None: too large to tabulate).
    shares: tuple[tuple[bool, ...], ...] | None
    sharing: npt.NDArray[np.bool_] | None  # the same table as a matrix


def _ballot_utilities(
    vote_type: str, projects: tuple[int, ...], points: tuple[int, ...] | None
) -> tuple[int, ...]:
    if vote_type == "ordinal":
        return tuple(range(len(projects), 0, -1))
    if points is None:
        return (1,) * len(projects)
    return points


def _electorate(
    instance: Instance,
    profile: Profile,
    satisfaction: Satisfaction,
    channel_weights: Mapping[str, Fraction] | None,
    *,
    many_runs: bool = False,
) -> _Electorate:
    ballots = profile.merged(channel_weights)
    scale = lcm(1, *{ballot.weight.denominator for ballot in ballots})
    weights = (
        [ballot.weight.numerator for ballot in ballots]
        if scale == 1
        else [int(ballot.weight * scale) for ballot in ballots]
    )
    total = sum(weights)
    if total >= _EXACT_FLOAT_INTEGERS:
        raise EqualSharesError("too many voters for exact weighted counting")
    count = len(instance.projects)
    members: list[list[int]] = [[] for _ in range(count)]
    values: list[list[int]] = [[] for _ in range(count)]
    use_points = satisfaction == "points"
    for position, ballot in enumerate(ballots):
        utilities = _ballot_utilities(profile.vote_type, ballot.projects, ballot.points)
        for index, utility in zip(ballot.projects, utilities, strict=True):
            # As pabutools: a listed project is approved for cost and cardinality
            # satisfaction whatever its points; with points, zero points is no support.
            if use_points and utility <= 0:
                continue
            members[index].append(position)
            values[index].append(utility if use_points else 1)
    weight_array = np.asarray(weights, dtype=np.int64)
    supporters: list[IntArray] = []
    supporter_weights: list[FloatArray] = []
    weight_lists: list[list[int]] = []
    utilities_per_project: list[IntArray | None] = []
    scales: list[int] = []
    support: list[Fraction] = []
    total_utility: list[int] = []
    max_utility = 1
    for index, project in enumerate(instance.projects):
        if satisfaction == "cost" and project.cost == 0:
            # Cost satisfaction values a free project at nothing: nobody supports it.
            members[index], values[index] = [], []
        positions = np.asarray(members[index], dtype=np.int64)
        supporters.append(positions)
        chosen = weight_array[positions]
        supporter_weights.append(chosen.astype(np.float64))
        weight_lists.append(chosen.tolist())
        utility_list = values[index]
        if any(value != 1 for value in utility_list):
            utilities_per_project.append(np.asarray(utility_list, dtype=np.int64))
            max_utility = max(max_utility, *utility_list)
            weighted = sum(w * u for w, u in zip(chosen.tolist(), utility_list, strict=True))
        else:
            utilities_per_project.append(None)
            weighted = int(chosen.sum())
        total_utility.append(weighted)
        support.append(Fraction(weighted, scale))
        scales.append(project.cost if satisfaction == "cost" else 1)
    shares: tuple[tuple[bool, ...], ...] | None = None
    sharing: npt.NDArray[np.bool_] | None = None
    # Worth its set-up cost only when MES runs many times (add1).
    if many_runs and count and count * len(ballots) <= _SHARES_TABLE_LIMIT:
        incidence = np.zeros((count, len(ballots)), dtype=np.float64)
        for index, positions in enumerate(supporters):
            incidence[index, positions] = 1.0
        # Counts of common ballots, exact in float64 (far below 2**53); only "> 0" is used.
        sharing = (incidence @ incidence.T) > 0
        shares = tuple(tuple(row) for row in sharing.tolist())
    return _Electorate(
        weights=weight_array,
        weight_scale=scale,
        total_weight=total,
        supporters=tuple(supporters),
        supporter_weights=tuple(supporter_weights),
        weight_lists=tuple(weight_lists),
        utilities=tuple(utilities_per_project),
        utility_scale=tuple(scales),
        support=tuple(support),
        total_utility=tuple(total_utility),
        max_utility=max_utility,
        shares=shares,
        sharing=sharing,
    )


@dataclass(frozen=True, slots=True)
class _Purchase:
    project: int
    rho: Fraction  # price per unit of satisfaction
    payment: Fraction  # per unit of utility and of weight, in minor units
    paid_all: Fraction  # weight of the supporters who paid all they had left (voter units)


@dataclass(frozen=True, slots=True)
class _Run:
    start: Fraction  # money per unit of weight at the start, in minor units
    purchases: tuple[_Purchase, ...]
    # Every start below this (and at least ``start``) buys the same projects in the same order,
    # the same voters paying all they have, and drops the same candidates; None: any.
    same_until: Fraction | None
    dropped: tuple[int, ...]  # candidates their supporters could no longer afford
    wallets: _Wallets  # the money left at the end
    # Checked against a reference run: every start in between buys the same projects.
    certified: bool = False

    @property
    def bought(self) -> list[int]:
        return [purchase.project for purchase in self.purchases]

    def money_left(self, electorate: _Electorate) -> dict[int, Fraction]:
        """What the supporters of each dropped candidate had left at the end (minor units)."""
        return {
            index: self.wallets.money_of(
                electorate.supporters[index], electorate.supporter_weights[index]
            )
            for index in self.dropped
        }


class _Horizon:
    """How far the start money s can grow with every decision of a run staying the same.

    Within one run every amount of money is an affine function a + b*s of the start money s
    once the decisions (who pays all they have, which project is bought) are fixed; each
    decision is the sign of such a function. The horizon is the smallest s above the current
    one where one of them could change sign. This is what lets ``add1`` skip, exactly, the
    many steps of one currency unit that cannot change the outcome.
    """

    def __init__(self, start: Fraction, enabled: bool) -> None:
        self.p = start.numerator
        self.q = start.denominator
        self.enabled = enabled
        self.limit: Fraction | None = None
        self.stuck = False

    def keep(self, alpha: int, beta: int, *, zero_allowed: bool) -> None:
        """The sign of alpha + beta*s must stay as it is now (zero may stay zero if allowed)."""
        if beta == 0 or self.stuck:
            return
        now = alpha * self.q + beta * self.p
        if now == 0:
            if not (zero_allowed and beta > 0):
                self.stuck = True
            return
        if (now > 0) == (beta > 0):
            return  # moving away from zero as s grows
        root = Fraction(-alpha, beta)
        if self.limit is None or root < self.limit:
            self.limit = root

    def result(self) -> Fraction | None:
        if self.stuck or not self.enabled:
            return Fraction(self.p, self.q)
        return self.limit


class _Deferred(_Horizon):
    """The conditions under which one price computation stays exact, kept for later.

    A price formula for any split of the supporters into those who pay all they have and
    those who pay the price is a lower bound of the true price (``_run``'s text says why), so
    a price that only ever serves as a lower bound needs no condition at all; only the price of
    a project bought, and the fact that a project cannot be afforded, are decisions. The run
    hands these conditions to its horizon when the project is bought or dropped, and forgets
    them when the price is recomputed.
    """

    def __init__(self, start: Fraction) -> None:
        super().__init__(start, True)
        self.conditions: list[tuple[int, int, bool]] = []

    def keep(self, alpha: int, beta: int, *, zero_allowed: bool) -> None:
        if beta:
            self.conditions.append((alpha, beta, zero_allowed))

    def hand_to(self, horizon: _Horizon) -> None:
        for alpha, beta, zero_allowed in self.conditions:
            horizon.keep(alpha, beta, zero_allowed=zero_allowed)


def _grown(array: FloatArray, kept: int, capacity: int) -> FloatArray:
    """A new array of ``capacity`` floats starting with the first ``kept`` of ``array``."""
    grown = np.empty(capacity, dtype=np.float64)
    grown[:kept] = array[:kept]
    return grown


# Integers up to this many bits convert to floats without overflow, with room to spare.
_FLOAT_BITS = 1000


def _quotients(numerators: list[int], denominator: int) -> list[float]:
    """Every numerator / denominator as a float, within a few units in the last place (float
    division after rounding both; exact integer division when they are too large for that)."""
    if not numerators:
        return []
    largest = max(max(numerators), -min(numerators))
    if max(denominator, largest).bit_length() > _FLOAT_BITS:
        return [value / denominator for value in numerators]
    inverse = 1.0 / denominator
    return [value * inverse for value in numerators]


class _Wallets:
    """The money of every ballot, exact, as a function of the start money s.

    Ballots that have paid the same shares hold the same money and share one wallet: wallet w
    holds ``(offsets[w] + slopes[w] * s) / denominator`` per unit of weight, and
    ``values[w] / (denominator * q)`` at the current start s = p/q.

    A purchase may raise the common denominator; wallets are brought to it only when they are
    read (``refresh``), not all at every purchase. Each wallet remembers which of the common
    denominators so far it was written at; until refreshed, its numbers are over that one.
    """

    def __init__(self, ballot_count: int, start: Fraction, *, affine: bool) -> None:
        if affine:
            self.p, self.q = start.numerator, start.denominator
            self.denominator = 1
            self.offsets: list[int] = [0]
            self.slopes: list[int] = [1]
        else:
            # Only the money at this start matters: hold it as a constant (s = 0/1), so the
            # money value and the offset are one and the same list and slopes are all zero.
            self.p, self.q = 0, 1
            self.denominator = start.denominator
            self.offsets = [start.numerator]
            self.slopes = []
        self.affine = affine
        self.values: list[int] = [self.offsets[0] * self.q + self.p] if affine else self.offsets
        # Every wallet's money per unit of weight at the current start, as a float (prices use
        # it to find who pays all they have, then settle that exactly).
        self.approx: FloatArray = np.empty(64, dtype=np.float64)
        self.approx[0] = float(start)
        # The common denominators so far (the last is ``denominator``), and for every wallet
        # the position in that list of the one its numbers are over.
        self.denominators: list[int] = [self.denominator]
        self.written_at: list[int] = [0]
        # factors[position] = denominator // denominators[position]
        self.factors: list[int] = [1]
        self.wallet_of: IntArray = np.zeros(ballot_count, dtype=np.int64)
        # ``approx`` of every ballot's wallet, so that a price can look at its supporters' money
        # without grouping them first.
        self.ballot_approx: FloatArray = np.full(ballot_count, self.approx[0], dtype=np.float64)
        # Whether no wallet's money falls as s grows (then no supporter paying an equal share
        # can move the horizon: see _price).
        self.slopes_nonnegative = True
        # Affine money only: offsets / denominator and slopes / denominator as floats, per
        # wallet and per ballot.
        self.offset_approx: FloatArray = np.zeros(64, dtype=np.float64)
        self.slope_approx: FloatArray = np.ones(64, dtype=np.float64)
        self.ballot_offsets: FloatArray = np.zeros(ballot_count if affine else 0)
        self.ballot_slopes: FloatArray = np.ones(ballot_count if affine else 0)
        self._compacted_size = 1

    def _created(self, first: int) -> None:
        """Book the wallets from ``first`` on, just written over the current denominator."""
        size = len(self.values)
        self.written_at.extend([len(self.denominators) - 1] * (size - first))
        if size > len(self.approx):
            capacity = max(size, 2 * len(self.approx))
            self.approx = _grown(self.approx, first, capacity)
            if self.affine:
                self.offset_approx = _grown(self.offset_approx, first, capacity)
                self.slope_approx = _grown(self.slope_approx, first, capacity)
        denominator = self.denominator
        self.approx[first:size] = _quotients(self.values[first:size], denominator * self.q)
        if self.affine and size > first:
            self.offset_approx[first:size] = _quotients(self.offsets[first:size], denominator)
            self.slope_approx[first:size] = _quotients(self.slopes[first:size], denominator)
            if self.slopes_nonnegative:
                self.slopes_nonnegative = min(self.slopes[first:size]) >= 0

    def refresh(self, wallets: list[int]) -> None:
        """Bring the given wallets (each once) to the current denominator, so that their
        ``values``, ``offsets`` and ``slopes`` may be read."""
        current = len(self.denominators) - 1
        if current == 0:
            return
        written_at = self.written_at
        stale = [wallet for wallet in wallets if written_at[wallet] != current]
        if not stale:
            return
        factors = self.factors
        values = self.values
        if self.affine:
            offsets, slopes = self.offsets, self.slopes
            for wallet in stale:
                factor = factors[written_at[wallet]]
                written_at[wallet] = current
                values[wallet] *= factor
                offsets[wallet] *= factor
                slopes[wallet] *= factor
        else:
            for wallet in stale:  # the values are the offsets: one list
                values[wallet] *= factors[written_at[wallet]]
                written_at[wallet] = current

    def current(self, wallets: list[int]) -> list[int]:
        """The money values of the given wallets over the current denominator, without
        rewriting them (``refresh`` does, for wallets read over and over)."""
        values = self.values
        if len(self.denominators) == 1:
            return list(map(values.__getitem__, wallets))
        factors, written_at = self.factors, self.written_at
        return [values[wallet] * factors[written_at[wallet]] for wallet in wallets]

    @staticmethod
    def _used_wallets(keys: IntArray, stride: int) -> list[int]:
        """The wallets (each once) of sorted keys ``wallet * stride + utility``."""
        return list(dict.fromkeys((keys // stride).tolist()))

    def groups(
        self, supporters: IntArray, weights: FloatArray, utilities: IntArray | None
    ) -> list[tuple[int, int, int, int]]:
        """(money value, utility, weight, wallet) of the supporters, grouped."""
        return list(zip(*self.columns(supporters, weights, utilities), strict=True))

    def columns(
        self, supporters: IntArray, weights: FloatArray, utilities: IntArray | None
    ) -> tuple[list[int], list[int], list[int], list[int]]:
        """The supporters grouped by wallet and utility: one list each of the groups' money
        values, utilities, weights and wallets (refreshed, so their numbers may be read)."""
        wallets = self.wallet_of[supporters]
        values = self.values
        if utilities is None:
            counts = np.bincount(wallets, weights=weights)
            present = counts.nonzero()[0]
            members = present.tolist()
            self.refresh(members)
            return (
                list(map(values.__getitem__, members)),
                [1] * len(members),
                counts[present].astype(np.int64).tolist(),
                members,
            )
        stride = int(utilities.max()) + 1
        keys, inverse = np.unique(wallets * stride + utilities, return_inverse=True)
        self.refresh(self._used_wallets(keys, stride))
        counts = np.bincount(inverse.ravel(), weights=weights)
        owners, units = np.divmod(keys, stride)
        members = owners.tolist()
        return (
            list(map(values.__getitem__, members)),
            units.tolist(),
            counts.astype(np.int64).tolist(),
            members,
        )

    def pay(
        self,
        supporters: IntArray,
        utilities: IntArray | None,
        offset: int,
        slope: int,
        denominator: int,
    ) -> None:
        """Every supporter pays (offset + slope*s)/denominator per unit of utility, or all it
        has left if that is less."""
        shared = gcd(offset, slope, denominator)
        offset, slope, denominator = offset // shared, slope // shared, denominator // shared
        common = lcm(self.denominator, denominator)
        if common != self.denominator:
            ratio = common // self.denominator
            self.factors = [factor * ratio for factor in self.factors]
            self.factors.append(1)
            self.denominator = common
            self.denominators.append(common)
        factor = common // denominator
        offset *= factor
        slope *= factor
        if not self.affine:
            self._pay_constant(supporters, utilities, offset)
            return
        wallets = self.wallet_of[supporters]
        if utilities is None:
            # Counting, not sorting: the wallets in use, then a lookup to their successors.
            keys = np.bincount(wallets, minlength=len(self.values)).nonzero()[0]
            inverse = wallets
            stride = 0
        else:
            stride = int(utilities.max()) + 1
            keys, inverse = np.unique(wallets * stride + utilities, return_inverse=True)
        offsets, slopes, values = self.offsets, self.slopes, self.values
        # The wallets replaced are read over the new denominator, not rewritten.
        factors, written_at = self.factors, self.written_at
        p, q = self.p, self.q
        new_wallets: list[int] = []
        created: dict[tuple[int, int], int] = {}
        first = len(values)
        for key in keys.tolist():
            wallet, utility = divmod(key, stride) if stride else (key, 1)
            factor = factors[written_at[wallet]]
            left_offset = offsets[wallet] * factor - offset * utility
            left_slope = slopes[wallet] * factor - slope * utility
            value = left_offset * q + left_slope * p
            if value < 0:
                # Paid all it had: nothing left, whatever s is within the horizon.
                left_offset = left_slope = value = 0
            target = created.get((left_offset, left_slope))
            if target is None:
                target = created[left_offset, left_slope] = len(values)
                offsets.append(left_offset)
                slopes.append(left_slope)
                values.append(value)
            new_wallets.append(target)
        self._created(first)
        successors = np.asarray(new_wallets, dtype=np.int64)
        if stride:
            successors = successors[inverse.ravel()]
        else:
            lookup = np.zeros(len(values), dtype=np.int64)
            lookup[keys] = successors
            successors = lookup[inverse]
        self.wallet_of[supporters] = successors
        self.ballot_approx[supporters] = self.approx[successors]
        self.ballot_offsets[supporters] = self.offset_approx[successors]
        self.ballot_slopes[supporters] = self.slope_approx[successors]
        if len(values) > 2 * self._compacted_size + 64:
            self._compact()

    def _pay_constant(self, supporters: IntArray, utilities: IntArray | None, price: int) -> None:
        """``pay`` when the money is a constant: new wallets keyed by the money left alone."""
        wallets = self.wallet_of[supporters]
        values = self.values
        if utilities is None:
            # Which wallets the supporters use, without sorting them.
            used = np.bincount(wallets, minlength=len(values)).nonzero()[0]
            lefts = [money - price if money > price else 0 for money in self.current(used.tolist())]
            # One new wallet per wallet used; those left with nothing all move to the first of
            # them (wallets holding the same money are otherwise not looked for: see _compact).
            first = len(values)
            values.extend(lefts)
            self._created(first)
            targets = np.arange(first, first + len(lefts), dtype=np.int64)
            if 0 in lefts:
                emptied = [position for position, left in enumerate(lefts) if not left]
                targets[emptied] = first + emptied[0]
            lookup = np.zeros(len(values), dtype=np.int64)
            lookup[used] = targets
            successors = lookup[wallets]
            self.wallet_of[supporters] = successors
            self.ballot_approx[supporters] = self.approx[successors]
            if len(values) > 2 * self._compacted_size + 64:
                self._compact()
            return
        stride = int(utilities.max()) + 1
        keys, inverse = np.unique(wallets * stride + utilities, return_inverse=True)
        self.refresh(self._used_wallets(keys, stride))
        new_wallets: list[int] = []
        created: dict[int, int] = {}
        first = len(values)
        for key in keys.tolist():
            wallet, utility = divmod(key, stride)
            left = max(values[wallet] - price * utility, 0)
            target = created.get(left)
            if target is None:
                target = created[left] = len(values)
                values.append(left)
            new_wallets.append(target)
        self._created(first)
        successors = np.asarray(new_wallets, dtype=np.int64)[inverse.ravel()]
        self.wallet_of[supporters] = successors
        self.ballot_approx[supporters] = self.approx[successors]
        if len(values) > 2 * self._compacted_size + 64:
            self._compact()

    def _compact(self) -> None:
        """Forget the wallets no ballot uses any more.

        Wallets holding the same money are not looked for: apart from those left with
        nothing (at most one a purchase), ballots that paid for different projects almost
        never hold exactly the same money, and a price does not depend on how wallets are
        grouped."""
        used = np.bincount(self.wallet_of, minlength=len(self.values)).nonzero()[0]
        kept = used.tolist()
        remap = np.zeros(len(self.values), dtype=np.int64)
        remap[used] = np.arange(len(kept), dtype=np.int64)
        self.wallet_of = remap[self.wallet_of]
        self.written_at = list(map(self.written_at.__getitem__, kept))
        values = list(map(self.values.__getitem__, kept))
        if self.affine:
            self.values = values
            self.offsets = list(map(self.offsets.__getitem__, kept))
            self.slopes = list(map(self.slopes.__getitem__, kept))
        else:
            self.offsets = self.values = values
        capacity = max(64, 2 * len(kept))
        self.approx = _grown(self.approx[used], len(kept), capacity)
        if self.affine:
            self.offset_approx = _grown(self.offset_approx[used], len(kept), capacity)
            self.slope_approx = _grown(self.slope_approx[used], len(kept), capacity)
        self._compacted_size = len(kept)

    def money_of(self, supporters: IntArray, weights: FloatArray) -> Fraction:
        """Total money the supporters have left (minor units)."""
        groups = self.groups(supporters, weights, None)
        total = sum(value * weight for value, _, weight, _ in groups)
        return Fraction(total, self.denominator * self.q)


class _Key:
    """A heap entry: price rho = numerator / denominator, then tie-break rank.

    Comparing two keys is one cross-multiplication, cheaper than tuples of Fractions."""

    __slots__ = ("denominator", "index", "numerator", "rank")

    def __init__(self, numerator: int, denominator: int, rank: int, index: int) -> None:
        self.numerator = numerator
        self.denominator = denominator
        self.rank = rank
        self.index = index

    def __lt__(self, other: _Key) -> bool:
        left = self.numerator * other.denominator
        right = other.numerator * self.denominator
        return left < right or (left == right and self.rank < other.rank)


class _Price:
    """A project's price now.

    ``rho`` is the price per unit of satisfaction at the current start, and
    ``(offset + slope*s) / denominator`` as long as the horizon holds. ``payment`` (per unit of
    utility and weight, at the current start) and ``paid_all`` (the weight of the supporters who
    pay all they have, in voters) are worked out when first asked for: only the projects
    bought need them, not every price computed.
    """

    __slots__ = (
        "_paid_all",
        "_payment",
        "_poor_weight",
        "_scale",
        "_weight_scale",
        "denominator",
        "offset",
        "rho",
        "slope",
    )

    def __init__(
        self,
        rho: Fraction,
        payment: Fraction,
        paid_all: Fraction,
        offset: int,
        slope: int,
        denominator: int,
    ) -> None:
        self.rho = rho
        self._payment: Fraction | None = payment
        self._paid_all: Fraction | None = paid_all
        self.offset = offset
        self.slope = slope
        self.denominator = denominator
        self._scale = self._poor_weight = self._weight_scale = 1

    @classmethod
    def deferred(
        cls,
        payment: tuple[int, int],
        scale: int,
        paid_all: tuple[int, int],
        offset: int,
        slope: int,
        denominator: int,
    ) -> _Price:
        """The price whose payment is ``payment[0] / payment[1]``, rho that over ``scale``,
        and ``paid_all`` ``paid_all[0] / paid_all[1]``: one Fraction made now instead of three."""
        price = cls.__new__(cls)
        price.rho = Fraction(payment[0], payment[1] * scale)
        price._payment = price._paid_all = None
        price._scale = scale
        price._poor_weight, price._weight_scale = paid_all
        price.offset = offset
        price.slope = slope
        price.denominator = denominator
        return price

    @property
    def payment(self) -> Fraction:
        if self._payment is None:
            self._payment = self.rho * self._scale
        return self._payment

    @property
    def paid_all(self) -> Fraction:
        if self._paid_all is None:
            self._paid_all = Fraction(self._poor_weight, self._weight_scale)
        return self._paid_all


def _price(
    wallets: _Wallets, electorate: _Electorate, index: int, cost: int, horizon: _Horizon
) -> _Price | None:
    """The price of a project now, or None if its supporters cannot afford it."""
    utilities = electorate.utilities[index]
    if utilities is None:
        if not wallets.affine:
            return _plain_price(wallets, electorate, index, cost)
        if _clearly_everyone_pays(wallets, electorate, index, cost):
            # Nothing here can move the horizon: every supporter's money minus the equal share
            # is positive now and, as no wallet's money falls as s grows (slopes_nonnegative)
            # while the equal share does not change, it only moves away from zero; so is the
            # supporters' money minus the cost. Every call to horizon.keep below would return
            # without a change.
            return _everyone_pays(wallets, electorate, index, cost)
        if _clearly_unaffordable_for_now(wallets, electorate, index, cost, horizon):
            return None
    values, units, weights, members = wallets.columns(
        electorate.supporters[index], electorate.supporter_weights[index], utilities
    )
    denominator = wallets.denominator
    p, q = wallets.p, wallets.q
    need = cost * denominator * q
    rich_utility = electorate.total_utility[index]
    # Usual case: every supporter can pay the equal share, which also settles affordability.
    everyone_pays = utilities is None and min(values) * rich_utility >= need
    offsets, slopes = wallets.offsets, wallets.slopes
    if horizon.enabled:
        offset_sum = sum(map(mul, map(offsets.__getitem__, members), weights))
        slope_sum = sum(map(mul, map(slopes.__getitem__, members), weights))
        affordable = offset_sum * q + slope_sum * p >= need
        horizon.keep(offset_sum - cost * denominator, slope_sum, zero_allowed=affordable)
    else:
        affordable = everyone_pays or sum(map(mul, values, weights)) >= need
    if not affordable:
        return None
    count = len(values)
    if utilities is None:
        order = [] if everyone_pays else sorted(range(count), key=values.__getitem__)
    else:
        order = sorted(range(count), key=lambda group: Fraction(values[group], units[group]))
    paid_by_poor = 0
    poor_count = 0
    for group in order:
        value, utility = values[group], units[group]
        if value * rich_utility >= (need - paid_by_poor) * utility:
            break
        weight = weights[group]
        paid_by_poor += value * weight
        rich_utility -= weight * utility
        poor_count += 1
    poor = order[:poor_count]
    # payment = (offset + slope*s) / (rich_utility * denominator) per unit of utility
    offset = cost * denominator - sum(offsets[members[group]] * weights[group] for group in poor)
    slope = -sum(slopes[members[group]] * weights[group] for group in poor) if wallets.affine else 0
    if horizon.enabled and not horizon.stuck:
        _keep_sides(horizon, values, units, members, wallets, poor, rich_utility, offset, slope)
    payment_denominator = rich_utility * denominator
    scale = electorate.utility_scale[index]
    return _Price.deferred(
        (offset * q + slope * p, payment_denominator * q),
        scale,
        (sum(weights[group] for group in poor), electorate.weight_scale),
        offset,
        slope,
        payment_denominator * scale,
    )


def _keep_sides(
    horizon: _Horizon,
    values: list[int],
    units: list[int],
    members: list[int],
    wallets: _Wallets,
    poor: list[int],
    rich_utility: int,
    offset: int,
    slope: int,
) -> None:
    """What ``horizon.keep`` does for every group: the poor must stay below the payment
    (offset + slope*s) / rich_utility per unit of utility, the others at or above it.

    The same as calling it once a group, with fewer calls: only the group that would stop the
    horizon, and the one whose sign could change soonest, are handed to it (the horizon keeps
    the smallest such start, so the others would not change it)."""
    offsets, slopes = wallets.offsets, wallets.slopes
    payment_now = offset * wallets.q + slope * wallets.p
    poor_groups = set(poor)
    best: tuple[int, int, int, int] | None = None  # (root numerator, denominator > 0, alpha, beta)
    for group, wallet in enumerate(members):
        utility = units[group]
        beta = slopes[wallet] * rich_utility - utility * slope
        if beta == 0:
            continue
        # alpha*q + beta*p, the group's money minus its payment (times rich_utility) now.
        now = values[group] * rich_utility - utility * payment_now
        zero_allowed = group not in poor_groups
        if now == 0:
            if zero_allowed and beta > 0:
                continue
            horizon.keep(
                offsets[wallet] * rich_utility - utility * offset, beta, zero_allowed=zero_allowed
            )
            return  # the horizon is stuck: nothing more can change it
        if (now > 0) == (beta > 0):
            continue  # moving away from zero as s grows
        alpha = offsets[wallet] * rich_utility - utility * offset
        numerator, denominator = (-alpha, beta) if beta > 0 else (alpha, -beta)
        if best is None or numerator * best[1] < best[0] * denominator:
            best = (numerator, denominator, alpha, beta)
    if best is not None:
        horizon.keep(best[2], best[3], zero_allowed=True)


# Floats decide only what they decide with this relative margin to spare (their errors are
# below 1e-12 here); anything closer is settled with exact integers.
_MARGIN = 1e-9
# Below this many wallets among the supporters, exact integers alone are faster.
_FLOAT_GROUPS = 64


def _plain_price(
    wallets: _Wallets, electorate: _Electorate, index: int, cost: int
) -> _Price | None:
    """``_price`` for equal utilities: the same answer, fewer steps.

    Floats find who pays all they have; the payment is then computed exactly and the split
    checked against it (it is right when every poor supporter has less than the payment and
    every other at least as much: the payment then solves sum min(money, payment) = cost)."""
    supporters = electorate.supporters[index]
    if len(supporters) < _FLOAT_GROUPS:
        # Few supporters: grouped in a dict, cheaper than counting over every wallet.
        grouped: dict[int, int] = {}
        for wallet, weight in zip(
            wallets.wallet_of[supporters].tolist(), electorate.weight_lists[index], strict=True
        ):
            grouped[wallet] = grouped.get(wallet, 0) + weight
        return _exact_plain_price(
            wallets, electorate, index, cost, list(grouped), list(grouped.values())
        )
    rich = electorate.total_utility[index]
    equal_share = cost / rich
    # First by the supporters' money one by one, without grouping them: the usual answers.
    money = wallets.ballot_approx[supporters]
    lowest = float(np.minimum.reduce(money))
    if lowest > equal_share * (1 + _MARGIN):
        return _everyone_pays(wallets, electorate, index, cost)
    total = float(money @ electorate.supporter_weights[index])
    if total < cost * (1 - _MARGIN):
        return None
    counts = np.bincount(wallets.wallet_of[supporters], weights=electorate.supporter_weights[index])
    present = counts.nonzero()[0]
    weights = counts[present]
    if len(present) < _FLOAT_GROUPS:
        return _exact_plain_price(wallets, electorate, index, cost, present, weights)
    approx = wallets.approx[present]
    if lowest < equal_share * (1 - _MARGIN) and total > cost * (1 + _MARGIN):
        priced = _split_price(wallets, electorate, index, cost, present, approx, weights)
        if priced is not None:
            return priced
    return _exact_plain_price(wallets, electorate, index, cost, present, weights)


def _split_price(
    wallets: _Wallets,
    electorate: _Electorate,
    index: int,
    cost: int,
    present: IntArray,
    approx: FloatArray,
    weights: Counts,
) -> _Price | None:
    """The price when floats clearly tell who pays all they have; None when they do not."""
    rich = electorate.total_utility[index]
    order = approx.argsort()
    money = approx[order]
    ordered_weights = weights[order]
    spent = money * ordered_weights
    paid_before = spent.cumsum() - spent
    rich_before = rich - (ordered_weights.cumsum() - ordered_weights)
    enough = money * rich_before >= cost - paid_before
    first_rich = int(enough.argmax())
    if not enough[first_rich]:
        return None
    guess = (cost - paid_before[first_rich]) / rich_before[first_rich]
    # The poor: the wallets below the guess, the first ones in sorted order.
    poor_count = int(money.searchsorted(guess))
    poor_weights = ordered_weights[:poor_count].astype(np.int64).tolist()
    paid_by_poor = sum(
        map(mul, wallets.current(present[order[:poor_count]].tolist()), poor_weights)
    )
    poor_weight = sum(poor_weights)
    rich_left = rich - poor_weight
    if rich_left <= 0:
        return None
    denominator = wallets.denominator
    amount = cost * denominator - paid_by_poor
    if amount <= 0:
        return None
    exact = amount / (rich_left * denominator)  # the payment, as the nearest float
    # Every supporter clearly on its side of the exact payment: the split is the right one.
    if poor_count and not money[poor_count - 1] < exact * (1 - _MARGIN):
        return None
    if poor_count < len(money) and not money[poor_count] > exact * (1 + _MARGIN):
        return None
    scale = electorate.utility_scale[index]
    return _Price.deferred(
        (amount, rich_left * denominator),
        scale,
        (poor_weight, electorate.weight_scale),
        amount,
        0,
        rich_left * denominator * scale,
    )


def _exact_plain_price(
    wallets: _Wallets,
    electorate: _Electorate,
    index: int,
    cost: int,
    present: IntArray | list[int],
    counts: Counts | list[int],
) -> _Price | None:
    """``_plain_price`` with exact integers only (wallets and their weights as arrays from
    numpy's counting, or as lists)."""
    weights = counts.astype(np.int64).tolist() if isinstance(counts, np.ndarray) else counts
    money = wallets.current(present.tolist() if isinstance(present, np.ndarray) else present)
    denominator = wallets.denominator
    need = cost * denominator
    rich = electorate.total_utility[index]
    scale = electorate.utility_scale[index]
    if min(money) * rich >= need:
        return _everyone_pays(wallets, electorate, index, cost)
    if sum(map(mul, money, weights)) < need:
        return None
    paid_by_poor = 0
    poor_weight = 0
    for position in sorted(range(len(money)), key=money.__getitem__):
        value = money[position]
        if value * rich >= need - paid_by_poor:
            break
        weight = weights[position]
        paid_by_poor += value * weight
        rich -= weight
        poor_weight += weight
    offset = need - paid_by_poor
    return _Price.deferred(
        (offset, rich * denominator),
        scale,
        (poor_weight, electorate.weight_scale),
        offset,
        0,
        rich * denominator * scale,
    )


def _everyone_pays(wallets: _Wallets, electorate: _Electorate, index: int, cost: int) -> _Price:
    """The price when every supporter can pay the equal share: cost / rich, whatever s."""
    rich = electorate.total_utility[index]
    scale = electorate.utility_scale[index]
    need = cost * wallets.denominator
    # rho = cost / (rich * scale): the common denominator cancels.
    return _Price.deferred((cost, rich), scale, (0, 1), need, 0, rich * wallets.denominator * scale)


def _clearly_everyone_pays(
    wallets: _Wallets, electorate: _Electorate, index: int, cost: int
) -> bool:
    """Whether floats tell, with a margin, that every supporter (equal utilities) has more
    than the equal share at this start, and no wallet's money falls as s grows."""
    supporters = electorate.supporters[index]
    if len(supporters) < _FLOAT_GROUPS or not wallets.slopes_nonnegative:
        return False
    lowest = float(np.minimum.reduce(wallets.ballot_approx[supporters]))
    return lowest > cost / electorate.total_utility[index] * (1 + _MARGIN)


# Relative error of a float from an exact quotient, and of each float operation, at most.
_EPSILON = 2.0**-51


def _clearly_unaffordable_for_now(
    wallets: _Wallets, electorate: _Electorate, index: int, cost: int, horizon: _Horizon
) -> bool:
    """Whether floats tell, with a margin, that the supporters (equal utilities) cannot afford
    the project at this start, and that the start where they could is beyond the horizon's
    limit so far. ``_price`` would then return None after one call to ``horizon.keep`` that
    changes nothing: the supporters' money minus the cost is negative and, if it grows with
    s, reaches zero only beyond the limit."""
    supporters = electorate.supporters[index]
    if len(supporters) < _FLOAT_GROUPS or not wallets.slopes_nonnegative:
        return False
    weights = electorate.supporter_weights[index]
    if float(wallets.ballot_approx[supporters] @ weights) >= cost * (1 - _MARGIN):
        return False
    if horizon.stuck or not horizon.enabled:
        return True
    # The supporters' money is offsets + slopes * s; it reaches the cost at s = (cost -
    # offsets) / slopes. Slopes are never negative: their sum is exact to a relative error
    # of n * epsilon, the offsets' sum to n * epsilon times the sum of their sizes.
    slopes = float(wallets.ballot_slopes[supporters] @ weights)
    if slopes == 0.0:
        return True  # every slope is zero: the money never grows, keep would change nothing
    limit = horizon.limit
    if limit is None:
        return False
    offsets = wallets.ballot_offsets[supporters]
    error = (len(supporters) + 4) * _EPSILON
    spread = float(np.abs(offsets) @ weights) + cost
    shortfall = cost - float(offsets @ weights) - 2 * error * spread
    if shortfall <= 0:
        return False
    root_below = shortfall / (slopes * (1 + 2 * error)) * (1 - 4 * _EPSILON)
    return root_below > float(limit) * (1 + 4 * _EPSILON)


class _Reference:
    """A run at a lower start money s0 that a run at a higher start s1 is checked against.

    The check proves, exactly, that every start between s0 and s1 buys the same projects
    (``_run``'s text says how), so ``add1`` need not try the increments in between.
    """

    __slots__ = ("after", "bought", "rhos", "waiting")

    def __init__(self, run: _Run, sharing: npt.NDArray[np.bool_]) -> None:
        order = run.bought
        self.bought: frozenset[int] = frozenset(order)
        self.rhos: dict[int, Fraction] = {
            purchase.project: purchase.rho for purchase in run.purchases
        }
        # Purchases sharing a supporter happen in one order in both runs (the others commute).
        before = np.triu(sharing[np.ix_(order, order)], 1)
        self.waiting: dict[int, int] = dict(zip(order, before.sum(axis=0).tolist(), strict=True))
        self.after: dict[int, list[int]] = {
            index: [order[later] for later in np.flatnonzero(row).tolist()]
            for index, row in zip(order, before, strict=True)
        }


def _contested(
    heap: list[_Key], rho: Fraction, rank: int, free: Callable[[int], bool]
) -> list[int]:
    """Heap positions of the entries keyed at or below (rho, rank) that are not free."""
    numerator, denominator = rho.numerator, rho.denominator
    found: list[int] = []
    size = len(heap)
    stack = [0] if size else []
    while stack:
        position = stack.pop()
        entry = heap[position]
        left = entry.numerator * denominator
        right = numerator * entry.denominator
        if left > right or (left == right and entry.rank > rank):
            continue  # and so are its children
        if not free(entry.index):
            found.append(position)
        child = 2 * position + 1
        if child < size:
            stack.append(child)
            if child + 1 < size:
                stack.append(child + 1)
    return found


def _run(
    electorate: _Electorate,
    candidates: Sequence[int],
    costs: Sequence[int],
    rank: Sequence[int],
    start: Fraction,
    *,
    horizon_wanted: bool = False,
    reference: _Reference | None = None,
) -> _Run:
    """One run of MES with ``start`` money per unit of weight.

    With a ``reference`` run at a lower start s0, the run also checks that every start s in
    between buys the same projects; ``certified`` says whether the check held. Why it is exact:
    for a fixed order of purchases, more start money leaves every wallet at every step with at
    least as much, so every price is lower (a price solves sum min(money, rho*u) = cost) and
    every affordable project stays affordable. Purchases without a common supporter commute:
    only the order of those sharing one matters. Take that order from the reference; then at
    s every project the reference bought costs at most its price in the reference, and a
    project's price at s is at least its price at this run's s1 in any state with fewer
    purchases. The check: whenever this run buys project y, every candidate whose lower bound
    is at or below y's reference price (by rho, then tie-break rank) is a project the reference
    bought whose earlier sharing purchases are all done (its price at s is then its price in
    the order, and buying it first keeps to the order); every purchase keeps to that order;
    and the same projects are bought. At s MES then only ever buys next a project of the
    order whose predecessors are bought: in a state between two purchases of this run, the
    next project y of this run is available at s at most at its reference price, and anything
    else that could break the order is priced above it. At the end everything left is
    unaffordable at s1, so also at s.
    """
    wallets = _Wallets(len(electorate.weights), start, affine=horizon_wanted)
    horizon = _Horizon(start, horizon_wanted)
    dirty = dict.fromkeys(candidates, True)
    # rho = (offset + slope*s) / denominator: a lower bound of the price, exact when clean.
    bounds: dict[int, tuple[int, int, int]] = {}
    heap: list[_Key] = []
    for index in candidates:
        # Everyone paying an equal share is the lowest price a project can ever have.
        denominator = electorate.total_utility[index] * electorate.utility_scale[index]
        bounds[index] = (costs[index], 0, denominator)
        heap.append(_Key(costs[index], denominator, rank[index], index))
    heapq.heapify(heap)
    prices: dict[int, _Price] = {}
    purchases: list[_Purchase] = []
    dropped: list[int] = []
    ballot_count = len(electorate.weights)
    checking = reference is not None
    waiting = dict(reference.waiting) if reference is not None else {}
    # The conditions of each project's last price, handed to the horizon if it is bought.
    pending: dict[int, _Deferred] = {}

    def free(index: int) -> bool:
        return waiting.get(index, 1) == 0

    def priced_now(index: int) -> _Price | None:
        dirty[index] = False
        # Once the horizon is stuck at the start, no condition can matter any more.
        deferred = _Deferred(start) if horizon.enabled and not horizon.stuck else None
        priced = _price(
            wallets, electorate, index, costs[index], horizon if deferred is None else deferred
        )
        if priced is None:
            if deferred is not None:
                deferred.hand_to(horizon)
            del dirty[index]
            del bounds[index]
            dropped.append(index)
        else:
            prices[index] = priced
            bounds[index] = (priced.offset, priced.slope, priced.denominator)
            if deferred is not None:
                pending[index] = deferred
        return priced

    while heap:
        top = heap[0]
        position, index = top.rank, top.index
        if dirty[index]:
            heapq.heappop(heap)
            priced = priced_now(index)
            if priced is not None:
                heapq.heappush(
                    heap, _Key(priced.rho.numerator, priced.rho.denominator, position, index)
                )
            continue
        # A clean top is the true minimum: every other key is a lower bound of its price,
        # and equal prices are ordered by the tie-break rank.
        heapq.heappop(heap)
        del dirty[index]
        priced = prices[index]
        chosen = bounds.pop(index)
        if checking:
            assert reference is not None
            checking = free(index) and _settled(
                heap, reference.rhos[index], position, free, dirty, priced_now
            )
        conditions = pending.pop(index, None)
        if conditions is not None:
            conditions.hand_to(horizon)
        if horizon.enabled and not horizon.stuck:
            for other, bound in bounds.items():
                # The others' lower bounds must stay above (or tied and behind) this price.
                horizon.keep(
                    bound[0] * chosen[2] - chosen[0] * bound[2],
                    bound[1] * chosen[2] - chosen[1] * bound[2],
                    zero_allowed=rank[other] > position,
                )
        purchases.append(_Purchase(index, priced.rho, priced.payment, priced.paid_all))
        supporters = electorate.supporters[index]
        scale = electorate.utility_scale[index]
        wallets.pay(
            supporters,
            electorate.utilities[index],
            priced.offset,
            priced.slope,
            priced.denominator // scale,
        )
        if checking:
            assert reference is not None
            for later in reference.after[index]:
                waiting[later] -= 1
        if not dirty:
            continue
        if electorate.shares is not None:
            sharing = electorate.shares[index]
            for other in dirty:
                if sharing[other]:
                    dirty[other] = True
        else:
            touched = np.zeros(ballot_count, dtype=np.bool_)
            touched[supporters] = True
            for other in dirty:
                if not dirty[other] and touched[electorate.supporters[other]].any():
                    dirty[other] = True
    certified = checking and reference is not None and len(purchases) == len(reference.bought)
    return _Run(start, tuple(purchases), horizon.result(), tuple(dropped), wallets, certified)


def _settled(
    heap: list[_Key],
    rho: Fraction,
    rank: int,
    free: Callable[[int], bool],
    dirty: Mapping[int, bool],
    priced_now: Callable[[int], _Price | None],
) -> bool:
    """Whether every candidate left that is not free is priced above (rho, rank).

    Stale lower bounds that are not are first brought up to date (the same prices the run
    would compute when they reach the top of the heap)."""
    contested = _contested(heap, rho, rank, free)
    if not contested:
        return True
    if any(not dirty[heap[position].index] for position in contested):
        return False
    gone: list[int] = []
    for position in contested:
        entry = heap[position]
        priced = priced_now(entry.index)
        if priced is None:
            gone.append(position)
            continue
        heap[position] = _Key(priced.rho.numerator, priced.rho.denominator, entry.rank, entry.index)
    for position in sorted(gone, reverse=True):
        heap[position] = heap[-1]
        heap.pop()
    heapq.heapify(heap)
    return not _contested(heap, rho, rank, free)


def _stops(
    bought: Sequence[int], candidates: Sequence[int], costs: Sequence[int], budget: int
) -> bool | None:
    """add1's question about an outcome. True: it overspends; False: it exhausts the budget
    (nothing left out still fits); None: the iteration goes on."""
    spent = sum(costs[index] for index in bought)
    if spent > budget:
        return True
    chosen = set(bought)
    outside = [index for index in candidates if index not in chosen]
    return False if _exhausted(spent, budget, outside, costs) else None


# Increments between two progress lines of add1's float search.
_PROGRESS_EVERY = 1000
# The first proof after a run covers this many increments, and guesses how far the order holds;
# each leap then aims this far towards where the order is guessed to change (past it: a proof
# vouches for its interval up to where a condition fails, so aiming long costs little). Leaps
# stop below _SHORTEST increments, where a run is cheaper than a proof; a guess never grows a
# leap more than _GROWTH-fold. Measured on Budapest 2024 (probe 4, 8, 16, 32, 64; aim 0.9 to
# 1.5; growth 4, 16, 64): within 10% of the best of those.
_PROBE = 32
_AIM = 1.1
_SHORTEST = 2
_GROWTH = 16


def _proved_leap(floats: FloatRuns, start: Fraction, step: Fraction, first: int) -> tuple[int, int]:
    """(the last increment up to which the last float run's order surely holds, from increment
    ``first`` on; proofs tried), by chained proofs over intervals of start money
    (``FloatRuns.same_order_between``). A proof vouches for its interval up to where its first
    condition fails, and guesses where the order would change by the prices' slopes at its
    start: the next leap aims just short of that."""
    covered = first
    leap = _PROBE
    proofs = 0
    while leap >= _SHORTEST:
        share, change = floats.same_order_between(
            start + covered * step, start + (covered + leap) * step
        )
        proofs += 1
        if share > 1:
            target = covered + change * leap
            covered += leap
        else:
            # Up to, not including, where the first condition fails.
            proved = max(ceil(share * leap) - 1, 0)
            if not proved:
                break
            target = covered + change * leap
            covered += proved
        leap = min(int((target - covered) * _AIM), _GROWTH * leap)
    return covered, proofs


def _add_one(
    electorate: _Electorate,
    candidates: Sequence[int],
    costs: Sequence[int],
    rank: Sequence[int],
    start: Fraction,
    budget: int,
    unit: int,
    progress: Callable[[str], None] | None = None,
) -> tuple[_Run | None, int, int]:
    """MES with add1 completion: (the run whose outcome counts, runs computed, increments).

    Exactly pabutools' iteration (see ``_add_one_exact``), searched with float runs in C
    (``_mes_floats``) that answer only when every decision they take is clear by a wide
    margin, and that leap over increments they prove buy the same projects in the same
    order; at a start where floats are not sure, the exact run answers. The increment that
    stops the iteration, and the outcome returned, are recomputed exactly; should the exact
    run ever disagree with the float one there, the whole iteration is redone exactly.
    Without the C runs (no compiler at install), the iteration is exact throughout.
    """
    from stemmen.budget import _mes_floats

    if not _mes_floats.available():
        return _add_one_exact(electorate, candidates, costs, rank, start, budget, unit, progress)
    step = Fraction(unit, electorate.weight_scale)
    floats = _mes_floats.FloatRuns(electorate, candidates, costs, rank)
    runs = 0
    increments = 0
    reported = 0
    # Where proofs fail at once (the order changes at nearly every increment), runs alone
    # answer for a while, longer while proofs keep failing at once.
    wait = 0
    backoff = 0
    while True:
        at = start + increments * step
        bought = floats.bought(at)
        runs += 1
        exact: _Run | None = None
        if bought is None:
            exact = _run(electorate, candidates, costs, rank, at)
            bought = exact.bought
        verdict = _stops(bought, candidates, costs, budget)
        if verdict is None:
            covered = increments
            if wait:
                wait -= 1
            elif exact is None:
                covered, proofs = _proved_leap(floats, start, step, increments)
                runs += proofs
                if covered == increments:
                    backoff = min(2 * backoff, 64) if backoff else 1
                    wait = backoff
                else:
                    backoff = 0
            increments = covered + 1
            if progress is not None and increments // _PROGRESS_EVERY > reported:
                reported = increments // _PROGRESS_EVERY
                per_voter = at * electorate.weight_scale / unit
                progress(
                    f"add1: {increments} increments in {runs} runs ({floats.unsure} settled "
                    f"exactly), per voter {decimal_text(per_voter, 2)}, {len(bought)} "
                    "projects bought"
                )
            continue
        if exact is None:
            exact = _run(electorate, candidates, costs, rank, at)
            runs += 1
            if _stops(exact.bought, candidates, costs, budget) != verdict:
                redone, redone_runs, redone_increments = _add_one_exact(
                    electorate, candidates, costs, rank, start, budget, unit, progress
                )
                return redone, runs + redone_runs, redone_increments
        if not verdict:
            return exact, runs, increments
        if not increments:
            return None, runs, increments
        return _run(electorate, candidates, costs, rank, at - step), runs + 1, increments


def _add_one_exact(
    electorate: _Electorate,
    candidates: Sequence[int],
    costs: Sequence[int],
    rank: Sequence[int],
    start: Fraction,
    budget: int,
    unit: int,
    progress: Callable[[str], None] | None = None,
) -> tuple[_Run | None, int, int]:
    """MES with add1 completion, with exact runs only: (the run whose outcome counts, runs
    computed, increments).

    Exactly pabutools' iteration: per voter B/n, then one currency unit more each time, until
    the outcome costs more than the budget (the previous outcome counts) or no candidate left
    out still fits (this outcome counts). Increments that provably give what the last run gave
    are not tried: a run's horizon says up to which start every one of its decisions stays the
    same, and a run a leap ahead, checked against the last run, can prove that every increment
    in between buys the same projects. The run returned is the one pabutools returns.
    """
    step = Fraction(unit, electorate.weight_scale)
    sharing = electorate.sharing

    def stops(run: _Run) -> bool | None:
        return _stops(run.bought, candidates, costs, budget)

    current = _run(electorate, candidates, costs, rank, start, horizon_wanted=True)
    runs = 1
    increments = 0
    verdict = stops(current)
    if verdict is not None:
        return (None if verdict else current), runs, increments
    # Tracking the horizon makes a run three to four times as costly; where the outcome's
    # structure changes at almost every increment it buys nothing, and where leaps go far it
    # buys little. So it is switched off for a growing number of runs after each time it did
    # not reach well beyond what runs without it have advanced on average.
    pause = 0
    paused_for = 0
    plain_runs = 0
    plain_increments = 0
    # A leap that fails its check costs a run for nothing. Leaps are tried only after a run
    # one increment ahead passed the check (a sign the projects bought are settled there), and
    # after each failed short leap only after a growing number of single increments; a long
    # leap that fails is halved.
    leap = 1
    wait = 0
    backoff = 0
    ceiling = 0  # the last long leap that failed its check (0: none lately)
    while True:
        limit = current.same_until
        if limit is None:
            # No decision can ever change: more money would repeat this outcome forever.
            return current, runs, increments
        # The first increment not known to repeat the current run exactly.
        needed = (limit - start) / step
        sure = max(increments + 1, -(-needed.numerator // needed.denominator))
        exact_leap = sure - increments
        if paused_for:
            paused_for -= 1
        elif exact_leap > leap and exact_leap * max(plain_runs, 1) > _HORIZON_WORTH * max(
            plain_increments, plain_runs, 1
        ):
            pause = 0  # worth its cost: it reaches well beyond what plain runs advance
        else:
            pause = min(2 * pause, 32) if pause else 2
            paused_for = pause
        leap = max(leap, exact_leap)
        reference = _Reference(current, sharing) if sharing is not None else None
        tracked = paused_for == 0
        runs_before = runs
        while True:
            following = _run(
                electorate,
                candidates,
                costs,
                rank,
                start + (increments + leap) * step,
                horizon_wanted=tracked,
                reference=reference,
            )
            runs += 1
            if leap <= exact_leap or following.certified:
                break
            if leap >= 4 and leap // 2 > exact_leap:
                ceiling = leap
                leap //= 2
                continue
            backoff = min(2 * backoff, 64) if backoff else 2
            wait = backoff
            leap = exact_leap
        leaped = leap > exact_leap
        increments += leap
        if not tracked:
            plain_runs += runs - runs_before
            plain_increments += leap
        if progress is not None and runs % 25 == 0:
            per_voter = following.start * electorate.weight_scale / unit
            progress(
                f"add1: {runs} runs, {increments} increments, per voter "
                f"{decimal_text(per_voter, 2)}, {len(following.purchases)} projects bought"
            )
        if not following.certified:
            # The first increment not known to buy the same projects: it may stop.
            verdict = stops(following)
            if verdict is False:
                return following, runs, increments
            if verdict:
                if current.start != following.start - step:
                    # The increment before buys what ``current`` bought, at its own prices.
                    current = _run(electorate, candidates, costs, rank, following.start - step)
                    runs += 1
                return current, runs, increments
        current = following
        if leaped:
            backoff = 0
            if leap >= ceiling:
                ceiling = 0
                leap *= 2
            else:
                # Below a leap that failed lately: close half the gap to it, not double.
                leap += max(1, (ceiling - leap) // 2)
        elif wait:
            wait -= 1
            leap = 1
        else:
            leap = 2 if following.certified else 1


def _check_options(satisfaction: str, completion: str) -> None:
    if satisfaction not in SATISFACTIONS:
        raise EqualSharesError(
            f"unknown satisfaction {satisfaction!r}: use one of {', '.join(SATISFACTIONS)}"
        )
    if completion not in COMPLETIONS:
        raise EqualSharesError(
            f"unknown completion {completion!r}: use one of {', '.join(COMPLETIONS)}"
        )


def _exhausted(spent: int, budget: int, outside: Sequence[int], costs: Sequence[int]) -> bool:
    return all(spent + costs[index] > budget for index in outside)


def equal_shares(
    instance: Instance,
    profile: Profile,
    *,
    satisfaction: str = "cost",
    completion: str = "none",
    tie_break: TieBreak | str | None = None,
    channel_weights: Mapping[str, Fraction] | None = None,
    rule: str = "mes",
    progress: Callable[[str], None] | None = None,
) -> Allocation:
    """The Method of Equal Shares, exact, with an explanation for every project.

    ``satisfaction``: ``cost`` (a voter values a funded project at its cost), ``cardinality``
    (at 1) or ``points`` (at the points the ballot gives it; rankings give k, k-1, ..., 1).
    ``completion``: ``none``, ``add1``, ``greedy`` or ``add1-greedy`` (see the module text).
    ``progress`` hears about long add1 iterations (a line every 25 runs).
    """
    _check_options(satisfaction, completion)
    order_rule = TieBreak.parse(tie_break)
    sat: Satisfaction = satisfaction  # type: ignore[assignment]
    electorate = _electorate(
        instance, profile, sat, channel_weights, many_runs=completion in ("add1", "add1-greedy")
    )
    projects = instance.projects
    costs = [project.cost for project in projects]
    budget = instance.budget
    rank = order_rule.rank(instance, list(electorate.support))
    supported = [index for index in range(len(projects)) if electorate.total_utility[index] > 0]
    # As pabutools: a free project someone supports is funded before MES starts.
    free = sorted((index for index in supported if costs[index] == 0), key=rank.__getitem__)
    candidates = [index for index in supported if costs[index] > 0]
    total_weight = electorate.total_weight

    runs = 0
    increments = 0
    final_run: _Run | None = None
    if total_weight > 0:
        start = Fraction(budget, total_weight)
        if completion in ("add1", "add1-greedy"):
            final_run, runs, increments = _add_one(
                electorate, candidates, costs, rank, start, budget, instance.unit, progress
            )
        else:
            final_run = _run(electorate, candidates, costs, rank, start)
            runs = 1

    bought = final_run.bought if final_run is not None else []
    funded_by_mes = ([] if total_weight == 0 else free) + bought
    completed: list[tuple[int, int]] = []  # (project, budget left when reached)
    if completion in ("greedy", "add1-greedy"):
        completed = _greedy_completion(electorate, costs, budget, funded_by_mes, rank)
    return _allocation(
        instance,
        profile,
        electorate,
        rule=rule,
        satisfaction=sat,
        completion=completion,
        order_rule=order_rule,
        channel_weights=channel_weights,
        free=free if total_weight > 0 else [],
        final_run=final_run,
        runs=runs,
        increments=increments,
        completed=completed,
    )


def _greedy_completion(
    electorate: _Electorate,
    costs: Sequence[int],
    budget: int,
    funded: Sequence[int],
    rank: Sequence[int],
) -> list[tuple[int, int]]:
    """Utilitarian greedy on the projects left: by satisfaction per cost, each that fits."""
    taken = set(funded)
    left = budget - sum(costs[index] for index in funded)

    def density(index: int) -> tuple[int, Fraction]:
        value = electorate.total_utility[index] * electorate.utility_scale[index]
        if value == 0:
            return (2, Fraction(0))
        if costs[index] == 0:
            return (0, Fraction(0))  # free and supported: infinitely good value
        return (1, -Fraction(value, costs[index]))

    ordered = sorted(
        (index for index in range(len(costs)) if index not in taken),
        key=lambda index: (*density(index), rank[index]),
    )
    completed: list[tuple[int, int]] = []
    for index in ordered:
        if costs[index] <= left:
            completed.append((index, left))
            left -= costs[index]
    return completed


def _allocation(
    instance: Instance,
    profile: Profile,
    electorate: _Electorate,
    *,
    rule: str,
    satisfaction: Satisfaction,
    completion: str,
    order_rule: TieBreak,
    channel_weights: Mapping[str, Fraction] | None,
    free: Sequence[int],
    final_run: _Run | None,
    runs: int,
    increments: int,
    completed: Sequence[tuple[int, int]],
) -> Allocation:
    projects = instance.projects
    unit = instance.unit
    scale = electorate.weight_scale
    reasons: dict[int, str] = {}
    details: dict[int, dict[str, object]] = {}
    steps: list[Mapping[str, object]] = []
    order: list[int] = []
    spent = 0
    per_voter_start = (
        final_run.start * scale if final_run is not None else Fraction(0)
    )  # minor units per voter of weight 1

    def money(amount: Fraction | int) -> str:
        return money_text(amount, unit)

    for index in free:
        order.append(index)
        reasons[index] = "funded before Equal Shares starts: it costs nothing and has support"
        details[index] = {"step": 0, "free": True}
    purchases = final_run.purchases if final_run is not None else ()
    for step, purchase in enumerate(purchases, start=1):
        index = purchase.project
        order.append(index)
        spent += projects[index].cost
        per_voter = purchase.payment * scale  # per unit of utility, for a voter of weight 1
        equal = electorate.utilities[index] is None
        payment_text = (
            f"each supporter paid {money(per_voter)}"
            if equal
            else f"each supporter paid {money(per_voter)} per point"
        )
        if purchase.paid_all:
            payment_text += (
                f" (or all they had left: {decimal_text(purchase.paid_all)} voters paid less)"
            )
        reasons[index] = (
            f"funded by Equal Shares at step {step}: price per unit of satisfaction rho = "
            f"{purchase.rho} (about {decimal_text(purchase.rho, 9)}); {payment_text}"
        )
        details[index] = {
            "step": step,
            "rho": purchase.rho,
            "rho_decimal": decimal_text(purchase.rho, 9),
            "payment_per_supporter": per_voter,
            "payment_per_supporter_text": money(per_voter),
            "supporters_paying_all_they_had": purchase.paid_all,
        }
        steps.append(
            {
                "step": step,
                "project": projects[index].id,
                "rho": purchase.rho,
                "rho_decimal": decimal_text(purchase.rho, 9),
                "payment_per_supporter": per_voter,
                "cost": projects[index].cost,
                "spent": spent,
            }
        )
    mes_count = len(order)
    for index, left in completed:
        order.append(index)
        spent += projects[index].cost
        reasons[index] = (
            f"funded by the greedy completion: {money(left)} was left when it was reached"
        )
        details[index] = {
            "step": len(order),
            "completion": "greedy",
            "budget_left_when_reached": left,
        }
        steps.append(
            {
                "step": len(order),
                "project": projects[index].id,
                "completion": "greedy",
                "cost": projects[index].cost,
                "spent": spent,
            }
        )
    funded = set(order)
    money_left = final_run.money_left(electorate) if final_run is not None else {}
    outcomes: list[ProjectOutcome] = []
    for index, project in enumerate(projects):
        if index not in funded:
            if electorate.total_utility[index] == 0:
                reasons[index] = (
                    "not funded: no voter supports it, and Equal Shares funds only supported "
                    "projects"
                )
                details[index] = {"supported": False}
            elif project.cost > 0 and index in money_left:
                short = money_left[index]
                reasons[index] = (
                    f"not funded: its supporters had {money(short)} left in total, less than its "
                    f"cost of {money(project.cost)}"
                )
                details[index] = {"supporters_money_left": short}
            else:
                reasons[index] = "not funded: Equal Shares did not reach it"
                details[index] = {}
            if completion in ("greedy", "add1-greedy"):
                reasons[index] += "; the greedy completion could not fit it in the budget left"
        outcomes.append(
            ProjectOutcome(
                id=project.id,
                cost=project.cost,
                support=_plain(electorate.support[index]),
                funded=index in funded,
                reason=reasons[index],
                details=details[index],
            )
        )
    options: dict[str, object] = {"satisfaction": satisfaction, "completion": completion}
    if completion in ("add1", "add1-greedy"):
        options["per_voter_budget"] = per_voter_start
        options["per_voter_budget_decimal"] = decimal_text(per_voter_start / unit, 6)
        options["add1_runs"] = runs
        options["add1_increments"] = increments
    if channel_weights:
        options["channel_weights"] = dict(sorted(channel_weights.items()))
    options["funded_by_equal_shares"] = mes_count
    return Allocation(
        rule=rule,
        options=options,
        selected=tuple(projects[index].id for index in order),
        total_cost=sum(projects[index].cost for index in order),
        budget=instance.budget,
        unit=unit,
        projects=tuple(outcomes),
        tie_break=order_rule.keys,
        voters_with_funded_project=voters_with_funded_project(profile, funded),
        steps=tuple(steps),
    )


def _plain(value: Fraction) -> int | Fraction:
    return value.numerator if value.denominator == 1 else value
