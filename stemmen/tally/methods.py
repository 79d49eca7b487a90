"""Every tally method, registered under its stable name, and ``tally()`` that runs one.

A method is a function ``(profile, context) -> Outcome``: the tiers of its own ordering
(ties kept), the scores it used and its evidence. ``tally()`` converts the profile to the
ballot shape the method reads, applies the rule set's tie-break to what the method left tied
(only when one is given, and visibly), adds the Condorcet report on ranked questions and
returns an immutable ``Tally``. Adding a method is one function and one ``register`` line.

Conventions shared by all methods (see docs/methods.md for each one in full):

- A ranked ballot's options in one tier are tied; unranked options come below every ranked
  one when ``unranked_below_ranked`` (the default), otherwise the ballot says nothing about a
  pair with an unranked option.
- Grade ballots converted for a ranked method rank options by grade (blanks unranked);
  approval ballots rank the approved options tied on top (the rest unranked). Approval
  ballots read by a grade method give grade 1 to approved options, 0 to the others.
- Options in one tier of a result are listed in the order of the question's options.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cmp_to_key
from types import MappingProxyType
from typing import Literal

import numpy as np

from stemmen.tally.errors import TallyError
from stemmen.tally.profiles import (
    BLANK,
    ApprovalProfile,
    GradeProfile,
    IntArray,
    Profile,
    RankedProfile,
    weighted_column_sums,
)
from stemmen.tally.result import IrvRound, Score, Tally
from stemmen.tally.tiebreak import TieBreak, TieBreakStep, break_tiers

BallotKind = Literal["ranked", "grades", "approvals"]


@dataclass
class Context:
    """The options a method runs under, and the list it records tie-break steps in."""

    tie_break: TieBreak | None = None
    unranked_below_ranked: bool = True
    schulze_variant: str = "margins"
    ranked_pairs_strength: str = "margins"
    blank: str = "abstain"
    steps: list[TieBreakStep] = field(default_factory=list)


@dataclass(frozen=True)
class Outcome:
    tiers: tuple[tuple[str, ...], ...]
    scores: Mapping[str, Score]
    counts: Mapping[str, object] = field(default_factory=dict)
    rounds: tuple[IrvRound, ...] = ()
    details: Mapping[str, object] = field(default_factory=dict)
    final_tiers_broken: bool = False


MethodFunction = Callable[..., Outcome]


@dataclass(frozen=True)
class Method:
    name: str
    reads: BallotKind
    function: MethodFunction
    summary: str


METHODS: dict[str, Method] = {}


def register(
    name: str, reads: BallotKind, summary: str
) -> Callable[[MethodFunction], MethodFunction]:
    def decorate(function: MethodFunction) -> MethodFunction:
        METHODS[name] = Method(name, reads, function, summary)
        return function

    return decorate


# --------------------------------------------------------------------------- helpers


def tiers_by_key(options: Sequence[str], key: Mapping[str, object]) -> tuple[tuple[str, ...], ...]:
    """Group options into tiers by a sortable key, highest key first, ties kept together."""
    groups: dict[object, list[str]] = {}
    for option in options:
        groups.setdefault(key[option], []).append(option)
    ordered = sorted(groups, key=_sort_key, reverse=True)
    return tuple(tuple(groups[k]) for k in ordered)


def _sort_key(value: object) -> tuple[int, object]:
    # None (nobody graded the option) sorts below every number.
    return (0, 0) if value is None else (1, value)


def maximal_tiers(
    options: Sequence[str], beats: Callable[[int, int], bool], first: Sequence[str] | None = None
) -> tuple[tuple[str, ...], ...]:
    """Tiers by repeatedly taking the options no remaining option beats.

    ``beats`` must be acyclic; ``first``, when given, is the first tier.
    """
    remaining = list(range(len(options)))
    tiers: list[tuple[str, ...]] = []
    if first is not None:
        tiers.append(tuple(first))
        remaining = [i for i in remaining if options[i] not in first]
    while remaining:
        top = [i for i in remaining if not any(beats(j, i) for j in remaining if j != i)]
        if not top:  # a cycle: cannot happen for the relations used here, but never loop
            top = remaining
        tiers.append(tuple(options[i] for i in top))
        remaining = [i for i in remaining if i not in top]
    return tuple(tiers)


def condorcet_report(support: IntArray, options: Sequence[str]) -> tuple[str | None, str | None]:
    margins = support - support.T
    m = len(options)
    winner = loser = None
    for x in range(m):
        others = [y for y in range(m) if y != x]
        if others and all(margins[x, y] > 0 for y in others):
            winner = options[x]
        if others and all(margins[x, y] < 0 for y in others):
            loser = options[x]
    return winner, loser


def _matrix(values: IntArray) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(int(v) for v in row) for row in values)


# --------------------------------------------------------------------------- ranked: scoring


def top_votes(
    profile: RankedProfile, continuing: np.ndarray | None = None
) -> tuple[list[Fraction], Fraction]:
    """Each option's share of first places among continuing options, and exhausted ballots.

    A ballot whose highest continuing tier holds k options gives 1/k to each of them; a ballot
    that ranks no continuing option is exhausted.
    """
    m = len(profile.options)
    positions = profile.compact_positions()
    if continuing is not None and not continuing.all():
        positions = np.where(continuing[np.newaxis, :], positions, m)
    best = positions.min(axis=1) if m else np.zeros(0, dtype=np.int16)
    live = best < m
    on_top = (positions == best[:, np.newaxis]) & live[:, np.newaxis]
    sizes = on_top.sum(axis=1, dtype=np.int64)
    single = sizes == 1
    if single.all():
        whole = weighted_column_sums(profile.counts, on_top)
    else:
        whole = weighted_column_sums(profile.counts[single], on_top[single])
    votes = [Fraction(int(v)) for v in whole]
    split_rows = np.flatnonzero(sizes > 1)
    for row in split_rows.tolist():
        share = Fraction(int(profile.counts[row]), int(sizes[row]))
        for option in np.flatnonzero(on_top[row]).tolist():
            votes[option] += share
    exhausted = Fraction(int(profile.counts[~live].sum()))
    return votes, exhausted


@register("plurality", "ranked", "most first places")
def plurality(profile: RankedProfile, context: Context) -> Outcome:
    """Plurality: each ballot's first choice gets one vote; most votes first.

    A ballot with k options tied in its first tier gives 1/k vote to each; a ballot ranking
    nothing is blank and counts for no option. Ties are ties (tiers by equal votes).
    """
    votes, blank = top_votes(profile)
    scores = dict(zip(profile.options, votes, strict=True))
    return Outcome(tiers_by_key(profile.options, scores), scores, counts={"blank_ballots": blank})


def _borda_points(profile: RankedProfile, context: Context) -> list[Fraction]:
    m = len(profile.options)
    if profile.is_complete() and profile.is_strict():
        # No ties anywhere: an option in position p earns m - 1 - p points.
        points = weighted_column_sums(profile.counts, np.ones_like(profile.positions, dtype=bool))
        points = (m - 1) * points - np.einsum(
            "k,km->m", profile.counts, profile.positions, dtype=np.int64
        )
        return [Fraction(int(v)) for v in points]
    support = profile.support_matrix(unranked_below_ranked=context.unranked_below_ranked)
    positions = profile.compact_positions()
    ranked = positions < m
    tied = np.zeros((m, m), dtype=np.int64)
    for x in range(m):
        same = positions == positions[:, x : x + 1]
        if not context.unranked_below_ranked:
            same &= ranked
        tied[x] = weighted_column_sums(profile.counts, same)
    np.fill_diagonal(tied, 0)
    doubled = 2 * support.sum(axis=1) + tied.sum(axis=1)
    return [Fraction(int(v), 2) for v in doubled]


@register("borda", "ranked", "Borda count: one point per option ranked below")
def borda(profile: RankedProfile, context: Context) -> Outcome:
    """Borda count: per ballot, an option earns 1 point for each option it is ranked above
    and 1/2 point for each option tied with it; highest total first.

    On complete strict ballots over m options this is m-1, m-2, ..., 0 points. Unranked options
    are tied below every ranked one (so they share the bottom points) when
    ``unranked_below_ranked``; without it a pair with an unranked option earns nothing.
    """
    points = _borda_points(profile, context)
    scores = dict(zip(profile.options, points, strict=True))
    return Outcome(tiers_by_key(profile.options, scores), scores)


@register("mbc", "ranked", "modified Borda count: m, m-1, ..., 1 for m ranked options")
def mbc(profile: RankedProfile, context: Context) -> Outcome:
    """Modified Borda count: a voter who ranks r options gives r, r-1, ..., 1 points to them
    and 0 to unranked options; highest total first.

    A ranked option earns 1 point plus 1 per ranked option below it plus 1/2 per ranked option
    tied with it (so tied options share their points). ``unranked_below_ranked`` has no
    effect: unranked options score 0 by definition.
    """
    m = len(profile.options)
    positions = profile.compact_positions()
    ranked = positions < m
    doubled = np.zeros(m, dtype=np.int64)
    for x in range(m):
        column = positions[:, x : x + 1]
        below = ((positions > column) & ranked).sum(axis=1, dtype=np.int64)
        tied = ((positions == column) & ranked).sum(axis=1, dtype=np.int64) - 1
        per_ballot = np.where(ranked[:, x], 2 + 2 * below + tied, 0)
        doubled[x] = int(profile.counts @ per_ballot)
    scores = {o: Fraction(int(v), 2) for o, v in zip(profile.options, doubled, strict=True)}
    return Outcome(tiers_by_key(profile.options, scores), scores)


# --------------------------------------------------------------------------- ranked: pairwise


@register("copeland", "ranked", "pairwise wins plus half the pairwise ties")
def copeland(profile: RankedProfile, context: Context) -> Outcome:
    """Copeland: an option scores 1 for each option it beats head to head (more voters rank
    it above than below) and 1/2 for each exact pairwise tie; highest score first."""
    support = profile.support_matrix(unranked_below_ranked=context.unranked_below_ranked)
    margins = support - support.T
    m = len(profile.options)
    scores: dict[str, Score] = {}
    for x, option in enumerate(profile.options):
        wins = sum(1 for y in range(m) if y != x and margins[x, y] > 0)
        ties = sum(1 for y in range(m) if y != x and margins[x, y] == 0)
        scores[option] = Fraction(wins) + Fraction(ties, 2)
    return Outcome(tiers_by_key(profile.options, scores), scores)


def strongest_paths(support: IntArray, variant: str) -> IntArray:
    """Schulze's widest paths: ``p[x, y]`` = strength of the strongest path from x to y.

    A link x -> y exists when more voters prefer x to y than y to x; its strength is the
    margin (``margins``) or the number of voters preferring x (``winning-votes``).
    """
    m = support.shape[0]
    majority = support > support.T
    if variant == "margins":
        links = np.where(majority, support - support.T, 0)
    elif variant == "winning-votes":
        links = np.where(majority, support, 0)
    else:
        raise TallyError("bad-option", f"schulze variant {variant!r}: margins or winning-votes")
    paths = links.astype(np.int64).copy()
    for k in range(m):
        via = np.minimum(paths[:, k : k + 1], paths[k : k + 1, :])
        paths = np.maximum(paths, via)
    np.fill_diagonal(paths, 0)
    return paths


@register("schulze", "ranked", "Schulze beatpath (margins, or winning votes)")
def schulze(profile: RankedProfile, context: Context) -> Outcome:
    """Schulze: x beats y when the strongest path from x to y is stronger than the strongest
    path from y to x (paths over majority links, strength = margin by default, or winning
    votes). This relation is a strict partial order; the winners are the options nothing
    beats, and the ordering repeats that on the options left. Scores = number of options beaten.
    """
    support = profile.support_matrix(unranked_below_ranked=context.unranked_below_ranked)
    paths = strongest_paths(support, context.schulze_variant)
    options = profile.options
    tiers = maximal_tiers(options, lambda x, y: bool(paths[x, y] > paths[y, x]))
    scores: dict[str, Score] = {
        o: int((paths[x] > paths[:, x]).sum()) for x, o in enumerate(options)
    }
    return Outcome(
        tiers,
        scores,
        details={"variant": context.schulze_variant, "strongest_paths": _matrix(paths)},
    )


MAX_RANKED_PAIRS_UNIVERSES = 50_000


@register("ranked-pairs", "ranked", "Tideman's ranked pairs: lock majorities, strongest first")
def ranked_pairs(profile: RankedProfile, context: Context) -> Outcome:
    """Ranked pairs (Tideman): take the majorities x > y from the strongest (largest margin, or
    most winning votes with ``ranked_pairs_strength='winning-votes'``) down, and lock each one
    unless it would close a cycle with pairs already locked. The winner is the option no locked
    pair points at.

    Majorities of equal strength are ordered by the rule set's tie-break (the pair whose winner
    the tie-break prefers first; with the same winner, the pair whose loser it prefers least
    first). Without a tie-break every order of equal-strength pairs is tried and the winners
    are all options that win in some order (a tie). Ordering: the winners, then the options
    ranked by the pairs locked in every order. Scores = options locked below in every order.
    """
    support = profile.support_matrix(unranked_below_ranked=context.unranked_below_ranked)
    options = profile.options
    m = len(options)
    margins = support - support.T
    strength = margins if context.ranked_pairs_strength == "margins" else support
    if context.ranked_pairs_strength not in {"margins", "winning-votes"}:
        raise TallyError("bad-option", "ranked-pairs strength: margins or winning-votes")
    pairs = [(x, y) for x in range(m) for y in range(m) if margins[x, y] > 0]
    groups: dict[int, list[tuple[int, int]]] = {}
    for x, y in pairs:
        groups.setdefault(int(strength[x, y]), []).append((x, y))

    def lock(reach: np.ndarray, x: int, y: int) -> np.ndarray | None:
        if reach[y, x]:
            return None
        updated: np.ndarray = reach | (reach[:, x : x + 1] & reach[y : y + 1, :])
        return updated

    identity = np.eye(m, dtype=bool)
    states: dict[bytes, np.ndarray] = {identity.tobytes(): identity}
    skipped: list[tuple[str, str]] = []
    for level in sorted(groups, reverse=True):
        group = groups[level]
        if len(group) > 1 and context.tie_break is not None:
            group = _order_pairs_by_tie_break(group, options, context)
        if len(group) == 1 or context.tie_break is not None:
            next_states: dict[bytes, np.ndarray] = {}
            for reach in states.values():
                current = reach
                for x, y in group:
                    locked = lock(current, x, y)
                    if locked is None:
                        if len(states) == 1:
                            skipped.append((options[x], options[y]))
                        continue
                    current = locked
                next_states.setdefault(current.tobytes(), current)
            states = next_states
        else:
            states = _lock_in_every_order(states, group, lock)
    universes = list(states.values())
    universes = list(states.values())
    winners = [
        options[x] for x in range(m) if any(int(reach[:, x].sum()) == 1 for reach in universes)
    ]
    everywhere = np.logical_and.reduce(universes) & ~identity
    tiers = maximal_tiers(options, lambda x, y: bool(everywhere[x, y]), first=winners)
    scores: dict[str, Score] = {o: int(everywhere[x].sum()) for x, o in enumerate(options)}
    locked_pairs = [(options[x], options[y]) for x, y in pairs if everywhere[x, y]]
    return Outcome(
        tiers,
        scores,
        details={
            "strength": context.ranked_pairs_strength,
            "majorities": [
                {"pair": [options[x], options[y]], "strength": int(strength[x, y])}
                for level in sorted(groups, reverse=True)
                for x, y in groups[level]
            ],
            "locked_in_every_order": locked_pairs,
            "skipped": skipped,
            "orders_tried": len(universes),
        },
    )


def _lock_in_every_order(
    states: dict[bytes, np.ndarray],
    group: list[tuple[int, int]],
    lock: Callable[[np.ndarray, int, int], np.ndarray | None],
) -> dict[bytes, np.ndarray]:
    """Every locked graph reachable by taking the equal-strength pairs in some order.

    Orders that reach the same graph with the same pairs left merge, so this explores
    subsets of the group rather than its permutations.
    """
    results: dict[bytes, np.ndarray] = {}
    seen: set[tuple[bytes, frozenset[int]]] = set()
    stack = [(reach, frozenset(range(len(group)))) for reach in states.values()]
    while stack:
        reach, left = stack.pop()
        key = (reach.tobytes(), left)
        if key in seen:
            continue
        seen.add(key)
        if len(seen) > MAX_RANKED_PAIRS_UNIVERSES:
            raise TallyError(
                "too-many-ties",
                "ranked pairs has too many equal-strength majorities to try every order;"
                " give the rule set a tie-break",
            )
        if not left:
            results.setdefault(key[0], reach)
            continue
        for index in left:
            x, y = group[index]
            locked = lock(reach, x, y)
            stack.append((reach if locked is None else locked, left - {index}))
    return results


def _order_pairs_by_tie_break(
    group: list[tuple[int, int]], options: Sequence[str], context: Context
) -> list[tuple[int, int]]:
    assert context.tie_break is not None
    order = context.tie_break.split(options)
    rank = {option: i for i, tier in enumerate(order) for option in tier}
    ordered = sorted(group, key=lambda p: (rank[options[p[0]]], -rank[options[p[1]]], p))
    context.steps.append(
        TieBreakStep(
            "ranked-pairs: order of equal-strength majorities",
            tuple(sorted({options[p[0]] for p in group} | {options[p[1]] for p in group})),
            context.tie_break.describe(),
            tuple((options[x], options[y]) for x, y in ordered),
        )
    )
    return ordered


# --------------------------------------------------------------------------- ranked: IRV


class _FirstChoices:
    """Each ballot's highest continuing option, updated only for ballots an elimination hits.

    ``top[b]`` is the option ballot b counts for, ``SPLIT`` when several continuing options
    tie at its top (each gets an equal share), ``EXHAUSTED`` when it ranks none of them.
    """

    SPLIT = -1
    EXHAUSTED = -2

    def __init__(self, profile: RankedProfile) -> None:
        self.positions = profile.compact_positions()
        self.counts = profile.counts
        self.m = len(profile.options)
        self.continuing = np.ones(self.m, dtype=bool)
        self.top = np.empty(len(self.counts), dtype=np.int64)
        self._recompute(np.arange(len(self.counts)))

    def _recompute(self, rows: np.ndarray) -> None:
        sub = np.where(self.continuing[np.newaxis, :], self.positions[rows], self.m)
        best = sub.min(axis=1) if self.m else np.zeros(len(rows), dtype=np.int16)
        on_top = (sub == best[:, np.newaxis]) & (best < self.m)[:, np.newaxis]
        sizes = on_top.sum(axis=1)
        self.top[rows] = np.where(
            sizes == 1, on_top.argmax(axis=1), np.where(sizes == 0, self.EXHAUSTED, self.SPLIT)
        )

    def eliminate(self, option: int) -> None:
        hit = self.top == self.SPLIT
        hit[hit] = self.positions[hit, option] == self.positions[hit].min(axis=1)
        rows = np.flatnonzero((self.top == option) | hit)
        self.continuing[option] = False
        self._recompute(rows)

    def votes(self) -> tuple[list[Fraction], Fraction]:
        whole = np.zeros(self.m, dtype=np.int64)
        single = self.top >= 0
        np.add.at(whole, self.top[single], self.counts[single])
        votes = [Fraction(int(v)) for v in whole]
        for row in np.flatnonzero(self.top == self.SPLIT).tolist():
            sub = np.where(self.continuing, self.positions[row], self.m)
            shared = np.flatnonzero(sub == sub.min()).tolist()
            share = Fraction(int(self.counts[row]), len(shared))
            for option in shared:
                votes[option] += share
        exhausted = Fraction(int(self.counts[self.top == self.EXHAUSTED].sum()))
        return votes, exhausted


@register("irv", "ranked", "instant runoff: eliminate the fewest first choices, one per round")
def irv(profile: RankedProfile, context: Context) -> Outcome:
    """Instant runoff: each ballot counts for its highest-ranked continuing option (k options
    tied there get 1/k each; a ballot with no continuing ranked option is exhausted). Each
    round the option with the fewest votes is eliminated, one per round, until one remains;
    the first option with more than half of the continuing votes is recorded as the majority
    winner (it always survives to the end). Unranked options never receive a ballot's vote.

    A tie for elimination is broken by the rule set's tie-break (the least preferred option
    goes). Without one every elimination order is followed: the winners are all options that
    win in some order (a tie), and the other options are ordered by how many rounds they
    survive at best. Scores = votes in the last round each option was counted.
    """
    options = profile.options
    m = len(options)
    rounds: list[IrvRound] = []
    continuing = np.ones(m, dtype=bool)
    eliminated_order: list[str] = []
    last_votes: dict[str, Score] = {}
    number = 0
    first_choices = _FirstChoices(profile)
    while continuing.sum() > 1:
        number += 1
        votes, exhausted = first_choices.votes()
        alive = [x for x in range(m) if continuing[x]]
        for x in alive:
            last_votes[options[x]] = votes[x]
        active = sum((votes[x] for x in alive), Fraction(0))
        majority = next((options[x] for x in alive if 2 * votes[x] > active), None)
        fewest = min(votes[x] for x in alive)
        lowest = [options[x] for x in alive if votes[x] == fewest]
        loser = lowest[0] if len(lowest) == 1 else None
        if loser is None and context.tie_break is not None:
            loser = context.tie_break.choose(
                lowest, f"irv round {number}: elimination", context.steps, worst=True
            )
        round_votes = {options[x]: votes[x] for x in alive}
        rounds.append(
            IrvRound(
                number,
                MappingProxyType(round_votes),
                exhausted,
                majority,
                loser,
                tuple(lowest) if len(lowest) > 1 else (),
            )
        )
        if loser is None:
            return _irv_all_orders(profile, continuing, eliminated_order, last_votes, rounds)
        continuing[options.index(loser)] = False
        first_choices.eliminate(options.index(loser))
        eliminated_order.append(loser)
    survivors = [options[x] for x in range(m) if continuing[x]]
    if number == 0 and survivors:
        votes, _ = top_votes(profile)
        last_votes = {options[x]: votes[x] for x in range(m)}
    tiers = (tuple(survivors), *((o,) for o in reversed(eliminated_order)))
    return Outcome(tiers, last_votes, rounds=tuple(rounds))


def _irv_all_orders(
    profile: RankedProfile,
    continuing: np.ndarray,
    eliminated_order: list[str],
    last_votes: dict[str, Score],
    rounds: list[IrvRound],
) -> Outcome:
    """Follow every elimination order from an unbroken tie: winners of any order, tied."""
    options = profile.options
    m = len(options)
    best_survival: dict[int, int] = {}
    winners: set[int] = set()
    seen: set[frozenset[int]] = set()
    stack = [frozenset(x for x in range(m) if continuing[x])]
    while stack:
        alive = stack.pop()
        if alive in seen:
            continue
        seen.add(alive)
        for x in alive:
            best_survival[x] = max(best_survival.get(x, 0), m - len(alive))
        if len(alive) == 1:
            winners |= alive
            continue
        mask = np.zeros(m, dtype=bool)
        mask[list(alive)] = True
        votes, _ = top_votes(profile, mask)
        fewest = min(votes[x] for x in alive)
        stack.extend(alive - {x} for x in alive if votes[x] == fewest)
    for x in winners:
        best_survival[x] = m
    key: dict[str, object] = {}
    for x, option in enumerate(options):
        if x in best_survival:
            key[option] = best_survival[x]
        else:
            key[option] = -(len(eliminated_order) - eliminated_order.index(option))
    tiers = tiers_by_key(options, key)
    return Outcome(
        tiers,
        last_votes,
        rounds=tuple(rounds),
        details={"elimination_orders_followed": len(seen)},
    )


# --------------------------------------------------------------------------- grades


def _blank_value(profile: GradeProfile, context: Context) -> int | None:
    if context.blank == "abstain":
        return None
    if context.blank == "lowest":
        return profile.scale.values[0]
    raise TallyError("bad-option", f"blank handling {context.blank!r}: abstain or lowest")


def _distribution_mapping(profile: GradeProfile, table: IntArray) -> dict[str, dict[str, int]]:
    labels = profile.scale.labels
    result = {}
    for o, option in enumerate(profile.options):
        row = {label: int(table[o, g]) for g, label in enumerate(labels)}
        row["blank"] = int(table[o, len(labels)])
        result[option] = row
    return result


@register("approval", "approvals", "most approvals")
def approval(profile: ApprovalProfile, context: Context) -> Outcome:
    """Approval: each option scores the number of ballots approving it; highest first."""
    totals = profile.counts @ profile.approved.astype(np.int64)
    scores: dict[str, Score] = {o: int(v) for o, v in zip(profile.options, totals, strict=True)}
    return Outcome(tiers_by_key(profile.options, scores), scores)


@register("score-sum", "grades", "sum of the grades' values")
def score_sum(profile: GradeProfile, context: Context) -> Outcome:
    """Score (sum): an option scores the sum of the values of its grades; a blank adds
    nothing (or the lowest value, with ``blank='lowest'``); highest sum first."""
    blank = _blank_value(profile, context)
    values = profile.values_matrix(0 if blank is None else blank)
    totals = profile.counts @ values
    scores: dict[str, Score] = {o: int(v) for o, v in zip(profile.options, totals, strict=True)}
    graders = profile.counts @ (profile.grades != BLANK).astype(np.int64)
    return Outcome(
        tiers_by_key(profile.options, scores),
        scores,
        counts={"graded_by": {o: int(v) for o, v in zip(profile.options, graders, strict=True)}},
    )


@register("score-mean", "grades", "mean grade value among those who graded")
def score_mean(profile: GradeProfile, context: Context) -> Outcome:
    """Score (mean): an option scores the exact mean value of its grades over the voters who
    graded it (blanks left out; with ``blank='lowest'`` a blank counts as the lowest grade).
    An option nobody graded has no score and comes last. Highest mean first."""
    blank = _blank_value(profile, context)
    values = profile.values_matrix(0 if blank is None else blank)
    graded = profile.grades != BLANK if blank is None else np.ones_like(profile.grades, bool)
    totals = profile.counts @ np.where(graded, values, 0)
    graders = profile.counts @ graded.astype(np.int64)
    scores: dict[str, Score] = {}
    for option, total, n in zip(profile.options, totals, graders, strict=True):
        scores[option] = Fraction(int(total), int(n)) if n else None
    return Outcome(
        tiers_by_key(profile.options, scores),
        scores,
        counts={"graded_by": {o: int(v) for o, v in zip(profile.options, graders, strict=True)}},
    )


def majority_values(histogram: Sequence[int]) -> Iterator[int]:
    """Balinski and Laraki's majority value: the lower median grade, then the lower median of
    what is left after removing one median grade, and so on until no grade is left."""
    counts = list(histogram)
    n = sum(counts)
    if n == 0:
        return
    grade = 0
    below = 0  # voters with a grade lower than `grade`
    while n > 0:
        index = (n - 1) // 2  # the lower median, 0-based from the lowest grade
        while index < below:
            grade -= 1
            below -= counts[grade]
        while index >= below + counts[grade]:
            below += counts[grade]
            grade += 1
        yield grade
        counts[grade] -= 1
        n -= 1


def compare_majority_values(first: Sequence[int], second: Sequence[int]) -> int:
    """+1 if the first grade histogram wins majority judgment, -1 if it loses, 0 if tied.

    When one majority value runs out while equal so far (fewer graders), the two are tied.
    """
    if list(first) == list(second):
        return 0
    for a, b in zip(majority_values(first), majority_values(second), strict=False):
        if a != b:
            return 1 if a > b else -1
    return 0


@register("majority-judgment", "grades", "highest median grade, Balinski-Laraki tie-break")
def majority_judgment(profile: GradeProfile, context: Context) -> Outcome:
    """Majority judgment (Balinski and Laraki): an option's grade is its lower median grade;
    higher is better. Options with the same median are separated by removing one median grade
    from each and comparing the new lower medians, repeatedly (lexicographic order of the
    majority values); options that stay equal until one runs out of grades are tied. Blanks are
    left out of an option's grades (``blank='lowest'``: they count as the lowest grade); an
    option nobody graded comes last. Scores = the median grade's label.
    """
    blank = _blank_value(profile, context)
    table = profile.distribution()
    levels = len(profile.scale.labels)
    histograms = {}
    for o, option in enumerate(profile.options):
        row = [int(v) for v in table[o, :levels]]
        if blank is not None:
            row[0] += int(table[o, levels])
        histograms[option] = row
    graded = [o for o in profile.options if sum(histograms[o])]
    ungraded = [o for o in profile.options if not sum(histograms[o])]

    def compare(a: str, b: str) -> int:
        return compare_majority_values(histograms[a], histograms[b])

    ordered = sorted(graded, key=cmp_to_key(compare), reverse=True)
    tiers: list[list[str]] = []
    for option in ordered:
        if tiers and compare(tiers[-1][0], option) == 0:
            tiers[-1].append(option)
        else:
            tiers.append([option])
    if ungraded:
        tiers.append(ungraded)
    index = {o: i for i, o in enumerate(profile.options)}
    final = tuple(tuple(sorted(tier, key=index.__getitem__)) for tier in tiers)
    scores: dict[str, Score] = {}
    for option in profile.options:
        first = next(majority_values(histograms[option]), None)
        scores[option] = None if first is None else profile.scale.labels[first]
    return Outcome(
        final,
        scores,
        details={"grade_distributions": _distribution_mapping(profile, table)},
    )


@register("star", "grades", "score then automatic runoff (official STAR tie rules)")
def star(profile: GradeProfile, context: Context) -> Outcome:
    """STAR (score then automatic runoff): the two options with the highest sum of scores are
    finalists; the finalist scored higher by more voters wins. A blank counts as 0.

    Official STAR tie rules (Equal Vote): a tie for a finalist place goes to the tied option
    preferred head to head over more of the other tied options (repeated within those still
    tied), then to the one with more top scores; a tied runoff goes to the finalist with the
    higher score sum, then to the one with more top scores. What these leave tied goes to the
    rule set's tie-break; without one every possible pair of finalists is run off and all
    their winners are tied winners. Ordering: winner, other finalist, then by score sum.
    """
    options = profile.options
    m = len(options)
    values = profile.values_matrix(0)
    sums = profile.counts @ values
    top = len(profile.scale.values) - 1
    top_counts = profile.counts @ (profile.grades == top).astype(np.int64)
    prefer = np.zeros((m, m), dtype=np.int64)
    for x in range(m):
        prefer[x] = profile.counts @ (values[:, x : x + 1] > values)
    steps: list[dict[str, object]] = []
    score_of = {o: int(s) for o, s in zip(options, sums, strict=True)}

    def head_to_head_wins(pool: Sequence[int]) -> dict[int, int]:
        return {x: sum(1 for y in pool if y != x and prefer[x, y] > prefer[y, x]) for x in pool}

    def choose(pool: list[int], k: int) -> tuple[list[int], list[int]]:
        """Pick k of a pool tied on score: (chosen, the pool still tied for the places left)."""
        chosen: list[int] = []
        for rule in ("head-to-head", "five-star"):
            while 0 < k - len(chosen) < len(pool):
                if rule == "head-to-head":
                    key = head_to_head_wins(pool)
                else:
                    key = {x: int(top_counts[x]) for x in pool}
                room = k - len(chosen)
                still_tied: list[int] = []
                for level in sorted(set(key.values()), reverse=True):
                    group = [x for x in pool if key[x] == level]
                    if len(group) <= room:
                        chosen.extend(group)
                        room -= len(group)
                        if room == 0:
                            break
                    else:
                        still_tied = group
                        break
                steps.append(
                    {
                        "rule": rule,
                        "tied": [options[x] for x in pool],
                        "key": {options[x]: key[x] for x in pool},
                        "still_tied": [options[x] for x in still_tied],
                    }
                )
                no_progress = len(still_tied) == len(pool)
                pool = still_tied
                if no_progress or rule == "five-star":
                    break
        if len(pool) <= k - len(chosen):
            return chosen + pool, []
        return chosen, pool

    by_score = sorted(range(m), key=lambda x: -int(sums[x]))
    finalists: list[int] = []
    open_pool: list[int] = []
    open_places = 0
    for level in sorted({int(s) for s in sums}, reverse=True):
        if len(finalists) >= 2 or m < 2:
            break
        group = [x for x in range(m) if int(sums[x]) == level]
        room = 2 - len(finalists)
        if len(group) <= room:
            finalists.extend(group)
            continue
        picked, tied_pool = choose(group, room)
        finalists.extend(picked)
        if tied_pool:
            room = 2 - len(finalists)
            if context.tie_break is not None:
                order = context.tie_break.split([options[x] for x in tied_pool])
                flat = [o for tier in order for o in tier]
                if all(len(t) == 1 for t in order[:room]):
                    context.steps.append(
                        TieBreakStep(
                            "star: finalist places",
                            tuple(options[x] for x in tied_pool),
                            context.tie_break.describe(),
                            order,
                        )
                    )
                    finalists.extend(options.index(o) for o in flat[:room])
                    tied_pool = []
            if tied_pool:
                open_pool, open_places = tied_pool, room
        break

    def runoff(a: int, b: int) -> list[int]:
        if prefer[a, b] != prefer[b, a]:
            return [a] if prefer[a, b] > prefer[b, a] else [b]
        if sums[a] != sums[b]:
            steps.append({"rule": "runoff tie: higher score", "tied": [options[a], options[b]]})
            return [a] if sums[a] > sums[b] else [b]
        if top_counts[a] != top_counts[b]:
            steps.append({"rule": "runoff tie: more top scores", "tied": [options[a], options[b]]})
            return [a] if top_counts[a] > top_counts[b] else [b]
        if context.tie_break is not None:
            pick = context.tie_break.choose([options[a], options[b]], "star: runoff", context.steps)
            if pick is not None:
                return [options.index(pick)]
        return [a, b]

    if m == 1:
        tiers: tuple[tuple[str, ...], ...] = ((options[0],),)
        return Outcome(tiers, score_of)
    pairs: list[tuple[int, int]]
    if not open_pool:
        pairs = [(finalists[0], finalists[1])]
    else:
        combos = itertools.combinations(open_pool, open_places)
        pairs = []
        for combo in combos:
            pair = [*finalists, *combo]
            pairs.append((pair[0], pair[1]))
    winners: set[int] = set()
    for a, b in pairs:
        winners.update(runoff(a, b))
    in_runoff = {x for pair in pairs for x in pair}
    runners_up = in_runoff - winners
    tier_list: list[tuple[str, ...]] = [tuple(options[x] for x in sorted(winners))]
    if runners_up:
        tier_list.append(tuple(options[x] for x in sorted(runners_up)))
    rest = [x for x in by_score if x not in in_runoff]
    rest_tiers = tiers_by_key([options[x] for x in sorted(rest)], score_of)
    tier_list.extend(rest_tiers)
    runoff_detail = [
        {
            "finalists": [options[a], options[b]],
            "preferring": {options[a]: int(prefer[a, b]), options[b]: int(prefer[b, a])},
            "no_preference": int(profile.counts.sum() - prefer[a, b] - prefer[b, a]),
        }
        for a, b in pairs
    ]
    return Outcome(
        tuple(tier_list),
        score_of,
        counts={"top_scores": {o: int(v) for o, v in zip(options, top_counts, strict=True)}},
        details={"runoffs": runoff_detail, "official_tie_rules": steps},
    )


# --------------------------------------------------------------------------- the entry point


def _per_option_counts(profile: Profile) -> dict[str, object]:
    """What every auditor wants whatever the method: who expressed what about each option."""
    options = profile.options
    if isinstance(profile, RankedProfile):
        ranked = weighted_column_sums(profile.counts, profile.positions != profile.unranked)
        firsts, _ = top_votes(profile)
        return {
            "ranked_by": {o: int(v) for o, v in zip(options, ranked, strict=True)},
            "first_preferences": dict(zip(options, firsts, strict=True)),
        }
    if isinstance(profile, GradeProfile):
        graded = profile.counts @ (profile.grades != BLANK).astype(np.int64)
        return {"graded_by": {o: int(v) for o, v in zip(options, graded, strict=True)}}
    approved = profile.counts @ profile.approved.astype(np.int64)
    return {"approvals": {o: int(v) for o, v in zip(options, approved, strict=True)}}


def _as_kind(profile: Profile, kind: BallotKind, method: str) -> Profile:
    if kind == "ranked":
        if isinstance(profile, RankedProfile):
            return profile
        return profile.to_ranked()
    if kind == "grades":
        if isinstance(profile, GradeProfile):
            return profile
        if isinstance(profile, ApprovalProfile):
            return profile.to_grades()
    if kind == "approvals" and isinstance(profile, ApprovalProfile):
        return profile
    raise TallyError(
        "wrong-ballots", f"{method} reads {kind} ballots, not {type(profile).__name__}"
    )


def tally(
    profile: Profile,
    method: str,
    *,
    tie_break: Sequence[str] | TieBreak | None = None,
    unranked_below_ranked: bool = True,
    schulze_variant: str = "margins",
    ranked_pairs_strength: str = "margins",
    blank: str = "abstain",
) -> Tally:
    """Tally one question's profile under one registered method.

    ``tie_break`` is the rule set's ordered tie-break (e.g. ``["lottery:SEED"]`` or option
    ids in priority order); without one, ties stay ties. ``unranked_below_ranked`` says
    whether a ranked option beats an unranked one. ``schulze_variant``: ``margins`` or
    ``winning-votes``; ``ranked_pairs_strength`` likewise; ``blank``: ``abstain`` (a blank
    grade is left out) or ``lowest`` (it counts as the lowest grade) for score-sum,
    score-mean and majority-judgment (STAR always counts a blank as 0).
    """
    if method not in METHODS:
        raise TallyError("unknown-method", f"unknown method {method!r}; known: {sorted(METHODS)}")
    spec = METHODS[method]
    parsed = (
        tie_break
        if isinstance(tie_break, TieBreak) or tie_break is None
        else TieBreak.parse(tie_break)
    )
    if parsed is not None:
        unknown = [o for o in parsed.priority if o not in profile.options]
        if unknown:
            raise TallyError("bad-tie-break", f"tie-break names unknown options {unknown}")
    context = Context(
        tie_break=parsed,
        unranked_below_ranked=unranked_below_ranked,
        schulze_variant=schulze_variant,
        ranked_pairs_strength=ranked_pairs_strength,
        blank=blank,
    )
    converted = _as_kind(profile, spec.reads, method)
    outcome = spec.function(converted, context)
    steps = context.steps
    ranking = break_tiers(outcome.tiers, parsed, f"{method}: final ordering", steps)
    pairwise = None
    condorcet_winner = condorcet_loser = None
    if isinstance(converted, RankedProfile):
        support = converted.support_matrix(unranked_below_ranked=unranked_below_ranked)
        pairwise = _matrix(support)
        condorcet_winner, condorcet_loser = condorcet_report(support, converted.options)
    distributions: Mapping[str, Mapping[str, int]] | None = None
    details = dict(outcome.details)
    if isinstance(converted, GradeProfile):
        details.pop("grade_distributions", None)
        distributions = _distribution_mapping(converted, converted.distribution())
    counts: dict[str, object] = {**_per_option_counts(converted), **outcome.counts}
    parameters: dict[str, object] = {"unranked_below_ranked": unranked_below_ranked}
    if method == "schulze":
        parameters["schulze_variant"] = schulze_variant
    if method == "ranked-pairs":
        parameters["strength"] = ranked_pairs_strength
    if spec.reads == "grades":
        parameters["blank"] = "zero" if method == "star" else blank
    if parsed is not None:
        parameters["tie_break"] = parsed.describe()
    return Tally(
        method=method,
        options=converted.options,
        ranking=ranking,
        tied_winners=outcome.tiers[0] if outcome.tiers else (),
        scores=MappingProxyType(dict(outcome.scores)),
        num_ballots=converted.num_voters,
        counts=MappingProxyType(counts),
        pairwise=pairwise,
        condorcet_winner=condorcet_winner,
        condorcet_loser=condorcet_loser,
        rounds=outcome.rounds,
        grade_distributions=MappingProxyType(distributions) if distributions is not None else None,
        tie_break_steps=tuple(steps),
        details=MappingProxyType(details),
        parameters=MappingProxyType(parameters),
    )
