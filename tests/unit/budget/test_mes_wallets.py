"""MES's wallet store: wallets brought to a new common denominator only when read, wallets
forgotten when no ballot uses them, and a float per ballot, hold exactly the money of a naive
model that keeps every ballot's money as Fractions."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stemmen.budget.mes import _Wallets

BALLOTS = 12

# One purchase: who pays (ballot, utility), and the payment per unit of utility as
# (offset + slope*s) / denominator.
PURCHASES = st.lists(
    st.tuples(
        st.dictionaries(
            st.integers(0, BALLOTS - 1), st.integers(1, 3), min_size=1, max_size=BALLOTS
        ),
        st.integers(0, 60),
        st.integers(-1, 1),
        st.integers(1, 97),
    ),
    min_size=1,
    max_size=40,
)


class NaiveWallets:
    """Every ballot's money as a + b*s in Fractions, paying exactly as ``_Wallets.pay`` says."""

    def __init__(self, start: Fraction, *, affine: bool) -> None:
        self.start = start
        self.affine = affine
        initial = (Fraction(0), Fraction(1)) if affine else (start, Fraction(0))
        self.money = [initial] * BALLOTS

    def pay(self, payers: dict[int, int], offset: int, slope: int, denominator: int) -> None:
        for ballot, utility in payers.items():
            a, b = self.money[ballot]
            left = (
                a - Fraction(offset * utility, denominator),
                b - Fraction(slope * utility, denominator),
            )
            if left[0] + left[1] * self.start < 0:
                left = (Fraction(0), Fraction(0))  # paid all it had
            self.money[ballot] = left

    def now(self, ballot: int) -> Fraction:
        a, b = self.money[ballot]
        return a + b * self.start


def payers_arrays(payers: dict[int, int]) -> tuple[np.ndarray, np.ndarray | None]:
    ballots = sorted(payers)
    supporters = np.asarray(ballots, dtype=np.int64)
    utilities = [payers[ballot] for ballot in ballots]
    if all(utility == 1 for utility in utilities):
        return supporters, None
    return supporters, np.asarray(utilities, dtype=np.int64)


def assert_same_money(wallets: _Wallets, naive: NaiveWallets) -> None:
    everyone = np.arange(BALLOTS, dtype=np.int64)
    weights = np.ones(BALLOTS, dtype=np.float64)
    # Reading through ``columns`` brings the wallets read to the current denominator.
    values, _, counts, members = wallets.columns(everyone, weights, None)
    assert sum(counts) == BALLOTS
    money_of = dict(zip(members, values, strict=True))
    scale = wallets.denominator * wallets.q
    for ballot in range(BALLOTS):
        wallet = int(wallets.wallet_of[ballot])
        assert Fraction(money_of[wallet], scale) == naive.now(ballot)
        if wallets.affine:
            a, b = naive.money[ballot]
            assert Fraction(wallets.offsets[wallet], wallets.denominator) == a
            assert Fraction(wallets.slopes[wallet], wallets.denominator) == b
            if wallets.slopes_nonnegative:
                assert b >= 0
            assert wallets.ballot_offsets[ballot] == pytest.approx(float(a), 1e-15, abs=1e-300)
            assert wallets.ballot_slopes[ballot] == pytest.approx(float(b), 1e-15, abs=1e-300)
        # Floats only guide: within a few units in the last place.
        assert wallets.ballot_approx[ballot] == pytest.approx(float(naive.now(ballot)), 1e-15)
        assert wallets.approx[wallet] == pytest.approx(float(naive.now(ballot)), 1e-15)
    assert wallets.money_of(everyone, weights) == sum(map(naive.now, range(BALLOTS)))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    PURCHASES,
    st.fractions(min_value=1, max_value=500, max_denominator=50),
    st.booleans(),
    st.data(),
)
def test_wallets_hold_exactly_the_money_of_fractions_per_ballot(purchases, start, affine, data):
    wallets = _Wallets(BALLOTS, start, affine=affine)
    naive = NaiveWallets(start, affine=affine)
    for payers, offset, slope, denominator in purchases:
        slope = slope if affine else 0
        supporters, utilities = payers_arrays(payers)
        wallets.pay(supporters, utilities, offset, slope, denominator)
        naive.pay(payers, offset, slope, denominator)
        # Compaction, or not, at any point: it must never change anyone's money.
        if data.draw(st.booleans()):
            wallets._compact()
        if data.draw(st.booleans()):
            assert_same_money(wallets, naive)
    assert_same_money(wallets, naive)


def test_a_purchase_leaves_wallets_it_does_not_touch_over_their_old_denominator():
    wallets = _Wallets(4, Fraction(10), affine=False)
    wallets.pay(np.asarray([0, 1]), None, 1, 0, 3)  # ballots 0 and 1 pay 1/3 each
    wallets.pay(np.asarray([0]), None, 1, 0, 7)  # ballot 0 pays 1/7 more
    untouched = int(wallets.wallet_of[3])  # ballots 2 and 3 paid nothing
    assert wallets.denominator == 21
    # Still 10/1, not rewritten as 30/3 nor as 210/21: each purchase only read it.
    assert wallets.denominators[wallets.written_at[untouched]] == 1
    assert wallets.values[untouched] == 10
    wallets.refresh([untouched])
    assert wallets.values[untouched] == 210
    assert wallets.money_of(np.asarray([2, 3]), np.ones(2)) == 20
    assert wallets.money_of(np.asarray([0]), np.ones(1)) == Fraction(10) - Fraction(
        1, 3
    ) - Fraction(1, 7)
