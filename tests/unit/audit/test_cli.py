"""``stemmen verify``: readable verdicts, and the exit code says whether anything is wrong."""

from __future__ import annotations

from functools import cache

from click.testing import CliRunner

from stemmen.audit.bundle import dump_bundle
from stemmen.cli import main

from .rounds import budget_round


@cache
def _published():
    return budget_round(voters=30)


def _write(tmp_path, bundle):
    path = tmp_path / "round.bundle.json"
    path.write_bytes(dump_bundle(bundle))
    return str(path)


def test_an_honest_bundle_exits_zero_with_a_verdict_per_check(tmp_path):
    result = CliRunner().invoke(main, ["verify", _write(tmp_path, _published().bundle)])
    assert result.exit_code == 0, result.output
    assert "OK   chain:" in result.output
    assert "OK   result: recomputed 2 areas" in result.output
    assert "VERIFIED" in result.output


def test_a_tampered_bundle_exits_one_and_says_where(tmp_path):
    bundle = _published().copy()
    bundle["log"]["entries"][3]["payload"]["decision"] = "rejected"
    result = CliRunner().invoke(main, ["verify", _write(tmp_path, bundle)])
    assert result.exit_code == 1
    assert "FAIL chain" in result.output
    assert "log.edited at log entry 4 (seq 4)" in result.output
    assert "NOT VERIFIED" in result.output


def test_an_earlier_head_that_is_missing_fails(tmp_path):
    path = _write(tmp_path, _published().bundle)
    result = CliRunner().invoke(main, ["verify", "--expect-head", "ab" * 32, path])
    assert result.exit_code == 1
    assert "log.rewritten" in result.output


def test_a_receipt_code_is_checked(tmp_path):
    path = _write(tmp_path, _published().bundle)
    result = CliRunner().invoke(main, ["verify", "--receipt", _published().codes[0], path])
    assert result.exit_code == 0, result.output
    assert "OK   ballot tree: leaf" in result.output
    missing = CliRunner().invoke(main, ["verify", "--receipt", "000-000-000-000-000-000-000", path])
    assert missing.exit_code == 1


def test_a_file_that_is_not_a_bundle_exits_two(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"share": 0.5}')
    result = CliRunner().invoke(main, ["verify", str(path)])
    assert result.exit_code == 2
    assert "non-integer number" in result.output


def test_extract_writes_files_other_tools_read(tmp_path):
    import json

    from stemmen.budget.pabulib import read_pabulib
    from stemmen.tally.jsonio import parse_preferendum

    from .rounds import preferendum_round

    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["verify", "--extract", str(out), _write(tmp_path, _published().bundle)]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["WK026801.pb", "WK026802.pb", "ruleset.json"]
    instance, profile = read_pabulib(out / "WK026801.pb")
    assert profile.voter_count == 15
    assert instance.budget * 100 // instance.unit == 1_000_000

    pref = tmp_path / "pref"
    pref.mkdir()
    result = CliRunner().invoke(
        main, ["verify", "--extract", str(pref), _write(pref, preferendum_round(voters=20).bundle)]
    )
    assert result.exit_code == 0, result.output
    record = json.loads((pref / "preferendum.json").read_text(encoding="utf-8"))
    assert len(parse_preferendum(record).ballots) == 20
