"""The rule set's tie-break: applied only when given, and every use of it is recorded.

A tie-break is an ordered list of steps, as a rule set states it:

- an option id: an explicit priority; options listed earlier win ties against options listed
  later, and listed options win ties against unlisted ones;
- ``"lottery:SEED"``: a lottery whose seed was committed before voting opened. Each option
  draws the key ``sha256(SEED + "\\n" + option id)`` (hex); the lower key wins the tie. The
  draw depends only on the seed and the option ids, never on the order options are listed.

Options the explicit order does not separate fall through to the lottery; with no lottery
they stay tied, and the tie is reported.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from stemmen.tally.errors import TallyError

LOTTERY_PREFIX = "lottery:"


@dataclass(frozen=True)
class TieBreakStep:
    """One visible use of a tie-break: where, between whom, by which rule, with what order."""

    context: str
    tied: tuple[str, ...]
    rule: str
    order: tuple[tuple[str, ...], ...]

    def to_json(self) -> dict[str, object]:
        return {
            "context": self.context,
            "tied": list(self.tied),
            "rule": self.rule,
            "order": [list(tier) for tier in self.order],
        }


def lottery_key(seed: str, option: str) -> str:
    """The lottery draw of one option: lower keys win ties."""
    return hashlib.sha256(f"{seed}\n{option}".encode()).hexdigest()


@dataclass(frozen=True)
class TieBreak:
    """A parsed tie-break: an explicit option priority, then optionally a seeded lottery."""

    priority: tuple[str, ...] = ()
    seed: str | None = None

    @classmethod
    def parse(cls, steps: Sequence[str] | None) -> TieBreak | None:
        """``None`` or an empty list mean: no tie-break, ties are reported as ties."""
        if not steps:
            return None
        priority: list[str] = []
        seed: str | None = None
        for step in steps:
            if step.startswith(LOTTERY_PREFIX):
                if seed is not None:
                    raise TallyError("bad-tie-break", "a tie-break has at most one lottery")
                seed = step[len(LOTTERY_PREFIX) :]
                if not seed:
                    raise TallyError("bad-tie-break", "a lottery needs a seed: lottery:SEED")
            else:
                if step in priority:
                    raise TallyError("bad-tie-break", f"option {step!r} listed twice")
                priority.append(step)
        return cls(tuple(priority), seed)

    def describe(self) -> str:
        parts = []
        if self.priority:
            parts.append("order " + " > ".join(self.priority))
        if self.seed is not None:
            parts.append(f"lottery:{self.seed}")
        return ", then ".join(parts)

    def split(self, tied: Sequence[str]) -> tuple[tuple[str, ...], ...]:
        """The tied options in tiers, preferred first; a tier keeps options it cannot separate."""

        def key(option: str) -> tuple[int, str]:
            rank = self.priority.index(option) if option in self.priority else len(self.priority)
            draw = lottery_key(self.seed, option) if self.seed is not None else ""
            return (rank, draw)

        tiers: dict[tuple[int, str], list[str]] = {}
        for option in tied:
            tiers.setdefault(key(option), []).append(option)
        return tuple(tuple(tiers[k]) for k in sorted(tiers))

    def choose(
        self, tied: Sequence[str], context: str, steps: list[TieBreakStep], *, worst: bool = False
    ) -> str | None:
        """The single preferred (or, with ``worst``, least preferred) tied option, recorded.

        Returns None, recording nothing, when the tie-break cannot single one out.
        """
        order = self.split(tied)
        pick = order[-1] if worst else order[0]
        if len(pick) != 1:
            return None
        steps.append(TieBreakStep(context, tuple(sorted(tied)), self.describe(), order))
        return pick[0]


def break_tiers(
    tiers: Sequence[Sequence[str]],
    tie_break: TieBreak | None,
    context: str,
    steps: list[TieBreakStep],
) -> tuple[tuple[str, ...], ...]:
    """Split every tied tier of a final ordering by the tie-break, recording each split."""
    result: list[tuple[str, ...]] = []
    for tier in tiers:
        if len(tier) > 1 and tie_break is not None:
            order = tie_break.split(tier)
            if len(order) > 1:
                steps.append(
                    TieBreakStep(context, tuple(sorted(tier)), tie_break.describe(), order)
                )
            result.extend(order)
        else:
            result.append(tuple(tier))
    return tuple(result)
