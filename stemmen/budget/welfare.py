"""Maximum welfare: the exact optimum of the 0/1 knapsack, solved with ``scipy.optimize.milp``.

The welfare of a set of projects is the sum over projects of their welfare: supporters
(``cardinality``), supporters times cost (``cost``), or points (``points``). The solver works in
floating point, so every answer is checked in exact integers before it is returned:

1. solve for the optimum and compute the exact welfare ``W`` of the set found;
2. prove it in integers: the knapsack's linear relaxation, computed exactly, shows for nearly
   every project that no set differing from the one found on that project reaches ``W``; the
   few projects left are searched depth first under the same bound, which finds every set
   reaching ``W`` (each checked against every constraint). That proves the optimum, says
   whether it is unique, and lets the tie-break pick among tied sets, without another solve;
3. should the search grow too large, more solves settle it: ask for the set of welfare at least
   ``W`` farthest from the one found (unique when that is the set itself; a better one replaces
   it), then, among the sets of welfare ``W``, pick the one the tie-break prefers
   lexicographically, a chunk of projects per solve.

Projects nobody supports add no welfare and are never funded, unless a minimum spend needs them.
"""

from __future__ import annotations

import math
import os
import sys
import threading
from bisect import bisect_right
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

from stemmen.budget.greedy import money_formatter, project_neighbourhoods, threshold_value
from stemmen.budget.model import (
    Allocation,
    Instance,
    Profile,
    ProjectOutcome,
    Support,
    voters_with_funded_project,
)
from stemmen.budget.support import project_support
from stemmen.budget.tiebreak import TieBreak

SATISFACTIONS = ("cardinality", "cost", "points")
# Welfare is compared with the solver's floats only as far as doubles are exact.
_EXACT_FLOAT_LIMIT = 2**53


class WelfareError(ValueError):
    """The constraints admit no set of projects, or the solver failed."""


@dataclass(frozen=True)
class _Problem:
    costs: list[int]
    welfare: list[int]  # scaled to integers
    scale: Fraction  # true welfare = welfare / scale
    budget: int
    group_rows: list[tuple[str, list[int], int | None, int | None]]  # name, members, min, max
    exclusive: list[list[int]]
    fixed_one: set[int]
    fixed_zero: set[int]


def project_welfare(
    instance: Instance,
    profile: Profile,
    satisfaction: str,
    channel_weights: Mapping[str, Fraction] | None = None,
    voters: Sequence[Support] | None = None,
) -> list[Support]:
    """Welfare each project adds when funded (``voters``: supporters, when already counted)."""
    if satisfaction not in SATISFACTIONS:
        raise WelfareError(f"unknown satisfaction {satisfaction!r}: use one of {SATISFACTIONS}")
    if satisfaction == "points":
        return project_support(instance, profile, "points", channel_weights)
    if voters is None:
        voters = project_support(instance, profile, "voters", channel_weights)
    if satisfaction == "cardinality":
        return list(voters)
    return [value * project.cost for value, project in zip(voters, instance.projects, strict=True)]


