"""Whatever is wrong with a bundle, verify reports it and never crashes."""

from __future__ import annotations

import copy
from functools import cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stemmen.audit.receipts import receipt_code
from stemmen.audit.verify import verify_bundle, verify_receipt

from .rounds import budget_round, preferendum_round


@cache
def _bundles():
    return budget_round(voters=12).bundle, preferendum_round(voters=12).bundle


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


REPLACEMENTS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 10**6),
    st.text(max_size=5),
    st.just([]),
    st.just({}),
    st.just("ab" * 32),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 1), st.data(), st.booleans())
def test_any_single_change_is_reported_or_harmless_never_a_crash(which, data, delete):
    bundle = copy.deepcopy(_bundles()[which])
    paths = [path for path in _paths(bundle) if path]
    path = data.draw(st.sampled_from(paths))
    parent = bundle
    for key in path[:-1]:
        parent = parent[key]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(REPLACEMENTS)
    report = verify_bundle(bundle)
    assert report.render()
    verify_receipt(bundle, "000-000-000-000-000-000-000")


def _damaged(change):  # type: ignore[no-untyped-def]
    bundle = copy.deepcopy(_bundles()[0])
    code = receipt_code(bundle["receipts"][0])
    change(bundle)
    return verify_receipt(bundle, code)


def test_a_resident_checking_a_receipt_in_a_damaged_bundle_gets_a_failure_not_a_crash():
    without_receipts = _damaged(lambda bundle: bundle.update(receipts=None))
    assert not without_receipts.ok
    assert "no list of receipts" in without_receipts.render()

    def damage_another_receipt(bundle):  # type: ignore[no-untyped-def]
        bundle["receipts"][1] = "not a hash"

    for change, failing in [
        (damage_another_receipt, "FAIL ballot tree"),
        (lambda bundle: bundle.update(merkle_root="zz"), "FAIL ballot tree"),
        (lambda bundle: bundle.update(log=None), "FAIL log"),
        (lambda bundle: bundle["log"].update(entries=[None, 3, {"payload": None}]), "FAIL log"),
    ]:
        report = _damaged(change)
        assert not report.ok
        assert failing in report.render()


def test_a_receipt_in_an_intact_bundle_still_checks_out():
    assert _damaged(lambda bundle: None).ok
