"""Rounds over the API: created inside the council's frame, read by anyone, changed as drafts
with optimistic concurrency, every change in the round's audit chain."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from stemmen.audit import chain as events
from stemmen.audit.log import chain_entries
from tests.integration.round_helpers import (
    DEFAULT_AREAS,
    create_round,
    database,
    example_ruleset,
    move,
    open_budget_round,
    open_preferendum_round,
    publish_ruleset,
)

START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def _window(days: float, start: datetime = START) -> dict[str, str]:
    return {"starts_at": start.isoformat(), "ends_at": (start + timedelta(days=days)).isoformat()}


def _round_body(ruleset_hash: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ruleset_hash": ruleset_hash,
        "title": "Buurtbegroting Oost en Centrum 2027",
        "description": "Bewoners kiezen projecten voor hun wijk.",
        "areas": [
            {"code": code, "name": name, "budget_cents": budget}
            for code, name, budget in DEFAULT_AREAS
        ],
        "phases": {"voting": _window(21)},
    }
    body.update(changes)
    return body


async def _nijmegen(client: Any, auth: Any) -> str:
    return await publish_ruleset(client, auth, example_ruleset("nijmegen-buurtbegroting"))


async def test_an_official_creates_a_round_and_anyone_reads_it(client: Any, auth: Any) -> None:
    ruleset_hash = await _nijmegen(client, auth)
    created = await client.post(
        "/api/rounds", json=_round_body(ruleset_hash), headers=auth("official")
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["phase"] == "draft"
    assert body["revision"] == 1
    assert body["instrument"] == "buurtbegroting"
    assert body["ruleset_hash"] == ruleset_hash
    assert [(a["code"], a["budget_cents"]) for a in body["areas"]] == [
        ("WK026801", 5_000_000),
        ("WK026802", 4_000_000),
    ]
    voting = next(p for p in body["phases"] if p["phase"] == "voting")
    assert datetime.fromisoformat(voting["starts_at"]) == START

    public = await client.get(f"/api/rounds/{body['id']}")
    assert public.status_code == 200
    assert public.json()["title"] == "Buurtbegroting Oost en Centrum 2027"
    listed = await client.get("/api/rounds")
    assert [(r["id"], r["instrument"], r["phase"]) for r in listed.json()] == [
        (body["id"], "buurtbegroting", "draft")
    ]
    pinned = await client.get(f"/api/ruleset-versions/{ruleset_hash}")
    assert pinned.json()["pinned_by_rounds"] == 1


async def test_the_list_filters_by_area_and_phase(client: Any, auth: Any) -> None:
    budget = await open_budget_round(client, auth, open_voting=False)
    poll = await open_preferendum_round(client, auth, open_voting=False)

    async def ids(query: str) -> list[str]:
        return [r["id"] for r in (await client.get(f"/api/rounds?{query}")).json()]

    assert await ids("area=WK026801") == [
        budget.round_id,
        poll.round_id,
    ]  # the district lies in GM0268
    assert await ids("area=BU02680100") == [
        budget.round_id,
        poll.round_id,
    ]  # a neighbourhood in WK026801
    assert await ids("area=WK026805") == [poll.round_id]
    assert await ids("phase=review") == [budget.round_id]
    assert await ids("phase=draft") == [poll.round_id]
    assert (await client.get("/api/rounds?phase=counting")).status_code == 422


async def test_unknown_rule_set_versions_and_rounds_are_404s(client: Any, auth: Any) -> None:
    response = await client.post(
        "/api/rounds", json=_round_body("ab" * 32), headers=auth("official")
    )
    assert response.status_code == 404
    assert response.json()["code"] == "ruleset_version_not_found"
    missing = await client.get(f"/api/rounds/{'0' * 32}")
    assert missing.status_code == 404
    assert missing.json()["code"] == "round_not_found"


async def test_only_officials_create_and_change_rounds(client: Any, auth: Any) -> None:
    ruleset_hash = await _nijmegen(client, auth)
    for role in ("resident", "auditor"):
        response = await client.post(
            "/api/rounds", json=_round_body(ruleset_hash), headers=auth(role)
        )
        assert response.status_code == 403, role
    assert (await client.post("/api/rounds", json=_round_body(ruleset_hash))).status_code == 401
    created = await create_round(client, auth, ruleset_hash)
    response = await client.patch(
        f"/api/rounds/{created['id']}",
        json={"revision": 1, "title": "Van mij"},
        headers=auth("resident"),
    )
    assert response.status_code == 403


# Each way out of the council's frame, with the rule the refusal must cite.
OUT_OF_BOUNDS = {
    "area outside the allowed areas": (
        {"areas": [{"code": "WK026805", "budget_cents": 5_000_000}]},
        "round_bounds.allowed_areas",
        "/areas/0",
    ),
    "area outside the municipality": (
        {"areas": [{"code": "WK036301", "budget_cents": 5_000_000}]},
        "round_bounds.allowed_areas",
        "/areas/0",
    ),
    "budget below the minimum": (
        {"areas": [{"code": "WK026801", "budget_cents": 999_999}]},
        "round_bounds.budget_cents_per_area.min",
        "/budgets/WK026801",
    ),
    "budget above the maximum": (
        {"areas": [{"code": "WK026801", "budget_cents": 10_000_001}]},
        "round_bounds.budget_cents_per_area.max",
        "/budgets/WK026801",
    ),
    "area without a budget": (
        {"areas": [{"code": "WK026801"}]},
        "instrument",
        "/budgets/WK026801",
    ),
    "voting period too short": (
        {"phases": {"voting": _window(13)}},
        "round_bounds.phase_days.voting.min",
        "/phases/voting",
    ),
    "voting period too long": (
        {"phases": {"voting": _window(29)}},
        "round_bounds.phase_days.voting.max",
        "/phases/voting",
    ),
    "submission period too short": (
        {"phases": {"submission": _window(27)}},
        "round_bounds.phase_days.submission.min",
        "/phases/submission",
    ),
    "phases overlapping": (
        {"phases": {"submission": _window(30), "review": _window(20, START + timedelta(days=10))}},
        "phases",
        "/phases/review",
    ),
    "a phase the rule set does not have": (
        {"phases": {"closed": _window(3)}},
        "phases",
        "/phases/closed",
    ),
}


async def test_a_round_outside_the_councils_frame_is_refused_citing_the_rule(
    client: Any, auth: Any
) -> None:
    ruleset_hash = await _nijmegen(client, auth)
    for case, (changes, rule, path) in sorted(OUT_OF_BOUNDS.items()):
        response = await client.post(
            "/api/rounds", json=_round_body(ruleset_hash, **changes), headers=auth("official")
        )
        assert response.status_code == 422, (case, response.text)
        body = response.json()
        assert body["code"] == "round_out_of_bounds", case
        problems = body["details"]["problems"]
        assert any(p["rule"] == rule and p["path"] == path for p in problems), (case, problems)
        if rule.startswith("round_bounds"):
            assert "RV 2025-042" in body["message"], case
            assert rule in body["message"], case
        assert body["message_nl"], case
    assert (await client.get("/api/rounds")).json() == []


async def test_a_budget_is_refused_for_a_preferendum(client: Any, auth: Any) -> None:
    ruleset_hash = await publish_ruleset(client, auth, example_ruleset("preferendum"))
    body = _round_body(ruleset_hash, areas=[{"code": "GM0268", "budget_cents": 100}], phases={})
    response = await client.post("/api/rounds", json=body, headers=auth("official"))
    assert response.status_code == 422
    assert response.json()["details"]["problems"][0]["code"] == "budget_not_for_instrument"


async def test_a_round_exactly_on_the_bounds_is_accepted(client: Any, auth: Any) -> None:
    ruleset_hash = await _nijmegen(client, auth)
    body = _round_body(
        ruleset_hash,
        areas=[
            {"code": "WK026801", "budget_cents": 1_000_000},
            {"code": "BU02680100", "budget_cents": 10_000_000},
        ],
        phases={"submission": _window(28), "voting": _window(28, START + timedelta(days=90))},
    )
    response = await client.post("/api/rounds", json=body, headers=auth("official"))
    assert response.status_code == 201, response.text


async def test_a_malformed_area_code_is_a_400_naming_the_field(client: Any, auth: Any) -> None:
    ruleset_hash = await _nijmegen(client, auth)
    body = _round_body(ruleset_hash, areas=[{"code": "Oost", "budget_cents": 5_000_000}])
    response = await client.post("/api/rounds", json=body, headers=auth("official"))
    assert response.status_code == 400
    assert "areas" in response.json()["message"]


async def test_a_draft_changes_with_the_revision_it_was_read_at(
    client: Any, auth: Any, settings: Any
) -> None:
    ruleset_hash = await _nijmegen(client, auth)
    created = await create_round(client, auth, ruleset_hash)
    changed = await client.patch(
        f"/api/rounds/{created['id']}",
        json={
            "revision": created["revision"],
            "title": "Buurtbegroting Oost 2027",
            "areas": [{"code": "WK026801", "name": "Oost", "budget_cents": 6_000_000}],
            "phases": {"voting": _window(14)},
        },
        headers=auth("official", subject="official-2"),
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["title"] == "Buurtbegroting Oost 2027"
    assert body["revision"] == created["revision"] + 1
    assert [(a["code"], a["budget_cents"]) for a in body["areas"]] == [("WK026801", 6_000_000)]
    async with database(settings) as maker, maker() as session:
        log = await chain_entries(session, created["id"])
    assert [e.kind for e in log] == [events.ROUND_CREATED, events.ROUND_CHANGED]
    assert log[0].payload["ruleset_hash"] == ruleset_hash
    assert log[1].actor == "official-2"
    assert log[1].payload["title"] == "Buurtbegroting Oost 2027"


async def test_a_change_that_leaves_the_frame_is_refused_and_nothing_changes(
    client: Any, auth: Any
) -> None:
    ruleset_hash = await _nijmegen(client, auth)
    created = await create_round(client, auth, ruleset_hash)
    response = await client.patch(
        f"/api/rounds/{created['id']}",
        json={"revision": created["revision"], "areas": [{"code": "WK026801", "budget_cents": 50}]},
        headers=auth("official"),
    )
    assert response.status_code == 422
    assert (
        response.json()["details"]["problems"][0]["rule"]
        == "round_bounds.budget_cents_per_area.min"
    )
    assert (await client.get(f"/api/rounds/{created['id']}")).json()["revision"] == created[
        "revision"
    ]


async def test_two_officials_changing_a_round_at_once_one_gets_409(
    concurrent_client: Any, auth: Any
) -> None:
    client = concurrent_client
    ruleset_hash = await _nijmegen(client, auth)
    created = await create_round(client, auth, ruleset_hash)

    def change(title: str, official: str) -> Any:
        return client.patch(
            f"/api/rounds/{created['id']}",
            json={"revision": created["revision"], "title": title},
            headers=auth("official", subject=official),
        )

    client.in_flight.reset()
    first, second = await asyncio.gather(
        change("Titel van Anna", "anna"), change("Titel van Bram", "bram")
    )
    assert client.in_flight.most > 1, "the requests ran one after another"
    statuses = sorted([first.status_code, second.status_code])
    assert statuses == [200, 409]
    loser = first if first.status_code == 409 else second
    assert loser.json()["code"] == "round_changed_meanwhile"
    assert "reload" in loser.json()["message"]
    winner = first if first.status_code == 200 else second
    assert (await client.get(f"/api/rounds/{created['id']}")).json()["title"] == winner.json()[
        "title"
    ]


async def test_a_stale_revision_is_a_409_even_when_alone(client: Any, auth: Any) -> None:
    ruleset_hash = await _nijmegen(client, auth)
    created = await create_round(client, auth, ruleset_hash)
    first = await client.patch(
        f"/api/rounds/{created['id']}",
        json={"revision": created["revision"], "title": "Een"},
        headers=auth("official"),
    )
    assert first.status_code == 200
    stale = await client.patch(
        f"/api/rounds/{created['id']}",
        json={"revision": created["revision"], "title": "Twee"},
        headers=auth("official"),
    )
    assert stale.status_code == 409


async def test_a_round_past_its_draft_cannot_be_changed(client: Any, auth: Any) -> None:
    ruleset_hash = await _nijmegen(client, auth)
    created = await create_round(client, auth, ruleset_hash)
    moved = await move(client, auth, created["id"], "submission")
    response = await client.patch(
        f"/api/rounds/{created['id']}",
        json={"revision": moved["revision"], "title": "Te laat"},
        headers=auth("official"),
    )
    assert response.status_code == 409
    assert response.json()["code"] == "round_not_draft"
