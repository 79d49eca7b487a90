"""Tie-breaking: an explicit ordered list of criteria, always ending in the project id.

``TieBreak.parse("more-support,lower-cost,lottery:SEED")`` gives an order in which an earlier
criterion decides first. ``id`` (ascending project id compared as text, as pabutools does) is
appended when absent so the order is total and never depends on dictionary or file order. The
lottery ranks projects by the SHA-256 of ``f"{seed}:{project_id}"``: anyone who knows the
committed seed can recompute it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from stemmen.budget.model import Instance, Support

SIMPLE_KEYS = ("id", "more-support", "less-support", "lower-cost", "higher-cost")
LOTTERY_PREFIX = "lottery:"


class TieBreakError(ValueError):
    """A tie-break list that cannot be understood."""


def lottery_rank(seed: str, project_id: str) -> str:
    return hashlib.sha256(f"{seed}:{project_id}".encode()).hexdigest()


@dataclass(frozen=True)
class TieBreak:
    keys: tuple[str, ...] = ("id",)

    def __post_init__(self) -> None:
        for key in self.keys:
            if key not in SIMPLE_KEYS and not (
                key.startswith(LOTTERY_PREFIX) and len(key) > len(LOTTERY_PREFIX)
            ):
                raise TieBreakError(
                    f"unknown tie-break {key!r}: use one of {', '.join(SIMPLE_KEYS)} "
                    "or lottery:SEED"
                )
        if not self.keys or self.keys[-1] != "id":
            if "id" in self.keys:
                # Everything after "id" can never decide anything: keep the list honest.
                object.__setattr__(self, "keys", self.keys[: self.keys.index("id") + 1])
            else:
                object.__setattr__(self, "keys", (*self.keys, "id"))
        if len(set(self.keys)) != len(self.keys):
            raise TieBreakError(f"tie-break lists a criterion twice: {','.join(self.keys)}")

    @classmethod
    def default(cls) -> TieBreak:
        return cls(("id",))

    @classmethod
    def parse(cls, text: str | Sequence[str] | TieBreak | None) -> TieBreak:
        if text is None:
            return cls.default()
        if isinstance(text, TieBreak):
            return text
        parts = text.split(",") if isinstance(text, str) else list(text)
        keys = tuple(part.strip() for part in parts if part.strip())
        if not keys:
            return cls.default()
        return cls(keys)

    def __str__(self) -> str:
        return ",".join(self.keys)

    @property
    def needs_support(self) -> bool:
        return "more-support" in self.keys or "less-support" in self.keys

    def key_function(
        self, instance: Instance, support: Sequence[Support] | None = None
    ) -> Callable[[int], tuple[object, ...]]:
        """A sort key on project indices: the project that sorts first wins the tie."""
        if self.needs_support and support is None:
            raise TieBreakError("this tie-break needs the support of each project")
        projects = instance.projects
        getters: list[Callable[[int], object]] = []
        for key in self.keys:
            if key == "id":
                getters.append(lambda index: projects[index].id)
            elif key == "more-support":
                assert support is not None
                getters.append(lambda index: -Fraction(support[index]))
            elif key == "less-support":
                assert support is not None
                getters.append(lambda index: Fraction(support[index]))
            elif key == "lower-cost":
                getters.append(lambda index: projects[index].cost)
            elif key == "higher-cost":
                getters.append(lambda index: -projects[index].cost)
            else:
                seed = key[len(LOTTERY_PREFIX) :]
                ranks = [lottery_rank(seed, project.id) for project in projects]
                getters.append(ranks.__getitem__)

        def sort_key(index: int) -> tuple[object, ...]:
            return tuple(getter(index) for getter in getters)

        return sort_key

    def rank(self, instance: Instance, support: Sequence[Support] | None = None) -> list[int]:
        """Every project index, ``rank[i]`` = position of project i in the tie-break order.

        Rules that compare many times use these integer ranks instead of the key tuples.
        """
        key = self.key_function(instance, support)
        order = sorted(range(len(instance.projects)), key=key)
        positions = [0] * len(order)
        for position, index in enumerate(order):
            positions[index] = position
        return positions

    def order(
        self,
        instance: Instance,
        candidates: Sequence[int],
        support: Sequence[Support] | None = None,
    ) -> list[int]:
        """``candidates`` sorted with the preferred project first."""
        return sorted(candidates, key=self.key_function(instance, support))
