"""The phase machine: draft -> submission -> review -> supports -> voting -> closed -> published,
skipping what the rule set does not use; every move checked, recorded and logged."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from stemmen.audit import chain as events
from stemmen.audit.log import chain_entries
from stemmen.audit.receipts import check_seed
from stemmen.rounds.models import Round, RoundPhase
from tests.integration.round_helpers import (
    DEFAULT_AREAS,
    budget_ruleset_without_supports,
    create_round,
    database,
    example_ruleset,
    move,
    open_budget_round,
    open_preferendum_round,
    publish_ruleset,
    resident,
)


async def _events(settings: Any, round_id: str) -> list[Any]:
    async with database(settings) as maker, maker() as session:
        return await chain_entries(session, round_id)


async def _round_row(settings: Any, round_id: str) -> Round:
    async with database(settings) as maker, maker() as session:
        round_ = await session.get(Round, round_id)
        assert round_ is not None
        return round_


async def _move(client: Any, auth: Any, round_id: str, to: str, role: str = "official") -> Any:
    return await client.post(f"/api/rounds/{round_id}/phase", json={"to": to}, headers=auth(role))


async def _budget_draft(
    client: Any, auth: Any, document: dict[str, Any] | None = None, budget: int | None = None
) -> str:
    ruleset_hash = await publish_ruleset(
        client, auth, document or example_ruleset("nijmegen-buurtbegroting")
    )
    areas = (
        DEFAULT_AREAS
        if budget is None
        else [(code, name, budget) for code, name, _ in DEFAULT_AREAS]
    )
    return str((await create_round(client, auth, ruleset_hash, areas=areas))["id"])


async def _submit(
    client: Any, auth: Any, round_id: str, area: str, subject: str, cost: int = 1_000_000
) -> int:
    response = await client.post(
        f"/api/rounds/{round_id}/proposals",
        json={
            "title": f"Idee van {subject}",
            "area": area,
            "category": "Groen",
            "estimated_cost_cents": cost,
        },
        headers=resident(auth, subject, area),
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def _accept(
    client: Any, auth: Any, round_id: str, proposal_id: int, cost: int = 1_000_000
) -> None:
    response = await client.post(
        f"/api/rounds/{round_id}/proposals/{proposal_id}/review",
        json={"decision": "accept", "final_cost_cents": cost},
        headers=auth("official"),
    )
    assert response.status_code == 200, response.text


async def test_a_budget_round_walks_every_phase_its_rule_set_uses_and_each_move_is_logged(
    client: Any, auth: Any, settings: Any
) -> None:
    document = example_ruleset("nijmegen-buurtbegroting")
    document["proposals"]["supports_needed"] = 1
    round_id = await _budget_draft(client, auth, document)
    read = (await client.get(f"/api/rounds/{round_id}")).json()
    assert [p["phase"] for p in read["phases"]] == [
        "draft",
        "submission",
        "review",
        "supports",
        "voting",
        "closed",
        "published",
    ]
    assert read["next_phase"] == "submission"
    await move(client, auth, round_id, "submission")
    east = await _submit(client, auth, round_id, "WK026801", "r1")
    centre = await _submit(client, auth, round_id, "WK026802", "r2")
    await move(client, auth, round_id, "review")
    await _accept(client, auth, round_id, east)
    await _accept(client, auth, round_id, centre)
    await move(client, auth, round_id, "supports")
    for proposal, area in ((east, "WK026801"), (centre, "WK026802")):
        supported = await client.post(
            f"/api/rounds/{round_id}/proposals/{proposal}/support",
            headers=resident(auth, "fan", area),
        )
        assert supported.status_code == 200, supported.text
    voting = await move(client, auth, round_id, "voting")

    assert voting["phase"] == "voting"
    assert voting["next_phase"] == "closed"
    started = {p["phase"]: p for p in voting["phases"]}
    assert started["voting"]["started_by"] == "official-1"
    assert started["voting"]["started_at"] is not None
    log = await _events(settings, round_id)
    moves = [
        (e.payload["from"], e.payload["to"]) for e in log if e.kind == events.ROUND_PHASE_CHANGED
    ]
    assert moves == [
        ("draft", "submission"),
        ("submission", "review"),
        ("review", "supports"),
        ("supports", "voting"),
    ]
    assert next(e.kind for e in log) == events.ROUND_CREATED


async def test_a_rule_set_without_submission_or_supports_goes_from_draft_straight_to_voting(
    client: Any, auth: Any
) -> None:
    poll = await open_preferendum_round(client, auth, open_voting=False)
    read = (await client.get(f"/api/rounds/{poll.round_id}")).json()
    assert [p["phase"] for p in read["phases"]] == ["draft", "voting", "closed", "published"]
    refused = await _move(client, auth, poll.round_id, "submission")
    assert refused.status_code == 422
    assert refused.json()["code"] == "phase_not_in_ruleset"
    assert (await _move(client, auth, poll.round_id, "voting")).status_code == 200


async def test_only_officials_move_a_round_and_only_to_its_next_phase(
    client: Any, auth: Any
) -> None:
    round_id = await _budget_draft(client, auth)
    for to, code in [
        ("review", "phase_move_not_allowed"),
        ("voting", "phase_move_not_allowed"),
        ("closed", "phase_move_not_allowed"),
        ("published", "phase_move_not_allowed"),
        ("draft", "phase_move_not_allowed"),
        ("counting", "unknown_phase"),
    ]:
        response = await _move(client, auth, round_id, to)
        assert response.status_code in (409, 422), to
        assert response.json()["code"] == code, to
    assert (await client.get(f"/api/rounds/{round_id}")).json()["phase"] == "draft"
    for role in ("resident", "auditor"):
        assert (await _move(client, auth, round_id, "submission", role)).status_code == 403, role
    assert (
        await client.post(f"/api/rounds/{round_id}/phase", json={"to": "submission"})
    ).status_code == 401
    response = await _move(client, auth, round_id, "closed")
    assert response.status_code == 409
    assert "cannot close before voting has opened" in response.json()["message"]
    assert response.json()["message_nl"]


async def test_a_phase_the_rule_set_does_not_use_cannot_be_entered(client: Any, auth: Any) -> None:
    round_id = await _budget_draft(
        client, auth, example_ruleset("burgerbegroting-wijken"), budget=6_000_000
    )
    response = await _move(client, auth, round_id, "supports")
    assert response.status_code == 422
    assert "RV 2025-108" in response.json()["message"]


async def test_voting_waits_until_every_proposal_is_reviewed(client: Any, auth: Any) -> None:
    round_id = await _budget_draft(client, auth, budget_ruleset_without_supports())
    await move(client, auth, round_id, "submission")
    waiting = await _submit(client, auth, round_id, "WK026801", "r1")
    await move(client, auth, round_id, "review")
    response = await _move(client, auth, round_id, "voting")
    assert response.status_code == 409
    assert response.json()["code"] == "review_unfinished"
    assert response.json()["details"]["unreviewed"] == 1
    del waiting


async def test_voting_does_not_open_while_an_area_would_have_an_empty_ballot(
    client: Any, auth: Any
) -> None:
    round_id = await _budget_draft(client, auth, budget_ruleset_without_supports())
    await move(client, auth, round_id, "submission")
    east = await _submit(client, auth, round_id, "WK026801", "r1")
    centre = await _submit(client, auth, round_id, "WK026802", "r2")
    await move(client, auth, round_id, "review")
    await _accept(client, auth, round_id, east)
    rejected = await client.post(
        f"/api/rounds/{round_id}/proposals/{centre}/review",
        json={"decision": "reject", "reason": "niet haalbaar op deze plek"},
        headers=auth("official"),
    )
    assert rejected.status_code == 200
    response = await _move(client, auth, round_id, "voting")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "ballot_not_ready"
    assert body["details"]["areas_without_projects"] == ["WK026802"]
    assert "WK026802" in body["message"]


async def test_a_preferendum_without_questions_cannot_open_voting(client: Any, auth: Any) -> None:
    poll = await open_preferendum_round(client, auth, questions=(), open_voting=False)
    response = await _move(client, auth, poll.round_id, "voting")
    assert response.status_code == 409
    assert response.json()["code"] == "ballot_not_ready"


async def test_opening_voting_freezes_the_ballot_with_stable_codes_and_commits_the_seed(
    client: Any, auth: Any, settings: Any
) -> None:
    document = example_ruleset("nijmegen-buurtbegroting")
    document["proposals"]["supports_needed"] = 2
    round_id = await _budget_draft(client, auth, document)
    await move(client, auth, round_id, "submission")
    supported = [await _submit(client, auth, round_id, "WK026801", f"a{i}") for i in range(2)]
    unsupported = await _submit(client, auth, round_id, "WK026801", "a9")
    centre = await _submit(client, auth, round_id, "WK026802", "c1")
    await move(client, auth, round_id, "review")
    for proposal in (*supported, unsupported, centre):
        await _accept(client, auth, round_id, proposal)
    await move(client, auth, round_id, "supports")
    for proposal, area in (
        (supported[0], "WK026801"),
        (supported[1], "WK026801"),
        (centre, "WK026802"),
    ):
        for fan in ("f1", "f2"):
            response = await client.post(
                f"/api/rounds/{round_id}/proposals/{proposal}/support",
                headers=resident(auth, fan, area),
            )
            assert response.status_code == 200, response.text
    await client.post(
        f"/api/rounds/{round_id}/proposals/{unsupported}/support",
        headers=resident(auth, "f3", "WK026801"),
    )
    voting = await move(client, auth, round_id, "voting")

    listed = {p["id"]: p for p in (await client.get(f"/api/rounds/{round_id}/proposals")).json()}
    assert [listed[p]["ballot_code"] for p in (*supported, centre)] == ["001", "002", "003"]
    assert all(listed[p]["on_ballot"] for p in (*supported, centre))
    assert listed[unsupported]["on_ballot"] is False
    assert listed[unsupported]["ballot_code"] is None

    stored = await _round_row(settings, round_id)
    assert stored.seed is not None
    assert len(stored.seed) == 64
    assert voting["seed_commitment"] == stored.seed_commitment
    assert voting["seed"] is None, "the seed stays secret until publication"
    assert check_seed(stored.seed, voting["seed_commitment"])
    committed = [e for e in await _events(settings, round_id) if e.kind == events.SEED_COMMITTED]
    assert len(committed) == 1
    assert committed[0].payload == {
        "commitment": stored.seed_commitment,
        "ruleset_hash": stored.ruleset_hash,
    }

    # Frozen: no more reviews or supports once voting is open.
    late = await client.post(
        f"/api/rounds/{round_id}/proposals/{unsupported}/review",
        json={"decision": "reject", "reason": "te laat"},
        headers=auth("official"),
    )
    assert late.status_code == 409


async def test_two_officials_moving_a_round_at_once_make_one_move(
    concurrent_client: Any, auth: Any, settings: Any
) -> None:
    import asyncio

    client = concurrent_client
    round_id = await _budget_draft(client, auth)
    client.in_flight.reset()
    first, second = await asyncio.gather(
        _move(client, auth, round_id, "submission"), _move(client, auth, round_id, "submission")
    )
    assert client.in_flight.most > 1, "the requests ran one after another"
    assert sorted([first.status_code, second.status_code]) == [200, 409]
    moves = [e for e in await _events(settings, round_id) if e.kind == events.ROUND_PHASE_CHANGED]
    assert len(moves) == 1


async def test_a_stale_revision_refuses_the_move(client: Any, auth: Any) -> None:
    round_id = await _budget_draft(client, auth)
    seen = (await client.get(f"/api/rounds/{round_id}")).json()["revision"]
    # Another official changes the draft after this one read it.
    changed = await client.patch(
        f"/api/rounds/{round_id}",
        json={"revision": seen, "title": "Buurtbegroting 2027, herzien"},
        headers=auth("official", subject="official-2"),
    )
    assert changed.status_code == 200
    response = await client.post(
        f"/api/rounds/{round_id}/phase",
        json={"to": "submission", "revision": seen},
        headers=auth("official"),
    )
    assert response.status_code == 409
    assert response.json()["code"] == "round_changed_meanwhile"
    revision = changed.json()["revision"]
    ok = await client.post(
        f"/api/rounds/{round_id}/phase",
        json={"to": "submission", "revision": revision},
        headers=auth("official"),
    )
    assert ok.status_code == 200
    assert ok.json()["revision"] == revision + 1


async def test_the_phase_rows_record_who_started_each_phase(
    client: Any, auth: Any, settings: Any
) -> None:
    budget = await open_budget_round(client, auth)
    async with database(settings) as maker, maker() as session:
        rows = (
            await session.exec(select(RoundPhase).where(RoundPhase.round_id == budget.round_id))
        ).all()
    started = {row.phase: row.started_by for row in rows}
    assert started == {
        "draft": "official-1",
        "submission": "official-1",
        "review": "official-1",
        "voting": "official-1",
    }


async def test_a_budget_round_closes_publishes_and_then_stays_as_published(
    client: Any, auth: Any, settings: Any
) -> None:
    budget = await open_budget_round(client, auth)
    cast = await client.post(
        f"/api/rounds/{budget.round_id}/ballots",
        json={"area": "WK026801", "ballot": {"approvals": [budget.ballot["WK026801"][0][0]]}},
        headers=resident(auth, "voter", "WK026801"),
    )
    assert cast.status_code == 201, cast.text
    closed = await move(client, auth, budget.round_id, "closed")
    assert closed["next_phase"] == "published"
    published = await move(client, auth, budget.round_id, "published")
    assert published["seed"] is not None
    for to in ("closed", "voting", "published"):
        after = await _move(client, auth, budget.round_id, to)
        assert (after.status_code, after.json()["code"]) == (409, "round_published"), to
    kinds = [e.kind for e in await _events(settings, budget.round_id)]
    assert kinds.index(events.SEED_COMMITTED) < kinds.index(events.RESULT_PUBLISHED)
