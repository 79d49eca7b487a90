"""Equal Shares prices found with floats, then settled exactly, equal the all-integer prices."""

from __future__ import annotations

from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stemmen.budget import mes
from stemmen.budget.mes import equal_shares
from tests.unit.budget.strategies import elections


def explained(allocation):  # type: ignore[no-untyped-def]
    return allocation.selected, allocation.steps, allocation.options


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    elections(max_voters=40, max_cost=400),
    st.sampled_from(["cost", "cardinality"]),
    st.sampled_from(["none", "add1"]),
)
def test_float_guided_prices_equal_exact_prices(data, satisfaction, completion):
    instance, profile = data
    with mock.patch.object(mes, "_FLOAT_GROUPS", 0):
        guided = equal_shares(instance, profile, satisfaction=satisfaction, completion=completion)
    with mock.patch.object(mes, "_FLOAT_GROUPS", 10**9):
        exact = equal_shares(instance, profile, satisfaction=satisfaction, completion=completion)
    assert explained(guided) == explained(exact)
