"""Receipts: a resident checks their ballot was counted as cast; nobody learns who cast what."""

from __future__ import annotations

from typing import Any

from stemmen.audit.canonical import canonical_bytes
from stemmen.audit.merkle import verify_inclusion
from stemmen.audit.receipts import budget_ballot_record, compute_receipt_hash
from tests.integration.ballot_helpers import cast_ok, close, publish
from tests.integration.round_helpers import open_budget_round, resident


async def test_a_receipt_code_shows_the_ballot_counted_as_cast_however_it_is_typed(
    client: Any, auth: Any
) -> None:
    budget = await open_budget_round(client, auth)
    codes = [code for code, _ in budget.ballot["WK026801"]]
    receipt = await cast_ok(
        client, auth, budget.round_id, "r1", "WK026801", {"approvals": [codes[2], codes[0]]}
    )
    for typed in (
        receipt["receipt"],
        receipt["receipt"].lower(),
        receipt["receipt"].replace("-", " "),
    ):
        response = await client.get(f"/api/receipts/{typed}")
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["status"] == "counted"
        assert body["counted"] is True
        assert body["receipt_hash"] == receipt["receipt_hash"]
        assert body["recorded"] == budget_ballot_record(
            budget.round_id, "WK026801", [codes[0], codes[2]]
        )
    within = await client.get(f"/api/rounds/{budget.round_id}/receipts/{receipt['receipt']}")
    assert within.status_code == 200
    elsewhere = await client.get(f"/api/rounds/{'f' * 32}/receipts/{receipt['receipt']}")
    assert elsewhere.status_code == 404


async def test_a_mistyped_or_unknown_receipt_code_is_refused_with_what_to_check(
    client: Any, auth: Any
) -> None:
    budget = await open_budget_round(client, auth)
    receipt = await cast_ok(
        client,
        auth,
        budget.round_id,
        "r1",
        "WK026801",
        {"approvals": [budget.ballot["WK026801"][0][0]]},
    )
    code = receipt["receipt"]
    swapped = code[:-1] + ("0" if code[-1] != "0" else "1")
    typo = await client.get(f"/api/receipts/{swapped}")
    assert typo.status_code == 422
    assert typo.json()["code"] == "receipt_unreadable"
    assert "typing error" in typo.json()["message"]
    short = await client.get("/api/receipts/ABC-123")
    assert short.status_code == 422
    unknown = await client.get("/api/receipts/000-000-000-000-000-000-000")
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "receipt_not_found"


async def test_after_the_close_a_receipt_comes_with_a_proof_that_it_is_in_the_ballot_tree(
    client: Any, auth: Any
) -> None:
    budget = await open_budget_round(client, auth)
    receipts = [
        await cast_ok(client, auth, budget.round_id, f"r{i}", "WK026801", {"approvals": [code]})
        for i, (code, _) in enumerate(budget.ballot["WK026801"])
    ]
    assert (await client.get(f"/api/receipts/{receipts[0]['receipt']}")).json()[
        "inclusion_proof"
    ] is None
    await close(client, auth, budget.round_id)
    for receipt in receipts:
        body = (await client.get(f"/api/receipts/{receipt['receipt']}")).json()
        proof = body["inclusion_proof"]
        assert proof["tree_size"] == len(receipts)
        assert verify_inclusion(
            bytes.fromhex(body["receipt_hash"]),
            proof["index"],
            proof["tree_size"],
            [bytes.fromhex(node) for node in proof["path"]],
            bytes.fromhex(body["merkle_root"]),
        )


async def test_anyone_recomputes_every_receipt_from_the_published_record(
    client: Any, auth: Any
) -> None:
    from stemmen.budget.pabulib import parse_pabulib

    budget = await open_budget_round(client, auth)
    cast_receipts = set()
    for area, items in budget.ballot.items():
        for index, (code, _) in enumerate(items[:2]):
            receipt = await cast_ok(
                client, auth, budget.round_id, f"{area}-{index}", area, {"approvals": [code]}
            )
            cast_receipts.add(receipt["receipt_hash"])
    await close(client, auth, budget.round_id)
    await publish(client, auth, budget.round_id)
    record = (await client.get(f"/api/rounds/{budget.round_id}/cast-vote-record")).json()
    published = set()
    for area in record["areas"]:
        instance, profile = parse_pabulib(area["pabulib"])
        for voter in profile.voters:
            vote = [instance.projects[i].id for i in voter.projects]
            content = budget_ballot_record(budget.round_id, area["area"], vote, voter.points)
            nonce = bytes.fromhex(voter.attributes["nonce"])
            assert compute_receipt_hash(canonical_bytes(content), nonce) == voter.id
            published.add(voter.id)
    assert published == cast_receipts


async def test_the_log_and_the_ballot_keep_who_voted_apart_from_what_was_voted(
    client: Any, auth: Any, settings: Any
) -> None:
    budget = await open_budget_round(client, auth)
    code = budget.ballot["WK026801"][0][0]
    mine = await cast_ok(
        client, auth, budget.round_id, "alice-bsn-123", "WK026801", {"approvals": [code]}
    )
    log = await client.get(f"/api/rounds/{budget.round_id}/log", headers=auth("auditor"))
    events = [(entry["kind"], entry["payload"]) for entry in log.json()["entries"]]
    accepted = [payload for kind, payload in events if kind == "ballot.accepted"]
    assert accepted == [{"receipt": mine["receipt_hash"], "channel": "online", "area": "WK026801"}]
    assert "alice" not in repr(events)
    # Another resident sees only their own state, never someone else's ballot.
    other = await client.get(
        f"/api/rounds/{budget.round_id}/ballot", headers=resident(auth, "bob", "WK026801")
    )
    assert other.json()["already_voted"] is False
    own = await client.get(
        f"/api/rounds/{budget.round_id}/ballot", headers=resident(auth, "alice-bsn-123", "WK026801")
    )
    assert own.json()["already_voted"] is True
