"""CPython's garbage collector, set for a serving worker (``stemmen serve``).

A worker's heap after start-up holds about 160,000 container objects (modules, classes,
functions, Litestar's routes and signatures, SQLAlchemy's metadata) that live as long as the
process. The collector nevertheless walks every one of them in each full collection, and a
request's short-lived objects start a young collection every 700 net allocations; objects
that happen to be in flight then are promoted, and enough promotions trigger the next full
collection. Under ``benchmarks/load.py`` that was 4 to 6% of each worker's CPU, and each full
collection (160 to 250 ms of CPU on the shared 2-core machine) stalled the worker's event
loop for that long, in the middle of casts (docs/reliability.md, "Less CPU per ballot under
load").

So once the app has started: collect once, move everything alive into the permanent
generation (``gc.freeze``: never walked again, still freed by reference counting), and let
young collections wait for many more net allocations. Reference counting frees almost all
of a request's objects anyway; only reference cycles wait for the collector, and a larger
young generation delays them by a few thousand objects at most. Undone when the app stops,
so an app started and stopped inside a longer-lived process (tests) leaves it as it was.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

# Young collections after this many net allocations of container objects (CPython: 700);
# middle and full collections as rarely, relative to the young ones, as CPython's own ratio
# (10) doubled: the objects that survive are mostly in flight, not long-lived.
SERVING_THRESHOLDS = (10_000, 20, 20)


@asynccontextmanager
async def serving_collector(_: Any = None) -> AsyncIterator[None]:
    """A lifespan: the collector set for serving while the app runs (see the module text)."""
    thresholds = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(*SERVING_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
