"""`stemmen demo`: example rule sets, a published buurtbegroting and a published preferendum.

Everything goes through the public API in-process, as officials and residents would do it,
so the demo data obeys every rule a real round does (validation, phases, audit log).
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stemmen.auth import mint_token
from stemmen.config import Settings

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "rulesets"
BUDGET_TITLE = "Buurtbegroting Nijmegen-Oost 2026"
PREFERENDUM_TITLE = "Preferendum toekomst van de binnenstad 2026"
AREA = ("WK026801", "Nijmegen-Oost", 8_000_000)

# title, category, final cost in cents, popularity (relative chance a voter wants it)
PROPOSALS: tuple[tuple[str, str, int, int], ...] = (
    ("Speeltuin bij de Bottendaalseweg opknappen", "Spelen en sport", 2_400_000, 9),
    ("Bankjes en schaduw langs de Sint Annastraat", "Ontmoeting", 900_000, 7),
    ("Geveltuinen in de Javastraat", "Groen", 650_000, 8),
    ("Jeu-de-boulesbaan in het Kronenburgerpark", "Spelen en sport", 1_100_000, 4),
    ("Veilige oversteek bij de Daalseweg", "Verkeer en veiligheid", 2_200_000, 8),
    ("Buurtfestival op het Pijlstraatplein", "Cultuur", 450_000, 5),
    ("Bomen op het Wilhelminasingelplein", "Groen", 1_800_000, 6),
    ("Fietsenrekken bij de bibliotheek", "Verkeer en veiligheid", 700_000, 5),
    ("Moestuin voor de buurt", "Groen", 1_300_000, 6),
    ("Ontmoetingsruimte in het wijkcentrum", "Ontmoeting", 2_500_000, 5),
)
QUESTIONS: tuple[dict[str, Any], ...] = (
    {
        "key": "autoluw",
        "title": "Hoe autoluw moet de binnenstad worden?",
        "options": [
            {"id": "zoals-nu", "label": "Zoals nu"},
            {"id": "weekend", "label": "Autoluw in het weekend"},
            {"id": "geheel", "label": "Helemaal autoluw"},
        ],
    },
    {
        "key": "groen",
        "title": "Waar komt meer groen?",
        "options": [
            {"id": "grote-markt", "label": "Grote Markt"},
            {"id": "plein-1944", "label": "Plein 1944"},
            {"id": "waalkade", "label": "Waalkade"},
            {"id": "kronenburgerpark", "label": "Kronenburgerpark"},
        ],
    },
    {
        "key": "avond",
        "title": "Hoe lang mogen terrassen 's avonds open?",
        "options": [
            {"id": "22", "label": "Tot 22.00 uur"},
            {"id": "24", "label": "Tot middernacht"},
            {"id": "01", "label": "Tot 01.00 uur"},
        ],
    },
)
# Each option's leaning on the five-point scale (0 = zeer oneens ... 4 = zeer eens).
LEANINGS = {
    "zoals-nu": 1.5,
    "weekend": 2.6,
    "geheel": 2.2,
    "grote-markt": 2.8,
    "plein-1944": 3.2,
    "waalkade": 2.4,
    "kronenburgerpark": 1.9,
    "22": 2.0,
    "24": 2.7,
    "01": 1.6,
}


class DemoFailed(RuntimeError):
    pass


def _check(response: Any, expected: tuple[int, ...] = (200, 201)) -> Any:
    if response.status_code not in expected:
        raise DemoFailed(
            f"{response.request.method} {response.request.url.path}: "
            f"{response.status_code} {response.text}"
        )
    return response.json() if response.content else None


async def seed_demo(
    settings: Settings, *, voters: int, seed: int, echo: Callable[[str], None]
) -> None:
    from litestar.testing import AsyncTestClient

    from stemmen.app import create_app

    rng = random.Random(seed)
    # The demo speaks through its own progress lines; request logs would drown them.
    settings = settings.model_copy(update={"log_level": "WARNING"})
    logging.getLogger("httpx").setLevel(logging.WARNING)

    def headers(role: str, subject: str, **claims: Any) -> dict[str, str]:
        token = mint_token(settings, subject=subject, role=role, **claims)
        return {"Authorization": f"Bearer {token}"}

    official = headers("official", "demo-official-1", name="A. de Wit (demo)")
    second_official = headers("official", "demo-official-2", name="B. Jansen (demo)")

    async with AsyncTestClient(app=create_app(settings)) as client:
        existing = {round_["title"]: round_ for round_ in _check(await client.get("/api/rounds"))}
        hashes: dict[str, str] = {}
        for path in sorted(EXAMPLES.glob("*.json")):
            document = json.loads(path.read_text(encoding="utf-8"))
            response = await client.post(
                "/api/rulesets", json={"slug": path.stem, "document": document}, headers=official
            )
            if response.status_code == 409:
                response = await client.post(
                    f"/api/rulesets/{path.stem}/versions",
                    json={"document": document},
                    headers=official,
                )
            hashes[path.stem] = _check(response)["version"]["hash"]
        echo(f"rule sets: {', '.join(sorted(hashes))}")

        if BUDGET_TITLE in existing:
            echo(f"budget round already there: {existing[BUDGET_TITLE]['id']}")
        else:
            round_id = await _budget_round(
                client,
                official,
                second_official,
                headers,
                hashes["nijmegen-buurtbegroting"],
                voters,
                rng,
                echo,
            )
            echo(f"budget round published: /api/rounds/{round_id}/result")
        if PREFERENDUM_TITLE in existing:
            echo(f"preferendum already there: {existing[PREFERENDUM_TITLE]['id']}")
        else:
            round_id = await _preferendum(
                client, official, headers, hashes["preferendum"], voters, rng, echo
            )
            echo(f"preferendum published: /api/rounds/{round_id}/result")


async def _move(client: Any, official: dict[str, str], round_id: str, phase: str) -> None:
    _check(await client.post(f"/api/rounds/{round_id}/phase", json={"to": phase}, headers=official))


async def _budget_round(
    client: Any,
    official: dict[str, str],
    second_official: dict[str, str],
    headers: Callable[..., dict[str, str]],
    ruleset_hash: str,
    voters: int,
    rng: random.Random,
    echo: Callable[[str], None],
) -> str:
    code, name, budget = AREA

    def resident(subject: str) -> dict[str, str]:
        return headers("resident", subject, areas=[code], birth_date="1975-06-01")

    created = _check(
        await client.post(
            "/api/rounds",
            json={
                "ruleset_hash": ruleset_hash,
                "title": BUDGET_TITLE,
                "description": "Bewoners van Nijmegen-Oost kiezen welke ideeën samen binnen € 80.000 passen.",
                "areas": [{"code": code, "name": name, "budget_cents": budget}],
                "phases": {},
            },
            headers=official,
        )
    )
    round_id: str = created["id"]
    await _move(client, official, round_id, "submission")
    proposal_ids = []
    for index, (title, category, cost, _) in enumerate(PROPOSALS):
        proposal = _check(
            await client.post(
                f"/api/rounds/{round_id}/proposals",
                json={
                    "title": title,
                    "description": f"{title}. Ingediend door een bewoner van {name}.",
                    "area": code,
                    "category": category,
                    "estimated_cost_cents": cost,
                },
                headers=resident(f"demo-author-{index // 3}"),
            )
        )
        proposal_ids.append(proposal["id"])
    echo(f"budget round {round_id}: {len(proposal_ids)} proposals submitted")
    await _move(client, official, round_id, "review")
    for proposal_id, (_, _, cost, _) in zip(proposal_ids, PROPOSALS, strict=True):
        _check(
            await client.post(
                f"/api/rounds/{round_id}/proposals/{proposal_id}/review",
                json={"decision": "accept", "final_cost_cents": cost},
                headers=official,
            )
        )
    await _move(client, official, round_id, "supports")
    for position, proposal_id in enumerate(proposal_ids):
        for supporter in range(10 + position % 4):
            _check(
                await client.post(
                    f"/api/rounds/{round_id}/proposals/{proposal_id}/support",
                    headers=resident(f"demo-supporter-{position}-{supporter}"),
                )
            )
    await _move(client, official, round_id, "voting")
    ballot = _check(
        await client.get(f"/api/rounds/{round_id}/ballot", headers=resident("demo-voter-0"))
    )
    by_title = {title: weight for title, _, _, weight in PROPOSALS}
    popularity = {
        project["code"]: by_title.get(project["title"], 1) for project in ballot["projects"]
    }
    costs = {project["code"]: project["cost_cents"] for project in ballot["projects"]}
    if not costs:
        raise DemoFailed(f"the ballot lists no projects: {ballot}")
    for voter in range(voters):
        choice = _knapsack_choice(rng, costs, popularity, budget)
        _check(
            await client.post(
                f"/api/rounds/{round_id}/ballots",
                json={"ballot": {"approvals": choice}},
                headers=resident(f"demo-voter-{voter}"),
            )
        )
        if voter and voter % 100 == 0:
            echo(f"  {voter} online ballots cast")
    batch = _check(
        await client.post(
            f"/api/rounds/{round_id}/paper-batches",
            json={"label": "stembureau wijkcentrum, doos 1"},
            headers=official,
        )
    )
    for paper_voter in range(12):
        choice = _knapsack_choice(rng, costs, popularity, budget)
        _check(
            await client.post(
                f"/api/rounds/{round_id}/paper-batches/{batch['id']}/ballots",
                json={"voter": f"demo-paper-{paper_voter}", "ballot": {"approvals": choice}},
                headers=official,
            )
        )
    _check(
        await client.post(
            f"/api/rounds/{round_id}/paper-batches/{batch['id']}/confirm", headers=second_official
        )
    )
    echo(f"budget round {round_id}: {voters} online and 12 paper ballots; closing and publishing")
    await _move(client, official, round_id, "closed")
    await _move(client, official, round_id, "published")
    return round_id


def _knapsack_choice(
    rng: random.Random, costs: dict[str, int], popularity: dict[str, int], budget: int
) -> list[str]:
    wanted = sorted(costs, key=lambda code: -popularity[code] * rng.random())
    chosen, spent = [], 0
    for code in wanted[: rng.randint(1, len(wanted))]:
        if spent + costs[code] <= budget:
            chosen.append(code)
            spent += costs[code]
    return chosen or [min(costs, key=costs.__getitem__)]


async def _preferendum(
    client: Any,
    official: dict[str, str],
    headers: Callable[..., dict[str, str]],
    ruleset_hash: str,
    voters: int,
    rng: random.Random,
    echo: Callable[[str], None],
) -> str:
    created = _check(
        await client.post(
            "/api/rounds",
            json={
                "ruleset_hash": ruleset_hash,
                "title": PREFERENDUM_TITLE,
                "description": "Drie vragen over de binnenstad; geef elke optie een oordeel.",
                "areas": [{"code": "GM0268", "name": "Nijmegen", "budget_cents": None}],
                "phases": {},
            },
            headers=official,
        )
    )
    round_id: str = created["id"]
    for question in QUESTIONS:
        _check(
            await client.post(f"/api/rounds/{round_id}/questions", json=question, headers=official)
        )
    await _move(client, official, round_id, "voting")
    labels = ["zeer oneens", "oneens", "neutraal", "eens", "zeer eens"]
    for voter in range(voters):
        answers: dict[str, Any] = {}
        for question in QUESTIONS:
            grades = {}
            for option in question["options"]:
                if rng.random() < 0.1:
                    continue  # no opinion: left blank
                grade = round(rng.gauss(LEANINGS[option["id"]], 1.1))
                grades[option["id"]] = labels[min(4, max(0, grade))]
            if grades:
                answers[question["key"]] = {"grades": grades}
        _check(
            await client.post(
                f"/api/rounds/{round_id}/ballots",
                json={"ballot": {"questions": answers}},
                headers=headers(
                    "resident", f"demo-citizen-{voter}", areas=["GM0268"], birth_date="1990-02-01"
                ),
            )
        )
        if voter and voter % 200 == 0:
            echo(f"  {voter} preferendum ballots cast")
    echo(f"preferendum {round_id}: {voters} ballots; closing and publishing")
    await _move(client, official, round_id, "closed")
    await _move(client, official, round_id, "published")
    return round_id
