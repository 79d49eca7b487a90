"""Budget engine against pabutools, on the same instances, in one run.

For every instance and rule it prints our time in-process (the rule alone, file already read),
our time as a whole ``stemmen budget allocate`` process (start-up, reading, rule, JSON out),
pabutools' time (the rule alone, in a child process so a run that never ends can be stopped),
the ratio pabutools / ours (in-process) and whether both selected the same projects
("tie": two different optimal sets of max-welfare, both fitting, with the same welfare).

Times are CPU seconds (user + system, of this process or of the child), not wall-clock time:
the machine this runs on is shared, and CPU time is what a single-threaded run costs whatever
else runs beside it. A timeout is wall-clock.

    .venv/bin/python benchmarks/budget.py                      # every real file, every rule
    .venv/bin/python benchmarks/budget.py --files Assen,Lodz --rules mes,mes-add1
    .venv/bin/python benchmarks/budget.py --pabutools-timeout 60 --markdown /tmp/table.md
    .venv/bin/python benchmarks/budget.py --synthetic-only     # 100,000 voters, 500 projects

Rules: greedy (by approvals), max-welfare (cardinality), mes (cost satisfaction), mes-add1 (cost
satisfaction, add1 completion), phragmen. pabutools equivalents: greedy_utilitarian_welfare with
Cost_Sat, max_additive_utilitarian_welfare with Cardinality_Sat, method_of_equal_shares with
Cost_Sat (and voter_budget_increment=1), sequential_phragmen; pabutools gets its own parsed
profile merged into a multiprofile (identical ballots counted once, which makes it faster).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stemmen.budget.model import Allocation, Instance, Profile  # noqa: E402
from stemmen.budget.pabulib import read_pabulib, write_pabulib  # noqa: E402
from stemmen.budget.registry import allocate  # noqa: E402
from tests.support import PABULIB_DIR, pabulib_files  # noqa: E402

STEMMEN = ROOT / ".venv" / "bin" / "stemmen"
PYTHON = ROOT / ".venv" / "bin" / "python"

# name -> (our registry options, our CLI arguments)
RULES: dict[str, tuple[dict[str, Any], list[str]]] = {
    "greedy": ({"rule": "greedy", "support": "voters"}, ["--rule", "greedy"]),
    "max-welfare": (
        {"rule": "max-welfare", "satisfaction": "cardinality"},
        ["--rule", "max-welfare", "--satisfaction", "cardinality"],
    ),
    "mes": (
        {"rule": "mes", "satisfaction": "cost", "completion": "none"},
        ["--rule", "mes", "--satisfaction", "cost"],
    ),
    "mes-add1": (
        {"rule": "mes", "satisfaction": "cost", "completion": "add1"},
        ["--rule", "mes", "--satisfaction", "cost", "--completion", "add1"],
    ),
    "phragmen": ({"rule": "phragmen"}, ["--rule", "phragmen"]),
}

PABUTOOLS_CHILD = r"""
import json, sys, time
from pabutools.election import parse_pabulib, Cost_Sat, Cardinality_Sat
from pabutools.election.profile import AbstractApprovalProfile
from pabutools.rules import (greedy_utilitarian_welfare, max_additive_utilitarian_welfare,
    method_of_equal_shares, sequential_phragmen)
path, rule, merge = sys.argv[1], sys.argv[2], sys.argv[3] == "merge"
started = time.process_time()
instance, profile = parse_pabulib(path)
if merge:
    profile = profile.as_multiprofile()
parsed = time.process_time()
if rule == "greedy":
    result = greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat)
elif rule == "max-welfare":
    result = max_additive_utilitarian_welfare(instance, profile, sat_class=Cardinality_Sat)
elif rule == "mes":
    result = method_of_equal_shares(instance, profile, sat_class=Cost_Sat)
elif rule == "mes-add1":
    result = method_of_equal_shares(instance, profile, sat_class=Cost_Sat, voter_budget_increment=1)
elif rule == "phragmen":
    if not isinstance(profile, AbstractApprovalProfile):
        print(json.dumps({"error": "approval ballots only"}))
        sys.exit(0)
    result = sequential_phragmen(instance, profile)
done = time.process_time()
print(json.dumps({"parse": parsed - started, "rule": done - parsed,
                  "selected": sorted(p.name for p in result)}))
