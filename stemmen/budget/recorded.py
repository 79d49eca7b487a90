"""Apply the rule a pabulib file records it used, and compare with what the city funded.

An auditor checks a published result this way: META ``rule`` names the rule (with META
``min_project_score_threshold``, ``budget_per_category`` and ``leftover_budget`` where the city
used them) and the PROJECTS ``selected`` column records the official outcome.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from stemmen.budget.model import Allocation, Instance, Profile
from stemmen.budget.registry import allocate
from stemmen.budget.support import equal_channel_weights
from stemmen.budget.tiebreak import TieBreak

# META leftover_budget texts whose meaning is the usual greedy: fund the next that fits.
_FUND_NEXT_THAT_FITS = "fund additional projects that fit within leftover budget"
# Poznan's greedy-custom, in its META comment: stop at the first project that does not fit and
# fund it from a reserve when the budget left covers at least 80% of its cost.
POZNAN_RESERVE_SHARE = Fraction(4, 5)


class RecordedRuleError(ValueError):
    """The file records no rule, or one whose meaning is not well defined."""


@dataclass(frozen=True)
class RecordedPlan:
    """What META says was done, as a registry rule and its options."""

    recorded_rule: str
    rule: str
    options: Mapping[str, Any]
    note: str


@dataclass(frozen=True)
class RecordedResult:
    plan: RecordedPlan
    allocation: Allocation
    recorded_selected: tuple[str, ...] | None  # None: the file has no selected column

    @property
    def matches(self) -> bool | None:
        if self.recorded_selected is None:
            return None
        return set(self.recorded_selected) == set(self.allocation.selected)

    @property
    def only_recorded(self) -> tuple[str, ...]:
        if self.recorded_selected is None:
            return ()
        ours = set(self.allocation.selected)
        return tuple(pid for pid in self.recorded_selected if pid not in ours)

    @property
    def only_computed(self) -> tuple[str, ...]:
        if self.recorded_selected is None:
            return ()
        recorded = set(self.recorded_selected)
        return tuple(pid for pid in self.allocation.selected if pid not in recorded)

    def summary(self) -> str:
        if self.matches is None:
            return "the file has no selected column: nothing to compare with"
        if self.matches:
            return "the outcome equals the file's selected column"
        return (
            "the outcome differs from the file's selected column: "
            f"only recorded {list(self.only_recorded)}, only computed {list(self.only_computed)}"
        )


def recorded_selection(instance: Instance) -> tuple[str, ...] | None:
    """Projects the file marks as selected (any value but empty or 0), in file order."""
    if not any(column.lower() == "selected" for column in instance.project_columns):
        return None
    column = next(c for c in instance.project_columns if c.lower() == "selected")
    return tuple(
        project.id
        for project in instance.projects
        if project.attributes.get(column, "").strip() not in ("", "0")
    )


def category_caps(instance: Instance) -> dict[str, int]:
    """META ``budget_per_category``, aligned with META ``categories``, in minor units."""
    return _caps(instance, "budget_per_category", "categories")


def neighbourhood_caps(instance: Instance) -> dict[str, int]:
    """META ``budget_per_neighborhood``, aligned with META ``neighborhoods``, in minor units."""
    return _caps(instance, "budget_per_neighborhood", "neighborhoods")


def _caps(instance: Instance, caps_key: str, names_key: str) -> dict[str, int]:
    caps_text = instance.meta.get(caps_key, "").strip()
    if not caps_text:
        return {}
    names = [part.strip() for part in instance.meta.get(names_key, "").split(",")]
    amounts = [part.strip() for part in caps_text.split(",")]
    if len(names) != len(amounts):
        raise RecordedRuleError(
            f"META {caps_key} lists {len(amounts)} amounts for {len(names)} {names_key}"
        )
    return {
        name: int(Fraction(amount) * instance.unit)
        for name, amount in zip(names, amounts, strict=True)
    }


def _greedy_options(instance: Instance) -> tuple[dict[str, Any], list[str]]:
    options: dict[str, Any] = {}
    notes: list[str] = []
    caps = category_caps(instance)
    if caps:
        options["category_caps"] = caps
        notes.append("category caps from META budget_per_category")
    caps = neighbourhood_caps(instance)
    if caps:
        options["neighbourhood_caps"] = caps
        notes.append("neighbourhood caps from META budget_per_neighborhood")
    leftover = instance.meta.get("leftover_budget", "").strip()
    if leftover:
        if _FUND_NEXT_THAT_FITS not in leftover.lower():
            raise RecordedRuleError(f"META leftover_budget {leftover!r} is not understood")
        notes.append("leftover funds the next projects that fit (META leftover_budget)")
    return options, notes


def _threshold(instance: Instance) -> int:
    text = instance.meta.get("min_project_score_threshold", "").strip()
    if not text:
        raise RecordedRuleError("greedy-threshold without META min_project_score_threshold")
    return int(text)


def _plan_greedy(instance: Instance, recorded: str) -> RecordedPlan:
    options, notes = _greedy_options(instance)
    return RecordedPlan(recorded, "greedy", options, "; ".join(["greedy by support", *notes]))


def _plan_no_skip(instance: Instance, recorded: str) -> RecordedPlan:
    options, notes = _greedy_options(instance)
    return RecordedPlan(
        recorded,
        "greedy-no-skip",
        options,
        "; ".join(["greedy that stops at the first project that does not fit", *notes]),
    )


def _plan_threshold(instance: Instance, recorded: str) -> RecordedPlan:
    options, notes = _greedy_options(instance)
    threshold = _threshold(instance)
    options["threshold"] = threshold
    return RecordedPlan(
        recorded,
        "greedy-threshold",
        options,
        "; ".join([f"greedy among projects with support of at least {threshold}", *notes]),
    )


def _plan_poznan(instance: Instance, recorded: str) -> RecordedPlan:
    return RecordedPlan(
        recorded,
        "greedy",
        {"leftover": f"reserve:{POZNAN_RESERVE_SHARE}"},
        "greedy that stops at the first project that does not fit, and funds that one from "
        "a reserve when the budget left covers 80% of its cost (the file's META comment)",
    )


def _plan_exclusive(instance: Instance, recorded: str) -> RecordedPlan:
    # Warszawa's greedy-exclusive excludes projects that conflict with a better one; the file
    # does not say which conflict, so plain greedy is applied and the comparison tells.
    options, notes = _greedy_options(instance)
    return RecordedPlan(
        recorded,
        "greedy",
        options,
        "; ".join(
            ["greedy by support (the file does not list the mutually exclusive projects)", *notes]
        ),
    )


def _plan_mes(completion: str) -> Callable[[Instance, str], RecordedPlan]:
    def plan(instance: Instance, recorded: str) -> RecordedPlan:
        return RecordedPlan(
            recorded,
            "mes",
            {"satisfaction": "cost", "completion": completion},
            f"Method of Equal Shares, cost satisfaction, completion {completion}",
        )

    return plan


PLANS: dict[str, Callable[[Instance, str], RecordedPlan]] = {
    "greedy": _plan_greedy,
    "greedy-no-skip": _plan_no_skip,
    "greedy-threshold": _plan_threshold,
    "greedy-custom": _plan_poznan,
    "greedy-exclusive": _plan_exclusive,
    "equalshares": _plan_mes("none"),
    "equalshares/add1": _plan_mes("add1"),
}


def recorded_plan(instance: Instance) -> RecordedPlan:
    recorded = instance.meta.get("rule", "").strip()
    if not recorded or recorded == "unknown":
        raise RecordedRuleError("the file does not record which rule was used (META rule)")
    plan = PLANS.get(recorded)
    if plan is None:
        raise RecordedRuleError(f"META rule {recorded!r} is not one this engine can apply")
    if recorded == "greedy-custom" and "80%" not in instance.meta.get("comment", ""):
        raise RecordedRuleError("greedy-custom is defined only by Poznan's META comment")
    return plan(instance, recorded)


# Amsterdam's Buurtbudget files say, in META comment, that paper and internet ballots were
# weighted to count for half each.
_EQUAL_CHANNELS = "accounted for 50% of the outcome"


def _with_channel_weights(plan: RecordedPlan, instance: Instance, profile: Profile) -> RecordedPlan:
    if _EQUAL_CHANNELS not in instance.meta.get("comment", "") or plan.rule == "mes":
        return plan
    channels = [channel for channel in profile.channels() if channel]
    if len(channels) > 1 and len(channels) == len(profile.channels()):
        return RecordedPlan(
            plan.recorded_rule,
            plan.rule,
            {**plan.options, "channel_weights": equal_channel_weights(profile)},
            plan.note + "; each ballot channel counts for an equal share (META comment)",
        )
    return RecordedPlan(
        plan.recorded_rule,
        plan.rule,
        plan.options,
        plan.note + "; the file says ballot channels were weighted equally but records no "
        "channel per vote, so every ballot counts once",
    )


def as_recorded(
    instance: Instance, profile: Profile, *, tie_break: TieBreak | str | None = None
) -> RecordedResult:
    """Apply the recorded rule and set its outcome beside the recorded ``selected`` column."""
    plan = _with_channel_weights(recorded_plan(instance), instance, profile)
    allocation = allocate(
        instance, profile, plan.rule, tie_break=TieBreak.parse(tie_break), **plan.options
    )
    return RecordedResult(
        plan=plan, allocation=allocation, recorded_selected=recorded_selection(instance)
    )
