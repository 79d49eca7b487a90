"""Fetching the ballot once a worker has served it before: the answer still follows the round
and the voter, never an earlier voter's answer or an earlier state of the round."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.ballot_helpers import cast_ok, close
from tests.integration.round_helpers import open_budget_round, resident


async def _ballot(client: Any, round_id: str, headers: dict[str, str], **params: str) -> Any:
    return await client.get(f"/api/rounds/{round_id}/ballot", headers=headers, params=params)


async def test_every_voter_of_an_area_sees_the_same_ballot_and_only_their_own_vote(
    client: Any, auth: Any
) -> None:
    budget = await open_budget_round(client, auth)
    first = await _ballot(client, budget.round_id, resident(auth, "r1", "WK026801"))
    code = budget.ballot["WK026801"][0][0]
    await cast_ok(client, auth, budget.round_id, "r1", "WK026801", {"approvals": [code]})
    voted = await _ballot(client, budget.round_id, resident(auth, "r1", "WK026801"))
    other = await _ballot(client, budget.round_id, resident(auth, "r2", "WK026801"))
    elsewhere = await _ballot(client, budget.round_id, resident(auth, "r3", "WK026802"))
    assert first.json()["already_voted"] is False
    assert voted.json()["already_voted"] is True
    assert other.json() == first.json()
    assert {key: value for key, value in voted.json().items() if key != "already_voted"} == {
        key: value for key, value in first.json().items() if key != "already_voted"
    }
    assert elsewhere.json()["area"] == "WK026802"
    assert [p["code"] for p in elsewhere.json()["projects"]] == [
        code for code, _ in budget.ballot["WK026802"]
    ]


async def test_refusals_are_the_same_after_the_ballot_was_served(client: Any, auth: Any) -> None:
    budget = await open_budget_round(client, auth)
    assert (await _ballot(client, budget.round_id, resident(auth, "r1", "WK026801"))).is_success
    outsider = await _ballot(client, budget.round_id, resident(auth, "far", "WK026803"))
    assert outsider.status_code == 403
    assert outsider.json()["code"] == "not_eligible_area"
    child = await _ballot(
        client, budget.round_id, resident(auth, "kid", "WK026801", birth_date="2015-01-01")
    )
    assert child.status_code == 403
    assert child.json()["code"] == "not_eligible_age"
    both = auth("resident", subject="both", areas=["WK026801", "WK026802"], birth_date="1980-01-01")
    unclear = await _ballot(client, budget.round_id, both)
    assert unclear.status_code == 422
    assert unclear.json()["code"] == "choose_area"
    chosen = await _ballot(client, budget.round_id, both, area="WK026802")
    assert chosen.json()["area"] == "WK026802"


async def test_a_closed_round_serves_no_ballot_however_often_it_was_served(
    client: Any, auth: Any
) -> None:
    budget = await open_budget_round(client, auth)
    for _ in range(2):
        served = await _ballot(client, budget.round_id, resident(auth, "r1", "WK026801"))
        assert served.status_code == 200
    await close(client, auth, budget.round_id)
    after = await _ballot(client, budget.round_id, resident(auth, "r1", "WK026801"))
    assert after.status_code == 409
    assert after.json()["code"] == "voting_not_open"


async def test_killed_database_connections_cost_no_fetch_and_no_cast(
    client: Any, auth: Any, settings: Any
) -> None:
    if settings.is_sqlite:
        pytest.skip("connection faults concern a database server; SQLite is embedded")
    from tests.integration.test_faults import _terminate_backends

    budget = await open_budget_round(client, auth)
    headers = resident(auth, "r1", "WK026801")
    assert (await _ballot(client, budget.round_id, headers)).status_code == 200
    await _terminate_backends(settings.database_url)
    served = await _ballot(client, budget.round_id, headers)
    assert served.status_code == 200, served.text
    await _terminate_backends(settings.database_url)
    code = budget.ballot["WK026801"][0][0]
    await cast_ok(client, auth, budget.round_id, "r1", "WK026801", {"approvals": [code]})
    assert (await _ballot(client, budget.round_id, headers)).json()["already_voted"] is True
