"""Tie-breaking: an explicit, total, reproducible order."""

from __future__ import annotations

import hashlib

import pytest

from stemmen.budget.model import Instance, Project
from stemmen.budget.tiebreak import TieBreak, TieBreakError, lottery_rank

INSTANCE = Instance(
    projects=(
        Project(id="2", cost=5),
        Project(id="10", cost=5),
        Project(id="b", cost=1),
        Project(id="a", cost=9),
    ),
    budget=10,
)


def test_id_is_always_the_last_criterion() -> None:
    assert TieBreak.parse("more-support,lower-cost").keys == ("more-support", "lower-cost", "id")
    assert TieBreak.parse("id").keys == ("id",)
    assert TieBreak.parse(None) == TieBreak.default()
    assert TieBreak.parse("") == TieBreak.default()
    assert str(TieBreak.parse(" lower-cost , lottery:42 ")) == "lower-cost,lottery:42,id"


def test_criteria_after_id_can_never_decide_and_are_dropped() -> None:
    assert TieBreak.parse("id,lower-cost").keys == ("id",)


def test_unknown_or_repeated_criteria_are_refused() -> None:
    with pytest.raises(TieBreakError, match="unknown tie-break 'coin'"):
        TieBreak.parse("coin")
    with pytest.raises(TieBreakError, match="unknown tie-break 'lottery:'"):
        TieBreak.parse("lottery:")
    with pytest.raises(TieBreakError, match="twice"):
        TieBreak.parse("lower-cost,lower-cost")


def test_id_compares_as_text_as_pabutools_does() -> None:
    assert TieBreak.default().order(INSTANCE, [0, 1, 2, 3]) == [1, 0, 3, 2]  # "10" < "2" < "a"


def test_support_and_cost_criteria() -> None:
    support = [3, 7, 7, 1]
    order = TieBreak.parse("more-support,lower-cost")
    assert order.order(INSTANCE, [0, 1, 2, 3], support) == [2, 1, 0, 3]
    assert TieBreak.parse("less-support").order(INSTANCE, [0, 1, 2, 3], support) == [3, 0, 1, 2]
    assert TieBreak.parse("higher-cost").order(INSTANCE, [0, 1, 2, 3]) == [3, 1, 0, 2]


def test_support_criteria_need_the_support() -> None:
    with pytest.raises(TieBreakError, match="needs the support"):
        TieBreak.parse("more-support").order(INSTANCE, [0, 1])


def test_lottery_is_the_sha256_of_seed_and_id() -> None:
    assert lottery_rank("s", "a") == hashlib.sha256(b"s:a").hexdigest()
    order = TieBreak.parse("lottery:s").order(INSTANCE, [0, 1, 2, 3])
    expected = sorted(
        range(4), key=lambda i: hashlib.sha256(f"s:{INSTANCE.projects[i].id}".encode()).hexdigest()
    )
    assert order == expected
    assert TieBreak.parse("lottery:s").order(INSTANCE, [3, 1, 2, 0]) == order


def test_rank_is_the_position_in_the_order() -> None:
    rank = TieBreak.default().rank(INSTANCE)
    assert rank == [1, 0, 3, 2]


def test_order_does_not_depend_on_the_order_of_candidates() -> None:
    order = TieBreak.parse("lower-cost")
    assert order.order(INSTANCE, [3, 2, 1, 0]) == order.order(INSTANCE, [0, 1, 2, 3])
