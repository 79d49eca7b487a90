"""Questions of preferenda and polls: officials define them with their options and method
inside the council's frame, until voting opens; then they are frozen."""

from __future__ import annotations

from typing import Any

from tests.integration.round_helpers import (
    DEFAULT_QUESTIONS,
    create_round,
    example_ruleset,
    move,
    open_budget_round,
    open_preferendum_round,
    publish_ruleset,
)


def _question(key: str = "vraag1", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "key": key,
        "title": "Wat doen we met het Keizer Karelplein?",
        "options": [
            {"id": "a", "label": "Meer groen"},
            {"id": "b", "label": "Meer parkeerplaatsen"},
        ],
    }
    body.update(changes)
    return body


async def _draft(client: Any, auth: Any, name: str = "preferendum") -> str:
    ruleset_hash = await publish_ruleset(client, auth, example_ruleset(name))
    return str(
        (await create_round(client, auth, ruleset_hash, areas=[("GM0268", "Nijmegen", None)]))["id"]
    )


async def test_officials_add_questions_and_anyone_reads_them_in_order(
    client: Any, auth: Any
) -> None:
    poll = await open_preferendum_round(client, auth, open_voting=False)
    inserted = await client.post(
        f"/api/rounds/{poll.round_id}/questions",
        json=_question("eerst", position=1),
        headers=auth("official"),
    )
    assert inserted.status_code == 201, inserted.text
    assert inserted.json()["method"] == "majority-judgment"  # the rule set's default
    assert inserted.json()["ballot_format"] == "grades"
    listed = (await client.get(f"/api/rounds/{poll.round_id}/questions")).json()
    assert [(q["key"], q["position"]) for q in listed] == [
        ("eerst", 1),
        ("autoluw", 2),
        ("groen", 3),
    ]
    assert listed[2]["options"][0] == {"id": "markt", "label": "Grote Markt"}
    on_round = (await client.get(f"/api/rounds/{poll.round_id}")).json()["questions"]
    assert [q["key"] for q in on_round] == ["eerst", "autoluw", "groen"]


async def test_a_question_may_use_another_method_the_frame_allows(client: Any, auth: Any) -> None:
    round_id = await _draft(client, auth)
    response = await client.post(
        f"/api/rounds/{round_id}/questions",
        json=_question(method="score-mean"),
        headers=auth("official"),
    )
    assert response.status_code == 201, response.text
    assert response.json()["method"] == "score-mean"


async def test_questions_outside_the_frame_are_refused(client: Any, auth: Any) -> None:
    round_id = await _draft(client, auth)
    cases = {
        "a method the frame does not allow": (
            _question(method="borda"),
            422,
            "round_out_of_bounds",
        ),
        "a method the engine does not know": (
            _question(method="dictator"),
            422,
            "round_out_of_bounds",
        ),
        "a format other than the rule set's": (
            _question(ballot_format="approval"),
            422,
            "format_not_allowed",
        ),
        "the same option id twice": (
            _question(options=[{"id": "a", "label": "Een"}, {"id": "a", "label": "Twee"}]),
            422,
            "duplicate_option",
        ),
        "a single option": (
            _question(options=[{"id": "a", "label": "Alleen"}]),
            400,
            "invalid_request",
        ),
        "a malformed key": (_question(key="vraag één"), 400, "invalid_request"),
    }
    for case, (body, status, code) in sorted(cases.items()):
        response = await client.post(
            f"/api/rounds/{round_id}/questions", json=body, headers=auth("official")
        )
        assert (response.status_code, response.json()["code"]) == (status, code), (
            case,
            response.text,
        )
    refused = await client.post(
        f"/api/rounds/{round_id}/questions",
        json=_question(method="borda"),
        headers=auth("official"),
    )
    problem = refused.json()["details"]["problems"][0]
    assert problem["rule"] == "round_bounds.allowed_methods"
    assert "RV 2026-003" in refused.json()["message"]
    assert (await client.get(f"/api/rounds/{round_id}/questions")).json() == []


