"""``stemmen rounds list``: every round with its id, title, Dutch instrument name and phase."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from click.testing import CliRunner

from stemmen.cli import main
from tests.integration.round_helpers import open_budget_round, open_preferendum_round


async def _run(settings: Any, *args: str) -> Any:
    runner = CliRunner()
    # The command runs its own event loop, so it gets a thread of its own.
    return await asyncio.to_thread(
        runner.invoke,
        main,
        ["rounds", "list", *args],
        env={"STEMMEN_DATABASE_URL": settings.database_url},
    )


async def test_rounds_list_gives_every_round_as_json_and_as_a_table(
    client: Any, auth: Any, settings: Any
) -> None:
    budget = await open_budget_round(client, auth, title="Buurtbegroting Oost")
    poll = await open_preferendum_round(
        client, auth, title="Preferendum binnenstad", open_voting=False
    )

    as_json = await _run(settings, "--format", "json")
    assert as_json.exit_code == 0, as_json.output
    rows = json.loads(as_json.stdout)
    assert [{key: row[key] for key in ("id", "title", "instrument", "phase")} for row in rows] == [
        {
            "id": budget.round_id,
            "title": "Buurtbegroting Oost",
            "instrument": "buurtbegroting",
            "phase": "voting",
        },
        {
            "id": poll.round_id,
            "title": "Preferendum binnenstad",
            "instrument": "preferendum",
            "phase": "draft",
        },
    ]

    as_text = await _run(settings)
    assert as_text.exit_code == 0, as_text.output
    lines = as_text.stdout.splitlines()
    assert lines[0].split() == ["id", "phase", "instrument", "title"]
    assert lines[1].split(maxsplit=3) == [
        budget.round_id,
        "voting",
        "buurtbegroting",
        "Buurtbegroting Oost",
    ]
    assert lines[2].split(maxsplit=3) == [
        poll.round_id,
        "draft",
        "preferendum",
        "Preferendum binnenstad",
    ]
