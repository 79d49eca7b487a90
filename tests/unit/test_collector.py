"""The garbage collector as a serving worker runs it: what was alive at start-up is never
walked again, young collections are rarer, cycles made while serving are still collected,
and everything is as before once the app stops."""

from __future__ import annotations

import gc
import weakref

from stemmen.collector import SERVING_THRESHOLDS, serving_collector


class _Node:
    partner: _Node | None = None


def _cycle() -> weakref.ref[_Node]:
    first, second = _Node(), _Node()
    first.partner, second.partner = second, first
    return weakref.ref(first)


async def test_what_lives_at_start_up_is_frozen_and_young_collections_are_rarer() -> None:
    alive_at_start = _Node()
    async with serving_collector():
        assert gc.get_threshold() == SERVING_THRESHOLDS
        assert gc.get_freeze_count() > 0
        assert not any(o is alive_at_start for o in gc.get_objects())
        made_later = _Node()
        assert any(o is made_later for o in gc.get_objects())


async def test_a_reference_cycle_made_while_serving_is_still_collected() -> None:
    async with serving_collector():
        garbage = _cycle()
        assert garbage() is not None
        gc.collect()
        assert garbage() is None


async def test_the_collector_is_as_before_once_the_app_stops() -> None:
    thresholds = gc.get_threshold()
    frozen = gc.get_freeze_count()
    async with serving_collector():
        pass
    assert gc.get_threshold() == thresholds
    assert gc.get_freeze_count() == frozen
