"""As recorded: every real file's official outcome is reproduced, or listed here with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from stemmen.budget.pabulib import parse_pabulib
from stemmen.budget.recorded import (
    RecordedRuleError,
    as_recorded,
    category_caps,
    recorded_plan,
    recorded_selection,
)
from tests.support import pabulib_files
from tests.unit.budget import real_elections

# Files whose outcome cannot be checked, and why. Every other file must reproduce its
# `selected` column exactly, or (with no such column) at least run its recorded rule.
EXCEPTIONS = {
    "Hungary_Budapest_2024.pb": "META rule is 'unknown', and the file holds online votes only",
    "Switzerland_Zurich_D10.pb": "an experiment: META rule is 'unknown'",
    "Switzerland_Zurich_S5.pb": "an experiment: META rule is 'unknown'",
    "Switzerland_Zurich_S5R.pb": "an experiment: META rule is 'unknown'",
    "US_Stanford_Dataset_PB_Chicago_35th_Ward_2021_vote_knapsacks.pb": "META rule is 'unknown'",
    "Worldwide_Mechanical_Turk_Knapsack_7.pb": "an experiment: META rule is 'unknown'",
    "Worldwide_Mechanical_Turk_Utilities_8.pb": "an experiment: META rule is 'unknown'",
}

# Files that record their rule but not its outcome (no PROJECTS `selected` column): the rule
# runs and must stay within the budget, with nothing to compare it to.
NO_SELECTED_COLUMN = {
    "France_Toulouse_2022.pb": "rule greedy; the file has no selected column",
    "Netherlands_Amsterdam_166.pb": "rule greedy with category caps; no selected column",
    "Netherlands_Amsterdam_643.pb": "rule greedy; the file has no selected column",
    "Poland_Czestochowa_2020_Grabowka.pb": "rule greedy; no selected column (and ~0.5% of "
    "voters removed by pabulib, its META comment says)",
}

REAL = pabulib_files()


def _needs_mes(path: Path) -> bool:
    return "equalshares" in path.read_text(encoding="utf-8-sig")[:2000]


@pytest.mark.skipif(not REAL, reason="no ../shared/data/pabulib on this machine")
@pytest.mark.parametrize("path", REAL, ids=lambda path: path.name[:50])
def test_real_file_outcome_is_reproduced_or_an_exception(path: Path) -> None:
    instance, profile = real_elections.ours(path)
    if path.name in EXCEPTIONS:
        with pytest.raises(RecordedRuleError):
            as_recorded(instance, profile)
        return
    if _needs_mes(path):
        pytest.importorskip("stemmen.budget.mes")
    result = as_recorded(instance, profile)
    if path.name in NO_SELECTED_COLUMN:
        assert result.recorded_selected is None
        assert result.matches is None
        assert result.allocation.total_cost <= instance.budget
    else:
        assert result.recorded_selected is not None, "no selected column: list it above"
        assert result.matches, result.summary()


def test_exceptions_name_real_files() -> None:
    names = {path.name for path in REAL}
    if names:
        assert set(EXCEPTIONS) <= names
        assert set(NO_SELECTED_COLUMN) <= names
        assert not set(EXCEPTIONS) & set(NO_SELECTED_COLUMN)


TEMPLATE = """META
key;value
budget;100
vote_type;approval
rule;{rule}
{extra}PROJECTS
project_id;cost;category;selected
a;60;x;1
b;50;y;0
c;40;y;{c}
VOTES
voter_id;vote
1;a,b
2;a,b
3;c
"""


def _file(rule: str, extra: str = "", c: str = "1") -> str:
    return TEMPLATE.format(rule=rule, extra=extra, c=c)


def test_greedy_no_skip_is_applied_and_compared() -> None:
    instance, profile = parse_pabulib(_file("greedy-no-skip", c="0"))
    result = as_recorded(instance, profile)
    assert result.allocation.selected == ("a",)
    assert result.matches is True


def test_a_different_outcome_is_reported_with_the_differences() -> None:
    instance, profile = parse_pabulib(_file("greedy-no-skip", c="1"))
    result = as_recorded(instance, profile)
    assert result.matches is False
    assert result.only_recorded == ("c",)
    assert "differs" in result.summary()


def test_threshold_comes_from_meta() -> None:
    instance, profile = parse_pabulib(
        _file("greedy-threshold", "min_project_score_threshold;2\n", c="0")
    )
    result = as_recorded(instance, profile)
    assert result.plan.options["threshold"] == 2
    assert result.allocation.selected == ("a",)
    assert result.matches is True


def test_threshold_rule_without_threshold_is_refused() -> None:
    instance, _ = parse_pabulib(_file("greedy-threshold"))
    with pytest.raises(RecordedRuleError, match="min_project_score_threshold"):
        recorded_plan(instance)


def test_category_caps_come_from_meta() -> None:
    instance, profile = parse_pabulib(
        _file("greedy", "categories;x,y\nbudget_per_category;100,30\n", c="0")
    )
    assert category_caps(instance) == {"x": 100, "y": 30}
    result = as_recorded(instance, profile)
    assert result.allocation.selected == ("a",)


def test_unknown_and_undefined_rules_are_refused() -> None:
    for rule in ("unknown", "borda-knapsack"):
        instance, _ = parse_pabulib(_file(rule))
        with pytest.raises(RecordedRuleError):
            recorded_plan(instance)


def test_recorded_selection_reads_the_selected_column() -> None:
    instance, _ = parse_pabulib(_file("greedy"))
    assert recorded_selection(instance) == ("a", "c")


CHANNELS = """META
key;value
budget;10
vote_type;approval
rule;greedy
comment;#3: All internet votes and all paper votes were weighted such that both groups accounted for 50% of the outcome.
PROJECTS
project_id;cost
a;10
b;10
VOTES
voter_id;vote;voting_method
1;a;paper
2;b;internet
3;b;internet
"""


def test_equal_channel_weights_from_the_meta_comment() -> None:
    # Unweighted b wins 2 to 1; with each channel counting half, a (3/2) ties b (3/2) and
    # wins by id.
    instance, profile = parse_pabulib(CHANNELS)
    result = as_recorded(instance, profile)
    assert result.allocation.selected == ("a",)
    assert "equal share" in result.plan.note


def test_channel_weighting_without_channels_is_noted() -> None:
    text = CHANNELS.replace(";voting_method", "").replace(";paper", "").replace(";internet", "")
    instance, profile = parse_pabulib(text)
    result = as_recorded(instance, profile)
    assert result.allocation.selected == ("b",)
    assert "records no channel per vote" in result.plan.note
