"""The auditor role: read access to bundles, the log and results; nothing else.

Every write route of the API is found from the app itself, so a route added later is covered
without touching this file."""

from __future__ import annotations

import re
from typing import Any

from tests.integration.ballot_helpers import close, publish
from tests.integration.round_helpers import (
    budget_ruleset_without_supports,
    create_round,
    move,
    publish_ruleset,
)
from tests.integration.test_bundle import (
    api_bundle,
    assert_verified,
    round_head,
    voting_budget_round,
)

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Routes open to every signed-in role, where the service itself refuses an auditor: they get a
# request that would succeed for a resident, in a round in the submission phase.
SIGNED_IN_ROUTES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/rounds/{round_id:str}/proposals"): {
        "title": "Controle-voorstel",
        "description": "Een voorstel dat een controleur niet mag indienen",
        "area": "WK026801",
        "category": "Groen",
        "estimated_cost_cents": 1_000_000,
    },
}


def api_write_routes(app: Any) -> list[tuple[str, str]]:
    """(method, path template) of every write route under /api, sorted."""
    found = set()
    for route in app.routes:
        if not route.path.startswith("/api/"):
            continue
        for handler in getattr(route, "route_handlers", []):
            for method in set(handler.http_methods) & WRITE_METHODS:
                found.add((method, route.path))
    return sorted(found)


def concrete(path: str, round_id: str) -> str:
    """A path template with real values: the round, and 1 for every numeric id."""
    path = path.replace("{round_id:str}", round_id)
    path = re.sub(r"\{[a-z_]+:int\}", "1", path)
    return re.sub(r"\{[a-z_]+:str\}", "x", path)


async def test_an_auditor_cannot_create_change_vote_or_review_anything_on_any_write_route(
    client: Any, auth: Any
) -> None:
    round_id, _, _ = await voting_budget_round(client, auth)
    submitting = (
        await create_round(
            client, auth, await publish_ruleset(client, auth, budget_ruleset_without_supports())
        )
    )["id"]
    await move(client, auth, submitting, "submission")
    routes = api_write_routes(client.app)
    assert len(routes) >= 15, routes  # rule sets, rounds, questions, proposals, ballots, ...
    assert ("POST", "/api/rounds/{round_id:str}/ballots") in routes
    head_before = await round_head(client, round_id)
    heads_before = (await client.get("/api/log/head")).json()
    auditor = auth("auditor", subject="controleur-1", areas=["WK026801"], birth_date="1970-01-01")

    allowed = []
    for method, template in routes:
        body = SIGNED_IN_ROUTES.get((method, template))
        target = submitting if body is not None else round_id
        response = await client.request(
            method, concrete(template, target), json=body or {}, headers=auditor
        )
        if response.status_code != 403:
            allowed.append((method, template, response.status_code, response.text[:200]))
    assert allowed == [], allowed

    assert await round_head(client, round_id) == head_before, "nothing was logged"
    proposals = await client.get(f"/api/rounds/{submitting}/proposals", headers=auth("official"))
    assert proposals.json() == []
    assert (await client.get("/api/log/head")).json() == heads_before, "no chain moved"
    phase = (await client.get(f"/api/rounds/{round_id}")).json()["phase"]
    assert phase == "voting"


async def test_an_auditor_reads_bundle_log_and_result_once_published_and_the_log_before(
    client: Any, auth: Any
) -> None:
    round_id, _, _ = await voting_budget_round(client, auth)
    auditor = auth("auditor")
    assert (await client.get(f"/api/rounds/{round_id}/log", headers=auditor)).status_code == 200
    await close(client, auth, round_id)
    # The example rule set does not let auditors see results before publication.
    before = await client.get(f"/api/rounds/{round_id}/result", headers=auditor)
    assert before.status_code == 403, before.text
    await publish(client, auth, round_id)

    result = await client.get(f"/api/rounds/{round_id}/result", headers=auditor)
    assert result.status_code == 200
    bundle = await api_bundle(client, round_id, auditor)
    assert bundle["merkle_root"] == result.json()["merkle_root"]
    assert_verified(bundle)
    what_if = await client.post(
        f"/api/rounds/{round_id}/what-if", json={"rule": "mes"}, headers=auditor
    )
    assert what_if.status_code == 403, "recomputing under other rules is the officials' tool"


async def test_an_auditor_sees_the_result_before_publication_only_where_the_rule_set_allows(
    client: Any, auth: Any
) -> None:
    document = budget_ruleset_without_supports()
    document["publication"]["auditor_sees_before_publication"] = True
    round_id, receipts, _ = await voting_budget_round(client, auth, document)
    auditor = auth("auditor")
    during = await client.get(f"/api/rounds/{round_id}/result", headers=auditor)
    assert during.status_code == 409, "there is no result before the close, for anyone"
    await close(client, auth, round_id)

    result = await client.get(f"/api/rounds/{round_id}/result", headers=auditor)
    assert result.status_code == 200, result.text
    assert result.json()["ballots"] == len(receipts)
    assert result.json()["seed"] is None, "the seed stays secret until publication"
    assert (await client.get(f"/api/rounds/{round_id}/result")).status_code == 403
    preview = await api_bundle(client, round_id, auditor)
    assert preview["merkle_root"] == result.json()["merkle_root"]
