"""Set-up shared by the round, proposal, question, ballot and result tests.

Each helper drives the public API as officials and residents would, so a test that uses it
exercises the same paths a real round takes. Signatures are kept stable: other test modules
import them.

    budget = await open_budget_round(client, auth)
    budget.round_id, budget.areas["WK026801"], budget.ballot["WK026801"] -> [(code, cost), ...]
    poll = await open_preferendum_round(client, auth)
"""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.support import PROJECT_ROOT

EXAMPLES = PROJECT_ROOT / "examples" / "rulesets"
Auth = Callable[..., dict[str, str]]

# Budgets and proposals of the default two-district budget round (Nijmegen, Oost and Centrum).
DEFAULT_AREAS: tuple[tuple[str, str, int], ...] = (
    ("WK026801", "Oost", 5_000_000),
    ("WK026802", "Centrum", 4_000_000),
)
DEFAULT_PROPOSALS: tuple[tuple[str, str, str, int], ...] = (
    # area, title, category, final cost in cents
    ("WK026801", "Speeltuin Bottendaal", "Spelen en sport", 2_000_000),
    ("WK026801", "Bankjes langs de Waal", "Ontmoeting", 1_200_000),
    ("WK026801", "Geveltuinen", "Groen", 2_500_000),
    ("WK026802", "Buurtfeest", "Cultuur", 300_000),
    ("WK026802", "Fietsenstalling", "Verkeer en veiligheid", 1_800_000),
    ("WK026802", "Bomen op het plein", "Groen", 2_400_000),
)
ADULT_BIRTH_DATE = "1980-04-01"


@asynccontextmanager
async def database(settings: Any) -> AsyncIterator[Any]:
    """A session maker on the test's database, in the test's own event loop (the app's engine
    lives in the test client's loop, which asyncpg connections cannot cross)."""
    from stemmen.db import create_engine, session_maker

    engine = create_engine(settings)
    try:
        yield session_maker(engine)
    finally:
        await engine.dispose()


