"""Every allocation rule under a stable name, so a rule set can pick one by name.

Adding a rule is one function and one line here. Each entry imports its module only when the
rule is run, so ``stemmen budget allocate --rule greedy`` never loads scipy.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, Protocol

from stemmen.budget.model import Allocation, Instance, Profile


class RuleFunction(Protocol):
    def __call__(self, instance: Instance, profile: Profile, **options: Any) -> Allocation: ...


class UnknownRuleError(KeyError):
    """A rule name the registry does not know, or whose module is not installed."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown rule"


def _lazy(module: str, function: str, **fixed: Any) -> RuleFunction:
    """A rule whose module is imported on first use; ``fixed`` options are always passed."""

    def run(instance: Instance, profile: Profile, **options: Any) -> Allocation:
        try:
            target: Callable[..., Allocation] = getattr(importlib.import_module(module), function)
        except (ImportError, AttributeError) as error:
            raise UnknownRuleError(f"rule {module}.{function} is not available: {error}") from None
        return target(instance, profile, **fixed, **options)

    run.__name__ = function
    run.__qualname__ = function
    run.__doc__ = f"{module}.{function}" + (f" with {fixed}" if fixed else "")
    return run


RULES: dict[str, RuleFunction] = {
    "greedy": _lazy("stemmen.budget.greedy", "greedy"),
    "greedy-no-skip": _lazy("stemmen.budget.greedy", "greedy_no_skip"),
    "greedy-per-cost": _lazy("stemmen.budget.greedy", "greedy_per_cost"),
    "greedy-threshold": _lazy("stemmen.budget.greedy", "greedy_threshold"),
    "max-welfare": _lazy("stemmen.budget.welfare", "max_welfare"),
    "mes": _lazy("stemmen.budget.mes", "equal_shares"),
    "phragmen": _lazy("stemmen.budget.phragmen", "phragmen"),
}


def rule_names() -> tuple[str, ...]:
    return tuple(RULES)


def allocate(instance: Instance, profile: Profile, rule: str, **options: Any) -> Allocation:
    """Run the rule registered as ``rule`` with its options."""
    try:
        function = RULES[rule]
    except KeyError:
        raise UnknownRuleError(
            f"unknown rule {rule!r}: use one of {', '.join(sorted(RULES))}"
        ) from None
    return function(instance, profile, **options)
