"""The verifier recomputes budget rounds under every allocation rule a rule set can pick."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stemmen.audit.canonical import canonical_hash
from stemmen.audit.verify import verify_bundle

from .rounds import budget_round

ALLOCATIONS = [
    {"rule": "greedy"},
    {"rule": "greedy-no-skip"},
    {"rule": "greedy-per-cost"},
    {"rule": "greedy", "min_support": {"votes": 12}},
    {"rule": "max-welfare", "satisfaction": "cost"},
    {"rule": "max-welfare", "satisfaction": "cardinality"},
    {"rule": "mes", "satisfaction": "cost", "completion": "add1"},
    {"rule": "mes", "satisfaction": "cardinality", "completion": "greedy"},
    {"rule": "phragmen"},
]


@pytest.mark.parametrize("allocation", ALLOCATIONS, ids=lambda a: "-".join(map(str, a.values())))
def test_a_round_under_each_rule_verifies(allocation):
    try:
        published = budget_round(voters=40, allocation=allocation)
    except KeyError as error:  # a rule the budget engine has not registered yet
        pytest.skip(f"budget engine: {error}")
    report = verify_bundle(published.bundle)
    assert report.ok, report.render()


def test_the_result_under_another_rule_than_the_pinned_one_is_caught():
    honest = budget_round(voters=40, allocation={"rule": "greedy"}).bundle
    other = budget_round(voters=40, allocation={"rule": "greedy-per-cost"}).bundle
    if honest["results"] == other["results"]:
        pytest.skip("both rules fund the same projects on this round")
    honest["results"] = other["results"]
    checks = {f.check for f in verify_bundle(honest).findings}
    assert "result.recomputed" in checks or "result.explanation" in checks


EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "rulesets"


@pytest.mark.skipif(not EXAMPLES.is_dir(), reason="no example rule sets")
def test_our_rule_set_hash_is_the_one_the_rules_feature_publishes():
    from stemmen.rules.document import ruleset_hash

    for path in sorted(EXAMPLES.glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        assert canonical_hash(document) == ruleset_hash(document), path.name