"""


@dataclass
class Row:
    instance: str
    voters: int
    projects: int
    rule: str
    ours: float | None = None
    ours_process: float | None = None
    pabutools: float | None = None
    pabutools_note: str = ""
    ours_note: str = ""
    same: str = ""

    def ratio(self) -> float | None:
        if self.ours is None or self.pabutools is None or self.ours == 0:
            return None
        return self.pabutools / self.ours


def time_in_process(
    function: Callable[[], Allocation], budget_seconds: float = 1.0
) -> tuple[float, Allocation]:
    """Best of a few runs (one run when a run is slow)."""
    started = time.process_time()
    result = function()
    best = time.process_time() - started
    spent = best
    while spent < budget_seconds and best < 0.3:
        started = time.process_time()
        result = function()
        elapsed = time.process_time() - started
        best = min(best, elapsed)
        spent += elapsed
    return best, result


OURS_CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from stemmen.budget.pabulib import read_pabulib
from stemmen.budget.registry import allocate
instance, profile = read_pabulib(sys.argv[2])
options = json.loads(sys.argv[4])
best = None
spent = 0.0
while best is None or (spent < 1.0 and best < 0.3):
    started = time.process_time()
    result = allocate(instance, profile, sys.argv[3], **options)
    elapsed = time.process_time() - started
    best = elapsed if best is None else min(best, elapsed)
    spent += elapsed
print(json.dumps({"rule": best, "selected": sorted(result.selected)}))
"""


def time_ours_child(
    path: Path, rule: str, options: dict[str, Any], timeout: float
) -> tuple[float | None, str, list[str] | None]:
    """Our rule alone (best of a few runs), in a child process that a timeout can stop."""
    try:
        finished = subprocess.run(
            [str(PYTHON), "-c", OURS_CHILD, str(ROOT), str(path), rule, json.dumps(options)],
            capture_output=True,
            check=False,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return None, f"timeout > {timeout:g} s", None
    if finished.returncode != 0:
        return None, "error: " + finished.stderr.decode().strip().splitlines()[-1][:60], None
    answer = json.loads(finished.stdout.decode().strip().splitlines()[-1])
    return float(answer["rule"]), "", list(answer["selected"])


def time_process(path: Path, arguments: list[str], repeats: int = 2) -> float | None:
    command = [str(STEMMEN), "budget", "allocate", str(path), *arguments, "--format", "json", "-q"]
    best: float | None = None
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        finished = subprocess.run(command, capture_output=True, check=False, cwd=ROOT)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        elapsed = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if finished.returncode not in (0, 1):
            print(f"    ! stemmen failed: {finished.stderr.decode()[-300:]}", file=sys.stderr)
            return None
        best = elapsed if best is None else min(best, elapsed)
    return best


PABUTOOLS_CACHE: dict[str, Any] = {}
OURS_CACHE: dict[str, Any] = {}
MERGE_FOR_PABUTOOLS = [True]
CACHE_PATH: list[Path] = []


def time_pabutools(path: Path, rule: str, timeout: float) -> tuple[float | None, str, list[str]]:
    """pabutools' time, from the cache file when one is given and holds this measurement."""
    key = f"{path.name}|{rule}" + ("" if MERGE_FOR_PABUTOOLS[0] else "|plain")
    if key in PABUTOOLS_CACHE:
        seconds_taken, note, selected = PABUTOOLS_CACHE[key]
        if (
            seconds_taken is not None
            or not note.startswith("timeout")
            or timeout <= float(note.split(">")[1].split()[0])
        ):
            return seconds_taken, note, selected
    result = _measure_pabutools(path, rule, timeout)
    if CACHE_PATH:
        PABUTOOLS_CACHE[key] = result
        CACHE_PATH[0].write_text(json.dumps(PABUTOOLS_CACHE, indent=1), encoding="utf-8")
    return result


def _measure_pabutools(
    path: Path, rule: str, timeout: float
) -> tuple[float | None, str, list[str]]:
    try:
        finished = subprocess.run(
            [
                str(PYTHON),
                "-c",
                PABUTOOLS_CHILD,
                str(path),
                rule,
                "merge" if MERGE_FOR_PABUTOOLS[0] else "plain",
            ],
            capture_output=True,
            check=False,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return None, f"timeout > {timeout:g} s", []
    if finished.returncode != 0:
        return None, "error: " + finished.stderr.decode().strip().splitlines()[-1][:60], []
    answer = json.loads(finished.stdout.decode().strip().splitlines()[-1])
    if "error" in answer:
        return None, answer["error"], []
    return float(answer["rule"]), "", list(answer["selected"])


def synthetic(
    voters: int = 100_000, projects: int = 500, seed: int = 2024
) -> tuple[Instance, Profile]:
    """A large city-wide approval election: skewed popularity, 1 to 10 approvals per ballot."""
    import numpy as np

    from stemmen.budget.model import Project, Voter

    generator = np.random.default_rng(seed)
    costs = generator.integers(10, 500, size=projects) * 1000
    popularity = generator.pareto(1.5, size=projects) + 0.1
    popularity /= popularity.sum()
    lengths = generator.integers(1, 11, size=voters)
    ballots = []
    for voter, length in enumerate(lengths.tolist()):
        chosen = generator.choice(projects, size=length, replace=False, p=popularity)
        ballots.append(Voter(id=str(voter + 1), projects=tuple(sorted(chosen.tolist()))))
    instance = Instance(
        projects=tuple(
            Project(id=str(index + 1), cost=int(cost)) for index, cost in enumerate(costs)
        ),
        budget=int(costs.sum()) // 5,
        unit=1,
        meta={"description": "synthetic", "vote_type": "approval"},
    )
    return instance, Profile(vote_type="approval", voters=tuple(ballots))


def run_file(
    label: str,
    path: Path,
    instance: Instance,
    profile: Profile,
    rules: list[str],
    arguments: argparse.Namespace,
) -> list[Row]:
    rows = []
    for rule in rules:
        options, cli = RULES[rule]
        row = Row(label, profile.voter_count, len(instance.projects), rule)
        if rule == "phragmen" and profile.vote_type != "approval":
            row.pabutools_note = "approval ballots only"
        options = dict(options)
        name = options.pop("rule")
        key = f"{path.name}|{rule}"
        if key in OURS_CACHE:
            row.ours, row.ours_note, ours_selected, row.ours_process = OURS_CACHE[key]
        else:
            print(f"  {label} {rule}: ours ...", file=sys.stderr, flush=True)
            ours_selected = None
            if arguments.ours_timeout:
                row.ours, row.ours_note, ours_selected = time_ours_child(
                    path, name, options, arguments.ours_timeout
                )
            else:
                row.ours, result = time_in_process(
                    lambda name=name, options=options: allocate(instance, profile, name, **options)
                )
                ours_selected = sorted(result.selected)
            if not arguments.no_process and row.ours is not None:
                row.ours_process = time_process(path, cli, 1 if row.ours > 2 else 2)
            if arguments.ours_cache:
                OURS_CACHE[key] = [row.ours, row.ours_note, ours_selected, row.ours_process]
                arguments.ours_cache.write_text(json.dumps(OURS_CACHE, indent=1), "utf-8")
        pabutools_key = key + ("" if MERGE_FOR_PABUTOOLS[0] else "|plain")
        if arguments.cached_pabutools_only and pabutools_key not in PABUTOOLS_CACHE:
            row.pabutools_note = row.pabutools_note or "not measured"
        if not arguments.no_pabutools and not row.pabutools_note:
            print(f"  {label} {rule}: pabutools ...", file=sys.stderr, flush=True)
            row.pabutools, row.pabutools_note, selected = time_pabutools(
                path, rule, arguments.pabutools_timeout
            )
            if row.pabutools is not None and ours_selected is not None:
                row.same = agreement(instance, profile, name, options, ours_selected, selected)
        rows.append(row)
        print(format_row(row), flush=True)
    return rows


def agreement(
    instance: Instance,
    profile: Profile,
    rule: str,
    options: dict[str, Any],
    ours: list[str],
    theirs: list[str],
) -> str:
    """yes, NO, or "tie": for max-welfare, two different sets that both fit and have the same
    welfare are both optimal, and which one pabutools returns follows Python's hash seed."""
    if sorted(ours) == sorted(theirs):
        return "yes"
    if rule != "max-welfare":
        return "NO"
    from stemmen.budget.welfare import project_welfare

    welfare = project_welfare(instance, profile, str(options.get("satisfaction", "cardinality")))

    def value(selected: list[str]) -> tuple[Any, int]:
        positions = [instance.index_of(project) for project in selected]
        cost = sum(instance.projects[position].cost for position in positions)
        return sum(welfare[position] for position in positions), cost

    (ours_welfare, ours_cost), (theirs_welfare, theirs_cost) = value(ours), value(theirs)
    fits = max(ours_cost, theirs_cost) <= instance.budget
    return "tie" if fits and ours_welfare == theirs_welfare else "NO"


def times(ratio: float) -> str:
    return f"{ratio:,.0f}x" if ratio >= 10 else f"{ratio:.2g}x"


def seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


HEADER = (
    "| instance | voters | projects | rule | ours (s) | ours, whole process (s) "
    "| pabutools (s) | pabutools / ours | same outcome |"
)
DIVIDER = "|---|---:|---:|---|---:|---:|---:|---:|---|"


def format_row(row: Row) -> str:
    ratio = row.ratio()
    pabutools = seconds(row.pabutools) if row.pabutools is not None else row.pabutools_note or "-"
    ours = seconds(row.ours) if row.ours is not None else row.ours_note or "-"
    return (
        f"| {row.instance} | {row.voters:,} | {row.projects} | {row.rule} | {ours} "
        f"| {seconds(row.ours_process)} | {pabutools} "
        f"| {'-' if ratio is None else times(ratio)} | {row.same or '-'} |"
    )


def summary(rows: list[Row]) -> list[str]:
    lines = []
    for rule in RULES:
        ratios = [row.ratio() for row in rows if row.rule == rule and row.ratio() is not None]
        timeouts = [row for row in rows if row.rule == rule and "timeout" in row.pabutools_note]
        if ratios or timeouts:
            median = statistics.median(ratios) if ratios else None
            lines.append(
                f"- {rule}: median pabutools / ours = "
                f"{'-' if median is None else times(median)} over {len(ratios)} instances"
                + (f" ({len(timeouts)} where pabutools timed out not counted)" if timeouts else "")
            )
    return lines


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", help="comma-separated parts of file names (default: all)")
    parser.add_argument("--rules", default=",".join(RULES), help="comma-separated rule names")
    parser.add_argument("--pabutools-timeout", type=float, default=120.0)
    parser.add_argument("--no-pabutools", action="store_true")
    parser.add_argument(
        "--ours-timeout",
        type=float,
        default=0.0,
        help="run our rule in a child process stopped after this many seconds (0: in-process)",
    )
    parser.add_argument("--no-process", action="store_true", help="skip whole-process timings")
    parser.add_argument("--no-synthetic", action="store_true")
    parser.add_argument("--synthetic-only", action="store_true")
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    parser.add_argument(
        "--pabutools-cache",
        type=Path,
        help="JSON file keeping pabutools' measurements between runs (it takes minutes)",
    )
    parser.add_argument("--pabutools-only", action="store_true", help="fill the cache only")
    parser.add_argument(
        "--cached-pabutools-only",
        action="store_true",
        help="report pabutools only where the cache has it, measure nothing new",
    )
    parser.add_argument("--ours-cache", type=Path, help="JSON file keeping our measurements")
    parser.add_argument(
        "--pabutools-plain",
        action="store_true",
        help="give pabutools its profile as parsed, one ballot per voter (slower for it)",
    )
    arguments = parser.parse_args()
    if arguments.pabutools_cache:
        CACHE_PATH.append(arguments.pabutools_cache)
        if arguments.pabutools_cache.exists():
            PABUTOOLS_CACHE.update(json.loads(arguments.pabutools_cache.read_text()))
    MERGE_FOR_PABUTOOLS[0] = not arguments.pabutools_plain
    if arguments.ours_cache and arguments.ours_cache.exists():
        OURS_CACHE.update(json.loads(arguments.ours_cache.read_text()))
    rules = [rule.strip() for rule in arguments.rules.split(",") if rule.strip()]
    unknown = [rule for rule in rules if rule not in RULES]
    if unknown:
        parser.error(f"unknown rules {unknown}: use {', '.join(RULES)}")
    wanted = [part.strip() for part in (arguments.files or "").split(",") if part.strip()]
    files = [
        path for path in pabulib_files() if not wanted or any(part in path.name for part in wanted)
    ]
    if arguments.synthetic_only:
        files = []
    if not files and not arguments.synthetic_only and not PABULIB_DIR.is_dir():
        print(f"no pabulib files at {PABULIB_DIR}", file=sys.stderr)
    print(f"machine: {machine()}")
    print(HEADER)
    print(DIVIDER)
    rows: list[Row] = []
    if arguments.pabutools_only:
        for path in files:
            for rule in rules:
                print(f"  {path.stem} {rule}: pabutools ...", file=sys.stderr, flush=True)
                print(path.stem, rule, time_pabutools(path, rule, arguments.pabutools_timeout)[:2])
        return
    for path in files:
        instance, profile = read_pabulib(path)
        rows.extend(run_file(path.stem, path, instance, profile, rules, arguments))
    if not arguments.no_synthetic:
        print("  building the synthetic instance ...", file=sys.stderr, flush=True)
        instance, profile = synthetic()
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "synthetic_100000x500.pb"
            path.write_text(write_pabulib(instance, profile), encoding="utf-8")
            instance, profile = read_pabulib(path)
            chosen = [rule for rule in rules if rule in ("greedy", "max-welfare")]
            rows.extend(
                run_file("synthetic 100,000 x 500", path, instance, profile, chosen, arguments)
            )
    lines = summary(rows)
    print()
    print("\n".join(lines))
    if arguments.markdown:
        text = [f"Machine: {machine()}", "", HEADER, DIVIDER, *map(format_row, rows), "", *lines]
        arguments.markdown.write_text("\n".join(text) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
