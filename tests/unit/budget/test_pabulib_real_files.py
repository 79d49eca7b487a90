"""Every real pabulib file beside the project reads, and writing then reading gives it back."""

from __future__ import annotations

from pathlib import Path

import pytest

from stemmen.budget.pabulib import parse_pabulib, read_pabulib, write_pabulib
from tests.support import pabulib_files

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
