"""Paper ballots: entered one at a time with the same checks, counted only once a second
official confirms the batch, and kept apart from online votes where the rule set says so."""

from __future__ import annotations

import copy
import json
from typing import Any

from sqlalchemy import text

from tests.integration.ballot_helpers import cast, cast_ok, close, result_of
from tests.integration.round_helpers import (
    budget_ruleset_without_supports,
    example_ruleset,
    open_budget_round,
    open_preferendum_round,
)

CLERK = {"subject": "clerk-anna"}
CHECKER = {"subject": "clerk-bram"}


def official(auth: Any, who: dict[str, str]) -> dict[str, str]:
    return auth("official", subject=who["subject"])


async def open_batch(client: Any, auth: Any, round_id: str, who: dict[str, str] = CLERK) -> int:
    response = await client.post(
        f"/api/rounds/{round_id}/paper-batches",
        json={"label": "stembureau Wijkcentrum, doos 1"},
        headers=official(auth, who),
    )
    assert response.status_code == 201, response.text
    batch_id: int = response.json()["id"]
    return batch_id


async def enter(
    client: Any,
    auth: Any,
    round_id: str,
    batch_id: int,
    voter: str,
    area: str | None,
    ballot: dict[str, Any],
    who: dict[str, str] = CLERK,
) -> Any:
    body: dict[str, Any] = {"voter": voter, "ballot": ballot}
    if area is not None:
        body["area"] = area
    return await client.post(
        f"/api/rounds/{round_id}/paper-batches/{batch_id}/ballots",
        json=body,
        headers=official(auth, who),
    )


async def confirm(
    client: Any, auth: Any, round_id: str, batch_id: int, who: dict[str, str] = CHECKER
) -> Any:
    return await client.post(
        f"/api/rounds/{round_id}/paper-batches/{batch_id}/confirm", headers=official(auth, who)
    )


