"""Greedy allocation: fund projects in order of support while the budget lasts.

One function covers the family a council can choose from: order by support or by support per
unit of cost; skip a project that does not fit and go on (the default) or stop there
(``greedy-no-skip``); a minimum support (absolute, or a share of the voters); caps on the spend
per category or per neighbourhood; what happens to the leftover (fund the next that fits, stop,
partially fund one more, or fund the next one from a reserve when enough of its cost is left);
and weights per ballot channel. Comparisons are exact: integers, and ``Fraction`` for support
per cost and for weighted support.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from stemmen.budget.model import (
    Allocation,
    Instance,
    Profile,
    ProjectOutcome,
    Support,
    voters_with_funded_project,
)
from stemmen.budget.support import project_support, resolve_measure
from stemmen.budget.tiebreak import TieBreak

LEFTOVER_POLICIES = ("skip", "stop", "partial", "reserve")


class GreedyOptionError(ValueError):
    """Options that do not make a rule."""


@dataclass(frozen=True)
class LeftoverPolicy:
    """What happens when a project does not fit.

    ``skip``: go on and fund the next projects that still fit (the usual greedy).
    ``stop``: stop at the first project that does not fit (Gdynia, Wroclaw: greedy-no-skip).
    ``partial``: like skip, then give what is left to the best project not funded (Amsterdam
    2022 partially funded one more project).
    ``reserve``: stop at the first project that does not fit, but fund it from a reserve when
    the budget left covers at least ``share`` of its cost (Poznan 2024: 80%).
    """

    kind: str = "skip"
    share: Fraction = Fraction(0)

    @classmethod
    def parse(cls, text: str | LeftoverPolicy | None) -> LeftoverPolicy:
        if text is None:
            return cls()
        if isinstance(text, LeftoverPolicy):
            return text
        kind, _, argument = text.strip().partition(":")
        if kind not in LEFTOVER_POLICIES:
            raise GreedyOptionError(
                f"unknown leftover policy {text!r}: use skip, stop, partial or reserve:SHARE"
            )
        if kind == "reserve":
            share = parse_share(argument or "0.8")
            return cls(kind, share)
        if argument:
            raise GreedyOptionError(f"leftover policy {kind!r} takes no argument")
        return cls(kind)

    def __str__(self) -> str:
        return f"reserve:{self.share}" if self.kind == "reserve" else self.kind


def parse_share(text: str) -> Fraction:
    text = text.strip()
    try:
        share = Fraction(text[:-1]) / 100 if text.endswith("%") else Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise GreedyOptionError(f"{text!r} is not a share (use 0.8, 4/5 or 80%)") from None
    if not 0 <= share <= 1:
        raise GreedyOptionError(f"share {text!r} is not between 0 and 1")
    return share


def threshold_value(
    threshold: Support | str | None, threshold_share: Fraction | str | None, voter_count: int
) -> Fraction | None:
    values: list[Fraction] = []
    if threshold is not None:
        values.append(Fraction(threshold))
    if threshold_share is not None:
        share = (
            parse_share(threshold_share)
            if isinstance(threshold_share, str)
            else Fraction(threshold_share)
        )
        values.append(share * voter_count)
    return max(values) if values else None


def _caps_by_group(
    instance: Instance, caps: Mapping[str, int] | None, groups: Sequence[tuple[str, ...]]
) -> dict[str, int]:
    if not caps:
        return {}
    known = {group for project_groups in groups for group in project_groups}
    unknown = sorted(set(caps) - known)
    if unknown:
        raise GreedyOptionError(f"caps name groups no project belongs to: {', '.join(unknown)}")
    return dict(caps)


NEIGHBOURHOOD_ATTRIBUTES = ("neighborhood", "neighbourhood", "district")


def project_neighbourhoods(
    instance: Instance, attribute: str | None = None
) -> list[tuple[str, ...]]:
    """The neighbourhood of each project, from its ``neighborhood`` (or ``district``) column."""
    names = (attribute,) if attribute else NEIGHBOURHOOD_ATTRIBUTES
    result: list[tuple[str, ...]] = []
    for project in instance.projects:
        value = next((project.attributes[n] for n in names if project.attributes.get(n)), "")
        result.append((value.strip(),) if value.strip() else ())
    return result


def greedy(
    instance: Instance,
    profile: Profile,
    *,
    rule: str = "greedy",
    support: str = "auto",
    per_cost: bool = False,
    leftover: str | LeftoverPolicy | None = None,
    threshold: Support | str | None = None,
    threshold_share: Fraction | str | None = None,
    category_caps: Mapping[str, int] | None = None,
    neighbourhood_caps: Mapping[str, int] | None = None,
    neighbourhood_attribute: str | None = None,
    channel_weights: Mapping[str, Fraction] | None = None,
    tie_break: TieBreak | str | None = None,
    support_values: Sequence[Support] | None = None,
) -> Allocation:
    """Fund projects greedily by support (or support per cost) and explain every decision.

    Projects without support stay candidates (as in pabutools); a threshold excludes them.
    ``support_values`` overrides the counted support (for callers that computed it already).
    """
    order_rule = TieBreak.parse(tie_break)
    policy = LeftoverPolicy.parse(leftover)
    measure = resolve_measure(profile, support)
    values: list[Support] = (
        list(support_values)
        if support_values is not None
        else project_support(instance, profile, measure, channel_weights)
    )
    minimum = threshold_value(threshold, threshold_share, profile.voter_count)
    categories = [project.categories for project in instance.projects]
    neighbourhoods = project_neighbourhoods(instance, neighbourhood_attribute)
    category_limit = _caps_by_group(instance, category_caps, categories)
    neighbourhood_limit = _caps_by_group(instance, neighbourhood_caps, neighbourhoods)
    projects = instance.projects
    money = money_formatter(instance)

    tie_key = order_rule.key_function(instance, values)

    def priority(index: int) -> tuple[object, ...]:
        value = values[index]
        if per_cost:
            cost = projects[index].cost
            # As pabutools: no support is worth nothing; a free supported project comes first.
            if value == 0:
                density: tuple[int, Fraction] = (1, Fraction(0))
            elif cost == 0:
                density = (0, Fraction(0))
            else:
                density = (1, -Fraction(value) / cost)
            return (*density, tie_key(index))
        return (-Fraction(value), tie_key(index))

    eligible = [
        index for index in range(len(projects)) if minimum is None or values[index] >= minimum
    ]
    ordered = sorted(eligible, key=priority)

    left = instance.budget
    spent_category: dict[str, int] = dict.fromkeys(category_limit, 0)
    spent_neighbourhood: dict[str, int] = dict.fromkeys(neighbourhood_limit, 0)
    funded: list[int] = []
    amounts: dict[int, int] = {}
    reasons: dict[int, str] = {}
    details: dict[int, dict[str, object]] = {}
    steps: list[Mapping[str, object]] = []
    stopped_at: int | None = None

    def blocking_cap(index: int) -> str | None:
        cost = projects[index].cost
        for group in categories[index]:
            cap = category_limit.get(group)
            if cap is not None and spent_category[group] + cost > cap:
                return (
                    f"the cap of {money(cap)} on category {group!r} would be exceeded "
                    f"({money(spent_category[group])} already spent there)"
                )
        for group in neighbourhoods[index]:
            cap = neighbourhood_limit.get(group)
            if cap is not None and spent_neighbourhood[group] + cost > cap:
                return (
                    f"the cap of {money(cap)} on neighbourhood {group!r} would be exceeded "
                    f"({money(spent_neighbourhood[group])} already spent there)"
                )
        return None

    def fund(index: int, amount: int, how: str) -> None:
        nonlocal left
        before = left
        left -= amount
        funded.append(index)
        amounts[index] = amount
        for group in categories[index]:
            if group in spent_category:
                spent_category[group] += amount
        for group in neighbourhoods[index]:
            if group in spent_neighbourhood:
                spent_neighbourhood[group] += amount
        step = len(funded)
        details[index] = {
            "step": step,
            "budget_left_when_reached": before,
            "budget_left_after": left,
        }
        reasons[index] = (
            f"{how} at step {step}: {_support_text(values[index], measure)}, costs "
            f"{money(projects[index].cost)}; {money(before)} was left when it was reached"
        )
        steps.append(
            {
                "step": step,
                "project": projects[index].id,
                "support": values[index],
                "cost": projects[index].cost,
                "amount": amount,
                "budget_left": left,
            }
        )

    for position, index in enumerate(ordered):
        project = projects[index]
        if stopped_at is not None:
            details[index] = {"budget_left_when_reached": None}
            reasons[index] = (
                f"not funded: the rule stopped at project {projects[stopped_at].id}, "
                "the first that did not fit, which ranks before it"
            )
            continue
        cap_reason = blocking_cap(index)
        if cap_reason is not None:
            details[index] = {"budget_left_when_reached": left, "blocked_by": "cap"}
            reasons[index] = f"not funded: {cap_reason}"
            continue
        if project.cost <= left:
            fund(index, project.cost, "funded")
            continue
        details[index] = {"budget_left_when_reached": left, "rank": position + 1}
        reasons[index] = (
            f"not funded: costs {money(project.cost)} but only {money(left)} was left when it "
            "was reached"
        )
        if policy.kind == "reserve":
            if left >= policy.share * project.cost:
                reached_with = left
                fund(index, project.cost, "funded from the reserve")
                details[index]["reserve_used"] = project.cost - reached_with
            stopped_at = index
        elif policy.kind == "stop":
            stopped_at = index

    if policy.kind == "partial" and left > 0:
        candidate = next(
            (
                index
                for index in ordered
                if index not in amounts and blocking_cap(index) is None and projects[index].cost > 0
            ),
            None,
        )
        if candidate is not None:
            amount = left
            fund(candidate, amount, "partially funded")
            details[candidate]["partial_amount"] = amount
            reasons[candidate] += f" (it receives {money(amount)}, what was left, of its cost)"

    outcomes: list[ProjectOutcome] = []
    for index, project in enumerate(projects):
        if minimum is not None and values[index] < minimum:
            reason = (
                f"not funded: {_support_text(values[index], measure)} is below the minimum "
                f"support of {_number(minimum)}"
            )
            detail: dict[str, object] = {"below_threshold": True}
        else:
            reason = reasons[index]
            detail = details[index]
        if per_cost and values[index] != 0 and project.cost:
            detail = {**detail, "support_per_cost": Fraction(values[index]) / project.cost}
        outcomes.append(
            ProjectOutcome(
                id=project.id,
                cost=project.cost,
                support=values[index],
                funded=index in amounts,
                reason=reason,
                details=detail,
            )
        )
    options: dict[str, object] = {
        "support": measure,
        "per_cost": per_cost,
        "leftover": str(policy),
    }
    if minimum is not None:
        options["threshold"] = minimum
    if category_limit:
        options["category_caps"] = dict(sorted(category_limit.items()))
    if neighbourhood_limit:
        options["neighbourhood_caps"] = dict(sorted(neighbourhood_limit.items()))
    if channel_weights:
        options["channel_weights"] = dict(sorted(channel_weights.items()))
    return Allocation(
        rule=rule,
        options=options,
        selected=tuple(projects[index].id for index in funded),
        total_cost=sum(amounts.values()),
        budget=instance.budget,
        unit=instance.unit,
        projects=tuple(outcomes),
        tie_break=order_rule.keys,
        voters_with_funded_project=voters_with_funded_project(profile, set(amounts)),
        steps=tuple(steps),
    )


def _number(value: Support) -> str:
    fraction = Fraction(value)
    return str(fraction.numerator) if fraction.denominator == 1 else str(fraction)


def _support_text(value: Support, measure: str) -> str:
    word = "votes" if measure == "voters" else "points"
    return f"{_number(value)} {word}"


def money_formatter(instance: Instance) -> Callable[[int | Fraction], str]:
    """Minor units as currency text for explanations: ``money(150050) == "1500.50 PLN"``."""
    currency = instance.meta.get("currency", "").strip()

    def money(minor: int | Fraction) -> str:
        if isinstance(minor, Fraction):
            if minor.denominator != 1:
                return f"{minor / instance.unit} {currency}".strip()
            minor = minor.numerator
        return f"{instance.money(minor)} {currency}".strip()

    return money


def greedy_no_skip(instance: Instance, profile: Profile, **options: Any) -> Allocation:
    """Greedy that stops at the first project that does not fit."""
    return greedy(instance, profile, rule="greedy-no-skip", leftover="stop", **options)


def greedy_per_cost(instance: Instance, profile: Profile, **options: Any) -> Allocation:
    """Greedy by support per unit of cost (bang per buck)."""
    return greedy(instance, profile, rule="greedy-per-cost", per_cost=True, **options)


def greedy_threshold(instance: Instance, profile: Profile, **options: Any) -> Allocation:
    """Greedy among the projects that reach a minimum support."""
    if options.get("threshold") is None and options.get("threshold_share") is None:
        raise GreedyOptionError("greedy-threshold needs threshold or threshold_share")
    return greedy(instance, profile, rule="greedy-threshold", **options)
