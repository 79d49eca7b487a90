"""The registry: stable names, one interface, lazy imports."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stemmen.budget.model import Profile
from stemmen.budget.pabulib import parse_pabulib
from stemmen.budget.registry import RULES, UnknownRuleError, allocate
from tests.unit.budget.strategies import elections

SMALL = (
    "META\nkey;value\nbudget;10\nvote_type;approval\nPROJECTS\nproject_id;cost\n"
    "a;6\nb;5\nc;4\nVOTES\nvoter_id;vote\n1;a,b\n2;b,c\n3;a\n"
)

STABLE_NAMES = (
    "greedy",
    "greedy-no-skip",
    "greedy-per-cost",
    "greedy-threshold",
    "max-welfare",
    "mes",
    "phragmen",
)


def test_every_stable_name_is_registered() -> None:
    assert set(STABLE_NAMES) <= set(RULES)


@pytest.mark.parametrize("rule", ["greedy", "greedy-no-skip", "greedy-per-cost", "max-welfare"])
def test_allocate_runs_a_rule_by_name(rule: str) -> None:
    instance, profile = parse_pabulib(SMALL)
    allocation = allocate(instance, profile, rule)
    assert allocation.rule == rule
    assert allocation.total_cost <= instance.budget


def test_greedy_threshold_takes_its_threshold() -> None:
    instance, profile = parse_pabulib(SMALL)
    allocation = allocate(instance, profile, "greedy-threshold", threshold=2)
    # a and b reach 2 votes; a is funded first and b no longer fits.
    assert allocation.selected == ("a",)
    assert allocation.outcome("c").details == {"below_threshold": True}


def test_unknown_rule_names_the_known_ones() -> None:
    instance, profile = parse_pabulib(SMALL)
    with pytest.raises(UnknownRuleError, match=r"unknown rule 'borda'.*greedy"):
        allocate(instance, profile, "borda")


def test_importing_the_engine_loads_neither_numpy_nor_scipy() -> None:
    code = (
        "import sys\n"
        "import stemmen.budget.registry, stemmen.budget.pabulib, stemmen.budget.cli\n"
        "import stemmen.budget.greedy, stemmen.budget.welfare, stemmen.budget.recorded\n"
        "heavy = [m for m in ('numpy', 'scipy', 'litestar', 'sqlalchemy') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


@settings(max_examples=40, deadline=None)
@given(
    elections(vote_types=("approval", "cumulative", "ordinal"), max_voters=8),
    st.randoms(use_true_random=False),
)
def test_outcome_does_not_depend_on_the_order_of_voters(election, random) -> None:
    instance, profile = election
    voters = list(profile.voters)
    random.shuffle(voters)
    shuffled = Profile(profile.vote_type, tuple(voters), voter_columns=profile.voter_columns)
    for rule in ("greedy", "greedy-no-skip", "greedy-per-cost", "max-welfare"):
        assert (
            allocate(instance, profile, rule, tie_break="more-support,lottery:x").to_json()
            == allocate(instance, shuffled, rule, tie_break="more-support,lottery:x").to_json()
        )
