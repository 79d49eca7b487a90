"""The pure core loads no web framework or database driver, so auditors can use it alone."""

from __future__ import annotations

import json
import subprocess
import sys

FORBIDDEN = ("litestar", "sqlalchemy", "sqlmodel", "asyncpg", "aiosqlite", "advanced_alchemy")


def test_importing_ballots_and_rules_loads_nothing_of_the_service() -> None:
    script = (
        "import json, sys, stemmen.ballots, stemmen.rules.document, stemmen.rules\n"
        "print(json.dumps(sorted({name.split('.')[0] for name in sys.modules})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    loaded = set(json.loads(result.stdout))
    assert loaded.isdisjoint(FORBIDDEN), sorted(loaded & set(FORBIDDEN))
