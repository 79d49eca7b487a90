"""`stemmen demo` seeds a published budget round and a published preferendum, once."""

from __future__ import annotations

from typing import Any

from stemmen.demo import BUDGET_TITLE, PREFERENDUM_TITLE, seed_demo


async def test_demo_publishes_a_budget_round_and_a_preferendum_and_is_idempotent(
    settings: Any, client: Any
) -> None:
    lines: list[str] = []
    await seed_demo(settings, voters=15, seed=1, echo=lines.append)
    await seed_demo(settings, voters=15, seed=1, echo=lines.append)

    rounds = {round_["title"]: round_ for round_ in (await client.get("/api/rounds")).json()}
    assert set(rounds) == {BUDGET_TITLE, PREFERENDUM_TITLE}
    assert {round_["phase"] for round_ in rounds.values()} == {"published"}
    budget = (await client.get(f"/api/rounds/{rounds[BUDGET_TITLE]['id']}/result")).json()
    assert budget["ballots"] == 15 + 12  # online and the confirmed paper batch
    assert budget["results"][0]["allocation"]["selected"]
    assert any("already there" in line for line in lines)
