"""Breakdowns: a group with fewer voters than the rule set's minimum is never shown, and no
suppressed group can be recovered as a public total minus the groups that are shown."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from stemmen.results.breakdown import (
    GroupedBallot,
    above_middle,
    budget_ballot,
    budget_breakdown,
    linked_suppression,
    preferendum_ballot,
    preferendum_breakdown,
    suppressed_groups,
)

LABELS = {"labels": ["zeer oneens", "oneens", "neutraal", "eens", "zeer eens"]}


def ballots(area: str | None, channel: str, count: int, *supports: Any) -> list[GroupedBallot]:
    return [GroupedBallot(area, channel, frozenset(supports)) for _ in range(count)]


def groups_of(table: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {group["group"]: group for group in table["groups"]}


# --------------------------------------------------------------------------- one table


def test_a_group_exactly_at_the_minimum_is_shown_and_one_below_it_is_not() -> None:
    assert suppressed_groups({"a": 10, "b": 30}, 10) == set()
    assert suppressed_groups({"a": 9, "b": 30, "c": 31}, 10) >= {"a"}


def test_when_every_group_is_large_nothing_is_suppressed() -> None:
    assert suppressed_groups({"a": 11, "b": 12, "c": 500}, 10) == set()


def test_a_single_small_group_takes_the_next_smallest_with_it() -> None:
    # 4 alone would be the total (64) minus 20 and 40: the 20 goes too.
    assert suppressed_groups({"a": 40, "b": 4, "c": 20}, 10) == {"b", "c"}


def test_small_groups_that_together_reach_the_minimum_need_no_company() -> None:
    assert suppressed_groups({"a": 6, "b": 5, "c": 30, "d": 40}, 10) == {"a", "b"}


def test_small_groups_too_few_together_take_the_next_smallest() -> None:
    assert suppressed_groups({"a": 1, "b": 2, "c": 30, "d": 12}, 10) == {"a", "b", "d"}


def test_a_group_with_no_voters_counts_as_small() -> None:
    assert suppressed_groups({"online": 50, "paper": 0}, 10) == {"online", "paper"}


def test_when_the_whole_table_is_small_everything_is_suppressed() -> None:
    assert suppressed_groups({"a": 3, "b": 4}, 10) == {"a", "b"}


@pytest.mark.parametrize(
    "sizes",
    [
        {"a": 1, "b": 50, "c": 50},
        {"a": 9, "b": 10, "c": 11, "d": 0},
        {"a": 3, "b": 3, "c": 3, "d": 3, "e": 100},
        {"a": 10, "b": 10, "c": 10},
        {"a": 0, "b": 0, "c": 25},
    ],
)
def test_what_total_minus_shown_reveals_is_never_a_small_group(sizes: dict[str, int]) -> None:
    hidden = suppressed_groups(sizes, 10)
    assert all(sizes[key] >= 10 for key in sizes if key not in hidden)
    if hidden and hidden != set(sizes):
        assert sum(sizes[key] for key in hidden) >= 10
        assert len(hidden) >= 2


# --------------------------------------------------------------------------- linked tables


def test_linked_rows_hide_a_second_area_so_the_channel_totals_do_not_give_the_first_away() -> None:
    cells = {
        "north": {"online": 40, "paper": 3},  # paper too small: the whole split goes
        "south": {"online": 30, "paper": 12},
        "west": {"online": 35, "paper": 15},
    }
    hidden, hidden_totals = linked_suppression(cells, 10)
    # The round's paper total minus the shown areas would give north's 3: the smallest
    # other area (south, 42 voters) goes too.
    assert hidden == {"north", "south"}
    assert hidden_totals == set()


def test_a_hidden_area_that_is_large_in_one_channel_still_needs_a_second_hidden_area() -> None:
    cells = {"north": {"online": 40, "paper": 30}, "south": {"online": 5, "paper": 30}}
    hidden, _ = linked_suppression(cells, 10)
    # South alone would be its paper total minus north's 30 (and its online likewise).
    assert hidden == {"north", "south"}


def test_linked_tables_with_nothing_left_to_add_hide_the_round_channel_totals() -> None:
    cells = {"north": {"online": 40, "paper": 3}, "south": {"online": 30, "paper": 2}}
    assert linked_suppression(cells, 10) == ({"north", "south"}, {"online", "paper"})


def test_a_single_hidden_area_hides_the_round_channel_totals() -> None:
    assert linked_suppression({"north": {"online": 40, "paper": 3}}, 10) == (
        {"north"},
        {"online", "paper"},
    )


def test_linked_tables_where_every_group_is_large_show_everything() -> None:
    cells = {"north": {"online": 40, "paper": 13}, "south": {"online": 30, "paper": 12}}
    assert linked_suppression(cells, 10) == (set(), set())


def _pinned(cells: dict[str, dict[str, int]], hidden: set[str], totals_public: bool) -> bool:
    """Whether some hidden cell is fixed by the public sums: each row's total, and each
    channel's round total when shown. With whole rows hidden a cell is fixed exactly when a
    column sees one hidden row only."""
    return bool(hidden) and totals_public and len(hidden) < 2


@pytest.mark.parametrize("seed", range(60))
def test_linked_suppression_leaves_no_small_group_to_recover(seed: int) -> None:
    import random

    rng = random.Random(seed)
    cells = {
        f"area-{n}": {"online": rng.choice([0, 2, 8, 15, 40]), "paper": rng.choice([0, 1, 9, 12])}
        for n in range(rng.randint(1, 6))
    }
    hidden, hidden_totals = linked_suppression(cells, 10)
    for area, row in cells.items():
        if min(row.values()) < 10:
            assert area in hidden
    totals = {c: sum(row[c] for row in cells.values()) for c in ("online", "paper")}
    assert all(totals[c] >= 10 for c in totals if c not in hidden_totals)
    if hidden and not hidden_totals:
        assert len(hidden) >= 2
        for column in ("online", "paper"):
            assert sum(cells[a][column] for a in hidden) >= 10
    assert not _pinned(cells, hidden, not hidden_totals)


# --------------------------------------------------------------------------- budget rounds


def test_a_budget_breakdown_splits_each_area_by_channel_and_hides_a_small_paper_group() -> None:
    cast = (
        ballots("north", "online", 30, "n1")
        + ballots("north", "online", 10, "n2")
        + ballots("north", "paper", 3, "n2")  # three paper voters in north
        + ballots("south", "online", 20, "s1")
        + ballots("south", "paper", 12, "s1", "s2")
    )
    breakdown = budget_breakdown({"north": ["n1", "n2"], "south": ["s1", "s2"]}, cast, 10)
    published = breakdown.to_json()
    tables = {(t["dimension"], t["area"]): t for t in published["tables"]}
    north = groups_of(tables[("channel", "north")])
    assert north["paper"] == {
        "group": "paper",
        "suppressed": True,
        "voters": None,
        "support": None,
        "questions": None,
    }
    # Online alone would be north's result (43) minus paper: it goes too, and looks the same.
    assert north["online"] == {**north["paper"], "group": "online"}
    assert tables[("channel", "north")]["voters"] == 43
    # The round has 15 paper ballots; with south shown, north's 3 would follow: south goes too.
    south = groups_of(tables[("channel", "south")])
    assert south["paper"]["suppressed"]
    assert south["online"]["suppressed"]
    everyone = groups_of(tables[("channel", None)])
    assert everyone["online"]["voters"] == 60
    assert everyone["paper"]["voters"] == 15
    assert "3" not in {str(g["voters"]) for t in published["tables"] for g in t["groups"]}


def test_a_protecting_group_is_marked_like_a_small_one_or_bounds_would_give_it_away() -> None:
    # North: 40 online, 3 on paper. South: 10 and 10, hidden to protect north. Were south's
    # groups marked "not small" (at least 10 each), its public total of 20 would make them
    # exactly 10 and 10, and the round's 13 paper ballots minus 10 would give north's 3.
    cast = (
        ballots("north", "online", 40, "n1")
        + ballots("north", "paper", 3, "n1")
        + ballots("south", "online", 10, "s1")
        + ballots("south", "paper", 10, "s1")
        + ballots("west", "online", 30, "w1")
        + ballots("west", "paper", 12, "w1")
    )
    breakdown = budget_breakdown({"north": ["n1"], "south": ["s1"], "west": ["w1"]}, cast, 10)
    tables = {(t["dimension"], t["area"]): t for t in breakdown.to_json()["tables"]}
    hidden = [
        {key: value for key, value in group.items() if key != "group"}
        for area in ("north", "south")
        for group in tables[("channel", area)]["groups"]
    ]
    assert hidden == [hidden[0]] * 4
    assert hidden[0]["suppressed"] is True
    assert {g["group"]: g["voters"] for g in tables[("channel", "west")]["groups"]} == {
        "online": 30,
        "paper": 12,
    }


def test_a_budget_round_where_every_group_is_large_shows_everything() -> None:
    cast = (
        ballots("north", "online", 25, "n1")
        + ballots("north", "paper", 10, "n1", "n2")
        + ballots("south", "online", 11, "s2")
        + ballots("south", "paper", 14, "s1")
    )
    published = budget_breakdown({"north": ["n1", "n2"], "south": ["s1", "s2"]}, cast, 10)
    tables = {(t.dimension, t.area): t for t in published.tables}
    north = {g.key: g for g in tables[("channel", "north")].groups}
    assert north["online"].voters == 25
    assert north["online"].support == {"n1": 25, "n2": 0}
    assert north["paper"].voters == 10
    assert north["paper"].support == {"n1": 10, "n2": 10}
    south = {g.key: g for g in tables[("channel", "south")].groups}
    assert south["paper"].support == {"s1": 14, "s2": 0}
    assert not any(g.suppressed for t in published.tables for g in t.groups)


def test_a_round_with_one_way_of_voting_has_no_channel_split() -> None:
    cast = ballots("north", "online", 30, "n1") + ballots("south", "online", 4, "s1")
    published = budget_breakdown({"north": ["n1"], "south": ["s1"]}, cast, 10, ("online",))
    assert published.tables == ()
    assert published.dimensions == ()
    preferendum = preferendum_breakdown(["north", "south"], {"q": ["x"]}, cast, 10, ("online",))
    assert preferendum.dimensions == ("area",)


def test_a_budget_ballot_supports_the_projects_of_its_vote() -> None:
    ballot = budget_ballot("north", "paper", {"vote": ["p2", "p7"], "points": [3, 1]})
    assert ballot.supports == frozenset({"p2", "p7"})
    assert ballot.area == "north"
    assert ballot.channel == "paper"


# --------------------------------------------------------------------------- preferenda


def test_a_preferendum_breakdown_by_area_and_channel() -> None:
    def voter(area: str, channel: str, grade: str) -> GroupedBallot:
        return preferendum_ballot(area, channel, {"q": {"grades": {"x": grade}}}, {"q": LABELS})

    cast = (
        [voter("oost", "online", "eens") for _ in range(12)]
        + [voter("oost", "paper", "oneens") for _ in range(2)]
        + [voter("west", "online", "zeer eens") for _ in range(30)]
        + [voter("noord", "online", "neutraal") for _ in range(11)]
        + [voter("zuid", "online", "neutraal") for _ in range(4)]
    )
    areas = ["oost", "west", "noord", "zuid"]
    published = preferendum_breakdown(areas, {"q": ["x", "y"]}, cast, 10)
    assert published.dimensions == ("area", "channel")
    by_area = {g.key: g for g in published.tables[0].groups}
    assert by_area["oost"].voters == 14
    assert by_area["oost"].questions == {"q": {"answered": 14, "support": {"x": 12, "y": 0}}}
    assert by_area["west"].voters == 30
    # zuid has 4 voters; alone it would be 59 - 14 - 30 - 11: noord (next smallest) goes too.
    assert {k for k, g in by_area.items() if g.suppressed} == {"zuid", "noord"}
    assert by_area["zuid"].questions is None
    by_channel = {g.key: g for g in published.tables[1].groups}
    assert by_channel["paper"].suppressed
    assert by_channel["online"].suppressed


def test_preferendum_ballots_without_an_area_are_broken_down_by_channel_only() -> None:
    cast = [GroupedBallot(None, "online", frozenset({("q", "x")}), frozenset({"q"}))] * 20
    published = preferendum_breakdown(["GM0268"], {"q": ["x"]}, cast, 10)
    assert published.dimensions == ("channel",)


def test_support_is_the_first_tier_the_approvals_or_a_grade_above_the_middle() -> None:
    ballot = preferendum_ballot(
        None,
        "online",
        {
            "r": {"ranking": [["a", "b"], ["c"]]},
            "p": {"approvals": ["c"]},
            "g": {"grades": {"a": "eens", "b": "neutraal", "c": "oneens"}},
            "n": {"grades": {"a": 4, "b": 3}},
        },
        {"g": LABELS, "n": {"min": 0, "max": 6}},
    )
    assert ballot.supports == {("r", "a"), ("r", "b"), ("p", "c"), ("g", "a"), ("n", "a")}
    assert ballot.answered == {"r", "p", "g", "n"}


@pytest.mark.parametrize(
    ("grade", "scale", "above"),
    [
        ("eens", LABELS, True),
        ("neutraal", LABELS, False),
        (3, LABELS, True),
        (2, {"labels": ["nee", "misschien", "ja"]}, True),
        (1, {"labels": ["nee", "misschien", "ja"]}, False),
        (1, {"labels": ["nee", "ja"]}, True),
        (5, {"min": 1, "max": 10}, False),
        (6, {"min": 1, "max": 10}, True),
        (None, LABELS, False),
        ("onbekend", LABELS, False),
    ],
)
def test_above_the_middle_of_the_scale(grade: Any, scale: Any, above: bool) -> None:
    assert above_middle(grade, scale) is above


def test_the_breakdown_module_imports_no_web_or_database_code() -> None:
    probe = (
        "import sys, stemmen.results.breakdown\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'litestar', 'sqlalchemy', 'sqlmodel', 'asyncpg', 'aiosqlite'})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == ""
