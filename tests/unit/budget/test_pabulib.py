"""Reading and writing pabulib: the quirks of real files, exact money, clear errors."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings

from stemmen.budget.model import Instance, Profile, Project
from stemmen.budget.pabulib import PabulibError, parse_pabulib, read_pabulib, write_pabulib
from tests.unit.budget.strategies import elections

QUIRKY = (
    "\ufeffMETA\r\n"
    "key;value\r\n"
    'description;"Budget; with a semicolon"\r\n'
    "budget;804828.79\r\n"
    "vote_type;choose-1\r\n"
    "max_length;1\r\n"
    "currency;PLN\r\n"
    "PROJECTS\r\n"
    "project_id;cost;votes;name;category;target;selected\r\n"
    'BO.OM.97/24;1500.5;2;"""Quoted"" name; with semicolon";sport,culture;youth;1\r\n'
    "10;250000;1;Plain;sport;;0\r\n"
    "\r\n"
    "VOTES\r\n"
    "voter_id;vote;age;voting_method\r\n"
    "v1;BO.OM.97/24;30;paper\r\n"
    "v2;10;;internet\r\n"
    "v3;BO.OM.97/24;41;internet\r\n"
)


def test_reads_every_quirk_of_real_files() -> None:
    instance, profile = parse_pabulib(QUIRKY)
    assert instance.unit == 100
    assert instance.budget == 80482879
    first, second = instance.projects
    assert first.id == "BO.OM.97/24"
    assert first.cost == 150050
    assert first.name == '"Quoted" name; with semicolon'
    assert first.categories == ("sport", "culture")
    assert first.targets == ("youth",)
    assert first.attributes == {"votes": "2", "selected": "1"}
    assert second.cost == 25000000
    assert instance.meta["description"] == "Budget; with a semicolon"
    assert instance.money(instance.budget) == "804828.79"
    # choose-1 is approval with at most one project.
    assert profile.vote_type == "approval"
    assert profile.max_length == 1
    assert [voter.projects for voter in profile.voters] == [(0,), (1,), (0,)]
    assert profile.voters[1].attributes == {"age": "", "voting_method": "internet"}


def test_whole_numbers_with_a_decimal_point_stay_in_whole_units() -> None:
    text = QUIRKY.replace("804828.79", "800000.00").replace("1500.5", "1500.0")
    instance, _ = parse_pabulib(text)
    assert instance.unit == 1
    assert instance.costs == (1500, 250000)


def test_merged_ballots_sum_identical_voters() -> None:
    _, profile = parse_pabulib(QUIRKY)
    merged = profile.merged()
    assert [(b.projects, b.weight) for b in merged] == [((0,), 2), ((1,), 1)]
    weighted = profile.merged({"paper": Fraction(1, 2)})
    assert [(b.projects, b.weight) for b in weighted] == [((0,), Fraction(3, 2)), ((1,), 1)]


def test_write_then_read_gives_the_same_election() -> None:
    instance, profile = parse_pabulib(QUIRKY)
    again = parse_pabulib(write_pabulib(instance, profile))
    assert again == (instance, profile)


def test_reads_from_a_path(tmp_path) -> None:
    path = tmp_path / "small.pb"
    path.write_text(QUIRKY, encoding="utf-8")
    assert read_pabulib(path) == parse_pabulib(QUIRKY)
    assert read_pabulib(str(path)) == parse_pabulib(QUIRKY)