def example_ruleset(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    return document


def budget_ruleset_without_supports() -> dict[str, Any]:
    """Nijmegen's buurtbegroting with the supports phase dropped: fast set-up for voting tests."""
    document = example_ruleset("nijmegen-buurtbegroting")
    document["phases"] = ["submission", "review", "voting"]
    document["proposals"]["supports_needed"] = 0
    document["proposals"].pop("supports_per_resident", None)
    document["round_bounds"]["phase_days"].pop("supports", None)
    document["allocation"]["min_support"] = None
    return document


def resident(
    auth: Auth, subject: str, area: str, birth_date: str = ADULT_BIRTH_DATE
) -> dict[str, str]:
    """Headers of a resident living in ``area`` (a CBS code) born on ``birth_date``."""
    return auth("resident", subject=subject, areas=[area], birth_date=birth_date)


async def publish_ruleset(
    client: Any, auth: Auth, document: Mapping[str, Any], slug: str | None = None
) -> str:
    """Publish a rule-set document (as a new rule set, or a version of an existing one); its hash."""
    slug = slug or f"test-{document['instrument']}"
    response = await client.post(
        "/api/rulesets", json={"slug": slug, "document": document}, headers=auth("official")
    )
    if response.status_code == 409:
        response = await client.post(
            f"/api/rulesets/{slug}/versions", json={"document": document}, headers=auth("official")
        )
    assert response.status_code in (200, 201), response.text
    version_hash: str = response.json()["version"]["hash"]
    return version_hash


async def create_round(
    client: Any,
    auth: Auth,
    ruleset_hash: str,
    *,
    title: str = "Buurtbegroting 2027",
    areas: Sequence[tuple[str, str, int | None]] = DEFAULT_AREAS,
    phases: Mapping[str, Mapping[str, str | None]] | None = None,
) -> dict[str, Any]:
    """Create a round as an official; the round as read back (asserts 201)."""
    response = await client.post(
        "/api/rounds",
        json={
            "ruleset_hash": ruleset_hash,
            "title": title,
            "areas": [
                {"code": code, "name": name, "budget_cents": budget} for code, name, budget in areas
            ],
            "phases": dict(phases or {}),
        },
        headers=auth("official"),
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def move(client: Any, auth: Auth, round_id: str, to: str) -> dict[str, Any]:
    """Move a round to phase ``to`` as an official (asserts success)."""
    response = await client.post(
        f"/api/rounds/{round_id}/phase", json={"to": to}, headers=auth("official")
    )
    assert response.status_code == 200, response.text
    moved: dict[str, Any] = response.json()
    return moved


@dataclass(frozen=True)
class BudgetRound:
    round_id: str
    ruleset_hash: str
    areas: dict[str, int]  # area code -> budget in cents
    proposals: dict[str, list[int]]  # area code -> proposal ids, in submission order
    # area code -> [(ballot code, final cost in cents)], the ballot frozen when voting opened
    ballot: dict[str, list[tuple[str, int]]] = field(default_factory=dict)


async def open_budget_round(
    client: Any,
    auth: Auth,
    *,
    document: Mapping[str, Any] | None = None,
    areas: Sequence[tuple[str, str, int]] = DEFAULT_AREAS,
    proposals: Sequence[tuple[str, str, str, int]] = DEFAULT_PROPOSALS,
    title: str = "Buurtbegroting 2027",
    open_voting: bool = True,
) -> BudgetRound:
    """A budget round with its areas and proposals, all accepted at their final cost, and (by
    default) voting open. ``document`` defaults to Nijmegen's buurtbegroting without supports.

    Residents who may vote: ``resident(auth, "r1", "WK026801")`` (born 1980).
    """
    document = copy.deepcopy(dict(document or budget_ruleset_without_supports()))
    ruleset_hash = await publish_ruleset(client, auth, document)
    created = await create_round(client, auth, ruleset_hash, title=title, areas=areas)
    round_id = created["id"]
    phases = [p["phase"] for p in created["phases"]]
    if "submission" in phases:
        await move(client, auth, round_id, "submission")
    ids: dict[str, list[int]] = {code: [] for code, _, _ in areas}
    costs: list[tuple[int, int]] = []
    for index, (area, proposal_title, category, cost) in enumerate(proposals):
        response = await client.post(
            f"/api/rounds/{round_id}/proposals",
            json={
                "title": proposal_title,
                "description": f"{proposal_title}: een voorstel voor {area}",
                "area": area,
                "category": category,
                "estimated_cost_cents": cost,
            },
            headers=resident(auth, f"author-{index}", area),
        )
        assert response.status_code == 201, response.text
        ids[area].append(response.json()["id"])
        costs.append((response.json()["id"], cost))
    if "review" in phases:
        await move(client, auth, round_id, "review")
        for pid, cost in costs:
            response = await client.post(
                f"/api/rounds/{round_id}/proposals/{pid}/review",
                json={"decision": "accept", "final_cost_cents": cost},
                headers=auth("official"),
            )
            assert response.status_code == 200, response.text
    if "supports" in phases:
        await move(client, auth, round_id, "supports")
        needed = document["proposals"].get("supports_needed", 0)
        for area, area_ids in ids.items():
            for pid in area_ids:
                for supporter in range(needed):
                    response = await client.post(
                        f"/api/rounds/{round_id}/proposals/{pid}/support",
                        headers=resident(auth, f"supporter-{pid}-{supporter}", area),
                    )
                    assert response.status_code == 200, response.text
    ballot: dict[str, list[tuple[str, int]]] = {}
    if open_voting:
        await move(client, auth, round_id, "voting")
        listed = await client.get(f"/api/rounds/{round_id}/proposals", headers=auth("official"))
        for proposal in listed.json():
            if proposal["on_ballot"]:
                ballot.setdefault(proposal["area"], []).append(
                    (proposal["ballot_code"], proposal["final_cost_cents"])
                )
    return BudgetRound(
        round_id=round_id,
        ruleset_hash=ruleset_hash,
        areas={code: budget for code, _, budget in areas},
        proposals=ids,
        ballot={area: sorted(items) for area, items in ballot.items()},
    )


DEFAULT_QUESTIONS: tuple[dict[str, Any], ...] = (
    {
        "key": "autoluw",
        "title": "Hoe autoluw moet de binnenstad worden?",
        "options": [
            {"id": "a", "label": "Zoals nu"},
            {"id": "b", "label": "Autoluw in het weekend"},
            {"id": "c", "label": "Helemaal autoluw"},
        ],
    },
    {
        "key": "groen",
        "title": "Waar komt meer groen?",
        "options": [
            {"id": "markt", "label": "Grote Markt"},
            {"id": "plein", "label": "Plein 1944"},
            {"id": "kade", "label": "Waalkade"},
            {"id": "park", "label": "Kronenburgerpark"},
        ],
    },
)


@dataclass(frozen=True)
class QuestionsRound:
    round_id: str
    ruleset_hash: str
    questions: dict[str, list[str]]  # question key -> option ids


async def open_preferendum_round(
    client: Any,
    auth: Auth,
    *,
    document: Mapping[str, Any] | None = None,
    areas: Sequence[tuple[str, str, int | None]] = (("GM0268", "Nijmegen", None),),
    questions: Sequence[Mapping[str, Any]] = DEFAULT_QUESTIONS,
    title: str = "Preferendum binnenstad",
    open_voting: bool = True,
) -> QuestionsRound:
    """A preferendum (default: examples/rulesets/preferendum.json) with its questions and, by
    default, voting open. Residents who may vote: ``resident(auth, "r1", "GM0268")``."""
    document = copy.deepcopy(dict(document or example_ruleset("preferendum")))
    ruleset_hash = await publish_ruleset(client, auth, document)
    created = await create_round(client, auth, ruleset_hash, title=title, areas=areas)
    round_id = created["id"]
    for question in questions:
        response = await client.post(
            f"/api/rounds/{round_id}/questions", json=dict(question), headers=auth("official")
        )
        assert response.status_code == 201, response.text
    if open_voting:
        await move(client, auth, round_id, "voting")
    return QuestionsRound(
        round_id=round_id,
        ruleset_hash=ruleset_hash,
        questions={q["key"]: [o["id"] for o in q["options"]] for q in questions},
    )
