"""Budget rounds with points and rankings: the published record keeps the points and the order,
and the published result still equals the engine on the downloaded file."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.ballot_helpers import cast, cast_ok, close, publish, result_of
from tests.integration.round_helpers import budget_ruleset_without_supports, open_budget_round
from tests.integration.test_round_life import assert_verified, bundle_of

# Whole rounds with a bundle verification each: several seconds apiece.
pytestmark = pytest.mark.slow


def ruleset_with_ballot(**ballot: Any) -> dict[str, Any]:
    document = budget_ruleset_without_supports()
    document["ballot"] = {
        "format": ballot.pop("format"),
        "min_selections": 1,
        "allow_abstain": False,
        "revote": "last_counts",
        "channels": ["online", "paper"],
        "paper_online_exclusive": True,
        **ballot,
    }
    return document


async def test_a_cumulative_budget_round_publishes_points_and_funds_by_them(
    client: Any, auth: Any, settings: Any
) -> None:
    document = ruleset_with_ballot(format="cumulative", max_points=10, max_points_per_option=6)
    budget = await open_budget_round(client, auth, document=document)
    east = [code for code, _ in budget.ballot["WK026801"]]
    too_many = await cast(
        client, auth, budget.round_id, "x", "WK026801", {"points": {east[0]: 6, east[1]: 5}}
    )
    assert too_many.status_code == 422
    assert too_many.json()["code"] == "ballot_too_many_points"
    for index, points in enumerate(
        [{east[2]: 6, east[0]: 4}, {east[1]: 5, east[2]: 5}, {east[0]: 1}]
    ):
        await cast_ok(client, auth, budget.round_id, f"e{index}", "WK026801", {"points": points})
    await close(client, auth, budget.round_id)
    await publish(client, auth, budget.round_id)
    result = await result_of(client, budget.round_id)
    [east_result] = [item for item in result["results"] if item["area"] == "WK026801"]
    support = {
        project["id"]: project["support"] for project in east_result["allocation"]["projects"]
    }
    assert support == {east[0]: 5, east[1]: 5, east[2]: 11}
    pb = (await client.get(f"/api/rounds/{budget.round_id}/cast-vote-record?area=WK026801")).text
    assert "vote_type;cumulative" in pb
    assert "voter_id;vote;points;nonce" in pb
    assert_verified(await bundle_of(settings, budget.round_id))


async def test_a_ranked_budget_round_publishes_the_order_best_first(
    client: Any, auth: Any, settings: Any
) -> None:
    document = ruleset_with_ballot(format="ranking", max_selections=3)
    budget = await open_budget_round(client, auth, document=document)
    east = [code for code, _ in budget.ballot["WK026801"]]
    receipt = await cast_ok(
        client, auth, budget.round_id, "r1", "WK026801", {"ranking": [east[2], east[0], east[1]]}
    )
    assert receipt["recorded"] == {"ranking": [[east[2]], [east[0]], [east[1]]]}
    await close(client, auth, budget.round_id)
    await publish(client, auth, budget.round_id)
    pb = (await client.get(f"/api/rounds/{budget.round_id}/cast-vote-record?area=WK026801")).text
    assert f"{receipt['receipt_hash']};{east[2]},{east[0]},{east[1]};" in pb
    assert_verified(await bundle_of(settings, budget.round_id))


async def test_channel_weights_make_paper_and_online_each_half_of_the_outcome(
    client: Any, auth: Any, settings: Any
) -> None:
    from tests.integration.test_paper import confirmed_paper_ballot

    document = budget_ruleset_without_supports()
    document["allocation"]["channel_weights"] = {"online": 1, "paper": 1}
    budget = await open_budget_round(client, auth, document=document)
    east = [code for code, _ in budget.ballot["WK026801"]]
    # Three online ballots for project 1, one paper ballot for project 0: half the outcome each.
    for index in range(3):
        await cast_ok(
            client, auth, budget.round_id, f"o{index}", "WK026801", {"approvals": [east[1]]}
        )
    await confirmed_paper_ballot(
        client, auth, budget.round_id, "p0", "WK026801", {"approvals": [east[0]]}
    )
    await close(client, auth, budget.round_id)
    await publish(client, auth, budget.round_id)
    result = await result_of(client, budget.round_id)
    [east_result] = [item for item in result["results"] if item["area"] == "WK026801"]
    support = {
        project["id"]: project["support"] for project in east_result["allocation"]["projects"]
    }
    assert support[east[0]] == support[east[1]]  # 1 paper ballot weighs as much as 3 online
    pb = (await client.get(f"/api/rounds/{budget.round_id}/cast-vote-record?area=WK026801")).text
    assert "voter_id;vote;nonce;voting_method" in pb
    assert pb.count(";paper") == 1
    assert_verified(await bundle_of(settings, budget.round_id))


async def test_without_channel_weights_the_record_has_no_channel_column_and_the_log_has_it(
    client: Any, auth: Any, settings: Any
) -> None:
    from tests.integration.test_paper import confirmed_paper_ballot

    budget = await open_budget_round(client, auth)  # online and paper, no channel_weights
    east = [code for code, _ in budget.ballot["WK026801"]]
    online = await cast_ok(
        client, auth, budget.round_id, "o1", "WK026801", {"approvals": [east[1]]}
    )
    _, paper = await confirmed_paper_ballot(
        client, auth, budget.round_id, "p1", "WK026801", {"approvals": [east[0]]}
    )
    await close(client, auth, budget.round_id)
    await publish(client, auth, budget.round_id)
    pb = (await client.get(f"/api/rounds/{budget.round_id}/cast-vote-record?area=WK026801")).text
    assert "voter_id;vote;nonce\n" in pb.replace("\r\n", "\n")
    assert "voting_method" not in pb
    bundle = await bundle_of(settings, budget.round_id)
    channels = {
        entry["payload"]["receipt"]: entry["payload"]["channel"]
        for entry in bundle["log"]["entries"]
        if entry["kind"] == "ballot.accepted"
    }
    assert channels == {
        online["receipt_hash"]: "online",
        paper["receipt_hash"]: "paper",
    }
    assert_verified(bundle)
