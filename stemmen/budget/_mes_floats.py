"""Equal Shares runs in floating point, in C, for add1's search only.

add1 reruns MES once for every currency unit added to each voter's budget: hundreds to tens of
thousands of runs, each needed only for one yes/no question (does its outcome overspend, or
leave nothing that still fits?). The exact run (``mes._run``) answers it in milliseconds; this
one in microseconds, and it answers only when it is sure.

Why it is sure when it says so. A run takes three kinds of decisions: whether a supporter has
money left after paying, whether a project's supporters can still afford it, and which
affordable project is cheapest per unit of satisfaction (rho), ties going to the better
tie-break rank. Every amount is a sum or difference of at most a few hundred thousand amounts
no larger than the supporters' start money, so its float error stays below (terms + purchases)
* 2**-53 times that start money: under 1e-10 of it for every instance a municipality runs. Each
decision is taken only with a tolerance of ``MARGIN`` (1e-9) times the money involved: a
supporter's start money for what they have left; the supporters' start money plus the cost for
what they can pay; for a price, that over the utility of those who pay in full (a price from a
difference that cancels gets a wide tolerance and decides little). A decision clear by its
tolerance is the one the exact run takes, and by induction the exact run buys the same projects
in the same order. Prices that are exactly equal are ordered exactly instead: twins (the same
cost, supporters and utilities: the same price in every state) and prices known to be cost
over the utility of those who pay in full (every supporter clearly pays in full or surely has
nothing left). Anything else too close makes the run give up (it returns -1), and the caller
runs the exact MES for that start.

The outcome that counts is never taken from here: add1 recomputes it exactly.

The runs themselves are in ``_mes_floats.c``, built with the package as an optional
extension and called through ctypes; where it could not be built (no C compiler),
``available()`` is false and add1 runs exactly in Python, slower.
"""

from __future__ import annotations

import ctypes
import importlib.util
from collections.abc import Sequence
from fractions import Fraction
from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from stemmen.budget.mes import _Electorate

UNSURE = -1
_OUT_OF_MEMORY = -2
# Decisions closer than this, relative to the money involved, are left to the exact run.
MARGIN = 1e-9
# Integers below this bound multiply into int64 without overflow.
_SMALL = 2**31


class _Instance(ctypes.Structure):
    """``Instance`` in _mes_floats.c, field for field."""

    _fields_ = [
        ("ballot_count", ctypes.c_int64),
        ("project_count", ctypes.c_int64),
        ("candidate_count", ctypes.c_int64),
        ("starts", ctypes.c_void_p),
        ("ballots", ctypes.c_void_p),
        ("utilities", ctypes.c_void_p),
        ("weights", ctypes.c_void_p),
        ("inverse_utilities", ctypes.c_void_p),
        ("costs", ctypes.c_void_p),
        ("scales", ctypes.c_void_p),
        ("total_utility", ctypes.c_void_p),
        ("total_weight", ctypes.c_void_p),
        ("small_costs", ctypes.c_void_p),
        ("scale_is_cost", ctypes.c_void_p),
        ("ranks", ctypes.c_void_p),
        ("twins", ctypes.c_void_p),
        ("sharing", ctypes.c_void_p),
        ("candidates", ctypes.c_void_p),
        ("margin", ctypes.c_double),
    ]


@cache
def _library() -> ctypes.CDLL | None:
    spec = importlib.util.find_spec("stemmen.budget._mes_floats_c")
    if spec is None or spec.origin is None:
        return None
    library = ctypes.CDLL(spec.origin)
    instance = ctypes.POINTER(_Instance)
    library.stemmen_mes_run.restype = ctypes.c_int64
    library.stemmen_mes_run.argtypes = [instance, ctypes.c_double, ctypes.c_void_p]
    library.stemmen_mes_same_order_between.restype = ctypes.c_double
    library.stemmen_mes_same_order_between.argtypes = [
        instance,
        ctypes.c_double,
        ctypes.c_double,
        ctypes.c_void_p,
        ctypes.c_int64,
        ctypes.c_void_p,
    ]
    return library


