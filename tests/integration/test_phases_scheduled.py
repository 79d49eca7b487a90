"""Scheduled moves: a round whose scheduled start or end has passed moves by itself, as
"system", exactly once however many workers run the scheduler."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from stemmen.audit import chain as events
from stemmen.audit.log import chain_entries
from stemmen.rounds.scheduler import run_once
from tests.integration.ballot_helpers import cast, cast_ok, stored_ballots
from tests.integration.round_helpers import (
    DEFAULT_QUESTIONS,
    budget_ruleset_without_supports,
    create_round,
    database,
    example_ruleset,
    publish_ruleset,
)

START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def _window(start: datetime, days: int) -> dict[str, str]:
    return {"starts_at": start.isoformat(), "ends_at": (start + timedelta(days=days)).isoformat()}


async def _scheduled_preferendum(client: Any, auth: Any, *, with_questions: bool = True) -> str:
    ruleset_hash = await publish_ruleset(client, auth, example_ruleset("preferendum"))
    created = await create_round(
        client,
        auth,
        ruleset_hash,
        areas=[("GM0268", "Nijmegen", None)],
        phases={"voting": _window(START, 21)},
    )
    if with_questions:
        for question in DEFAULT_QUESTIONS:
            response = await client.post(
                f"/api/rounds/{created['id']}/questions", json=question, headers=auth("official")
            )
            assert response.status_code == 201, response.text
    return str(created["id"])


async def _phase(client: Any, round_id: str) -> str:
    return str((await client.get(f"/api/rounds/{round_id}")).json()["phase"])


async def test_nothing_moves_before_its_scheduled_start(
    client: Any, auth: Any, settings: Any
) -> None:
    round_id = await _scheduled_preferendum(client, auth)
    async with database(settings) as maker:
        run = await run_once(maker, START - timedelta(minutes=1))
    assert run.moved == ()
    assert await _phase(client, round_id) == "draft"


async def test_voting_opens_at_its_scheduled_start_as_the_system(
    client: Any, auth: Any, settings: Any
) -> None:
    round_id = await _scheduled_preferendum(client, auth)
    async with database(settings) as maker:
        run = await run_once(maker, START + timedelta(seconds=1))
        assert [(m.from_phase, m.to_phase) for m in run.moved] == [("draft", "voting")]
        async with maker() as session:
            log = await chain_entries(session, round_id)
    read = (await client.get(f"/api/rounds/{round_id}")).json()
    assert read["phase"] == "voting"
    assert {p["phase"]: p["started_by"] for p in read["phases"]}["voting"] == "system"
    moved = [e for e in log if e.kind == events.ROUND_PHASE_CHANGED]
    assert [(e.actor_role, e.payload["to"]) for e in moved] == [("system", "voting")]
    assert any(e.kind == events.SEED_COMMITTED for e in log)


async def test_a_budget_round_walks_its_schedule_phase_by_phase(
    client: Any, auth: Any, settings: Any
) -> None:
    ruleset_hash = await publish_ruleset(client, auth, budget_ruleset_without_supports())
    submission_start = START
    review_start = START + timedelta(days=30)
    created = await create_round(
        client,
        auth,
        ruleset_hash,
        phases={"submission": _window(submission_start, 30), "review": _window(review_start, 20)},
    )
    round_id = created["id"]
    async with database(settings) as maker:
        await run_once(maker, submission_start + timedelta(hours=1))
        assert await _phase(client, round_id) == "submission"
        # The submission phase's end and the review's start have both passed: one step per due moment.
        await run_once(maker, review_start + timedelta(hours=1))
        assert await _phase(client, round_id) == "review"


async def test_a_due_move_that_is_not_ready_is_refused_and_retried_later(
    client: Any, auth: Any, settings: Any
) -> None:
    round_id = await _scheduled_preferendum(client, auth, with_questions=False)
    async with database(settings) as maker:
        run = await run_once(maker, START + timedelta(hours=1))
    assert run.moved == ()
    assert [(m.round_id, m.to_phase) for m, _ in run.refused] == [(round_id, "voting")]
    assert "no questions" in run.refused[0][1]
    assert await _phase(client, round_id) == "draft"

    response = await client.post(
        f"/api/rounds/{round_id}/questions", json=DEFAULT_QUESTIONS[0], headers=auth("official")
    )
    assert response.status_code == 201
    async with database(settings) as maker:
        again = await run_once(maker, START + timedelta(hours=2))
    assert len(again.moved) == 1
    assert await _phase(client, round_id) == "voting"


async def test_several_workers_running_the_scheduler_at_once_move_a_round_once(
    client: Any, auth: Any, settings: Any
) -> None:
    round_id = await _scheduled_preferendum(client, auth)
    async with database(settings) as first, database(settings) as second:
        runs = await asyncio.gather(
            run_once(first, START + timedelta(hours=1)),
            run_once(second, START + timedelta(hours=1)),
        )
        async with first() as session:
            log = await chain_entries(session, round_id)
    assert sum(len(run.moved) for run in runs) == 1
    assert [e.payload["to"] for e in log if e.kind == events.ROUND_PHASE_CHANGED] == ["voting"]
    assert len([e for e in log if e.kind == events.SEED_COMMITTED]) == 1


async def test_voting_closes_at_its_scheduled_end_and_publication_waits_for_an_official(
    client: Any, auth: Any, settings: Any
) -> None:
    round_id = await _scheduled_preferendum(client, auth)
    async with database(settings) as maker:
        await run_once(maker, START + timedelta(hours=1))
        assert await _phase(client, round_id) == "voting"
        run = await run_once(maker, START + timedelta(days=21, seconds=1))
        assert [(m.from_phase, m.to_phase) for m in run.moved] == [("voting", "closed")]
        later = await run_once(maker, START + timedelta(days=365))
        assert later.moved == ()
        async with maker() as session:
            log = await chain_entries(session, round_id)
    read = (await client.get(f"/api/rounds/{round_id}")).json()
    assert read["phase"] == "closed"
    assert {p["phase"]: p["started_by"] for p in read["phases"]}["closed"] == "system"
    closing = [
        e for e in log if e.kind == events.ROUND_PHASE_CHANGED and e.payload["to"] == "closed"
    ]
    assert [e.actor_role for e in closing] == ["system"]


async def test_a_ballot_after_the_scheduled_end_is_refused_before_the_scheduler_closes(
    client: Any, auth: Any, settings: Any, monkeypatch: Any
) -> None:
    """The scheduler looks every half minute; the end the council published is the end."""
    round_id = await _scheduled_preferendum(client, auth)
    async with database(settings) as maker:
        await run_once(maker, START + timedelta(hours=1))
    end = START + timedelta(days=21)
    ballot = {"questions": {"autoluw": {"grades": {"a": "eens"}}}}
    monkeypatch.setattr("stemmen.ballots.service.utcnow", lambda: end - timedelta(seconds=1))
    # The first ballot loads the round in full; the second takes the worker's cached path.
    in_time = [await cast_ok(client, auth, round_id, voter, "GM0268", ballot) for voter in "ab"]
    monkeypatch.setattr("stemmen.ballots.service.utcnow", lambda: end)
    for voter in ("a", "c"):
        late = await cast(client, auth, round_id, voter, "GM0268", ballot)
        assert late.status_code == 409, late.text
        assert late.json()["code"] == "voting_closed"
        assert "closed at 2027-03-22 09:00:00 UTC" in late.json()["message"]
    assert await _phase(client, round_id) == "voting", "the scheduler has not run yet"
    stored = await stored_ballots(settings.database_url, round_id)
    assert stored.ballots == {receipt["receipt_hash"] for receipt in in_time}
