"""Whole rounds, from proposals to the published result: a budget with two districts (online and
paper ballots, a revote) and a multi-question preferendum. Each ends with the round's bundle
checked by the pure verifier (``stemmen verify``): chain, rule set, frame, phases, seed,
record, receipts, tree, counts and result all agree."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.ballot_helpers import cast_ok, close, publish, result_of
from tests.integration.round_helpers import (
    example_ruleset,
    open_budget_round,
    open_preferendum_round,
)
from tests.integration.test_paper import confirm, enter, open_batch

# Whole rounds with a bundle verification each: several seconds apiece.
pytestmark = pytest.mark.slow


async def bundle_of(settings: Any, round_id: str) -> dict[str, Any]:
    from stemmen.db import create_engine, session_maker
    from stemmen.results.service import published_bundle

    engine = create_engine(settings)
    try:
        async with session_maker(engine)() as session:
            return await published_bundle(session, round_id)
    finally:
        await engine.dispose()


def assert_verified(bundle: dict[str, Any]) -> None:
    from stemmen.audit.verify import verify_bundle

    report = verify_bundle(bundle)
    assert report.ok, report.render()


async def test_the_whole_life_of_a_budget_round_with_two_districts(
    client: Any, auth: Any, settings: Any
) -> None:
    budget = await open_budget_round(client, auth)  # submission, review, voting
    east = [code for code, _ in budget.ballot["WK026801"]]
    centre = [code for code, _ in budget.ballot["WK026802"]]
    for index, choice in enumerate([[0, 1], [0], [1, 2], [0, 1]]):
        await cast_ok(
            client,
            auth,
            budget.round_id,
            f"e{index}",
            "WK026801",
            {"approvals": [east[i] for i in choice]},
        )
    for index, choice in enumerate([[0, 1], [2], [0]]):
        await cast_ok(
            client,
            auth,
            budget.round_id,
            f"c{index}",
            "WK026802",
            {"approvals": [centre[i] for i in choice]},
        )
    # A change of mind: the last ballot counts.
    replaced = await cast_ok(
        client, auth, budget.round_id, "e1", "WK026801", {"approvals": [east[2]]}
    )
    assert replaced["replaced_earlier_ballot"] is True
    batch = await open_batch(client, auth, budget.round_id)
    for index in range(2):
        response = await enter(
            client,
            auth,
            budget.round_id,
            batch,
            f"paper-{index}",
            "WK026802",
            {"approvals": [centre[0]]},
        )
        assert response.status_code == 201, response.text
    assert (await confirm(client, auth, budget.round_id, batch)).status_code == 200

    closed = await close(client, auth, budget.round_id)
    assert closed["phase"] == "closed"
    result = await result_of(client, budget.round_id, auth("official"))
    assert result["ballots"] == 9
    await publish(client, auth, budget.round_id)
    public = await result_of(client, budget.round_id)
    assert public["result_hash"] == result["result_hash"]
    by_area = {item["area"]: item for item in public["results"]}
    assert by_area["WK026801"]["ballots"] == 4
    assert by_area["WK026802"]["ballots"] == 5
    assert centre[0] in by_area["WK026802"]["allocation"]["selected"]  # 4 of 5 centre ballots

    bundle = await bundle_of(settings, budget.round_id)
    assert bundle["merkle_root"] == public["merkle_root"]
    assert len(bundle["receipts"]) == 9
    assert_verified(bundle)


async def test_the_whole_life_of_a_multi_question_preferendum(
    client: Any, auth: Any, settings: Any
) -> None:
    document = example_ruleset("preferendum")
    document["tally"]["quorum"] = {"min_turnout": 2}
    poll = await open_preferendum_round(client, auth, document=document)
    ballots = [
        {
            "autoluw": {"grades": {"a": "oneens", "b": "eens", "c": "zeer eens"}},
            "groen": {"grades": {"park": 4}},
        },
        {
            "autoluw": {"grades": {"a": 0, "b": 4}},
            "groen": {"grades": {"park": 3, "kade": 3, "plein": 0}},
        },
        {"groen": {"grades": {"markt": "neutraal", "kade": "zeer eens"}}},
    ]
    receipts = [
        await cast_ok(client, auth, poll.round_id, f"r{index}", "GM0268", {"questions": ballot})
        for index, ballot in enumerate(ballots)
    ]
    await close(client, auth, poll.round_id)
    await publish(client, auth, poll.round_id)
    result = await result_of(client, poll.round_id)
    outcome = result["results"][0]["preferendum"]
    assert result["valid"] is True
    assert outcome["turnout"] == 3
    assert {item["id"]: item["participation"] for item in outcome["questions"]} == {
        "autoluw": 2,
        "groen": 3,
    }
    for receipt in receipts:
        assert (await client.get(f"/api/receipts/{receipt['receipt']}")).json()[
            "status"
        ] == "counted"

    bundle = await bundle_of(settings, poll.round_id)
    assert sorted(bundle["receipts"]) == sorted(receipt["receipt_hash"] for receipt in receipts)
    assert_verified(bundle)
