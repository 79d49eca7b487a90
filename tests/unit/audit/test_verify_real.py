"""Real rounds from pabulib, replayed and published as bundles, verify and match the city."""

from __future__ import annotations

import pytest

from stemmen.audit.verify import verify_bundle
from tests.support import PABULIB_DIR

from .rounds import real_budget_round

ASSEN = PABULIB_DIR / "Netherlands_Assen_2024.pb"


@pytest.mark.skipif(not ASSEN.is_file(), reason="no ../shared/data/pabulib on this machine")
def test_assen_2024_under_equal_shares_with_add1_verifies_and_funds_what_assen_funded():
    from stemmen.budget.pabulib import read_pabulib

    instance, _ = read_pabulib(ASSEN)
    funded_by_assen = sorted(
        p.id for p in instance.projects if p.attributes.get("selected", "").strip() == "1"
    )
    published = real_budget_round(
        ASSEN, {"rule": "mes", "satisfaction": "cost", "completion": "add1"}
    )
    report = verify_bundle(published.bundle)
    assert report.ok, report.render()
    selected = published.bundle["results"][0]["allocation"]["selected"]
    assert sorted(selected) == funded_by_assen