async def test_no_more_questions_than_the_rule_set_allows(client: Any, auth: Any) -> None:
    round_id = await _draft(client, auth, "wijkpeiling")  # at most 3 questions
    for number in range(3):
        added = await client.post(
            f"/api/rounds/{round_id}/questions",
            json=_question(f"v{number}"),
            headers=auth("official"),
        )
        assert added.status_code == 201, added.text
    fourth = await client.post(
        f"/api/rounds/{round_id}/questions", json=_question("v4"), headers=auth("official")
    )
    assert fourth.status_code == 422
    assert fourth.json()["details"]["problems"][0]["rule"] == "ballot.max_questions"


async def test_a_key_is_used_once_per_round(client: Any, auth: Any) -> None:
    round_id = await _draft(client, auth)
    assert (
        await client.post(
            f"/api/rounds/{round_id}/questions", json=_question(), headers=auth("official")
        )
    ).status_code == 201
    again = await client.post(
        f"/api/rounds/{round_id}/questions", json=_question(), headers=auth("official")
    )
    assert again.status_code == 409
    assert again.json()["code"] == "question_exists"


async def test_officials_change_and_remove_questions_before_voting(client: Any, auth: Any) -> None:
    poll = await open_preferendum_round(client, auth, open_voting=False)
    url = f"/api/rounds/{poll.round_id}/questions/autoluw"
    changed = await client.patch(
        url,
        json={
            "title": "Autoluwe binnenstad?",
            "method": "score-mean",
            "options": [
                {"id": "ja", "label": "Ja"},
                {"id": "nee", "label": "Nee"},
                {"id": "deels", "label": "Deels"},
            ],
        },
        headers=auth("official"),
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["method"] == "score-mean"
    assert [o["id"] for o in changed.json()["options"]] == ["ja", "nee", "deels"]
    refused = await client.patch(url, json={"method": "borda"}, headers=auth("official"))
    assert refused.status_code == 422
    removed = await client.delete(url, headers=auth("official"))
    assert removed.status_code == 204
    assert [
        q["key"] for q in (await client.get(f"/api/rounds/{poll.round_id}/questions")).json()
    ] == ["groen"]
    assert (await client.delete(url, headers=auth("official"))).status_code == 404


async def test_questions_are_frozen_once_voting_opens(client: Any, auth: Any) -> None:
    poll = await open_preferendum_round(client, auth)
    base = f"/api/rounds/{poll.round_id}/questions"
    attempts = [
        await client.post(base, json=_question("laat"), headers=auth("official")),
        await client.patch(f"{base}/autoluw", json={"title": "Nieuw"}, headers=auth("official")),
        await client.delete(f"{base}/groen", headers=auth("official")),
    ]
    assert [(r.status_code, r.json()["code"]) for r in attempts] == [(409, "questions_frozen")] * 3
    listed = (await client.get(base)).json()
    assert [q["title"] for q in listed] == [q["title"] for q in DEFAULT_QUESTIONS]


async def test_residents_cannot_define_questions(client: Any, auth: Any) -> None:
    round_id = await _draft(client, auth)
    response = await client.post(
        f"/api/rounds/{round_id}/questions", json=_question(), headers=auth("resident")
    )
    assert response.status_code == 403


async def test_a_budget_round_asks_no_questions(client: Any, auth: Any) -> None:
    budget = await open_budget_round(client, auth, open_voting=False, proposals=())
    response = await client.post(
        f"/api/rounds/{budget.round_id}/questions", json=_question(), headers=auth("official")
    )
    assert response.status_code == 422
    assert response.json()["code"] == "questions_not_for_instrument"


async def test_a_question_round_moves_through_voting_close_and_publication(
    client: Any, auth: Any
) -> None:
    poll = await open_preferendum_round(client, auth)
    closed = await move(client, auth, poll.round_id, "closed")
    assert closed["phase"] == "closed"
    published = await move(client, auth, poll.round_id, "published")
    assert published["phase"] == "published"
    assert published["seed"] is not None, "the seed is revealed at publication"
    after = await client.post(
        f"/api/rounds/{poll.round_id}/phase", json={"to": "closed"}, headers=auth("official")
    )
    assert after.status_code == 409
    assert after.json()["code"] == "round_published"
