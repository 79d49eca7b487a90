"""`stemmen budget`: allocate, as-recorded and compare, as an auditor would run them."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from stemmen.budget.cli import budget
from tests.support import PABULIB_DIR

FILE = """META
key;value
budget;100
vote_type;approval
rule;greedy-no-skip
currency;EUR
PROJECTS
project_id;cost;name;selected
a;60;Park;1
b;50;Bench;0
c;30;Lamp;0
VOTES
voter_id;vote
1;a,b
2;a,b
3;c
"""


@pytest.fixture
def pb_file(tmp_path: Path) -> Path:
    path = tmp_path / "small.pb"
    path.write_text(FILE, encoding="utf-8")
    return path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(budget, [*args, "--quiet"] if args[0] != "--help" else list(args))
    return result.exit_code, result.output


def test_allocate_json_has_rule_selected_total_and_projects(pb_file: Path) -> None:
    code, output = run("allocate", str(pb_file), "--rule", "greedy", "--format", "json")
    assert code == 0
    data = json.loads(output)
    assert data["rule"] == "greedy"
    assert data["selected"] == ["a", "c"]
    assert data["total_cost"] == "90"
    assert [p["id"] for p in data["projects"]] == ["a", "b", "c"]


def test_allocate_text_explains_every_project(pb_file: Path) -> None:
    code, output = run("allocate", str(pb_file), "--rule", "greedy-no-skip")
    assert code == 0
    assert "selected (in order): a" in output
    assert "- b  not funded: costs 50 EUR but only 40 EUR was left" in output


def test_tie_break_option_is_recorded(pb_file: Path) -> None:
    code, output = run(
        "allocate", str(pb_file), "--tie-break", "lower-cost,lottery:7", "--format", "json"
    )
    assert code == 0
    assert json.loads(output)["tie_break"] == ["lower-cost", "lottery:7", "id"]


def test_max_welfare_takes_a_satisfaction(pb_file: Path) -> None:
    code, output = run(
        "allocate",
        str(pb_file),
        "--rule",
        "max-welfare",
        "--satisfaction",
        "cost",
        "--format",
        "json",
    )
    assert code == 0
    data = json.loads(output)
    assert data["options"]["satisfaction"] == "cost"
    assert data["solver"]["gap"] == 0


def test_as_recorded_says_whether_the_outcome_matches(pb_file: Path, tmp_path: Path) -> None:
    code, output = run("allocate", str(pb_file), "--rule", "as-recorded")
    assert code == 0
    assert "as recorded: the outcome equals the file's selected column" in output
    differing = tmp_path / "differing.pb"
    differing.write_text(FILE.replace("c;30;Lamp;0", "c;30;Lamp;1"), encoding="utf-8")
    code, output = run("allocate", str(differing), "--rule", "as-recorded", "--format", "json")
    assert code == 1
    data = json.loads(output)
    assert data["as_recorded"]["matches"] is False
    assert data["as_recorded"]["only_recorded"] == ["c"]


def test_broken_file_gives_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.pb"
    path.write_text(FILE.replace("3;c", "3;q"), encoding="utf-8")
    code, output = run("allocate", str(path))
    assert code == 1
    assert "line 16: vote names project 'q', which is not in PROJECTS" in output


def test_options_a_rule_does_not_take_are_refused(pb_file: Path) -> None:
    code, output = run("allocate", str(pb_file), "--rule", "greedy", "--completion", "add1")
    assert code == 2
    assert "--completion applies to mes only" in output
    code, output = run("allocate", str(pb_file), "--tie-break", "coin")
    assert code == 2
    assert "unknown tie-break 'coin'" in output


def test_greedy_options_on_the_command_line(pb_file: Path) -> None:
    code, output = run(
        "allocate", str(pb_file), "--threshold", "2", "--leftover", "stop", "--format", "json"
    )
    assert code == 0
    assert json.loads(output)["selected"] == ["a"]


def test_compare_shows_rules_side_by_side(pb_file: Path) -> None:
    code, output = run("compare", str(pb_file))
    assert code == 0
    assert "greedy-per-cost" in output
    assert "max-welfare/cost" in output
    assert "as-recorded (greedy-no-skip)" in output
    assert "funded by every rule" in output


def test_compare_json(pb_file: Path) -> None:
    code, output = run("compare", str(pb_file), "--format", "json")
    assert code == 0
    data = json.loads(output)
    labels = [rule["label"] for rule in data["rules"]]
    assert labels[:2] == ["greedy", "greedy-per-cost"]
    # greedy funds a and c; per cost, b (2/50) comes before a (2/60); the recorded
    # greedy-no-skip stops after a: no project is funded by every rule.
    assert data["funded_by_all"] == []
    assert set(data["differences"]) == {"a", "b", "c"}


def test_progress_goes_to_stderr(pb_file: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "stemmen", "budget", "allocate", str(pb_file), "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(result.stdout)["selected"] == ["a", "c"]
    assert "reading small.pb" in result.stderr


@pytest.mark.skipif(not PABULIB_DIR.is_dir(), reason="no ../shared/data/pabulib on this machine")
def test_real_file_as_recorded_through_the_cli() -> None:
    path = PABULIB_DIR / "Poland_Gdynia_2022_Dabrowa__small.pb"
    code, output = run("allocate", str(path), "--rule", "as-recorded", "--format", "json")
    assert code == 0
    data = json.loads(output)
    assert data["as_recorded"]["matches"] is True
    # Greedy-no-skip: the fifth project (14460) does not fit in the 5463 left, so it stops.
    assert data["selected"] == ["2022/DAB/0001", "2022/DAB/0009", "2022/DAB/0002", "2022/DAB/0004"]


@pytest.mark.slow
@pytest.mark.skipif(not PABULIB_DIR.is_dir(), reason="no ../shared/data/pabulib on this machine")
def test_solver_chatter_never_reaches_the_json_on_stdout() -> None:
    # HiGHS prints diagnostics from C on Budapest 2024; standard output must stay pure JSON.
    path = PABULIB_DIR / "Hungary_Budapest_2024.pb"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "stemmen",
            "budget",
            "allocate",
            str(path),
            "--rule",
            "max-welfare",
            "--quiet",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(result.stdout)
    assert data["solver"]["gap"] == 0
    assert data["total_cost_minor"] <= 1_000_000_000


def test_greedy_threshold_takes_the_threshold_the_file_records(tmp_path: Path) -> None:
    path = tmp_path / "threshold.pb"
    path.write_text(
        FILE.replace("currency;EUR", "currency;EUR\nmin_project_score_threshold;2"),
        encoding="utf-8",
    )
    code, output = run("allocate", str(path), "--rule", "greedy-threshold", "--format", "json")
    assert code == 0
    assert json.loads(output)["selected"] == ["a"]


def test_greedy_threshold_without_any_threshold_is_refused(pb_file: Path) -> None:
    code, output = run("allocate", str(pb_file), "--rule", "greedy-threshold")
    assert code == 2
    assert "needs --threshold" in output


def test_missing_file_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    code, output = run("allocate", str(tmp_path / "none.pb"))
    assert code == 1
    assert "No such file" in output


def test_max_welfare_takes_a_threshold_and_greedy_only_a_leftover(pb_file: Path) -> None:
    code, output = run(
        "allocate", str(pb_file), "--rule", "max-welfare", "--threshold", "2", "--format", "json"
    )
    assert code == 0
    assert json.loads(output)["selected"] == ["a"]
    code, output = run("allocate", str(pb_file), "--rule", "max-welfare", "--leftover", "stop")
    assert code == 2
    assert "--leftover applies to greedy rules" in output


def test_a_command_run_inside_another_program_leaves_its_garbage_collector_as_it_was(
    pb_file: Path,
) -> None:
    # The command runs without the cyclic collector and, as its own process, freezes what is
    # left before exit; run in-process (a test runner, a notebook) it must change neither.
    frozen = gc.get_freeze_count()
    assert gc.isenabled()
    code, _ = run("allocate", str(pb_file), "--rule", "max-welfare", "--format", "json")
    assert code == 0
    code, _ = run("compare", str(pb_file))
    assert code == 0
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen
