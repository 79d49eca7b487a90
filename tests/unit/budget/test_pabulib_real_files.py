"""Every real pabulib file beside the project reads, and writing then reading gives it back."""

from __future__ import annotations

from pathlib import Path

import pytest

from stemmen.budget.pabulib import parse_pabulib, read_pabulib, write_pabulib
from stemmen.budget.support import project_support
from tests.support import pabulib_files
from tests.unit.budget import real_elections

REAL_FILES = pabulib_files()


@pytest.mark.skipif(not REAL_FILES, reason="no ../shared/data/pabulib on this machine")
@pytest.mark.parametrize("path", REAL_FILES, ids=lambda path: path.name[:50])
def test_every_real_file_reads_and_round_trips(path: Path) -> None:
    instance, profile = read_pabulib(path)

    assert instance.projects
    assert profile.voter_count > 0
    assert str(profile.voter_count) == instance.meta.get("num_votes", str(profile.voter_count))
    assert str(len(instance.projects)) == instance.meta.get(
        "num_projects", str(len(instance.projects))
    )
    again_instance, again_profile = parse_pabulib(write_pabulib(instance, profile))
    assert again_instance == instance
    assert again_profile == profile


@pytest.mark.skipif(not REAL_FILES, reason="no ../shared/data/pabulib on this machine")
@pytest.mark.parametrize("path", REAL_FILES, ids=lambda path: path.name[:50])
def test_counted_support_equals_the_votes_and_score_columns(path: Path) -> None:
    # The files record each project's supporters (votes) and, for points and rankings, its
    # score: Krakow's ordinal score is positional points k, k-1, ..., 1.
    instance, profile = real_elections.ours(path)
    columns = set(instance.project_columns)
    if "votes" in columns:
        expected = [int(project.attributes["votes"]) for project in instance.projects]
        assert project_support(instance, profile, "voters") == expected
    if "score" in columns:
        expected = [int(project.attributes["score"]) for project in instance.projects]
        assert project_support(instance, profile, "points") == expected