async def confirmed_paper_ballot(
    client: Any, auth: Any, round_id: str, voter: str, area: str, ballot: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    """One paper ballot in a batch of its own, entered by one clerk and confirmed by another:
    it counts. The batch, and the entry's receipt."""
    batch = await open_batch(client, auth, round_id)
    entered = await enter(client, auth, round_id, batch, voter, area, ballot)
    assert entered.status_code == 201, entered.text
    confirmed = await confirm(client, auth, round_id, batch)
    assert confirmed.status_code == 200, confirmed.text
    return batch, entered.json()


async def test_paper_ballots_count_only_after_a_second_official_confirms_their_batch(
    client: Any, auth: Any, settings: Any
) -> None:
    budget = await open_budget_round(client, auth)
    code = budget.ballot["WK026801"][0][0]
    batch = await open_batch(client, auth, budget.round_id)
    entered = await enter(
        client, auth, budget.round_id, batch, "register-0001", "WK026801", {"approvals": [code]}
    )
    assert entered.status_code == 201, entered.text
    receipt = entered.json()
    assert receipt["channel"] == "paper"
    assert receipt["status"] == "pending"
    assert (await client.get(f"/api/receipts/{receipt['receipt']}")).json()["counted"] is False

    own = await confirm(client, auth, budget.round_id, batch, who=CLERK)
    assert own.status_code == 403
    assert own.json()["code"] == "four_eyes"
    confirmed = await confirm(client, auth, budget.round_id, batch)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "confirmed"
    assert confirmed.json()["confirmed_by"] == CHECKER["subject"]
    assert confirmed.json()["ballots"] == 1
    assert (await client.get(f"/api/receipts/{receipt['receipt']}")).json()["status"] == "counted"
    kinds = [kind for kind, _ in await audit_events(settings, budget.round_id)]
    assert kinds.count("ballot.accepted") == 1
    assert kinds[-1] == "paper_batch.confirmed"
    again = await confirm(client, auth, budget.round_id, batch, who={"subject": "clerk-carla"})
    assert again.status_code == 409

    await close(client, auth, budget.round_id)
    result = await result_of(client, budget.round_id, auth("official"))
    assert result["ballots"] == 1


async def test_paper_ballots_get_the_same_validation_as_online_ones(client: Any, auth: Any) -> None:
    budget = await open_budget_round(client, auth)
    batch = await open_batch(client, auth, budget.round_id)
    every = [code for code, _ in budget.ballot["WK026801"]]
    over = await enter(
        client, auth, budget.round_id, batch, "register-0001", "WK026801", {"approvals": every}
    )
    assert over.status_code == 422
    assert over.json()["code"] == "ballot_over_budget"
    nowhere = await enter(
        client, auth, budget.round_id, batch, "register-0002", "WK026809", {"approvals": every[:1]}
    )
    assert nowhere.status_code == 403
    unclear = await enter(
        client, auth, budget.round_id, batch, "register-0003", None, {"approvals": every[:1]}
    )
    assert unclear.status_code == 422
    assert unclear.json()["code"] == "choose_area"


async def test_only_officials_handle_paper_and_only_the_opener_enters_into_a_batch(
    client: Any, auth: Any
) -> None:
    budget = await open_budget_round(client, auth)
    as_resident = await client.post(
        f"/api/rounds/{budget.round_id}/paper-batches",
        json={"label": "doos"},
        headers=auth("resident", areas=["WK026801"]),
    )
    assert as_resident.status_code == 403
    batch = await open_batch(client, auth, budget.round_id)
    code = budget.ballot["WK026801"][0][0]
    intruder = await enter(
        client,
        auth,
        budget.round_id,
        batch,
        "register-0001",
        "WK026801",
        {"approvals": [code]},
        who=CHECKER,
    )
    assert intruder.status_code == 403
    assert intruder.json()["code"] == "not_your_batch"
    listed = await client.get(
        f"/api/rounds/{budget.round_id}/paper-batches", headers=official(auth, CHECKER)
    )
    assert [(item["id"], item["status"], item["ballots"]) for item in listed.json()] == [
        (batch, "open", 0)
    ]


async def test_a_rejected_batch_never_counts_and_its_voters_may_vote_again(
    client: Any, auth: Any
) -> None:
    budget = await open_budget_round(client, auth)
    code = budget.ballot["WK026801"][0][0]
    batch = await open_batch(client, auth, budget.round_id)
    entered = await enter(
        client, auth, budget.round_id, batch, "r1", "WK026801", {"approvals": [code]}
    )
    assert entered.status_code == 201
    online_first = await cast(
        client, auth, budget.round_id, "r1", "WK026801", {"approvals": [code]}
    )
    assert online_first.status_code == 409  # paper and online exclude each other here
    assert online_first.json()["code"] == "voted_other_channel"
    rejected = await client.post(
        f"/api/rounds/{budget.round_id}/paper-batches/{batch}/reject",
        json={"reason": "doos niet verzegeld"},
        headers=official(auth, CHECKER),
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected"
    assert (await client.get(f"/api/receipts/{entered.json()['receipt']}")).json()[
        "status"
    ] == "discarded"
    await cast_ok(client, auth, budget.round_id, "r1", "WK026801", {"approvals": [code]})


async def test_who_voted_online_cannot_also_vote_on_paper_where_the_rule_set_says_so(
    client: Any, auth: Any
) -> None:
    budget = await open_budget_round(client, auth)
    code = budget.ballot["WK026801"][0][0]
    await cast_ok(client, auth, budget.round_id, "r1", "WK026801", {"approvals": [code]})
    batch = await open_batch(client, auth, budget.round_id)
    paper = await enter(
        client, auth, budget.round_id, batch, "r1", "WK026801", {"approvals": [code]}
    )
    assert paper.status_code == 409
    assert paper.json()["code"] == "voted_other_channel"
    assert "online" in paper.json()["message"]


async def test_without_exclusivity_a_later_paper_ballot_replaces_an_online_one(
    client: Any, auth: Any
) -> None:
    document = copy.deepcopy(budget_ruleset_without_supports())
    document["ballot"]["paper_online_exclusive"] = False
    budget = await open_budget_round(client, auth, document=document)
    codes = [code for code, _ in budget.ballot["WK026801"]]
    online = await cast_ok(
        client, auth, budget.round_id, "r1", "WK026801", {"approvals": [codes[0]]}
    )
    batch = await open_batch(client, auth, budget.round_id)
    paper = await enter(
        client, auth, budget.round_id, batch, "r1", "WK026801", {"approvals": [codes[1]]}
    )
    assert paper.status_code == 201, paper.text
    assert paper.json()["replaced_earlier_ballot"] is True
    assert (await client.get(f"/api/receipts/{online['receipt']}")).json()["status"] == "superseded"


async def test_the_round_cannot_close_while_a_paper_batch_is_open(client: Any, auth: Any) -> None:
    budget = await open_budget_round(client, auth)
    code = budget.ballot["WK026802"][0][0]
    batch = await open_batch(client, auth, budget.round_id)
    await enter(client, auth, budget.round_id, batch, "r9", "WK026802", {"approvals": [code]})
    refused = await client.post(
        f"/api/rounds/{budget.round_id}/phase", json={"to": "closed"}, headers=auth("official")
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "paper_batches_open"
    assert str(batch) in refused.json()["message"]
    assert (await confirm(client, auth, budget.round_id, batch)).status_code == 200
    await close(client, auth, budget.round_id)


async def test_paper_ballots_are_entered_and_confirmed_only_while_voting_is_open(
    client: Any, auth: Any
) -> None:
    # Paper counted after the polls close must be entered before the round closes: the close
    # seals the ballot tree in the same transaction (docs/bundle.md, section 9).
    budget = await open_budget_round(client, auth)
    code = budget.ballot["WK026802"][0][0]
    batch, _ = await confirmed_paper_ballot(
        client, auth, budget.round_id, "r9", "WK026802", {"approvals": [code]}
    )
    await close(client, auth, budget.round_id)
    late = [
        await client.post(
            f"/api/rounds/{budget.round_id}/paper-batches",
            json={"label": "nagekomen"},
            headers=official(auth, CLERK),
        ),
        await enter(client, auth, budget.round_id, batch, "r10", "WK026802", {"approvals": [code]}),
        await confirm(client, auth, budget.round_id, batch),
    ]
    for response in late:
        assert response.status_code == 409, response.text
        assert response.json()["code"] == "voting_not_open"


async def test_paper_is_refused_where_the_rule_set_only_allows_online_voting(
    client: Any, auth: Any
) -> None:
    poll = await open_preferendum_round(client, auth, document=example_ruleset("wijkpeiling"))
    response = await client.post(
        f"/api/rounds/{poll.round_id}/paper-batches",
        json={"label": "doos"},
        headers=official(auth, CLERK),
    )
    assert response.status_code == 409
    assert response.json()["code"] == "paper_not_allowed"


async def audit_events(settings: Any, round_id: str) -> list[tuple[str, Any]]:
    from stemmen.db import create_engine

    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT kind, payload FROM audit_events WHERE chain = :r ORDER BY seq"),
                {"r": round_id},
            )
            # SQLite hands JSON back as text, PostgreSQL as objects.
            return [(str(kind), json.loads(p) if isinstance(p, str) else p) for kind, p in rows]
    finally:
        await engine.dispose()