def _broken(old: str, new: str) -> str:
    assert old in QUIRKY
    return QUIRKY.replace(old, new)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (_broken("v2;10;", "v2;99;"), 16, "vote names project '99', which is not in PROJECTS"),
        (_broken("1500.5", "12,5x"), 10, "cost '12,5x' is not a number"),
        (_broken("250000", "-5"), 11, "cost '-5' is negative"),
        (
            _broken("10;250000;1;Plain", "10;250000;1"),
            11,
            "project line has 6 fields but the header has 7",
        ),
        (_broken("v3;", "v1;"), 17, "voter id 'v1' already used on line 15"),
        (
            _broken("10;250000", "BO.OM.97/24;250000"),
            11,
            "project id 'BO.OM.97/24' already used on line 10",
        ),
        (_broken("budget;804828.79", "budget;lots"), 4, "budget 'lots' is not a number"),
        (
            _broken("v1;BO.OM.97/24;30", "v1;BO.OM.97/24,BO.OM.97/24;30"),
            15,
            "vote lists a project twice",
        ),
        (_broken("vote_type;choose-1", "vote_type;quadratic"), 5, "vote_type 'quadratic'"),
        (_broken("max_length;1", "max_length;one"), 6, "META max_length 'one' is not a number"),
        (
            _broken("description;", "description;x\r\ndescription;"),
            4,
            "META key 'description' appears twice",
        ),
        (
            _broken("voter_id;vote;", "voter;ballot;"),
            14,
            "VOTES header must start with 'voter_id;vote'",
        ),
        # After a blank line inside VOTES, and on a line with a field missing or one too many.
        (_broken("v2;10;;", "\r\nv2;10;"), 17, "vote line has 3 fields but the header has 4"),
        (_broken("v3;BO.OM.97/24;41;", "v3;BO.OM.97/24;41;x;"), 17, "vote line has 5 fields"),
        (_broken("v2;10;", "\r\n  \r\nv2;99;"), 18, "vote names project '99'"),
    ],
)
def test_broken_files_name_the_line_and_the_problem(text: str, line: int, message: str) -> None:
    with pytest.raises(PabulibError) as raised:
        parse_pabulib(text)
    assert raised.value.line == line
    assert message in str(raised.value)
    assert str(raised.value).startswith(f"line {line}: ")


def test_blank_lines_among_and_after_the_votes_are_skipped() -> None:
    spaced = _broken("v2;10;", "\r\n \t\r\nv2;10;") + "\r\n  \r\n\r\n"
    assert parse_pabulib(spaced) == parse_pabulib(QUIRKY)
    bare = QUIRKY.replace("voter_id;vote;age;voting_method", "voter_id;vote")
    bare = bare.replace(";30;paper", "").replace(";;internet", "").replace(";41;internet", "")
    _, profile = parse_pabulib(bare + "\n\n")
    assert [voter.id for voter in profile.voters] == ["v1", "v2", "v3"]
    assert all(not voter.attributes for voter in profile.voters)


def test_missing_sections_and_stray_text_are_refused() -> None:
    with pytest.raises(PabulibError, match="no VOTES section"):
        parse_pabulib(QUIRKY.split("VOTES")[0])
    with pytest.raises(PabulibError, match="expected a section name") as raised:
        parse_pabulib("hello\n" + QUIRKY)
    assert raised.value.line == 1


def test_cumulative_points_must_match_the_projects() -> None:
    text = (
        "META\nkey;value\nbudget;10\nvote_type;cumulative\nPROJECTS\nproject_id;cost\na;1\nb;2\n"
        "VOTES\nvoter_id;vote;points\n1;a,b;3\n"
    )
    with pytest.raises(PabulibError, match="line 11: 1 points for 2 projects"):
        parse_pabulib(text)


def test_written_costs_are_exact_decimals() -> None:
    instance = Instance(
        projects=(Project(id="a", cost=123405), Project(id="b", cost=7)),
        budget=1000000,
        unit=100,
    )
    profile = Profile(vote_type="approval", voters=())
    text = write_pabulib(instance, profile)
    assert "a;1234.05\n" in text
    assert "b;0.07\n" in text
    assert "budget;10000.00\n" in text
    again, _ = parse_pabulib(text)
    assert again.costs == instance.costs
    assert again.budget == instance.budget


@settings(max_examples=100, deadline=None)
@given(
    elections(
        vote_types=("approval", "cumulative", "scoring", "ordinal"), channels=("paper", "internet")
    )
)
def test_write_then_read_round_trips_generated_elections(election) -> None:
    instance, profile = election
    again_instance, again_profile = parse_pabulib(write_pabulib(instance, profile))
    assert again_instance.projects == instance.projects
    assert again_instance.budget == instance.budget
    assert again_profile == profile


def test_a_given_unit_keeps_cents_for_whole_amounts() -> None:
    instance = Instance(projects=(Project(id="a", cost=123400),), budget=500000, unit=100)
    profile = Profile(vote_type="approval", voters=())
    text = write_pabulib(instance, profile)
    inferred, _ = parse_pabulib(text)
    assert (inferred.unit, inferred.costs) == (1, (1234,))
    again, _ = parse_pabulib(text, unit=100)
    assert (again.unit, again.costs, again.budget) == (100, (123400,), 500000)
    with pytest.raises(PabulibError, match="finer than 1/1 of a currency unit"):
        parse_pabulib(QUIRKY, unit=1)
