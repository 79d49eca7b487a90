"""The real pabulib files, each parsed once per test session: by us, and by pabutools (the
oracle) with its ballots merged.

Several modules compare rules on every real file. pabutools needs several seconds of CPU to
parse each city-wide file (Lodz, Wroclaw: 6 to 8 s), so parsing it once per module cost the
suite about a minute. Sharing is safe: our instance and profile are frozen, and pabutools'
rules only read the instance and profile they are given.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from stemmen.budget.model import Instance, Profile
from stemmen.budget.pabulib import read_pabulib


@functools.cache
def ours(path: Path) -> tuple[Instance, Profile]:
    return read_pabulib(path)


@functools.cache
def theirs(path: Path) -> tuple[Any, Any]:
    """pabutools' instance and its multiprofile (identical ballots merged: the same outcome,
    several times faster)."""
    from pabutools.election import parse_pabulib

    instance, profile = parse_pabulib(str(path))
    return instance, profile.as_multiprofile()