def available() -> bool:
    """Whether the C runs were built with this installation."""
    return _library() is not None


class FloatRuns:
    """MES runs in floats over one electorate and its candidates, at any start money."""

    def __init__(
        self,
        electorate: _Electorate,
        candidates: Sequence[int],
        costs: Sequence[int],
        rank: Sequence[int],
    ) -> None:
        library = _library()
        if library is None:
            raise RuntimeError("the C runs of Equal Shares were not built with this install")
        self._library = library
        supporters = electorate.supporters
        project_count = len(supporters)
        starts = np.zeros(project_count + 1, dtype=np.int64)
        starts[1:] = np.cumsum([len(positions) for positions in supporters])
        utilities = [
            np.ones(len(positions)) if values is None else values.astype(np.float64)
            for positions, values in zip(supporters, electorate.utilities, strict=True)
        ]
        twins = _twins(electorate, costs)
        # Kept here so that the memory the C side reads lives as long as this object.
        self._arrays = arrays = {
            "starts": starts,
            "ballots": _joined(list(supporters), np.int64),
            "utilities": _joined(utilities, np.float64),
            "weights": _joined(list(electorate.supporter_weights), np.float64),
            "inverse_utilities": 1.0 / _joined(utilities, np.float64),
            "costs": np.asarray(costs, dtype=np.float64),
            "scales": np.asarray(electorate.utility_scale, dtype=np.float64),
            "total_utility": np.asarray(electorate.total_utility, dtype=np.float64),
            "total_weight": np.asarray(
                [float(weights.sum()) for weights in electorate.supporter_weights],
                dtype=np.float64,
            ),
            "small_costs": np.asarray(
                [cost if 0 <= cost < _SMALL else -1 for cost in costs], dtype=np.int64
            ),
            "scale_is_cost": np.asarray(
                [
                    scale == cost
                    for scale, cost in zip(electorate.utility_scale, costs, strict=True)
                ],
                dtype=np.uint8,
            ),
            "ranks": np.asarray(rank, dtype=np.int64),
            "twins": twins,
            "sharing": np.ascontiguousarray(_sharing(electorate), dtype=np.uint8),
            "candidates": np.asarray(candidates, dtype=np.int64),
        }
        self._instance = _Instance(
            ballot_count=len(electorate.weights),
            project_count=project_count,
            candidate_count=len(candidates),
            margin=MARGIN,
            **{name: array.ctypes.data for name, array in arrays.items()},
        )
        self._pointer = ctypes.byref(self._instance)
        size = max(project_count, 1)
        self._bought = np.zeros(size, dtype=np.int64)
        self._order = np.zeros(size, dtype=np.int64)
        self._guess = np.zeros(1)
        self._order_count = UNSURE
        self.unsure = 0  # runs left to the exact MES

    def bought(self, start: Fraction) -> list[int] | None:
        """The projects MES buys at ``start`` money per unit of weight, in order; None when a
        decision was too close for floats."""
        count = self._library.stemmen_mes_run(self._pointer, float(start), self._bought.ctypes.data)
        if count == _OUT_OF_MEMORY:
            raise MemoryError("Equal Shares float run")
        if count == UNSURE:
            self.unsure += 1
            self._order_count = UNSURE
            return None
        self._order[:count] = self._bought[:count]
        self._order_count = count
        return self._bought[:count].tolist()  # type: ignore[no-any-return]

    def same_order_between(self, low: Fraction, high: Fraction) -> tuple[float, float]:
        """(over what share of the start money from ``low`` to ``high`` the last sure run's
        purchases, in their order, are surely bought; where the order would change first by
        the prices' slopes at ``low``, as a share of the interval, a guess for the next one).

        A share above 1 covers the whole interval (and guesses how far past ``high`` its
        conditions would hold); a share s up to 1 covers the starts from ``low`` up to, not
        including, low + s * (high - low); 0 covers nothing.

        Why it is sure. Write the start as low + lambda * (high - low), lambda in [0, 1], and
        follow the order. Before each step, each voter's money lies between two lines in
        lambda (a band; at the first step both are the start itself). Three facts carry the
        bands from step to step:

        - a price is the payment p solving sum of weight * min(money, p * utility) = cost;
          where money is a line in lambda, that sum is concave in (lambda, p) together, so
          the price is a convex function of lambda: below the chord of its ends, above its
          tangent anywhere;
        - a price falls when anyone's money rises, so the price by the band's lower edge is
          at least the true one (below its chord: a line above the true price), and the
          price by the upper edge at most (above its tangent: a line below it);
        - what is left after paying, max(0, money - p * utility), rises with money and falls
          with p: the lower edge less the highest payment, at least 0, and the upper edge less
          the lowest payment (its chord: max(0, line) is convex) make the next band. With the
          purchases in one order, more start money leaves more money at every step, so what
          the lower edge leaves at lambda 0 bounds every lambda from below too.

        The next project of the order is bought at every lambda when every other one still in
        the race is priced above it: the higher of its two tangents (at lambda 0 and 1, by the
        upper edge) above the chord of the next project's price (by the lower edge) at every
        lambda, by more than both prices' float tolerance. Checking that is checking lines at
        their ends and where they cross. Twins go by rank, and prices known exactly as cost
        over the utility of those who pay in full (everyone else surely has nothing left at
        every lambda) are compared exactly. A project unaffordable by the upper edge at both
        ends is unaffordable at every lambda and every later step. After the last purchase,
        what is left must be unaffordable by the upper edge at both ends. Float tolerances are
        those of the runs (see the module text). Each condition compares lines (or the higher
        of two lines with one), so it holds from lambda 0 up to where it first fails: the
        order is proved up to the first such point, and the bands, exact at lambda 0 (the
        tangent of each bought price is taken there), make that near where the order really
        changes.
        """
        if self._order_count == UNSURE:
            return 0.0, 0.0
        share = self._library.stemmen_mes_same_order_between(
            self._pointer,
            float(low),
            float(high),
            self._order.ctypes.data,
            self._order_count,
            self._guess.ctypes.data,
        )
        if share == _OUT_OF_MEMORY:
            raise MemoryError("Equal Shares float run")
        return float(share), float(self._guess[0])


