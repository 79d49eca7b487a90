"""Results: computed once after the close, visible by role, equal to what the engines compute
from the downloaded cast-vote record, and never changed by a what-if."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from stemmen.cli import main
from tests.integration.ballot_helpers import cast_ok, close, publish, result_of
from tests.integration.round_helpers import (
    BudgetRound,
    example_ruleset,
    open_budget_round,
    open_preferendum_round,
)


async def voted_budget_round(client: Any, auth: Any) -> BudgetRound:
    """Two districts; in Oost projects 1 and 2 tie on votes after project 0 is funded."""
    budget = await open_budget_round(client, auth)
    east = [code for code, _ in budget.ballot["WK026801"]]  # 20,000 / 12,000 / 25,000 of 50,000
    centre = [code for code, _ in budget.ballot["WK026802"]]  # 3,000 / 18,000 / 24,000 of 40,000
    for index, choice in enumerate([[0, 1], [0, 2], [2], [1], [0]]):
        await cast_ok(
            client,
            auth,
            budget.round_id,
            f"east-{index}",
            "WK026801",
            {"approvals": [east[i] for i in choice]},
        )
    for index, choice in enumerate([[0, 2], [2], [0, 1], [0]]):
        await cast_ok(
            client,
            auth,
            budget.round_id,
            f"centre-{index}",
            "WK026802",
            {"approvals": [centre[i] for i in choice]},
        )
    return budget


def run_cli(*args: str) -> Any:
    outcome = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert outcome.exit_code == 0, outcome.output
    return json.loads(outcome.stdout)


async def test_a_budget_result_funds_per_district_and_explains_every_project(
    client: Any, auth: Any
) -> None:
    budget = await voted_budget_round(client, auth)
    await close(client, auth, budget.round_id)
    result = await result_of(client, budget.round_id, auth("official"))
    assert result["published"] is False
    assert result["seed"] is None
    assert result["ballots"] == 9
    by_area = {item["area"]: item for item in result["results"]}
    east = [code for code, _ in budget.ballot["WK026801"]]
    centre = [code for code, _ in budget.ballot["WK026802"]]
    # Greedy by votes: project 0 (3 votes); 1 and 2 tie at 2 and 1 is cheaper; 2 no longer fits.
    assert sorted(by_area["WK026801"]["allocation"]["selected"]) == sorted([east[0], east[1]])
    # Centre: project 0 (3 votes, 3,000), then 2 (2 votes, 24,000); 1 (18,000) no longer fits.
    assert sorted(by_area["WK026802"]["allocation"]["selected"]) == sorted([centre[0], centre[2]])
    reasons = [project["reason"] for project in by_area["WK026801"]["allocation"]["projects"]]
    assert all(reasons)
    assert by_area["WK026801"]["ballots"] == 5


async def test_who_may_see_the_result_before_and_after_publication(client: Any, auth: Any) -> None:
    budget = await voted_budget_round(client, auth)
    voting = await client.get(f"/api/rounds/{budget.round_id}/result", headers=auth("official"))
    assert voting.status_code == 409
    assert voting.json()["code"] == "not_closed"
    await close(client, auth, budget.round_id)
    for headers in ({}, auth("resident", areas=["WK026801"]), auth("auditor")):
        hidden = await client.get(f"/api/rounds/{budget.round_id}/result", headers=headers)
        assert hidden.status_code == 403, hidden.text  # Nijmegen: auditors wait for publication
    record = await client.get(f"/api/rounds/{budget.round_id}/cast-vote-record")
    assert record.status_code == 403
    before = await result_of(client, budget.round_id, auth("official"))
    await publish(client, auth, budget.round_id)
    public = await result_of(client, budget.round_id)
    assert public["published"] is True
    assert public["seed"] is not None
    assert public["result_hash"] == before["result_hash"]
    # Before publication the explanation hides the lottery seed; after it, the same result shows it.
    assert public["seed"] not in json.dumps(before)
    shown = json.dumps(before["results"]).replace("SEED-REVEALED-AT-PUBLICATION", public["seed"])
    assert json.loads(shown) == public["results"]


async def test_auditors_see_the_result_after_the_close_where_the_rule_set_says_so(
    client: Any, auth: Any
) -> None:
    from tests.integration.round_helpers import budget_ruleset_without_supports

    document = budget_ruleset_without_supports()
    document["publication"]["auditor_sees_before_publication"] = True
    budget = await open_budget_round(client, auth, document=document)
    await cast_ok(
        client,
        auth,
        budget.round_id,
        "r1",
        "WK026801",
        {"approvals": [budget.ballot["WK026801"][0][0]]},
    )
    await close(client, auth, budget.round_id)
    assert (
        await client.get(f"/api/rounds/{budget.round_id}/result", headers=auth("auditor"))
    ).status_code == 200
    assert (await client.get(f"/api/rounds/{budget.round_id}/result")).status_code == 403


async def test_the_published_budget_result_equals_stemmen_budget_allocate_on_the_downloaded_pb(
    client: Any, auth: Any, tmp_path: Path
) -> None:
    budget = await voted_budget_round(client, auth)
    await close(client, auth, budget.round_id)
    await publish(client, auth, budget.round_id)
    result = await result_of(client, budget.round_id)
    tie_break = f"more-support,lower-cost,lottery:{result['seed']}"
    for item in result["results"]:
        response = await client.get(
            f"/api/rounds/{budget.round_id}/cast-vote-record?area={item['area']}"
        )
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        path = tmp_path / f"{item['area']}.pb"
        path.write_text(response.text, encoding="utf-8")
        ours = run_cli(
            "budget",
            "allocate",
            str(path),
            "--rule",
            "greedy",
            "--tie-break",
            tie_break,
            "--format",
            "json",
            "-q",
        )
        assert ours["selected"] == item["allocation"]["selected"]
        assert ours["total_cost_minor"] == item["allocation"]["total_cost_minor"]


async def test_an_equal_shares_result_equals_stemmen_budget_allocate_with_its_options(
    client: Any, auth: Any, tmp_path: Path
) -> None:
    from tests.integration.round_helpers import budget_ruleset_without_supports

    document = budget_ruleset_without_supports()
    document["allocation"] = {"rule": "mes", "satisfaction": "cost", "completion": "add1"}
    budget = await open_budget_round(client, auth, document=document)
    east = [code for code, _ in budget.ballot["WK026801"]]
    for index, choice in enumerate([[0, 1], [0, 2], [2], [1], [0], [1, 0]]):
        await cast_ok(
            client,
            auth,
            budget.round_id,
            f"e{index}",
            "WK026801",
            {"approvals": [east[i] for i in choice]},
        )
    await close(client, auth, budget.round_id)
    await publish(client, auth, budget.round_id)
    result = await result_of(client, budget.round_id)
    [east_result] = [item for item in result["results"] if item["area"] == "WK026801"]
    assert east_result["allocation"]["rule"] == "mes"
    response = await client.get(f"/api/rounds/{budget.round_id}/cast-vote-record?area=WK026801")
    path = tmp_path / "east.pb"
    path.write_text(response.text, encoding="utf-8")
    ours = run_cli(
        "budget",
        "allocate",
        str(path),
        "--rule",
        "mes",
        "--satisfaction",
        "cost",
        "--completion",
        "add1",
        "--tie-break",
        f"more-support,lower-cost,lottery:{result['seed']}",
        "--format",
        "json",
        "-q",
    )
    assert ours["selected"] == east_result["allocation"]["selected"]
    assert ours["total_cost_minor"] == east_result["allocation"]["total_cost_minor"]


async def test_the_cast_vote_record_has_receipts_in_order_and_no_identity_or_time(
    client: Any, auth: Any
) -> None:
    from stemmen.budget.pabulib import parse_pabulib

    budget = await voted_budget_round(client, auth)
    await close(client, auth, budget.round_id)
    await publish(client, auth, budget.round_id)
    record = (await client.get(f"/api/rounds/{budget.round_id}/cast-vote-record")).json()
    assert record["format"] == "pabulib"
    assert [area["area"] for area in record["areas"]] == ["WK026801", "WK026802"]
    everything = json.dumps(record)
    for subject in ("east-0", "centre-3", "resident"):
        assert subject not in everything
    assert "2026-" not in everything
    assert "T00:" not in everything
    for area in record["areas"]:
        instance, profile = parse_pabulib(area["pabulib"])
        ids = [voter.id for voter in profile.voters]
        assert ids == sorted(ids)
        assert all(len(voter_id) == 64 for voter_id in ids)
        assert all(sorted(voter.attributes) == ["nonce"] for voter in profile.voters)
        budget_cents = instance.budget * 100 // instance.unit
        assert budget_cents == {"WK026801": 5_000_000, "WK026802": 4_000_000}[area["area"]]


async def test_computing_again_and_at_once_gives_one_stored_result(
    concurrent_client: Any, auth: Any, settings: Any
) -> None:
    client = concurrent_client
    budget = await voted_budget_round(client, auth)
    await close(client, auth, budget.round_id)
    client.in_flight.reset()
    responses = await asyncio.gather(
        *(
            client.get(f"/api/rounds/{budget.round_id}/result", headers=auth("official"))
            for _ in range(4)
        )
    )
    assert client.in_flight.most > 1, "the requests ran one after another"
    assert [response.status_code for response in responses] == [200] * 4
    assert len({response.json()["result_hash"] for response in responses}) == 1
    assert len({response.json()["computed_at"] for response in responses}) == 1
    assert await _result_rows(settings, budget.round_id) == 1


async def test_publication_requested_twice_at_once_gives_one_result(
    concurrent_client: Any, auth: Any, settings: Any
) -> None:
    client = concurrent_client
    budget = await voted_budget_round(client, auth)
    await close(client, auth, budget.round_id)
    client.in_flight.reset()
    responses = await asyncio.gather(
        *(
            client.post(
                f"/api/rounds/{budget.round_id}/phase",
                json={"to": "published"},
                headers=auth("official"),
            )
            for _ in range(2)
        )
    )
    assert client.in_flight.most > 1, "the requests ran one after another"
    assert sorted(response.status_code for response in responses)[0] == 200
    assert all(response.status_code in (200, 409, 503) for response in responses)
    assert await _result_rows(settings, budget.round_id) == 1
    assert (await result_of(client, budget.round_id))["published"] is True


async def test_what_if_shows_another_rule_without_touching_the_stored_result(
    client: Any, auth: Any
) -> None:
    budget = await voted_budget_round(client, auth)
    refused = await client.post(
        f"/api/rounds/{budget.round_id}/what-if", json={"rule": "mes"}, headers=auth("official")
    )
    assert refused.status_code == 409  # not before the close
    await close(client, auth, budget.round_id)
    before = await result_of(client, budget.round_id, auth("official"))
    response = await client.post(
        f"/api/rounds/{budget.round_id}/what-if",
        json={"rule": "mes", "options": {"satisfaction": "cost", "completion": "add1"}},
        headers=auth("official"),
    )
    assert response.status_code == 200, response.text
    what_if = response.json()
    assert what_if["stored_rule"] == "greedy"
    assert [item["area"] for item in what_if["comparison"]] == ["WK026801", "WK026802"]
    for item in what_if["comparison"]:
        assert set(item["newly_funded"]) == set(item["selected"]) - set(item["stored_selected"])
        assert set(item["no_longer_funded"]) == set(item["stored_selected"]) - set(item["selected"])
    welfare = await client.post(
        f"/api/rounds/{budget.round_id}/what-if",
        json={"rule": "max-welfare", "options": {"satisfaction": "cost"}},
        headers=auth("official"),
    )
    assert welfare.status_code == 200, welfare.text
    after = await result_of(client, budget.round_id, auth("official"))
    assert after["result_hash"] == before["result_hash"]
    assert after["computed_at"] == before["computed_at"]
    unknown = await client.post(
        f"/api/rounds/{budget.round_id}/what-if",
        json={"rule": "dictator"},
        headers=auth("official"),
    )
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "unknown_rule"
    resident = await client.post(
        f"/api/rounds/{budget.round_id}/what-if",
        json={"rule": "mes"},
        headers=auth("resident", areas=["WK026801"]),
    )
    assert resident.status_code == 403


def small_preferendum() -> dict[str, Any]:
    """The example preferendum with a quorum a test can reach: 3 voters, 2 graders per option."""
    document = example_ruleset("preferendum")
    document["tally"]["quorum"] = {"min_turnout": 3, "min_graders": 2}
    return document


async def test_a_preferendum_below_its_quorum_is_published_as_not_valid(
    client: Any, auth: Any
) -> None:
    poll = await open_preferendum_round(client, auth)  # needs 500 voters and 50 per option
    await cast_ok(
        client,
        auth,
        poll.round_id,
        "r1",
        "GM0268",
        {"questions": {"autoluw": {"grades": {"a": 4}}}},
    )
    await close(client, auth, poll.round_id)
    await publish(client, auth, poll.round_id)
    result = await result_of(client, poll.round_id)
    assert result["valid"] is False
    assert result["results"][0]["preferendum"]["quorum_met"] is False


async def test_a_preferendum_is_tallied_per_question_with_quorum_and_equals_stemmen_tally(
    client: Any, auth: Any, tmp_path: Path
) -> None:
    poll = await open_preferendum_round(client, auth, document=small_preferendum())
    answers = [
        {
            "autoluw": {"grades": {"a": 0, "b": 3, "c": 4}},
            "groen": {"grades": {"park": 4, "kade": 2}},
        },
        {
            "autoluw": {"grades": {"a": 1, "b": 4, "c": 2}},
            "groen": {"grades": {"markt": 3, "park": 3}},
        },
        {"autoluw": {"grades": {"a": 4, "b": 2}}},
        {"groen": {"grades": {"plein": 1, "park": 4}}},
    ]
    for index, ballot in enumerate(answers):
        await cast_ok(client, auth, poll.round_id, f"r{index}", "GM0268", {"questions": ballot})
    await close(client, auth, poll.round_id)
    await publish(client, auth, poll.round_id)
    result = await result_of(client, poll.round_id)
    assert result["valid"] is True
    [only] = result["results"]
    outcome = only["preferendum"]
    assert outcome["turnout"] == 4
    assert outcome["quorum_met"] is True
    by_question = {item["id"]: item for item in outcome["questions"]}
    assert by_question["autoluw"]["participation"] == 3
    assert by_question["groen"]["result"]["winners"] == ["park"]
    assert sorted(by_question["groen"]["excluded_options"]) == ["kade", "markt", "plein"]
    # One question on its own (no option falls under min_graders there, so no quorum applies).
    for question in ("autoluw",):
        record = (
            await client.get(f"/api/rounds/{poll.round_id}/cast-vote-record?question={question}")
        ).json()
        assert record["tie_break"] == [f"lottery:{result['seed']}"]
        path = tmp_path / f"{question}.json"
        path.write_text(json.dumps(record), encoding="utf-8")
        args = ["tally", str(path), "--method", "majority-judgment", "--format", "json"]
        ours = run_cli(*args, "--tie-break", f"lottery:{result['seed']}")
        assert ours["ranking"] == by_question[question]["result"]["ranking"]
        assert ours["scores"] == by_question[question]["result"]["scores"]
    whole = (await client.get(f"/api/rounds/{poll.round_id}/cast-vote-record")).json()
    receipts = [ballot["receipt"] for ballot in whole["ballots"]]
    assert receipts == sorted(receipts)
    assert all(len(ballot["nonce"]) == 64 for ballot in whole["ballots"])
    path = tmp_path / "preferendum.json"
    path.write_text(json.dumps(whole), encoding="utf-8")
    tallied = run_cli("tally", str(path), "--format", "json")
    assert tallied["quorum_met"] is True
    assert tallied["turnout"] == 4
    for item in tallied["questions"]:
        assert item["result"]["ranking"] == by_question[item["id"]]["result"]["ranking"]
        assert item["result"]["scores"] == by_question[item["id"]]["result"]["scores"]


async def test_what_if_for_a_preferendum_compares_another_method(client: Any, auth: Any) -> None:
    poll = await open_preferendum_round(client, auth, document=small_preferendum())
    for index, grades in enumerate(
        [{"a": 0, "b": 3, "c": 4}, {"a": 4, "b": 3, "c": 0}, {"a": 2, "b": 3, "c": 1}]
    ):
        await cast_ok(
            client,
            auth,
            poll.round_id,
            f"r{index}",
            "GM0268",
            {"questions": {"autoluw": {"grades": grades}}},
        )
    await close(client, auth, poll.round_id)
    response = await client.post(
        f"/api/rounds/{poll.round_id}/what-if",
        json={"rule": "score-mean"},
        headers=auth("official"),
    )
    assert response.status_code == 200, response.text
    comparison = {item["question"]: item for item in response.json()["comparison"]}
    assert comparison["autoluw"]["stored_method"] == "majority-judgment"
    assert comparison["autoluw"]["tally"]["method"] == "score-mean"
    assert comparison["autoluw"]["stored_winners"] == ["b"]


async def _result_rows(settings: Any, round_id: str) -> int:
    from sqlalchemy import text

    from stemmen.db import create_engine

    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            count = await connection.scalar(
                text("SELECT count(*) FROM results WHERE round_id = :r"), {"r": round_id}
            )
            return int(count or 0)
    finally:
        await engine.dispose()


async def test_a_round_without_ballots_funds_nothing_under_a_minimum_support(
    client: Any, auth: Any
) -> None:
    from tests.integration.round_helpers import budget_ruleset_without_supports

    document = budget_ruleset_without_supports()
    document["allocation"]["min_support"] = {"votes": 1}  # greedy alone funds unsupported projects
    budget = await open_budget_round(client, auth, document=document)
    await close(client, auth, budget.round_id)
    await publish(client, auth, budget.round_id)
    result = await result_of(client, budget.round_id)
    assert result["ballots"] == 0
    assert [item["allocation"]["selected"] for item in result["results"]] == [[], []]
    assert (
        result["merkle_root"] == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


async def test_what_if_with_junk_options_is_refused_never_a_server_error(
    client: Any, auth: Any
) -> None:
    budget = await voted_budget_round(client, auth)
    await close(client, auth, budget.round_id)
    junk: list[dict[str, Any]] = [
        {"rule": "mes", "options": {"satisfaction": 5}},
        {"rule": "mes", "options": {"completion": "everything"}},
        {"rule": "greedy", "options": {"tie_break": "coin-toss"}},
        {"rule": "greedy", "options": {"min_support": {"votes": "many"}}},
        {"rule": "greedy", "options": {"category_caps_cents": {"Nergens": 5}}},
        {"rule": "greedy", "options": {"channel_weights": {"online": "half"}}},
        {"rule": "max-welfare", "options": {"satisfaction": "joy"}},
        {"rule": "greedy", "options": {"min_support": {"share": 1}}},
        {"rule": "greedy", "options": {"channel_weights": {"online": 0, "paper": 0}}},
        {"rule": "phragmen", "options": {"nonsense": True}},
        {"rule": "mes", "options": []},
    ]
    for body in junk:
        response = await client.post(
            f"/api/rounds/{budget.round_id}/what-if", json=body, headers=auth("official")
        )
        assert 400 <= response.status_code < 500, (body, response.status_code, response.text)