def _integer_welfare(values: Sequence[Support]) -> tuple[list[int], Fraction]:
    denominators = [Fraction(value).denominator for value in values]
    scale = math.lcm(*denominators) if denominators else 1
    scaled = [int(Fraction(value) * scale) for value in values]
    common = math.gcd(*scaled) if any(scaled) else 1
    return [value // common for value in scaled], Fraction(scale, common)


def _spend_groups(
    kind: str,
    groups: Sequence[tuple[str, ...]],
    minimum: Mapping[str, int] | None,
    maximum: Mapping[str, int] | None,
) -> list[tuple[str, list[int], int | None, int | None]]:
    rows = []
    names = sorted(set(minimum or {}) | set(maximum or {}))
    for name in names:
        members = [index for index, group in enumerate(groups) if name in group]
        if not members:
            raise WelfareError(f"no project belongs to {kind} {name!r}")
        rows.append(
            (f"{kind} {name}", members, (minimum or {}).get(name), (maximum or {}).get(name))
        )
    return rows


_OUTPUT_LOCK = threading.Lock()


@contextmanager
def _solver_output_to_stderr() -> Iterator[None]:
    """Send what the solver prints from C to standard error.

    HiGHS writes some diagnostics (``transformNewIntegerFeasibleSolution``) straight to file
    descriptor 1 whatever its options say, which would corrupt JSON on standard output.
    """
    with _OUTPUT_LOCK:
        try:
            sys.stdout.flush()
            saved = os.dup(1)
        except (OSError, ValueError):
            yield
            return
        try:
            os.dup2(2, 1)
            yield
        finally:
            os.dup2(saved, 1)
            os.close(saved)


def _solve(
    problem: _Problem,
    objective: Sequence[float],
    extra_rows: Sequence[tuple[Sequence[float], float, float]],
    fixed_one: set[int],
    fixed_zero: set[int],
    time_limit: float | None,
) -> tuple[list[int] | None, Any]:
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp

    count = len(problem.costs)
    if count == 0:
        return [], None
    lower = np.zeros(count)
    upper = np.ones(count)
    for index in fixed_one:
        lower[index] = 1
    for index in fixed_zero:
        upper[index] = 0
    # Every row sums integers over binary variables, so its value is an integer: bounds half a
    # unit outside the true ones change nothing exactly, yet leave the solver's floating-point
    # tolerances no room to accept a set that is one unit over (the exact check follows anyway).
    matrix_rows: list[Any] = [np.array(problem.costs, dtype=float)]
    low: list[float] = [-np.inf]
    high: list[float] = [problem.budget + 0.5]
    for _, members, minimum, maximum in problem.group_rows:
        row = np.zeros(count)
        for index in members:
            row[index] = problem.costs[index]
        matrix_rows.append(row)
        low.append(-np.inf if minimum is None else minimum - 0.5)
        high.append(np.inf if maximum is None else maximum + 0.5)
    for members in problem.exclusive:
        row = np.zeros(count)
        row[members] = 1
        matrix_rows.append(row)
        low.append(-np.inf)
        high.append(1.5)
    for coefficients, row_low, row_high in extra_rows:
        matrix_rows.append(np.asarray(coefficients, dtype=float))
        low.append(row_low)
        high.append(row_high)
    options: dict[str, Any] = {"mip_rel_gap": 0.0, "presolve": True}
    if time_limit is not None:
        options["time_limit"] = time_limit
    with _solver_output_to_stderr():
        result = milp(
            c=-np.asarray(objective, dtype=float),
            integrality=np.ones(count),
            bounds=Bounds(lower, upper),
            constraints=LinearConstraint(np.vstack(matrix_rows), np.array(low), np.array(high)),
            options=options,
        )
    if result.x is None:
        return None, result
    return [index for index in range(count) if result.x[index] > 0.5], result


def _violations(problem: _Problem, chosen: Sequence[int]) -> list[str]:
    """Every constraint the set breaks, checked in exact integers."""
    members = set(chosen)
    problems: list[str] = []
    spend = sum(problem.costs[index] for index in members)
    if spend > problem.budget:
        problems.append(f"spends {spend} of a budget of {problem.budget}")
    for name, group, minimum, maximum in problem.group_rows:
        group_spend = sum(problem.costs[index] for index in group if index in members)
        if minimum is not None and group_spend < minimum:
            problems.append(f"{name}: spends {group_spend}, below its minimum {minimum}")
        if maximum is not None and group_spend > maximum:
            problems.append(f"{name}: spends {group_spend}, above its maximum {maximum}")
    problems.extend(
        "funds more than one of a mutually exclusive set"
        for group in problem.exclusive
        if len(members.intersection(group)) > 1
    )
    problems.extend(
        "leaves out a mandatory project" for index in problem.fixed_one if index not in members
    )
    return problems


# Lexicographic preference over this many projects at once is an objective with weights up to
# 2**LEX_CHUNK: small enough that doubles and the solver's tolerances keep every step exact.
LEX_CHUNK = 20


def _lexicographic_optimum(
    problem: _Problem,
    best: int,
    rank: Sequence[int],
    chosen: set[int],
    solve: Any,
    exact: Any,
) -> tuple[set[int], bool]:
    """Among the sets of welfare ``best``, the one the tie-break prefers lexicographically.

    The set containing the first-ranked project wins, then the second, and so on. Projects are
    decided a chunk at a time: weights 2**(k-j) make the solver's optimum the lexicographic
    best over the chunk, given the decisions already fixed.
    """
    count = len(problem.costs)
    welfare_row = (problem.welfare, best - 0.5, math.inf)
    ones, zeros = set(problem.fixed_one), set(problem.fixed_zero)
    current = set(chosen)
    open_projects = [
        index for index in sorted(range(count), key=rank.__getitem__) if index not in ones | zeros
    ]
    for start in range(0, len(open_projects), LEX_CHUNK):
        chunk = open_projects[start : start + LEX_CHUNK]
        weights = [0.0] * count
        for position, index in enumerate(chunk):
            weights[index] = float(2 ** (len(chunk) - position))
        trial, _ = solve(weights, [welfare_row], ones, zeros)
        if trial is None or exact(trial) != best or _violations(problem, trial):
            # The solver lost the welfare optimum: keep the set already known to be optimal,
            # and say the tie-break could not be applied in full.
            return current, False
        current = set(trial)
        ones.update(index for index in chunk if index in current)
        zeros.update(index for index in chunk if index not in current)
    return current, True


# The exact search below visits at most this many nodes, over at most this many projects the
# bounds left open (it recurses once per project); past either the solver settles the rest.
EXACT_SEARCH_NODES = 20_000
EXACT_SEARCH_PROJECTS = 200


class _SearchTooLarge(Exception):
    pass


@dataclass(frozen=True)
class _Settlement:
    """What integer arithmetic proves about the sets reaching a welfare ``target``.

    Every such set funds ``ones`` and none of ``zeros``. ``optima`` is every feasible set of the
    greatest welfare when the search finished (``welfare`` that welfare), else None.
    """

    ones: set[int]
    zeros: set[int]
    optima: list[set[int]] | None
    welfare: int


def _by_ratio(indices: Sequence[int], costs: Sequence[int], welfare: Sequence[int]) -> list[int]:
    """Projects by welfare per unit of cost, best first (free projects first of all)."""

    def key(index: int) -> tuple[int, Fraction]:
        cost = costs[index]
        return (0, Fraction(-welfare[index])) if cost == 0 else (1, Fraction(-welfare[index], cost))

    return sorted(indices, key=key)


def _prefix_sums(order: Sequence[int], values: Sequence[int]) -> list[int]:
    sums = [0]
    for index in order:
        sums.append(sums[-1] + values[index])
    return sums


def _settle_exactly(problem: _Problem, chosen: set[int], target: int) -> _Settlement:
    """Prove in integers which sets can reach welfare ``target``, found by the solver in ``chosen``.

    The bound used is the knapsack's linear relaxation (budget only; group and exclusive rows
    dropped, which can only raise it), computed exactly: fill by welfare per cost, the last
    project in part. First every project on its own: if any set that differs from ``chosen`` on
    project i stays below ``target`` (the bound with i flipped says so), every set reaching the
    target agrees with ``chosen`` there. The few projects left are then searched depth first
    under the same bound, and every set found is checked against every constraint.
    """
    costs, welfare = problem.costs, problem.welfare
    ones, zeros = set(problem.fixed_one), set(problem.fixed_zero)
    free = [index for index in range(len(costs)) if index not in ones and index not in zeros]
    if any(welfare[index] < 0 for index in free):
        return _Settlement(ones, zeros, None, target)
    while free:
        base = sum(welfare[index] for index in ones)
        room = problem.budget - sum(costs[index] for index in ones)
        order = _by_ratio(free, costs, welfare)
        spent = _prefix_sums(order, costs)
        gained = _prefix_sums(order, welfare)
        position = {index: place for place, index in enumerate(order)}
        undecided = []
        for index in free:
            cost, value = costs[index], welfare[index]
            # The bound over the other free projects, with this one flipped from ``chosen``.
            if index in chosen:
                left, total = room, base
            else:
                left, total = room - cost, base + value
            if left < 0:
                continue  # no set at all funds it beside what is fixed
            full = bisect_right(spent, left) - 1
            if position[index] <= full:
                # It sits among the projects that fit whole: skip it and fill further.
                full = bisect_right(spent, left + cost) - 1
                total += gained[full] - value
                left -= spent[full] - cost
            else:
                total += gained[full]
                left -= spent[full]
            if full < len(order):
                part = order[full]
                # Reaches the target when total + welfare[part] * left / costs[part] >= target.
                reaches = (target - total) * costs[part] <= welfare[part] * left
            else:
                reaches = total >= target
            if reaches:
                undecided.append(index)
        if len(undecided) == len(free):
            break
        for index in free:
            if index not in undecided:
                (ones if index in chosen else zeros).add(index)
        free = undecided
    if not free:
        return _Settlement(ones, zeros, [set(ones)], target)
    if len(free) > EXACT_SEARCH_PROJECTS:
        return _Settlement(ones, zeros, None, target)
    try:
        optima, best = _search(problem, ones, free, target)
    except _SearchTooLarge:
        return _Settlement(ones, zeros, None, target)
    return _Settlement(ones, zeros, optima or None, best)


def _search(
    problem: _Problem, ones: set[int], free: Sequence[int], target: int
) -> tuple[list[set[int]], int]:
    """Every feasible set of the greatest welfare, at least ``target``, funding ``ones``."""
    costs, welfare = problem.costs, problem.welfare
    order = _by_ratio(free, costs, welfare)
    spent = _prefix_sums(order, costs)
    gained = _prefix_sums(order, welfare)
    count = len(order)
    optima: list[set[int]] = []
    best = target
    taken: list[int] = []
    nodes = 0

    def visit(depth: int, value: int, left: int) -> None:
        nonlocal nodes, best, optima
        nodes += 1
        if nodes > EXACT_SEARCH_NODES:
            raise _SearchTooLarge
        full = bisect_right(spent, left + spent[depth]) - 1
        total = value + gained[full] - gained[depth]
        if full < count:
            part = order[full]
            rest = left + spent[depth] - spent[full]
            if (best - total) * costs[part] > welfare[part] * rest:
                return
        elif total < best:
            return
        if depth == count:
            found = ones.union(taken)
            if _violations(problem, sorted(found)):
                return
            if value > best:
                best, optima = value, []
            optima.append(found)
            return
        index = order[depth]
        if costs[index] <= left:
            taken.append(index)
            visit(depth + 1, value + welfare[index], left - costs[index])
            taken.pop()
        visit(depth + 1, value, left)

    room = problem.budget - sum(costs[index] for index in ones)
    if room >= 0:
        visit(0, sum(welfare[index] for index in ones), room)
    return optima, best


def _settle_by_solving(
    problem: _Problem,
    chosen: set[int],
    best: int,
    rank: Sequence[int],
    settled: _Settlement,
    solve: Any,
    exact: Any,
) -> tuple[set[int], int, bool, bool, bool]:
    """Optimality and the tie-break by more solves, where the exact search gave up.

    Returns the set, its welfare, whether it is the only optimum, whether that was proved and
    whether the tie-break was applied in full. Projects ``settled`` decided stay fixed.
    """
    ones, zeros = settled.ones, settled.zeros
    count = len(problem.costs)
    # One more solve looks, among all sets at least as good, for the one farthest from the set
    # found. If that is the set itself, it is the only optimum (and so provably optimal); if it
    # is better, take it and look again; if it is as good, the tie-break chooses below.
    while True:
        away = [(-1.0 if index in chosen else 1.0) for index in range(count)]
        other, outcome = solve(away, [(problem.welfare, best - 0.5, math.inf)], ones, zeros)
        proved = other is not None and int(getattr(outcome, "status", -1)) == 0
        if other is None or _violations(problem, other) or set(other) == chosen:
            return chosen, best, True, proved, True
        if exact(other) > best:
            chosen, best = set(other), exact(other)
            continue
        if exact(other) < best:
            # Below the optimum only through the solver's tolerances: the set found stays, but
            # the second solve proved nothing.
            return chosen, best, True, False, True
        break
    fixed = replace(problem, fixed_one=ones, fixed_zero=zeros)
    chosen, tie_broken = _lexicographic_optimum(fixed, best, rank, chosen, solve, exact)
    return chosen, best, False, False, tie_broken


def max_welfare(
    instance: Instance,
    profile: Profile,
    *,
    satisfaction: str = "cardinality",
    category_min: Mapping[str, int] | None = None,
    category_max: Mapping[str, int] | None = None,
    neighbourhood_min: Mapping[str, int] | None = None,
    neighbourhood_max: Mapping[str, int] | None = None,
    neighbourhood_attribute: str | None = None,
    mandatory: Sequence[str] = (),
    exclusive: Sequence[Sequence[str]] = (),
    channel_weights: Mapping[str, Fraction] | None = None,
    tie_break: TieBreak | str | None = None,
    threshold: Support | str | None = None,
    threshold_share: Fraction | str | None = None,
    time_limit: float | None = None,
    rule: str = "max-welfare",
) -> Allocation:
    """The set of projects of greatest total welfare within the budget and the constraints."""
    order_rule = TieBreak.parse(tie_break)
    supporters = project_support(instance, profile, "voters", channel_weights)
    values = project_welfare(instance, profile, satisfaction, channel_weights, supporters)
    welfare, scale = _integer_welfare(values)
    projects = instance.projects
    index_of = {project.id: index for index, project in enumerate(projects)}

    def indices(ids: Sequence[str], what: str) -> list[int]:
        unknown = [project_id for project_id in ids if project_id not in index_of]
        if unknown:
            raise WelfareError(f"{what} names unknown projects: {', '.join(unknown)}")
        return [index_of[project_id] for project_id in ids]

    group_rows = _spend_groups(
        "category", [p.categories for p in projects], category_min, category_max
    ) + _spend_groups(
        "neighbourhood",
        project_neighbourhoods(instance, neighbourhood_attribute),
        neighbourhood_min,
        neighbourhood_max,
    )
    fixed_one = set(indices(mandatory, "mandatory"))
    has_minimum = any(row[2] is not None for row in group_rows)
    fixed_zero = (
        set()
        if has_minimum
        else {index for index, value in enumerate(welfare) if value == 0 and index not in fixed_one}
    )
    minimum_support = threshold_value(threshold, threshold_share, profile.voter_count)
    below_threshold: set[int] = set()
    if minimum_support is not None:
        counted = project_support(instance, profile, "auto", channel_weights)
        below_threshold = {
            index for index, value in enumerate(counted) if value < minimum_support
        } - fixed_one
        fixed_zero |= below_threshold
    problem = _Problem(
        costs=[project.cost for project in projects],
        welfare=welfare,
        scale=scale,
        budget=instance.budget,
        group_rows=group_rows,
        exclusive=[indices(group, "exclusive") for group in exclusive],
        fixed_one=fixed_one,
        fixed_zero=fixed_zero,
    )
    if max(map(abs, welfare), default=0) * len(welfare) >= _EXACT_FLOAT_LIMIT:
        raise WelfareError("welfare values too large for an exact solve in double precision")

    solves = 0

    def solve(
        objective: Sequence[float],
        rows: Sequence[tuple[Sequence[float], float, float]],
        ones: set[int],
        zeros: set[int],
    ) -> tuple[list[int] | None, Any]:
        nonlocal solves
        solves += 1
        return _solve(problem, objective, rows, ones, zeros, time_limit)

    def exact(chosen: Sequence[int]) -> int:
        return sum(welfare[index] for index in chosen)

    chosen, result = solve(welfare, [], fixed_one, fixed_zero)
    if chosen is None:
        message = getattr(result, "message", "")
        raise WelfareError(f"no set of projects meets the constraints ({message})")
    status_code = int(getattr(result, "status", 0))
    status = {
        "status": status_code,
        "solver_gap": float(getattr(result, "mip_gap", 0.0) or 0.0),
        "message": str(getattr(result, "message", "")),
    }
    if _violations(problem, chosen):
        raise WelfareError(
            "the solver returned an infeasible set: " + "; ".join(_violations(problem, chosen))
        )
    best = exact(chosen)
    rank = order_rule.rank(instance, supporters)
    chosen_set = set(chosen)
    # Integer bounds usually prove the optimum, and find every tied set, without a second solve.
    settled = _settle_exactly(problem, chosen_set, best)
    exactly = settled.optima is not None
    if settled.optima is not None:
        order = sorted(range(len(projects)), key=rank.__getitem__)
        chosen_set = max(settled.optima, key=lambda found: [index in found for index in order])
        best = settled.welfare
        unique, proved, tie_broken = len(settled.optima) == 1, True, True
    else:
        chosen_set, best, unique, proved, tie_broken = _settle_by_solving(
            problem, chosen_set, best, rank, settled, solve, exact
        )
    funded = sorted(chosen_set, key=rank.__getitem__)
    money = money_formatter(instance)
    threshold_text = "" if minimum_support is None else _text(minimum_support)
    total = sum(problem.costs[index] for index in funded)
    outcomes = []
    for index, project in enumerate(projects):
        value = values[index]
        if index in chosen_set:
            reason = (
                f"funded: part of the set of greatest total welfare ({_text(best / scale)}); "
                f"it adds {_text(value)}"
            )
        elif index in below_threshold:
            reason = f"not funded: its support is below the minimum of {threshold_text}"
        elif index in fixed_zero:
            reason = "not funded: nobody supports it, so it adds no welfare"
        else:
            reason = (
                f"not funded: no set of greatest welfare within the budget and constraints "
                f"includes it (it would add {_text(value)}, costs {money(project.cost)})"
            )
        outcomes.append(
            ProjectOutcome(
                id=project.id,
                cost=project.cost,
                support=value,
                funded=index in chosen_set,
                reason=reason,
                details={"welfare": value, "mandatory": index in fixed_one},
            )
        )
    options: dict[str, object] = {"satisfaction": satisfaction}
    if minimum_support is not None:
        options["threshold"] = minimum_support
    for name, value_option in (
        ("category_min", category_min),
        ("category_max", category_max),
        ("neighbourhood_min", neighbourhood_min),
        ("neighbourhood_max", neighbourhood_max),
    ):
        if value_option:
            options[name] = dict(sorted(value_option.items()))
    if mandatory:
        options["mandatory"] = list(mandatory)
    if exclusive:
        options["exclusive"] = [list(group) for group in exclusive]
    if channel_weights:
        options["channel_weights"] = dict(sorted(channel_weights.items()))
    return Allocation(
        rule=rule,
        options=options,
        selected=tuple(projects[index].id for index in funded),
        total_cost=total,
        budget=instance.budget,
        unit=instance.unit,
        projects=tuple(outcomes),
        tie_break=order_rule.keys,
        voters_with_funded_project=voters_with_funded_project(profile, chosen_set),
        steps=(),
        solver={
            "name": "HiGHS (scipy.optimize.milp)",
            **status,
            "welfare": best / scale,
            "gap": 0 if exactly or status_code == 0 else status["solver_gap"],
            "optimality": _optimality(status_code, exactly, unique, proved),
            "proof": "exact" if exactly else "solver",
            "unique_optimum": unique,
            "tie_break_applied": tie_broken,
            "solves": solves,
        },
    )


def _optimality(status: int, exactly: bool, unique: bool, proved: bool) -> str:
    if exactly:
        return (
            "proved exactly: integer bounds leave no other set reaching this welfare"
            if unique
            else "proved exactly: integer bounds and search found every set reaching this "
            "welfare; the tie between them is broken as listed"
        )
    if status != 0:
        return "not proved: the solver stopped early (time limit); gap as reported"
    if not unique:
        return "HiGHS reports a gap of 0; the tie between optimal sets is broken as listed"
    if proved:
        return "proved by a second solve: no other set reaches this welfare"
    return "HiGHS reports a gap of 0; the second solve did not finish"


def _text(value: Support | Fraction) -> str:
    fraction = Fraction(value)
    return str(fraction.numerator) if fraction.denominator == 1 else str(fraction)
