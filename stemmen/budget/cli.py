"""``stemmen budget``: allocate a participatory budget from a pabulib file, or compare rules.

Only the modules a rule needs are imported: ``--rule greedy`` never loads numpy or scipy.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import Any

import click

from stemmen.budget.model import Allocation, Instance, Profile, format_money
from stemmen.budget.pabulib import PabulibError, read_pabulib
from stemmen.budget.registry import RULES, UnknownRuleError, allocate
from stemmen.budget.tiebreak import TieBreak, TieBreakError

SATISFACTIONS = ("cost", "cardinality", "points")
COMPLETIONS = ("none", "add1", "greedy", "add1-greedy")
GREEDY_RULES = ("greedy", "greedy-no-skip", "greedy-per-cost", "greedy-threshold")
AS_RECORDED = "as-recorded"

# What `compare` runs, as a council would weigh them: label, rule, options.
COMPARED_RULES: tuple[tuple[str, str, Mapping[str, Any]], ...] = (
    ("greedy", "greedy", {}),
    ("greedy-per-cost", "greedy-per-cost", {}),
    ("max-welfare/cardinality", "max-welfare", {"satisfaction": "cardinality"}),
    ("max-welfare/cost", "max-welfare", {"satisfaction": "cost"}),
    ("mes/cost/add1", "mes", {"satisfaction": "cost", "completion": "add1"}),
    ("phragmen", "phragmen", {}),
)


@contextmanager
def _short_lived() -> Iterator[None]:
    """Run a command as the short-lived process it usually is.

    A command reads one file, runs, prints and ends; what it builds lives to the end and holds
    almost no cycles, yet the cyclic garbage collector kept walking it: most of all while scipy
    is imported (tens of thousands of objects) and once more at exit. So the collector is off
    (reference counting still frees what is dropped). Run as its own process (standard output
    is the real one), what is left is frozen so the collections at exit skip it, and OpenBLAS,
    which numpy and scipy load though no rule multiplies matrices, starts one thread rather than
    a pool per core (unless the environment says otherwise). Inside another program (a test
    runner, a notebook) the collector comes back as it was and the environment is untouched.
    """
    own_process = sys.stdout is sys.__stdout__
    if own_process and "numpy" not in sys.modules:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if own_process:
            gc.freeze()
        if enabled:
            gc.enable()


def _progress(enabled: bool) -> Callable[[str], None]:
    started = time.perf_counter()

    def say(message: str) -> None:
        if enabled:
            click.echo(f"[{time.perf_counter() - started:6.2f}s] {message}", err=True)

    return say


def _read(path: Path, say: Callable[[str], None]) -> tuple[Instance, Profile]:
    say(f"reading {path.name}")
    try:
        instance, profile = read_pabulib(path)
    except PabulibError as error:
        raise click.ClickException(f"{path}: {error}") from None
    except OSError as error:
        raise click.ClickException(f"{path}: {error.strerror or error}") from None
    say(f"read {len(instance.projects)} projects and {profile.voter_count} voters")
    return instance, profile


def _parse_channel_weights(text: str | None, profile: Profile) -> dict[str, Fraction] | None:
    if not text:
        return None
    if text == "equal":
        from stemmen.budget.support import equal_channel_weights

        return equal_channel_weights(profile)
    weights: dict[str, Fraction] = {}
    for part in text.split(","):
        channel, separator, weight = part.partition("=")
        if not separator:
            raise click.BadParameter(
                f"{part!r}: use CHANNEL=WEIGHT", param_hint="--channel-weights"
            )
        try:
            weights[channel.strip()] = Fraction(weight.strip())
        except (ValueError, ZeroDivisionError):
            raise click.BadParameter(
                f"{weight!r} is not a number", param_hint="--channel-weights"
            ) from None
    return weights


def rule_options(
    rule: str,
    *,
    satisfaction: str | None,
    completion: str | None,
    threshold: str | None = None,
    threshold_share: str | None = None,
    leftover: str | None = None,
    channel_weights: Mapping[str, Fraction] | None = None,
) -> dict[str, Any]:
    """The registry options a rule takes from the command line; refuse what it does not take."""
    options: dict[str, Any] = {}
    if completion is not None and rule != "mes":
        raise click.UsageError(f"--completion applies to mes only, not {rule}")
    if rule in GREEDY_RULES:
        if satisfaction is not None:
            options["support"] = "points" if satisfaction == "points" else "voters"
        if threshold is not None:
            options["threshold"] = Fraction(threshold)
        if threshold_share is not None:
            options["threshold_share"] = threshold_share
        if leftover is not None:
            options["leftover"] = leftover
        if channel_weights:
            options["channel_weights"] = channel_weights
        return options
    if leftover is not None:
        raise click.UsageError("--leftover applies to greedy rules")
    if threshold is not None or threshold_share is not None:
        if rule != "max-welfare":
            raise click.UsageError(
                "--threshold and --threshold-share apply to greedy and max-welfare"
            )
        if threshold is not None:
            options["threshold"] = Fraction(threshold)
        if threshold_share is not None:
            options["threshold_share"] = threshold_share
    if rule == "max-welfare":
        options["satisfaction"] = satisfaction or "cardinality"
    elif rule == "mes":
        options["satisfaction"] = satisfaction or "cost"
        options["completion"] = completion or "none"
    elif satisfaction is not None:
        raise click.UsageError(f"--satisfaction does not apply to {rule}")
    if channel_weights:
        options["channel_weights"] = channel_weights
    return options


@click.group("budget")
def budget() -> None:
    """Allocate a participatory budget from a pabulib (.pb) file, exactly."""


@budget.command("allocate")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--rule",
    default="greedy",
    show_default=True,
    type=click.Choice([*RULES, AS_RECORDED]),
    help="Allocation rule; as-recorded applies the rule the file records and compares.",
)
@click.option("--satisfaction", type=click.Choice(SATISFACTIONS), help="mes, max-welfare.")
@click.option("--completion", type=click.Choice(COMPLETIONS), help="mes only.")
@click.option(
    "--tie-break",
    default="id",
    show_default=True,
    help="Ordered list, e.g. more-support,lower-cost,lottery:SEED (id is always last).",
)
@click.option(
    "--threshold",
    help="Greedy: minimum support (absolute); greedy-threshold defaults to the file's "
    "META min_project_score_threshold.",
)
@click.option("--threshold-share", help="Greedy: minimum support as a share of voters (0.1, 10%).")
@click.option("--leftover", help="Greedy: skip (default), stop, partial or reserve:SHARE.")
@click.option(
    "--channel-weights",
    help="Weights per voting_method, e.g. paper=1/2,internet=1/2, or 'equal'.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
@click.option("--quiet", "-q", is_flag=True, help="No progress on stderr.")
@_short_lived()
def allocate_command(
    file: Path,
    rule: str,
    satisfaction: str | None,
    completion: str | None,
    tie_break: str,
    threshold: str | None,
    threshold_share: str | None,
    leftover: str | None,
    channel_weights: str | None,
    output_format: str,
    quiet: bool,
) -> None:
    """Allocate the budget of FILE with one rule and explain every project.

    With --rule as-recorded the exit status is 1 when the outcome differs from the file's
    selected column.
    """
    say = _progress(not quiet)
    try:
        order = TieBreak.parse(tie_break)
    except TieBreakError as error:
        raise click.BadParameter(str(error), param_hint="--tie-break") from None
    instance, profile = _read(file, say)
    if rule == AS_RECORDED:
        _as_recorded(instance, profile, order, output_format, say)
        return
    if rule == "greedy-threshold" and threshold is None and threshold_share is None:
        # An auditor's file usually records the threshold its city used.
        threshold = instance.meta.get("min_project_score_threshold") or None
        if threshold is None:
            raise click.UsageError(
                "greedy-threshold needs --threshold or --threshold-share "
                "(or META min_project_score_threshold in the file)"
            )
    options = rule_options(
        rule,
        satisfaction=satisfaction,
        completion=completion,
        threshold=threshold,
        threshold_share=threshold_share,
        leftover=leftover,
        channel_weights=_parse_channel_weights(channel_weights, profile),
    )
    if rule == "mes" and not quiet:
        options["progress"] = say  # MES with add1 can take a while on city-wide files
    say(f"running {rule}")
    allocation = _run(instance, profile, rule, order, options)
    say("done")
    if output_format == "json":
        click.echo(json.dumps(allocation.to_json(), ensure_ascii=False, indent=1))
    else:
        click.echo(render_text(instance, allocation))


def _run(
    instance: Instance,
    profile: Profile,
    rule: str,
    order: TieBreak,
    options: Mapping[str, Any],
) -> Allocation:
    try:
        return allocate(instance, profile, rule, tie_break=order, **options)
    except UnknownRuleError as error:
        raise click.ClickException(str(error)) from None
    except ValueError as error:
        raise click.ClickException(f"{rule}: {error}") from None


def _as_recorded(
    instance: Instance,
    profile: Profile,
    order: TieBreak,
    output_format: str,
    say: Callable[[str], None],
) -> None:
    from stemmen.budget.recorded import RecordedRuleError, as_recorded

    try:
        say(f"applying the recorded rule {instance.meta.get('rule', '')!r}")
        result = as_recorded(instance, profile, tie_break=order)
    except RecordedRuleError as error:
        raise click.ClickException(str(error)) from None
    if output_format == "json":
        payload = result.allocation.to_json()
        payload["as_recorded"] = {
            "recorded_rule": result.plan.recorded_rule,
            "applied": result.plan.note,
            "recorded_selected": None
            if result.recorded_selected is None
            else list(result.recorded_selected),
            "matches": result.matches,
            "only_recorded": list(result.only_recorded),
            "only_computed": list(result.only_computed),
        }
        click.echo(json.dumps(payload, ensure_ascii=False, indent=1))
    else:
        click.echo(f"recorded rule: {result.plan.recorded_rule} -> {result.plan.note}")
        click.echo(render_text(instance, result.allocation))
        click.echo(f"as recorded: {result.summary()}")
    if result.matches is False:
        sys.exit(1)


def render_text(instance: Instance, allocation: Allocation) -> str:
    """A report a person reads: totals, then every project with its fate and reason."""
    unit = instance.unit
    currency = instance.meta.get("currency", "")
    lines = [
        f"rule: {allocation.rule}"
        + (
            " (" + ", ".join(f"{k}={_plain(v)}" for k, v in allocation.options.items()) + ")"
            if allocation.options
            else ""
        ),
        f"tie-break: {','.join(allocation.tie_break)}",
        f"budget: {format_money(allocation.budget, unit)} {currency}".rstrip(),
        f"spent: {format_money(allocation.total_cost, unit)}   "
        f"leftover: {format_money(allocation.leftover, unit)}",
        f"funded: {len(allocation.selected)} of {len(allocation.projects)} projects; "
        f"{allocation.voters_with_funded_project} voters see at least one funded project",
    ]
    if allocation.solver:
        lines.append(
            "solver: " + ", ".join(f"{k}={_plain(v)}" for k, v in allocation.solver.items())
        )
    lines.append("selected (in order): " + ", ".join(allocation.selected))
    lines.append("")
    width = max((len(outcome.id) for outcome in allocation.projects), default=2)
    for outcome in allocation.projects:
        mark = "+" if outcome.funded else "-"
        lines.append(f"{mark} {outcome.id:<{width}}  {outcome.reason}")
    return "\n".join(lines)


def _plain(value: object) -> str:
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_plain(v)}" for k, v in value.items()) + "}"
    return str(value)


@budget.command("compare")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--tie-break", default="id", show_default=True, help="As for allocate.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
@click.option("--quiet", "-q", is_flag=True, help="No progress on stderr.")
@_short_lived()
def compare_command(file: Path, tie_break: str, output_format: str, quiet: bool) -> None:
    """Run the rules side by side on FILE: funded projects, differences, spend, reach."""
    say = _progress(not quiet)
    try:
        order = TieBreak.parse(tie_break)
    except TieBreakError as error:
        raise click.BadParameter(str(error), param_hint="--tie-break") from None
    instance, profile = _read(file, say)
    results: list[tuple[str, Allocation | str]] = []
    for label, rule, options in COMPARED_RULES:
        say(f"running {label}")
        started = time.perf_counter()
        extra = {"progress": say} if rule == "mes" and not quiet else {}
        try:
            results.append(
                (label, allocate(instance, profile, rule, tie_break=order, **options, **extra))
            )
        except Exception as error:  # one failing rule must not hide the others
            results.append((label, f"not available: {error}"))
        say(f"{label} took {time.perf_counter() - started:.2f}s")
    try:
        from stemmen.budget.recorded import RecordedRuleError, as_recorded

        say("running as-recorded")
        recorded = as_recorded(instance, profile, tie_break=order)
        results.append((f"as-recorded ({recorded.plan.recorded_rule})", recorded.allocation))
    except (RecordedRuleError, UnknownRuleError, ValueError):
        pass
    allocations = [(label, result) for label, result in results if isinstance(result, Allocation)]
    funded_by: dict[str, list[str]] = {
        project.id: [label for label, a in allocations if project.id in a.selected]
        for project in instance.projects
    }
    differing = [
        project.id
        for project in instance.projects
        if 0 < len(funded_by[project.id]) < len(allocations)
    ]
    if output_format == "json":
        click.echo(
            json.dumps(
                {
                    "file": file.name,
                    "tie_break": list(order.keys),
                    "rules": [
                        {"label": label, **result.to_json()}
                        if isinstance(result, Allocation)
                        else {"label": label, "error": result}
                        for label, result in results
                    ],
                    "differences": {pid: funded_by[pid] for pid in differing},
                    "funded_by_all": [
                        p.id for p in instance.projects if len(funded_by[p.id]) == len(allocations)
                    ],
                },
                ensure_ascii=False,
                indent=1,
            )
        )
        return
    unit = instance.unit
    label_width = max(len(label) for label, _ in results)
    click.echo(
        f"{file.name}: budget {format_money(instance.budget, unit)} "
        f"{instance.meta.get('currency', '')}, {len(instance.projects)} projects, "
        f"{profile.voter_count} voters"
    )
    click.echo(f"{'rule':<{label_width}}  funded  {'spent':>14}  {'leftover':>12}  reached")
    for label, result in results:
        if isinstance(result, str):
            click.echo(f"{label:<{label_width}}  {result}")
            continue
        click.echo(
            f"{label:<{label_width}}  {len(result.selected):>6}  "
            f"{format_money(result.total_cost, unit):>14}  "
            f"{format_money(result.leftover, unit):>12}  "
            f"{result.voters_with_funded_project:>7}"
        )
    common = [p.id for p in instance.projects if len(funded_by[p.id]) == len(allocations)]
    click.echo(f"\nfunded by every rule ({len(common)}): {', '.join(common) or 'none'}")
    if differing:
        click.echo(f"funded by some rules only ({len(differing)}):")
        for project_id in differing:
            click.echo(f"  {project_id}: {', '.join(funded_by[project_id])}")
    else:
        click.echo("every rule funds the same projects")
