"""Voting: the ballot a resident sees, casting it, and every refusal with a reason they can act on."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

from sqlalchemy import text

from tests.integration.ballot_helpers import cast, cast_ok, close
from tests.integration.round_helpers import (
    budget_ruleset_without_supports,
    example_ruleset,
    open_budget_round,
    open_preferendum_round,
    resident,
)


async def test_a_resident_sees_the_projects_of_their_own_area_with_costs_budget_and_rules(
    client: Any, auth: Any
) -> None:
    budget = await open_budget_round(client, auth)
    response = await client.get(
        f"/api/rounds/{budget.round_id}/ballot", headers=resident(auth, "r1", "WK026801")
    )
    assert response.status_code == 200, response.text
    ballot = response.json()
    assert ballot["area"] == "WK026801"
    assert ballot["budget_cents"] == 5_000_000
    assert [(p["code"], p["cost_cents"]) for p in ballot["projects"]] == budget.ballot["WK026801"]
    assert ballot["rules"]["format"] == "knapsack"
    assert ballot["rules"]["within_budget"] is True
    assert ballot["rules"]["revote"] == "last_counts"
    assert "approvals" in ballot["rules"]["answer_form"]
    assert ballot["already_voted"] is False


async def test_a_cast_ballot_is_recorded_in_normal_form_with_a_receipt_code(
    client: Any, auth: Any
) -> None:
    budget = await open_budget_round(client, auth)
    codes = [code for code, _ in budget.ballot["WK026801"]]
    receipt = await cast_ok(
        client, auth, budget.round_id, "r1", "WK026801", {"approvals": [codes[1], codes[0]]}
    )
    assert receipt["recorded"] == {"approvals": [codes[0], codes[1]]}
    assert (
        receipt["cost_cents"] == budget.ballot["WK026801"][0][1] + budget.ballot["WK026801"][1][1]
    )
    assert receipt["status"] == "counted"
    assert receipt["channel"] == "online"
    assert len(receipt["receipt"]) == 27
    assert len(receipt["receipt_hash"]) == 64
    assert receipt["replaced_earlier_ballot"] is False
    again = await client.get(
        f"/api/rounds/{budget.round_id}/ballot", headers=resident(auth, "r1", "WK026801")
    )
    assert again.json()["already_voted"] is True


async def test_a_ballot_over_the_area_budget_is_refused_naming_the_amounts_and_area(
    client: Any, auth: Any
) -> None:
    budget = await open_budget_round(client, auth)
    codes = [code for code, _ in budget.ballot["WK026801"]]  # 20,000 + 12,000 + 25,000 > 50,000
    response = await cast(client, auth, budget.round_id, "r1", "WK026801", {"approvals": codes})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "ballot_over_budget"
    assert body["message"] == (
        "your choice costs EUR 57,000, which is EUR 7,000 over the EUR 50,000 budget of Oost"
    )
    assert body["message_nl"].startswith("uw keuze kost € 57.000")
    assert body["details"]["over_cents"] == 700_000


async def test_too_few_and_unknown_choices_are_refused(client: Any, auth: Any) -> None:
    budget = await open_budget_round(client, auth)
    empty = await cast(client, auth, budget.round_id, "r1", "WK026801", {"approvals": []})
    assert empty.status_code == 422
    assert empty.json()["code"] == "ballot_too_few_selections"
    other_area = budget.ballot["WK026802"][0][0]
    unknown = await cast(client, auth, budget.round_id, "r1", "WK026801", {"approvals": ["nope"]})
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "ballot_unknown_option"
    # Codes are per round, so another area's code may exist on this area's ballot or not at all;
    # either way the voter cannot vote for a project outside their own area's ballot.
    mine = {code for code, _ in budget.ballot["WK026801"]}
    if other_area not in mine:
        foreign = await cast(
            client, auth, budget.round_id, "r1", "WK026801", {"approvals": [other_area]}
        )
        assert foreign.status_code == 422


async def test_too_many_choices_are_refused(client: Any, auth: Any) -> None:
    document = budget_ruleset_without_supports()
    document["ballot"]["max_selections"] = 1
    budget = await open_budget_round(client, auth, document=document)
    codes = [code for code, _ in budget.ballot["WK026802"]][:2]
    response = await cast(client, auth, budget.round_id, "r1", "WK026802", {"approvals": codes})
    assert response.status_code == 422
    assert response.json()["code"] == "ballot_too_many_selections"
    assert "at most 1" in response.json()["message"]


async def test_residents_too_young_on_the_closing_day_or_living_elsewhere_may_not_vote(
    client: Any, auth: Any
) -> None:
    budget = await open_budget_round(client, auth)
    code = budget.ballot["WK026801"][0][0]
    young = await cast(
        client,
        auth,
        budget.round_id,
        "kid",
        "WK026801",
        {"approvals": [code]},
        birth_date="2015-01-01",
    )
    assert young.status_code == 403
    assert young.json()["code"] == "not_eligible_age"
    assert "at least 16" in young.json()["message"]
    assert young.json()["message_nl"]
    elsewhere = await cast(client, auth, budget.round_id, "far", "WK026803", {"approvals": [code]})
    assert elsewhere.status_code == 403
    assert elsewhere.json()["code"] == "not_eligible_area"
    ballot = await client.get(
        f"/api/rounds/{budget.round_id}/ballot", headers=resident(auth, "far", "WK026803")
    )
    assert ballot.status_code == 403


async def test_a_neighbourhood_inside_a_district_votes_on_that_districts_ballot(
    client: Any, auth: Any
) -> None:
    budget = await open_budget_round(client, auth)
    response = await client.get(
        f"/api/rounds/{budget.round_id}/ballot", headers=resident(auth, "r1", "BU02680100")
    )
    assert response.status_code == 200, response.text
    assert response.json()["area"] == "WK026801"


async def test_a_resident_of_two_areas_must_say_which_and_may_vote_in_each(
    client: Any, auth: Any
) -> None:
    budget = await open_budget_round(client, auth)
    headers = auth(
        "resident", subject="both", areas=["WK026801", "WK026802"], birth_date="1980-01-01"
    )
    code_east, code_centre = budget.ballot["WK026801"][0][0], budget.ballot["WK026802"][0][0]
    unclear = await client.post(
        f"/api/rounds/{budget.round_id}/ballots",
        json={"ballot": {"approvals": [code_east]}},
        headers=headers,
    )
    assert unclear.status_code == 422
    assert unclear.json()["code"] == "choose_area"
    for area, code in (("WK026801", code_east), ("WK026802", code_centre)):
        response = await client.post(
            f"/api/rounds/{budget.round_id}/ballots",
            json={"area": area, "ballot": {"approvals": [code]}},
            headers=headers,
        )
        assert response.status_code == 201, response.text  # one ballot per area (one_ballot_per)


async def test_voting_is_refused_before_it_opens_and_after_the_close(
    client: Any, auth: Any
) -> None:
    waiting = await open_budget_round(client, auth, open_voting=False)
    early = await cast(client, auth, waiting.round_id, "r1", "WK026801", {"approvals": ["001"]})
    assert early.status_code == 409
    assert early.json()["code"] == "voting_not_open"
    no_ballot = await client.get(
        f"/api/rounds/{waiting.round_id}/ballot", headers=resident(auth, "r1", "WK026801")
    )
    assert no_ballot.status_code == 409

    budget = await open_budget_round(client, auth, title="Tweede ronde")
    await close(client, auth, budget.round_id)
    code = budget.ballot["WK026801"][0][0]
    late = await cast(client, auth, budget.round_id, "r1", "WK026801", {"approvals": [code]})
    assert late.status_code == 409
    assert "closed" in late.json()["message"]


async def test_only_residents_cast_ballots_and_an_unknown_round_is_404(
    client: Any, auth: Any
) -> None:
    budget = await open_budget_round(client, auth)
    code = budget.ballot["WK026801"][0][0]
    for role in ("official", "auditor", "admin"):
        response = await client.post(
            f"/api/rounds/{budget.round_id}/ballots",
            json={"ballot": {"approvals": [code]}},
            headers=auth(role, areas=["WK026801"], birth_date="1980-01-01"),
        )
        assert response.status_code == 403, role
    anonymous = await client.post(
        f"/api/rounds/{budget.round_id}/ballots", json={"ballot": {"approvals": [code]}}
    )
    assert anonymous.status_code == 401
    missing = await cast(client, auth, "0" * 32, "r1", "WK026801", {"approvals": [code]})
    assert missing.status_code == 404


async def test_voting_again_replaces_the_counted_ballot_when_the_rule_set_allows_it(
    client: Any, auth: Any, settings: Any
) -> None:
    budget = await open_budget_round(client, auth)
    codes = [code for code, _ in budget.ballot["WK026801"]]
    first = await cast_ok(
        client, auth, budget.round_id, "r1", "WK026801", {"approvals": [codes[0]]}
    )
    second = await cast_ok(
        client, auth, budget.round_id, "r1", "WK026801", {"approvals": [codes[1]]}
    )
    assert second["replaced_earlier_ballot"] is True
    old = await client.get(f"/api/receipts/{first['receipt']}")
    assert old.json()["status"] == "superseded"
    assert old.json()["counted"] is False
    new = await client.get(f"/api/receipts/{second['receipt']}")
    assert new.json()["status"] == "counted"
    rows = await _ballot_rows(settings, budget.round_id)
    assert sorted(status for status, _ in rows) == ["counted", "superseded"]
    assert [slot is None for status, slot in sorted(rows)] == [False, True]


async def test_voting_again_is_refused_when_the_rule_set_makes_the_first_ballot_final(
    client: Any, auth: Any
) -> None:
    document = copy.deepcopy(budget_ruleset_without_supports())
    document["ballot"]["revote"] = "forbidden"
    budget = await open_budget_round(client, auth, document=document)
    codes = [code for code, _ in budget.ballot["WK026801"]]
    await cast_ok(client, auth, budget.round_id, "r1", "WK026801", {"approvals": [codes[0]]})
    again = await cast(client, auth, budget.round_id, "r1", "WK026801", {"approvals": [codes[1]]})
    assert again.status_code == 409
    assert again.json()["code"] == "already_voted"
    assert "already voted" in again.json()["message"]


async def test_one_residents_ballot_sent_twenty_times_at_once_counts_exactly_once(
    concurrent_client: Any, auth: Any, settings: Any
) -> None:
    client = concurrent_client
    document = copy.deepcopy(budget_ruleset_without_supports())
    document["ballot"]["revote"] = "forbidden"
    budget = await open_budget_round(client, auth, document=document)
    code = budget.ballot["WK026801"][0][0]
    headers = resident(auth, "eager", "WK026801")
    client.in_flight.reset()
    responses = await asyncio.gather(
        *(
            client.post(
                f"/api/rounds/{budget.round_id}/ballots",
                json={"ballot": {"approvals": [code]}},
                headers=headers,
            )
            for _ in range(20)
        )
    )
    assert client.in_flight.most > 1, "the requests ran one after another"
    statuses = sorted(response.status_code for response in responses)
    assert statuses.count(201) == 1, statuses
    assert all(status in (201, 409, 429, 503) for status in statuses), statuses
    rows = await _ballot_rows(settings, budget.round_id)
    assert [status for status, _ in rows] == ["counted"]


async def test_a_preferendum_ballot_answers_several_questions_and_refuses_unknown_ones(
    client: Any, auth: Any
) -> None:
    poll = await open_preferendum_round(client, auth)
    ballot = await client.get(
        f"/api/rounds/{poll.round_id}/ballot", headers=resident(auth, "r1", "GM0268")
    )
    assert ballot.status_code == 200, ballot.text
    body = ballot.json()
    assert [q["id"] for q in body["questions"]] == ["autoluw", "groen"]
    assert body["rules"]["scale"]["labels"][0] == "zeer oneens"
    receipt = await cast_ok(
        client,
        auth,
        poll.round_id,
        "r1",
        "GM0268",
        {
            "questions": {
                "autoluw": {"grades": {"a": "eens", "c": 0}},
                "groen": {"grades": {"park": "zeer eens"}},
            }
        },
    )
    assert receipt["recorded"]["questions"]["autoluw"] == {"grades": {"a": 3, "c": 0}}
    wrong = await cast(
        client,
        auth,
        poll.round_id,
        "r2",
        "GM0268",
        {"questions": {"fietsen": {"grades": {"a": 1}}}},
    )
    assert wrong.status_code == 422
    assert wrong.json()["code"] == "ballot_unknown_question"
    off_scale = await cast(
        client,
        auth,
        poll.round_id,
        "r3",
        "GM0268",
        {"questions": {"autoluw": {"grades": {"a": "top"}}}},
    )
    assert off_scale.status_code == 422
    assert off_scale.json()["code"] == "ballot_grade_not_on_scale"


async def _ballot_rows(settings: Any, round_id: str) -> list[tuple[str, str | None]]:
    from stemmen.db import create_engine

    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT status, live_slot FROM ballots WHERE round_id = :r ORDER BY status"),
                {"r": round_id},
            )
            return [(str(status), slot) for status, slot in rows]
    finally:
        await engine.dispose()


async def test_an_open_poll_takes_anyone_old_enough_allows_a_blank_vote_and_no_second_one(
    client: Any, auth: Any
) -> None:
    # The example wijkpeiling: residents_only false, abstaining allowed, revote forbidden.
    poll = await open_preferendum_round(client, auth, document=example_ruleset("wijkpeiling"))
    visitor = auth("resident", subject="visitor", areas=[], birth_date="2000-01-01")
    blank = await client.post(
        f"/api/rounds/{poll.round_id}/ballots", json={"ballot": {"abstain": True}}, headers=visitor
    )
    assert blank.status_code == 201, blank.text
    assert blank.json()["recorded"] == {"abstain": True}
    again = await client.post(
        f"/api/rounds/{poll.round_id}/ballots",
        json={"ballot": {"questions": {"autoluw": {"approvals": ["a"]}}}},
        headers=visitor,
    )
    assert again.status_code == 409
    assert again.json()["code"] == "already_voted"


async def test_twenty_changes_of_mind_at_once_leave_exactly_one_counted_ballot(
    concurrent_client: Any, auth: Any, settings: Any
) -> None:
    client = concurrent_client
    budget = await open_budget_round(client, auth)  # revote: last_counts
    codes = [code for code, _ in budget.ballot["WK026802"]]
    headers = resident(auth, "hasty", "WK026802")
    client.in_flight.reset()
    responses = await asyncio.gather(
        *(
            client.post(
                f"/api/rounds/{budget.round_id}/ballots",
                json={"ballot": {"approvals": [codes[index % len(codes)]]}},
                headers=headers,
            )
            for index in range(20)
        )
    )
    assert client.in_flight.most > 1, "the requests ran one after another"
    statuses = [response.status_code for response in responses]
    assert all(status in (201, 409, 429, 503) for status in statuses), statuses
    conflicts = {response.json()["code"] for response in responses if response.status_code == 409}
    assert conflicts <= {"ballot_race"}
    rows = await _ballot_rows(settings, budget.round_id)
    assert [status for status, _ in rows].count("counted") == 1
    assert len(rows) == statuses.count(201)


async def test_junk_sent_as_a_ballot_is_refused_never_a_server_error(
    client: Any, auth: Any
) -> None:
    budget = await open_budget_round(client, auth)
    url = f"/api/rounds/{budget.round_id}/ballots"
    headers = resident(auth, "fuzzy", "WK026801")
    bodies: list[Any] = [
        {"ballot": {"approvals": "001"}},
        {"ballot": {"approvals": [1, 2]}},
        {"ballot": {}},
        {"ballot": {"questions": []}},
        {"ballot": {"abstain": "yes"}},
        {"ballot": {"points": {"001": 3}}},
        {"ballot": {"approvals": ["001"]}, "area": "../../etc"},
        {"ballot": {"approvals": ["001"]}, "area": "WK999999"},
        {"ballot": ["001"]},
        [],
        "001",
        {"ballot": {"approvals": ["001"] * 10_000}},
    ]
    for body in bodies:
        response = await client.post(url, json=body, headers=headers)
        assert 400 <= response.status_code < 500, (body, response.status_code, response.text)
        assert response.json()["message"]
    raw = await client.post(
        url, content=b"{not json", headers={**headers, "Content-Type": "application/json"}
    )
    assert 400 <= raw.status_code < 500
