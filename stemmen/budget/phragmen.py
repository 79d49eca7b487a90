"""Sequential Phragmén for participatory budgets, exact.

Voters earn virtual money continuously; a project is bought as soon as its supporters together
can pay its cost, and those supporters then all hold the same load (what they have paid). In
discrete form: buying project j next would bring each supporter's load to
``(sum of its supporters' loads + cost_j) / supporters_j``; the project with the lowest such
maximum load is bought. The rule stops as soon as a project it would buy next (any project tied
at the lowest load) no longer fits in the budget. This is pabutools' ``sequential_phragmen``:
projects without support stay candidates (their load is infinite, so they come last, by the
tie-break), and projects costing more than the whole budget are never candidates.

Ballots that are not approval ballots count as approving every project they list. Loads are
``Fraction``; identical ballots are merged, and all ballots bought into by the same project
share one load value, so updating the loads after a purchase is one exact sum per project and
distinct load value.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from math import lcm

import numpy as np
import numpy.typing as npt

from stemmen.budget._exact import decimal_text, money_text
from stemmen.budget.model import (
    Allocation,
    Instance,
    Profile,
    ProjectOutcome,
    voters_with_funded_project,
)
from stemmen.budget.tiebreak import TieBreak

IntArray = npt.NDArray[np.int64]

# numpy sums integer weights in float64; below this bound every such sum is exact.
_EXACT_FLOAT_INTEGERS = 2**53


def phragmen(
    instance: Instance,
    profile: Profile,
    *,
    tie_break: TieBreak | str | None = None,
    channel_weights: Mapping[str, Fraction] | None = None,
    rule: str = "phragmen",
) -> Allocation:
    """Sequential Phragmén with an explanation for every project."""
    order_rule = TieBreak.parse(tie_break)
    projects = instance.projects
    count = len(projects)
    ballots = profile.merged(channel_weights)
    scale = lcm(1, *(ballot.weight.denominator for ballot in ballots))
    weights = np.asarray([int(ballot.weight * scale) for ballot in ballots], dtype=np.int64)
    if int(weights.sum()) >= _EXACT_FLOAT_INTEGERS:
        raise ValueError("too many voters for exact weighted counting")
    members: list[list[int]] = [[] for _ in range(count)]
    for position, ballot in enumerate(ballots):
        for index in ballot.projects:
            members[index].append(position)
    supporters: list[IntArray] = [np.asarray(group, dtype=np.int64) for group in members]
    float_weights = weights.astype(np.float64)
    scores = [int(weights[group].sum()) for group in supporters]
    support = [Fraction(score, scale) for score in scores]
    rank = order_rule.rank(instance, support)
    costs = [project.cost for project in projects]
    budget = instance.budget

    # load_of[b] indexes loads: the load each unit of weight of ballot b carries.
    loads: list[Fraction] = [Fraction(0)]
    load_of = np.zeros(len(ballots), dtype=np.int64)
    carried = [Fraction(0)] * count  # sum of the supporters' loads, weighted
    remaining = {index for index in range(count) if costs[index] <= budget}
    too_expensive = [index for index in range(count) if costs[index] > budget]
    spent = 0
    bought: list[tuple[int, Fraction | None]] = []
    stop: tuple[int, Fraction | None] | None = None

    def new_load(index: int) -> Fraction | None:
        if scores[index] == 0:
            return None  # nobody can ever pay for it: an infinite load
        return (carried[index] + costs[index]) / scores[index]

    while remaining:
        best: Fraction | None = None
        tied: list[int] = []
        infinite = True
        for index in remaining:
            load = new_load(index)
            if load is None:
                if infinite:
                    tied.append(index)
                continue
            if infinite or best is None or load < best:
                best, tied, infinite = load, [index], False
            elif load == best:
                tied.append(index)
        tied.sort(key=rank.__getitem__)
        blocked = [index for index in tied if spent + costs[index] > budget]
        if blocked:
            stop = (blocked[0], best)
            break
        chosen = tied[0]
        remaining.discard(chosen)
        spent += costs[chosen]
        bought.append((chosen, best))
        group = supporters[chosen]
        if best is None or len(group) == 0:
            continue
        level = best
        loads.append(level)
        level_id = len(loads) - 1
        in_chosen = np.zeros(len(ballots), dtype=np.bool_)
        in_chosen[group] = True
        for index in remaining:
            shared = supporters[index][in_chosen[supporters[index]]]
            if len(shared) == 0:
                continue
            by_load = np.bincount(load_of[shared], weights=float_weights[shared])
            present = np.flatnonzero(by_load)
            for load_id, weight in zip(
                present.tolist(), by_load[present].astype(np.int64).tolist(), strict=True
            ):
                carried[index] += weight * (level - loads[load_id])
        load_of[group] = level_id

    return _allocation(
        instance,
        profile,
        rule=rule,
        order_rule=order_rule,
        channel_weights=channel_weights,
        support=support,
        scale=scale,
        bought=bought,
        stop=stop,
        too_expensive=too_expensive,
    )


def _allocation(
    instance: Instance,
    profile: Profile,
    *,
    rule: str,
    order_rule: TieBreak,
    channel_weights: Mapping[str, Fraction] | None,
    support: list[Fraction],
    scale: int,
    bought: list[tuple[int, Fraction | None]],
    stop: tuple[int, Fraction | None] | None,
    too_expensive: list[int],
) -> Allocation:
    projects = instance.projects
    unit = instance.unit
    reasons: dict[int, str] = {}
    details: dict[int, dict[str, object]] = {}
    steps: list[Mapping[str, object]] = []
    spent = 0
    for step, (index, level) in enumerate(bought, start=1):
        spent += projects[index].cost
        if level is None:
            reasons[index] = (
                f"funded by Phragmén at step {step}: nobody supports it, but every supported "
                "project was bought and it still fits"
            )
            details[index] = {"step": step, "load": None}
            steps.append({"step": step, "project": projects[index].id, "load": None})
            continue
        per_voter = level * scale  # a voter of weight 1
        reasons[index] = (
            f"funded by Phragmén at step {step}: its supporters' load rose to "
            f"{money_text(per_voter, unit)} each"
        )
        details[index] = {
            "step": step,
            "load": per_voter,
            "load_decimal": decimal_text(per_voter / unit, 6),
        }
        steps.append(
            {
                "step": step,
                "project": projects[index].id,
                "load": per_voter,
                "cost": projects[index].cost,
                "spent": spent,
            }
        )
    funded = {index for index, _ in bought}
    for index in too_expensive:
        reasons[index] = (
            f"not funded: it costs {money_text(projects[index].cost, unit)}, more than the "
            "whole budget"
        )
        details[index] = {"too_expensive": True}
    if stop is not None:
        blocker, level = stop
        left = instance.budget - spent
        why = (
            f"project {projects[blocker].id} was next (lowest load"
            + (f" {money_text(level * scale, unit)}" if level is not None else ", no support")
            + f") but costs {money_text(projects[blocker].cost, unit)} with only "
            f"{money_text(left, unit)} left"
        )
        for index in range(len(projects)):
            if index not in funded and index not in reasons:
                reasons[index] = f"not funded: Phragmén stopped after step {len(bought)}: {why}"
                details[index] = {"stopped_after_step": len(bought), "budget_left": left}
    outcomes = tuple(
        ProjectOutcome(
            id=project.id,
            cost=project.cost,
            support=support[index].numerator if support[index].denominator == 1 else support[index],
            funded=index in funded,
            reason=reasons[index],
            details=details[index],
        )
        for index, project in enumerate(projects)
    )
    options: dict[str, object] = {}
    if channel_weights:
        options["channel_weights"] = dict(sorted(channel_weights.items()))
    return Allocation(
        rule=rule,
        options=options,
        selected=tuple(projects[index].id for index, _ in bought),
        total_cost=spent,
        budget=instance.budget,
        unit=unit,
        projects=outcomes,
        tie_break=order_rule.keys,
        voters_with_funded_project=voters_with_funded_project(profile, funded),
        steps=tuple(steps),
    )
