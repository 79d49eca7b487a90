"""Rounds over the API: created inside the council's frame, read by anyone, changed as drafts."""

from __future__ import annotations

from typing import Any

from tests.integration.round_helpers import open_budget_round, open_preferendum_round


async def test_budget_round_runs_to_voting(client: Any, auth: Any) -> None:
    budget = await open_budget_round(client, auth)
    assert budget.ballot["WK026801"] == [("001", 2_000_000), ("002", 1_200_000), ("003", 2_500_000)]


async def test_preferendum_runs_to_voting(client: Any, auth: Any) -> None:
    poll = await open_preferendum_round(client, auth)
    read = await client.get(f"/api/rounds/{poll.round_id}")
    assert read.json()["phase"] == "voting"
