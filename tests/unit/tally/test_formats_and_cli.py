"""PrefLib and JSON cast-vote records in and out, preferenda with quorum, and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings

from stemmen.tally import RankedProfile, tally
from stemmen.tally.cli import tally as tally_command
from stemmen.tally.jsonio import parse_preferendum, parse_question_ballots
from stemmen.tally.preferendum import TallyOptions, tally_preferendum, tally_question
from stemmen.tally.preflib import parse_preflib, read_preflib, write_preflib
from tests.unit.tally.strategies import complete_strict_profiles, weak_truncated_profiles

ISSUE_EXAMPLE = {
    "options": ["a", "b", "c"],
    "ballots": [
        {"count": 2, "ranking": [["a"], ["b", "c"]]},
        {"grades": {"a": 4, "c": 1}},
        {"approvals": ["a", "c"]},
    ],
    "scale": {"min": 0, "max": 5},
}

SOI_TEXT = """# FILE NAME: example.soi
# DATA TYPE: soi
# NUMBER ALTERNATIVES: 3
# NUMBER VOTERS: 6
# NUMBER UNIQUE ORDERS: 3
# ALTERNATIVE NAME 1: Park
# ALTERNATIVE NAME 2: Plein
# ALTERNATIVE NAME 3: Haven
3: 1,2
2: 3
1: 2,3,1
"""


def same_ballots(first: RankedProfile, second: RankedProfile) -> bool:
    return (
        first.options == second.options
        and np.array_equal(first.positions, second.positions)
        and np.array_equal(first.counts, second.counts)
    )


def test_preflib_soi_reads_truncated_orders_and_names() -> None:
    parsed = parse_preflib(SOI_TEXT)
    assert parsed.data_type == "soi"
    assert parsed.profile.options == ("1", "2", "3")
    assert parsed.names == {"1": "Park", "2": "Plein", "3": "Haven"}
    assert parsed.profile.num_voters == 6
    named = parse_preflib(SOI_TEXT, use_names=True)
    assert named.profile.options == ("Park", "Plein", "Haven")
    assert tally(named.profile, "plurality").scores == {"Park": 3, "Plein": 1, "Haven": 2}


def test_preflib_toc_reads_ties_in_braces() -> None:
    text = "# DATA TYPE: toc\n# NUMBER ALTERNATIVES: 3\n2: {1,3},2\n1: 2,{1,3}\n"
    profile = parse_preflib(text).profile
    assert sorted(profile.rankings()) == [(1, (("2",), ("1", "3"))), (2, (("1", "3"), ("2",)))]


@settings(max_examples=40, deadline=None)
@given(profile=weak_truncated_profiles())
def test_preflib_round_trip_keeps_every_ballot(
    profile: RankedProfile, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("preflib") / "profile.toi"
    data_type = write_preflib(profile, path)
    assert data_type in {"soc", "soi", "toc", "toi"}
    assert same_ballots(read_preflib(path, use_names=True).profile, profile)


@settings(max_examples=20, deadline=None)
@given(profile=complete_strict_profiles())
def test_complete_strict_profiles_are_written_as_soc_and_read_back_by_the_fast_path(
    profile: RankedProfile, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("preflib") / "profile.soc"
    assert write_preflib(profile, path) == "soc"
    assert same_ballots(read_preflib(path, use_names=True).profile, profile)


def test_issue_example_is_accepted_by_ranked_grade_and_approval_methods() -> None:
    ballots = parse_question_ballots(ISSUE_EXAMPLE)
    borda = tally_question(ballots, TallyOptions("borda"))
    assert borda.scores == {"a": Fraction(15, 2), "b": 1, "c": Fraction(7, 2)}
    assert borda.num_ballots == 4
    mean = tally_question(ballots, TallyOptions("score-mean"))
    # The approval ballot counts as 5 for a and c and 0 for b; the ranking cannot be graded.
    assert mean.scores == {"a": Fraction(9, 2), "b": 0, "c": 3}
    assert mean.counts["unusable_ballots"] == 2
    approval = tally_question(ballots, TallyOptions("approval"))
    assert approval.winners == ("a", "c")
    assert approval.counts["unusable_ballots"] == 3


def test_cli_json_output_has_method_winners_ranking_scores(tmp_path: Path) -> None:
    path = tmp_path / "record.json"
    path.write_text(json.dumps(ISSUE_EXAMPLE))
    result = CliRunner().invoke(
        tally_command, [str(path), "--method", "schulze", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["method"] == "schulze"
    assert document["winners"] == ["a"]
    assert document["ranking"] == [["a"], ["c"], ["b"]]
    assert set(document["scores"]) == {"a", "b", "c"}
    assert document["condorcet_winner"] == "a"


def test_cli_text_output_and_tie_break_option(tmp_path: Path) -> None:
    path = tmp_path / "tie.json"
    path.write_text(
        json.dumps({"options": ["x", "y"], "ballots": [{"ranking": ["x"]}, {"ranking": ["y"]}]})
    )
    tied = CliRunner().invoke(tally_command, [str(path), "--method", "plurality"])
    assert "TIED winners: x, y" in tied.output
    broken = CliRunner().invoke(
        tally_command,
        [str(path), "-m", "plurality", "--tie-break", "y", "--format", "json"],
    )
    document = json.loads(broken.output)
    assert document["winners"] == ["y"]
    assert document["tied_winners"] == ["x", "y"]
    assert document["tie_break_steps"][0]["tied"] == ["x", "y"]


def test_cli_reports_bad_input_as_a_click_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"options": ["a"], "ballots": [{"ranking": [["zz"]]}]}))
    result = CliRunner().invoke(tally_command, [str(path), "--method", "borda"])
    assert result.exit_code != 0
    assert "unknown-option" in result.output


def test_stemmen_tally_runs_as_a_process_on_a_preflib_file(tmp_path: Path) -> None:
    path = tmp_path / "tiny.soc"
    path.write_text("# DATA TYPE: soc\n# NUMBER ALTERNATIVES: 3\n4: 1,2,3\n3: 3,2,1\n2: 2,3,1\n")
    output = subprocess.run(
        [
            sys.executable,
            "-m",
            "stemmen",
            "tally",
            str(path),
            "--method",
            "irv",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    document = json.loads(output.stdout)
    assert document["winners"] == ["3"]
    assert [r["eliminated"] for r in document["rounds"]] == ["2", "1"]


PREFERENDUM = {
    "electorate": 20,
    "quorum": {"min_turnout_share": "25%", "min_graders": 2},
    "questions": [
        {"id": "park", "options": ["trees", "playground", "parking"], "method": "schulze"},
        {
            "id": "measures",
            "options": ["m1", "m2", "m3"],
            "method": "majority-judgment",
            "scale": {"labels": ["against", "neutral", "for"]},
        },
    ],
    "ballots": [
        {
            "count": 3,
            "answers": {
                "park": {"ranking": [["trees"], ["playground"]]},
                "measures": {"grades": {"m1": "for", "m2": "neutral"}},
            },
        },
        {"count": 2, "answers": {"park": {"ranking": [["playground"], ["trees"], ["parking"]]}}},
        {"answers": {"measures": {"grades": {"m1": "against", "m3": "for"}}}},
    ],
}


def test_preferendum_tallies_each_question_with_participation_and_quorum() -> None:
    result = tally_preferendum(parse_preferendum(PREFERENDUM))
    assert result.turnout == 6
    assert result.turnout_share == Fraction(6, 20)
    assert result.quorum_met  # 30% >= 25%
    park, measures = result.questions
    assert park.participation == 5
    assert park.participation_share == Fraction(5, 6)
    assert park.tally is not None
    assert park.tally.winners == ("trees",)
    assert measures.participation == 4
    # m3 was graded by one voter only: below the minimum of 2, left out of the tally.
    assert measures.excluded_options == ("m3",)
    assert measures.supporters == {"m1": 4, "m2": 3, "m3": 1}
    assert measures.tally is not None
    assert measures.tally.options == ("m1", "m2")
    assert measures.tally.winners == ("m1",)


def test_preferendum_below_minimum_turnout_is_marked_not_met() -> None:
    document = {**PREFERENDUM, "quorum": {"min_turnout": 7}}
    result = tally_preferendum(parse_preferendum(document))
    assert not result.quorum_met
    assert result.questions[0].tally is not None  # still computed, for the record
    as_json = result.to_json()
    assert as_json["quorum_met"] is False


def test_cli_tallies_a_preferendum_file(tmp_path: Path) -> None:
    path = tmp_path / "preferendum.json"
    path.write_text(json.dumps(PREFERENDUM))
    result = CliRunner().invoke(tally_command, [str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert [q["id"] for q in document["questions"]] == ["park", "measures"]
    assert document["questions"][1]["result"]["winners"] == ["m1"]


def test_preflib_order_repeating_an_option_is_refused() -> None:
    with pytest.raises(ValueError, match="bad-preflib"):
        parse_preflib("# DATA TYPE: soc\n# NUMBER ALTERNATIVES: 3\n2: 1,1,2\n")


def test_identical_json_answers_are_merged_while_reading() -> None:
    document = {
        "options": ["a", "b"],
        "scale": {"min": 0, "max": 2},
        "ballots": [
            {"count": 2, "ranking": [["a"], ["b"]]},
            {"ranking": ["a", "b"]},
            {"grades": {"a": 2, "b": 1}},
            {"count": 4, "grades": {"b": 1, "a": 2}},
            {"approvals": ["b", "a"]},
            {"approvals": ["a", "b", "a"]},
        ],
    }
    ballots = parse_question_ballots(document)
    assert ballots.rankings == ((3, [["a"], ["b"]]),)
    assert [count for count, _ in ballots.grades] == [5]
    assert [count for count, _ in ballots.approvals] == [2]
    assert ballots.num_ballots == 10
