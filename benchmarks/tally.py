"""Tally engine benchmark: `stemmen tally` processes against pref_voting, with ratios.

Generates N ranked ballots over M options (impartial culture: every complete order equally
likely, the worst case for merging identical ballots) into a PrefLib .soc file in a temp
folder, then for Borda, Schulze and IRV measures:

- stemmen: a whole `python -m stemmen tally FILE --method NAME --format json` process, from
  start to printed result (wall time, peak RSS of that process);
- pref_voting: in this process, reading the same file, building its `Profile` (linear orders
  with counts) and running `borda`, `beat_path` (Schulze) or `instant_runoff`. pref_voting's
  import and numba compilation are warmed up first and not counted.

Usage: .venv/bin/python benchmarks/tally.py [--ballots 1000000] [--options 10] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from stemmen.tally.preflib import write_preflib
from stemmen.tally.profiles import RankedProfile

METHODS = {"borda": "borda", "schulze": "beat_path", "irv": "instant_runoff"}


def generate(ballots: int, options: int, seed: int, folder: Path) -> Path:
    rng = np.random.default_rng(seed)
    positions = np.argsort(rng.random((ballots, options)), axis=1)
    names = [str(i) for i in range(1, options + 1)]
    profile = RankedProfile.from_positions(names, positions)
    path = folder / f"ic_{ballots}_{options}.soc"
    write_preflib(profile, path, title="impartial culture benchmark")
    return path


def run_stemmen(path: Path, method: str, folder: Path) -> tuple[float, float, int, list[str]]:
    """Wall time, CPU time (user + system) and peak RSS of one whole `stemmen tally` process.

    CPU time is reported beside wall time because on a shared machine wall time mostly
    measures the other processes.

    GNU time reports the peak RSS: a child forked from this (large) process would report this
    process's memory as its own until it execs.
    """
    report = folder / f"time_{method}.txt"
    command = [
        "/usr/bin/time", "-f", "%U %S %M", "-o", str(report),
        sys.executable, "-m", "stemmen", "tally", str(path), "--method", method, "--format", "json",
    ]  # fmt: skip
    start = time.perf_counter()
    finished = subprocess.run(command, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if finished.returncode != 0:
        raise RuntimeError(finished.stderr.decode())
    user, system, peak_kib = report.read_text().split()[-3:]
    cpu = float(user) + float(system)
    return elapsed, cpu, int(peak_kib) * 1024, json.loads(finished.stdout)["winners"]


def read_for_pref_voting(path: Path) -> tuple[list[list[int]], list[int]]:
    rankings: list[list[int]] = []
    counts: list[int] = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("#") or not line.strip():
                continue
            count, _, order = line.partition(":")
            counts.append(int(count))
            rankings.append([int(x) - 1 for x in order.split(",")])
    return rankings, counts


def run_pref_voting(path: Path, method: str) -> tuple[float, float, list[str]]:
    from pref_voting import c1_methods, iterative_methods, margin_based_methods, scoring_methods
    from pref_voting.profiles import Profile

    functions = {
        "borda": scoring_methods.borda,
        "schulze": margin_based_methods.beat_path,
        "irv": iterative_methods.instant_runoff,
    }
    del c1_methods
    start, start_cpu = time.perf_counter(), time.process_time()
    rankings, counts = read_for_pref_voting(path)
    profile = Profile(rankings, rcounts=counts)
    winners = functions[method](profile)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    return elapsed, cpu, [str(w + 1) for w in winners]


def warm_up_pref_voting() -> None:
    from pref_voting import iterative_methods, margin_based_methods, scoring_methods
    from pref_voting.profiles import Profile

    tiny = Profile([[0, 1, 2], [2, 1, 0], [1, 0, 2]], rcounts=[2, 1, 1])
    scoring_methods.borda(tiny)
    margin_based_methods.beat_path(tiny)
    iterative_methods.instant_runoff(tiny)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=1_000_000)
    parser.add_argument("--options", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-pref-voting", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        path = generate(args.ballots, args.options, args.seed, Path(folder))
        lines = sum(1 for line in path.open() if not line.startswith("#"))
        print(
            f"generated {args.ballots:,} ballots over {args.options} options"
            f" ({lines:,} distinct orders, {path.stat().st_size / 2**20:.1f} MiB .soc)"
            f" in {time.perf_counter() - start:.1f} s"
        )
        if not args.skip_pref_voting:
            warm_up_pref_voting()
        print(
            f"{'method':<8} {'stemmen wall':>12} {'cpu':>6} {'peak RSS':>9}"
            f" {'pref_voting wall':>16} {'cpu':>6} {'ratio wall':>10} {'ratio cpu':>9}"
        )
        for method in METHODS:
            ours, ours_cpu, rss, our_winners = run_stemmen(path, method, Path(folder))
            row = f"{method:<8} {ours:>12.2f} {ours_cpu:>6.2f} {rss / 2**20:>5.0f} MiB"
            if not args.skip_pref_voting:
                theirs, theirs_cpu, their_winners = run_pref_voting(path, method)
                if sorted(their_winners) != sorted(our_winners):
                    print(
                        f"  note: winners differ: stemmen {our_winners}, pref_voting {their_winners}"
                    )
                row += (
                    f" {theirs:>16.2f} {theirs_cpu:>6.2f} {theirs / ours:>9.1f}x"
                    f" {theirs_cpu / ours_cpu:>8.1f}x"
                )
            print(row, flush=True)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
        print(f"(this benchmark process, with pref_voting's profile: peak RSS {peak:.0f} MiB)")


if __name__ == "__main__":
    main()