def _joined(parts: Sequence[npt.NDArray[Any]], dtype: type) -> npt.NDArray[Any]:
    return np.ascontiguousarray(np.concatenate(parts) if parts else np.zeros(0), dtype=dtype)


def _twins(electorate: _Electorate, costs: Sequence[int]) -> npt.NDArray[np.int64]:
    """A group number per project whose cost, scale, supporters and utilities another
    project has too (the same price in every state); -1 for the others."""
    groups: dict[tuple[int, int, bytes, bytes], list[int]] = {}
    for index, positions in enumerate(electorate.supporters):
        values = electorate.utilities[index]
        key = (
            costs[index],
            electorate.utility_scale[index],
            positions.tobytes(),
            b"" if values is None else values.tobytes(),
        )
        groups.setdefault(key, []).append(index)
    twins = np.full(len(costs), -1, dtype=np.int64)
    for number, members in enumerate(groups.values()):
        if len(members) > 1:
            twins[members] = number
    return twins


def _sharing(electorate: _Electorate) -> npt.NDArray[np.bool_]:
    """sharing[j, k]: some ballot supports both j and k."""
    if electorate.sharing is not None:
        return electorate.sharing
    supporters = electorate.supporters
    project_count = len(supporters)
    together = np.zeros((project_count, project_count), dtype=np.bool_)
    # Per ballot, the projects it supports; every pair of them shares it.
    owners = np.repeat(np.arange(project_count), [len(positions) for positions in supporters])
    positions = _joined(supporters, np.int64)
    order = np.argsort(positions, kind="stable")
    bounds = np.flatnonzero(np.diff(positions[order])) + 1
    for group in np.split(owners[order], bounds):
        together[np.ix_(group, group)] = True
    return together
