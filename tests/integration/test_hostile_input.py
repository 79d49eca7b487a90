"""Hostile input, case by case: each is refused with a clear 4xx (a stable code and a message)
or stored and served back exactly as sent, as JSON that a browser will not run as markup."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.round_helpers import (
    budget_ruleset_without_supports,
    create_round,
    move,
    publish_ruleset,
    resident,
)

AREA = "WK026801"
INT64_MAX = 2**63 - 1


def _assert_clear_refusal(response: Any, *statuses: int) -> None:
    assert response.status_code in statuses, (response.status_code, response.text[:300])
    body = response.json()
    assert isinstance(body.get("code"), str)
    assert body["code"]
    assert isinstance(body.get("message"), str)
    assert body["message"]


async def _round_in_submission(client: Any, auth: Any) -> str:
    ruleset_hash = await publish_ruleset(client, auth, budget_ruleset_without_supports())
    created = await create_round(client, auth, ruleset_hash)
    await move(client, auth, created["id"], "submission")
    return str(created["id"])


def _proposal(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Speeltuin",
        "description": "Een speeltuin",
        "area": AREA,
        "category": "Spelen en sport",
        "estimated_cost_cents": 1_000_000,
    }
    body.update(overrides)
    return body


# --- size and shape ----------------------------------------------------------------------


async def test_body_over_the_size_limit_is_413(client: Any, auth: Any) -> None:
    limit = client.app.state.settings.max_request_body_bytes
    oversized = b'{"slug": "x", "document": {"pad": "' + b"a" * (limit + 1) + b'"}}'
    response = await client.post(
        "/api/rulesets",
        content=oversized,
        headers={**auth("official"), "Content-Type": "application/json"},
    )
    _assert_clear_refusal(response, 413)


async def test_body_over_the_size_limit_is_413_for_residents_too(client: Any, auth: Any) -> None:
    round_id = await _round_in_submission(client, auth)
    limit = client.app.state.settings.max_request_body_bytes
    response = await client.post(
        f"/api/rounds/{round_id}/proposals",
        json=_proposal(description="x" * (limit + 10)),
        headers=resident(auth, "r1", AREA),
    )
    _assert_clear_refusal(response, 413)


@pytest.mark.parametrize("depth", [5_000, 100_000])
async def test_deeply_nested_json_is_refused_without_a_fault(
    client: Any, auth: Any, depth: int
) -> None:
    nested = "[" * depth + "]" * depth
    body = '{"slug": "nested", "document": {"instrument": ' + nested + "}}"
    response = await client.post(
        "/api/rulesets",
        content=body.encode(),
        headers={**auth("official"), "Content-Type": "application/json"},
    )
    _assert_clear_refusal(response, 400, 413, 422)


async def test_deeply_nested_ballot_is_refused_without_a_fault(client: Any, auth: Any) -> None:
    from tests.integration.round_helpers import open_budget_round

    budget = await open_budget_round(client, auth)
    depth = 5_000
    body = '{"ballot": {"' + AREA + '": ' + "[" * depth + "]" * depth + "}}"
    response = await client.post(
        f"/api/rounds/{budget.round_id}/ballots",
        content=body.encode(),
        headers={**resident(auth, "r1", AREA), "Content-Type": "application/json"},
    )
    _assert_clear_refusal(response, 400, 422)


@pytest.mark.parametrize("raw", [b"{", b"\xff\xfe\x00", b"null", b"[]", b'"text"', b"1e999999"])
async def test_unreadable_or_wrongly_shaped_json_is_400_or_422(
    client: Any, auth: Any, raw: bytes
) -> None:
    response = await client.post(
        "/api/rulesets",
        content=raw,
        headers={**auth("official"), "Content-Type": "application/json"},
    )
    _assert_clear_refusal(response, 400, 422)


# --- numbers -----------------------------------------------------------------------------


BAD_COSTS = {
    "int64+1": INT64_MAX + 1,
    "1e30": 10**30,
    "int64-min-1": -(2**63) - 1,
    "negative": -1,
    "float-huge": 1e308,
    "string": "1000",
    "fraction": 12.5,
    "bool": True,
}


async def test_a_cost_that_is_not_a_sane_integer_is_refused(client: Any, auth: Any) -> None:
    round_id = await _round_in_submission(client, auth)
    for name, cost in BAD_COSTS.items():
        response = await client.post(
            f"/api/rounds/{round_id}/proposals",
            json=_proposal(estimated_cost_cents=cost),
            headers=resident(auth, f"r-{name}", AREA),
        )
        _assert_clear_refusal(response, 400, 422)


async def test_a_round_budget_beyond_int64_or_negative_is_refused(client: Any, auth: Any) -> None:
    ruleset_hash = await publish_ruleset(client, auth, budget_ruleset_without_supports())
    for budget in (INT64_MAX + 1, 10**40, -5):
        response = await client.post(
            "/api/rounds",
            json={
                "ruleset_hash": ruleset_hash,
                "title": "Te groot",
                "areas": [{"code": AREA, "name": "Oost", "budget_cents": budget}],
            },
            headers=auth("official"),
        )
        _assert_clear_refusal(response, 400, 422)


async def test_an_id_in_the_path_beyond_int64_is_a_clear_4xx(client: Any, auth: Any) -> None:
    round_id = await _round_in_submission(client, auth)
    for number in (str(2**31), str(INT64_MAX + 1), str(10**30), "-1", "0"):
        for path in (
            f"/api/rounds/{round_id}/proposals/{number}",
            f"/api/rounds/{round_id}/paper-batches/{number}/reject",
        ):
            if path.endswith("reject"):
                response = await client.post(path, json={"reason": "x"}, headers=auth("official"))
            else:
                response = await client.get(path, headers=auth("official"))
            _assert_clear_refusal(response, 400, 404, 409, 422)


# --- text: Unicode edge cases and injection strings --------------------------------------

VERBATIM_TITLES = {
    "rtl-override": "Speeltuin \u202egnirdnoB\u202c",
    "emoji": "Speeltuin 🛝 voor iedereen 👩🏽‍🦽",
    "zero-width": "Spee\u200btuin\ufeff",
    "combining": "Cafe\u0301 de Ze\u0301bra",
    "sql-quote": "Robert'); DROP TABLE ballots;--",
    "sql-union": "' OR 1=1 UNION SELECT voter_key FROM ballots --",
    "html-script": "<script>alert('x')</script>",
    "html-attribute": '"><img src=x onerror=alert(1)>',
    "template": "{{7*7}} ${7*7} %s %n",
    "path": "../../etc/passwd",
}


async def test_odd_and_injection_titles_are_stored_and_served_back_verbatim(
    client: Any, auth: Any
) -> None:
    round_id = await _round_in_submission(client, auth)
    created_ids = {}
    for name, title in VERBATIM_TITLES.items():
        created = await client.post(
            f"/api/rounds/{round_id}/proposals",
            json=_proposal(title=title, description=title),
            headers=resident(auth, f"r-{name}", AREA),
        )
        assert created.status_code == 201, (name, created.text)
        created_ids[name] = created.json()["id"]
    for name, proposal_id in created_ids.items():
        read = await client.get(
            f"/api/rounds/{round_id}/proposals/{proposal_id}", headers=auth("official")
        )
        assert read.status_code == 200
        # Served as JSON, never as HTML: a browser will not run it as markup.
        assert read.headers["content-type"].startswith("application/json")
        assert read.json()["title"] == VERBATIM_TITLES[name], name
        assert read.json()["description"] == VERBATIM_TITLES[name], name
    listed = await client.get(f"/api/rounds/{round_id}/proposals", headers=auth("official"))
    assert sorted(p["title"] for p in listed.json()) == sorted(VERBATIM_TITLES.values())


async def test_a_nul_character_is_refused_or_stored_verbatim(client: Any, auth: Any) -> None:
    """PostgreSQL text cannot hold NUL: the service must refuse it with a 4xx, not fail."""
    title = "Speel\x00tuin"
    round_id = await _round_in_submission(client, auth)
    response = await client.post(
        f"/api/rounds/{round_id}/proposals",
        json=_proposal(title=title),
        headers=resident(auth, "r1", AREA),
    )
    if response.status_code == 201:
        read = await client.get(
            f"/api/rounds/{round_id}/proposals/{response.json()['id']}", headers=auth("official")
        )
        assert read.json()["title"] == title
    else:
        _assert_clear_refusal(response, 400, 422)


async def test_an_unpaired_surrogate_is_refused_or_stored_verbatim(client: Any, auth: Any) -> None:
    """A lone surrogate (\\ud800) is not valid Unicode; it must not reach the database as a
    fault. Sent as a JSON escape, exactly as a hostile client would."""
    round_id = await _round_in_submission(client, auth)
    body = json.dumps(_proposal(title="PLACEHOLDER")).replace("PLACEHOLDER", "Speel\\ud800tuin")
    response = await client.post(
        f"/api/rounds/{round_id}/proposals",
        content=body.encode(),
        headers={**resident(auth, "r1", AREA), "Content-Type": "application/json"},
    )
    if response.status_code == 201:
        read = await client.get(
            f"/api/rounds/{round_id}/proposals/{response.json()['id']}", headers=auth("official")
        )
        assert read.status_code == 200
        assert read.json()["title"] in ("Speel\ud800tuin", "Speel\ufffdtuin")
    else:
        _assert_clear_refusal(response, 400, 422)


async def test_injection_in_a_query_parameter_is_harmless(client: Any, auth: Any) -> None:
    await _round_in_submission(client, auth)
    response = await client.get(
        "/api/rounds", params={"phase": "voting' OR '1'='1"}, headers=auth("official")
    )
    assert response.status_code in (200, 400, 422), response.text
    if response.status_code == 200:
        assert response.json() == []


async def test_injection_in_a_path_parameter_is_404(client: Any, auth: Any) -> None:
    await _round_in_submission(client, auth)
    response = await client.get("/api/rounds/x' OR '1'='1", headers=auth("official"))
    _assert_clear_refusal(response, 400, 404, 422)


async def test_injection_in_a_ruleset_slug_is_refused_or_verbatim(client: Any, auth: Any) -> None:
    document = budget_ruleset_without_supports()
    slug = "x'); DROP TABLE rule_sets;--"
    response = await client.post(
        "/api/rulesets", json={"slug": slug, "document": document}, headers=auth("official")
    )
    if response.status_code in (200, 201):
        listed = await client.get("/api/rulesets")
        assert slug in [r["slug"] for r in listed.json()]
    else:
        _assert_clear_refusal(response, 400, 422)
    assert (await client.get("/api/rulesets")).status_code == 200
