"""Proposals: eligible residents submit in the submission phase, officials review, residents
support; what each person may see and change."""

from __future__ import annotations

from typing import Any

import pytest

from stemmen.audit import chain as events
from stemmen.audit.log import chain_entries
from tests.integration.round_helpers import (
    DEFAULT_AREAS,
    create_round,
    database,
    example_ruleset,
    move,
    publish_ruleset,
    resident,
)


async def _round_in(
    client: Any, auth: Any, phase: str = "submission", document: dict[str, Any] | None = None
) -> str:
    ruleset_hash = await publish_ruleset(
        client, auth, document or example_ruleset("nijmegen-buurtbegroting")
    )
    round_id = str((await create_round(client, auth, ruleset_hash, areas=DEFAULT_AREAS))["id"])
    for step in ("submission", "review", "supports"):
        if phase == "draft":
            break
        await move(client, auth, round_id, step)
        if step == phase:
            break
    return round_id


def _idea(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Speeltuin aan de Waal",
        "description": "Een speeltuin voor kinderen tot 12 jaar.",
        "area": "WK026801",
        "category": "Spelen en sport",
        "estimated_cost_cents": 1_500_000,
    }
    body.update(changes)
    return body


async def _submit(client: Any, round_id: str, headers: dict[str, str], **changes: Any) -> Any:
    return await client.post(
        f"/api/rounds/{round_id}/proposals", json=_idea(**changes), headers=headers
    )


async def _review(client: Any, auth: Any, round_id: str, proposal_id: int, **body: Any) -> Any:
    return await client.post(
        f"/api/rounds/{round_id}/proposals/{proposal_id}/review",
        json=body,
        headers=auth("official"),
    )


# --------------------------------------------------------------------------- submitting


async def test_an_eligible_resident_submits_and_sees_their_own_proposal(
    client: Any, auth: Any
) -> None:
    round_id = await _round_in(client, auth)
    anna = resident(auth, "anna", "BU02680100")  # a neighbourhood inside WK026801
    created = await _submit(client, round_id, anna)
    assert created.status_code == 201, created.text
    proposal = created.json()
    assert proposal["status"] == "submitted"
    assert proposal["mine"] is True
    assert proposal["final_cost_cents"] is None

    own = await client.get(f"/api/rounds/{round_id}/proposals", headers=anna)
    assert [p["id"] for p in own.json()] == [proposal["id"]]
    assert (
        await client.get(f"/api/rounds/{round_id}/proposals/{proposal['id']}", headers=anna)
    ).status_code == 200
    # Nobody else sees it before it is accepted; officials see everything.
    bram = resident(auth, "bram", "WK026801")
    assert (await client.get(f"/api/rounds/{round_id}/proposals", headers=bram)).json() == []
    assert (await client.get(f"/api/rounds/{round_id}/proposals")).json() == []
    assert (
        await client.get(f"/api/rounds/{round_id}/proposals/{proposal['id']}", headers=bram)
    ).status_code == 404
    listed = await client.get(f"/api/rounds/{round_id}/proposals", headers=auth("official"))
    assert [(p["id"], p["mine"]) for p in listed.json()] == [(proposal["id"], False)]


REFUSALS = {
    "too young on the closing day": (
        {"headers": ("kid", "WK026801", "2015-06-01")},
        {},
        403,
        "not_eligible_age",
    ),
    "living outside the round's areas": (
        {"headers": ("far", "WK026805", "1980-01-01")},
        {},
        403,
        "not_eligible_area",
    ),
    "no birth date in the sign-in": (
        {"headers": ("nobirth", "WK026801", None)},
        {},
        403,
        "not_eligible_age_unknown",
    ),
    "cost below the lowest": ({}, {"estimated_cost_cents": 99_999}, 422, "cost_out_of_bounds"),
    "cost above the highest": ({}, {"estimated_cost_cents": 2_500_001}, 422, "cost_out_of_bounds"),
    "unknown category": ({}, {"category": "Ruimtevaart"}, 422, "category_not_allowed"),
    "no category": ({}, {"category": None}, 422, "category_not_allowed"),
    "area not in the round": ({}, {"area": "WK026803"}, 422, "area_not_in_round"),
}


async def test_every_ineligible_or_out_of_frame_submission_is_refused(
    client: Any, auth: Any
) -> None:
    round_id = await _round_in(client, auth)
    for case, (who, changes, status, code) in sorted(REFUSALS.items()):
        subject, area, birth = who.get("headers", ("anna", "WK026801", "1980-01-01"))
        claims: dict[str, Any] = {"areas": [area]}
        if birth is not None:
            claims["birth_date"] = birth
        response = await _submit(
            client, round_id, auth("resident", subject=subject, **claims), **changes
        )
        assert (response.status_code, response.json()["code"]) == (status, code), case
        assert response.json()["message_nl"], case
    assert (
        await client.get(f"/api/rounds/{round_id}/proposals", headers=auth("official"))
    ).json() == []


async def test_a_cost_out_of_bounds_names_the_amounts_in_euros(client: Any, auth: Any) -> None:
    round_id = await _round_in(client, auth)
    response = await _submit(
        client, round_id, resident(auth, "anna", "WK026801"), estimated_cost_cents=3_000_000
    )
    body = response.json()
    assert "EUR 30,000" in body["message"]
    assert "EUR 1,000 to EUR 25,000" in body["message"]
    assert "€ 25.000" in body["message_nl"]


async def test_an_age_is_measured_on_the_scheduled_closing_day(client: Any, auth: Any) -> None:
    ruleset_hash = await publish_ruleset(client, auth, example_ruleset("nijmegen-buurtbegroting"))
    phases = {
        "voting": {"starts_at": "2027-05-01T09:00:00+02:00", "ends_at": "2027-05-20T18:00:00+02:00"}
    }
    round_id = (await create_round(client, auth, ruleset_hash, phases=phases))["id"]
    await move(client, auth, round_id, "submission")
    sixteen_on_closing_day = auth(
        "resident", subject="jong", areas=["WK026801"], birth_date="2011-05-20"
    )
    fifteen_on_closing_day = auth(
        "resident", subject="jonger", areas=["WK026801"], birth_date="2011-05-21"
    )
    assert (await _submit(client, round_id, sixteen_on_closing_day)).status_code == 201
    refused = await _submit(client, round_id, fifteen_on_closing_day)
    assert refused.status_code == 403
    assert refused.json()["details"] == {"age_on_closing_day": 15, "closing_day": "2027-05-20"}


@pytest.mark.parametrize("phase", ["draft", "review", "supports"])
async def test_residents_submit_only_in_the_submission_phase(
    client: Any, auth: Any, phase: str
) -> None:
    round_id = await _round_in(client, auth, phase)
    response = await _submit(client, round_id, resident(auth, "anna", "WK026801"))
    assert response.status_code == 409
    assert response.json()["code"] == "wrong_phase"


async def test_a_resident_submits_no_more_than_the_rule_set_allows(client: Any, auth: Any) -> None:
    round_id = await _round_in(client, auth)
    anna = resident(auth, "anna", "WK026801")
    for number in range(3):
        assert (await _submit(client, round_id, anna, title=f"Idee {number}")).status_code == 201
    fourth = await _submit(client, round_id, anna, title="Idee 4")
    assert fourth.status_code == 409
    assert fourth.json()["code"] == "too_many_proposals"
    assert "at most 3" in fourth.json()["message"]
    assert (await _submit(client, round_id, resident(auth, "bram", "WK026801"))).status_code == 201


async def test_an_auditor_cannot_submit(client: Any, auth: Any) -> None:
    round_id = await _round_in(client, auth)
    assert (await _submit(client, round_id, auth("auditor"))).status_code == 403
    assert (await _submit(client, round_id, {})).status_code == 401


async def test_where_only_the_municipality_proposes_residents_are_refused(
    client: Any, auth: Any
) -> None:
    document = example_ruleset("nijmegen-buurtbegroting")
    document["proposals"]["who_may_submit"] = "officials-only"
    document["phases"] = ["review", "supports", "voting"]
    document["round_bounds"]["phase_days"].pop("submission")
    round_id = await _round_in(client, auth, "draft", document)
    refused = await _submit(client, round_id, resident(auth, "anna", "WK026801"))
    assert refused.status_code == 403
    assert refused.json()["code"] == "residents_may_not_submit"
    by_official = await _submit(client, round_id, auth("official"))
    assert by_official.status_code == 201, by_official.text


async def test_any_resident_of_the_municipality_may_submit_where_the_rule_set_says_so(
    client: Any, auth: Any
) -> None:
    document = example_ruleset("burgerbegroting-wijken")
    ruleset_hash = await publish_ruleset(client, auth, document)
    areas = [("WK026801", "Oost", 6_000_000)]
    round_id = (await create_round(client, auth, ruleset_hash, areas=areas))["id"]
    await move(client, auth, round_id, "submission")
    # Lives in another district and is only 10: still a resident of Nijmegen.
    child = auth("resident", subject="kind", areas=["WK026805"], birth_date="2017-01-01")
    response = await _submit(
        client, round_id, child, category="Sociaal", estimated_cost_cents=300_000
    )
    assert response.status_code == 201, response.text


# --------------------------------------------------------------------------- changing


async def test_the_author_changes_their_proposal_during_submission(client: Any, auth: Any) -> None:
    round_id = await _round_in(client, auth)
    anna = resident(auth, "anna", "WK026801")
    proposal_id = (await _submit(client, round_id, anna)).json()["id"]
    changed = await client.patch(
        f"/api/rounds/{round_id}/proposals/{proposal_id}",
        json={"title": "Speeltuin en bankjes", "estimated_cost_cents": 1_800_000},
        headers=anna,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["title"] == "Speeltuin en bankjes"
    assert changed.json()["estimated_cost_cents"] == 1_800_000
    too_dear = await client.patch(
        f"/api/rounds/{round_id}/proposals/{proposal_id}",
        json={"estimated_cost_cents": 9_000_000},
        headers=anna,
    )
    assert too_dear.status_code == 422


async def test_nobody_but_the_author_changes_a_proposal(client: Any, auth: Any) -> None:
    round_id = await _round_in(client, auth)
    proposal_id = (await _submit(client, round_id, resident(auth, "anna", "WK026801"))).json()["id"]
    for intruder in (resident(auth, "bram", "WK026801"), auth("official")):
        response = await client.patch(
            f"/api/rounds/{round_id}/proposals/{proposal_id}",
            json={"title": "Van mij nu"},
            headers=intruder,
        )
        assert response.status_code == 403
        assert response.json()["code"] == "not_your_proposal"
    unchanged = await client.get(
        f"/api/rounds/{round_id}/proposals/{proposal_id}", headers=auth("official")
    )
    assert unchanged.json()["title"] == "Speeltuin aan de Waal"


async def test_a_proposal_cannot_change_after_the_submission_phase(client: Any, auth: Any) -> None:
    round_id = await _round_in(client, auth)
    anna = resident(auth, "anna", "WK026801")
    proposal_id = (await _submit(client, round_id, anna)).json()["id"]
    await move(client, auth, round_id, "review")
    response = await client.patch(
        f"/api/rounds/{round_id}/proposals/{proposal_id}", json={"title": "Later"}, headers=anna
    )
    assert response.status_code == 409


# --------------------------------------------------------------------------- reviewing


async def test_review_accepts_rejects_and_merges_and_logs_each(
    client: Any, auth: Any, settings: Any
) -> None:
    round_id = await _round_in(client, auth)
    anna, bram, carla = (resident(auth, name, "WK026801") for name in ("anna", "bram", "carla"))
    accepted = (await _submit(client, round_id, anna)).json()["id"]
    rejected = (await _submit(client, round_id, bram, title="Zwembad")).json()["id"]
    duplicate = (await _submit(client, round_id, carla, title="Speelplaats aan de Waal")).json()[
        "id"
    ]
    await move(client, auth, round_id, "review")

    ok = await _review(
        client, auth, round_id, accepted, decision="accept", final_cost_cents=1_650_000
    )
    assert ok.status_code == 200, ok.text
    assert (ok.json()["status"], ok.json()["final_cost_cents"]) == ("accepted", 1_650_000)
    no = await _review(
        client,
        auth,
        round_id,
        rejected,
        decision="reject",
        reason="Past niet in het budget van de wijk.",
    )
    assert no.json()["status"] == "rejected"
    merged = await _review(client, auth, round_id, duplicate, decision="merge", merge_into=accepted)
    assert (merged.json()["status"], merged.json()["merged_into"]) == ("merged", accepted)

    # The author reads the reason; the public sees only the accepted proposal.
    own = (await client.get(f"/api/rounds/{round_id}/proposals/{rejected}", headers=bram)).json()
    assert own["review_reason"] == "Past niet in het budget van de wijk."
    public = (await client.get(f"/api/rounds/{round_id}/proposals")).json()
    assert [p["id"] for p in public] == [accepted]
    assert (await client.get(f"/api/rounds/{round_id}/proposals/{rejected}")).status_code == 404

    async with database(settings) as maker, maker() as session:
        log = await chain_entries(session, round_id)
    reviews = [e.payload for e in log if e.kind == events.PROPOSAL_REVIEWED]
    assert [(r["proposal"], r["decision"]) for r in reviews] == [
        (accepted, "accept"),
        (rejected, "reject"),
        (duplicate, "merge"),
    ]
    assert all(e.actor_role == "official" for e in log if e.kind == events.PROPOSAL_REVIEWED)


REVIEW_REFUSALS = {
    "accept without a final cost": ({"decision": "accept"}, 422, "final_cost_missing"),
    "accept above the highest cost": (
        {"decision": "accept", "final_cost_cents": 2_600_000},
        422,
        "cost_out_of_bounds",
    ),
    "reject without a reason": ({"decision": "reject"}, 422, "reason_missing"),
    "reject with a blank reason": ({"decision": "reject", "reason": "   "}, 422, "reason_missing"),
    "merge without a target": ({"decision": "merge"}, 422, "merge_target_missing"),
    "merge into itself": ({"decision": "merge", "merge_into": "SELF"}, 422, "merge_into_itself"),
    "merge into a missing proposal": (
        {"decision": "merge", "merge_into": 999_999},
        404,
        "proposal_not_found",
    ),
    "an unknown decision": ({"decision": "maybe"}, 400, "invalid_request"),
}


async def test_every_incomplete_review_is_refused(client: Any, auth: Any) -> None:
    round_id = await _round_in(client, auth)
    proposal_id = (await _submit(client, round_id, resident(auth, "anna", "WK026801"))).json()["id"]
    await move(client, auth, round_id, "review")
    for case, (body, status, code) in sorted(REVIEW_REFUSALS.items()):
        if body.get("merge_into") == "SELF":
            body = {**body, "merge_into": proposal_id}
        response = await _review(client, auth, round_id, proposal_id, **body)
        assert (response.status_code, response.json()["code"]) == (status, code), case
    unchanged = await client.get(
        f"/api/rounds/{round_id}/proposals/{proposal_id}", headers=auth("official")
    )
    assert unchanged.json()["status"] == "submitted"


async def test_a_cost_above_the_areas_budget_cannot_be_accepted(client: Any, auth: Any) -> None:
    document = example_ruleset("nijmegen-buurtbegroting")
    ruleset_hash = await publish_ruleset(client, auth, document)
    round_id = (
        await create_round(client, auth, ruleset_hash, areas=[("WK026801", "Oost", 1_500_000)])
    )["id"]
    await move(client, auth, round_id, "submission")
    proposal_id = (await _submit(client, round_id, resident(auth, "anna", "WK026801"))).json()["id"]
    await move(client, auth, round_id, "review")
    response = await _review(
        client, auth, round_id, proposal_id, decision="accept", final_cost_cents=1_600_000
    )
    assert response.status_code == 422
    assert "EUR 15,000 budget of WK026801" in response.json()["message"]


async def test_review_happens_only_in_the_review_phase_and_only_by_officials(
    client: Any, auth: Any
) -> None:
    round_id = await _round_in(client, auth)
    proposal_id = (await _submit(client, round_id, resident(auth, "anna", "WK026801"))).json()["id"]
    early = await _review(
        client, auth, round_id, proposal_id, decision="accept", final_cost_cents=1_000_000
    )
    assert early.status_code == 409
    assert early.json()["code"] == "wrong_phase"
    await move(client, auth, round_id, "review")
    by_resident = await client.post(
        f"/api/rounds/{round_id}/proposals/{proposal_id}/review",
        json={"decision": "accept", "final_cost_cents": 1_000_000},
        headers=resident(auth, "anna", "WK026801"),
    )
    assert by_resident.status_code == 403


# --------------------------------------------------------------------------- supports


async def _accepted_in_supports(
    client: Any,
    auth: Any,
    count: int = 2,
    area: str = "WK026801",
    supports_per_resident: int | None = 5,
) -> tuple[str, list[int]]:
    document = example_ruleset("nijmegen-buurtbegroting")
    document["proposals"]["supports_per_resident"] = supports_per_resident
    if supports_per_resident is None:
        document["proposals"].pop("supports_per_resident")
    round_id = await _round_in(client, auth, "submission", document)
    ids = []
    for number in range(count):
        author = resident(auth, f"author-{number}", area)
        ids.append(
            (await _submit(client, round_id, author, area=area, title=f"Idee {number}")).json()[
                "id"
            ]
        )
    await move(client, auth, round_id, "review")
    for proposal_id in ids:
        await _review(
            client, auth, round_id, proposal_id, decision="accept", final_cost_cents=1_000_000
        )
    await move(client, auth, round_id, "supports")
    return round_id, ids


async def test_a_resident_supports_once_and_may_withdraw(client: Any, auth: Any) -> None:
    round_id, (first, _) = await _accepted_in_supports(client, auth)
    fan = resident(auth, "fan", "WK026801")
    url = f"/api/rounds/{round_id}/proposals/{first}/support"
    supported = await client.post(url, headers=fan)
    assert supported.status_code == 200, supported.text
    assert supported.json() == {
        "proposal_id": first,
        "supports": 1,
        "supported_by_me": True,
        "my_supports_left": 4,
    }
    again = await client.post(url, headers=fan)
    assert again.status_code == 409
    assert again.json()["code"] == "already_supported"
    listed = {
        p["id"]: p
        for p in (await client.get(f"/api/rounds/{round_id}/proposals", headers=fan)).json()
    }
    assert (listed[first]["supports"], listed[first]["supported_by_me"]) == (1, True)

    withdrawn = await client.delete(url, headers=fan)
    assert withdrawn.status_code == 200
    assert withdrawn.json()["supports"] == 0
    assert (await client.delete(url, headers=fan)).status_code == 404


async def test_a_resident_supports_no_more_proposals_than_the_rule_set_allows(
    client: Any, auth: Any
) -> None:
    round_id, ids = await _accepted_in_supports(client, auth, count=3, supports_per_resident=2)
    fan = resident(auth, "fan", "WK026801")
    for proposal_id in ids[:2]:
        assert (
            await client.post(
                f"/api/rounds/{round_id}/proposals/{proposal_id}/support", headers=fan
            )
        ).status_code == 200
    third = await client.post(f"/api/rounds/{round_id}/proposals/{ids[2]}/support", headers=fan)
    assert third.status_code == 409
    assert third.json()["code"] == "too_many_supports"
    await client.delete(f"/api/rounds/{round_id}/proposals/{ids[0]}/support", headers=fan)
    assert (
        await client.post(f"/api/rounds/{round_id}/proposals/{ids[2]}/support", headers=fan)
    ).status_code == 200


SUPPORT_REFUSALS = {
    "a resident of another district": (("fan", "WK026802", "1980-01-01"), 403, "other_area"),
    "a resident outside the round": (("fan", "WK026805", "1980-01-01"), 403, "not_eligible_area"),
    "a resident too young": (("fan", "WK026801", "2015-01-01"), 403, "not_eligible_age"),
}


async def test_supports_from_ineligible_residents_are_refused(client: Any, auth: Any) -> None:
    round_id, (first, _) = await _accepted_in_supports(client, auth)
    for case, ((subject, area, birth), status, code) in sorted(SUPPORT_REFUSALS.items()):
        response = await client.post(
            f"/api/rounds/{round_id}/proposals/{first}/support",
            headers=resident(auth, subject, area, birth),
        )
        assert (response.status_code, response.json()["code"]) == (status, code), case
    counted = await client.get(f"/api/rounds/{round_id}/proposals/{first}")
    assert counted.json()["supports"] == 0


async def test_officials_do_not_support_and_supports_need_the_supports_phase(
    client: Any, auth: Any
) -> None:
    round_id = await _round_in(client, auth)
    anna = resident(auth, "anna", "WK026801")
    proposal_id = (await _submit(client, round_id, anna)).json()["id"]
    early = await client.post(
        f"/api/rounds/{round_id}/proposals/{proposal_id}/support", headers=anna
    )
    assert early.status_code == 409
    assert early.json()["code"] == "wrong_phase"
    official = await client.post(
        f"/api/rounds/{round_id}/proposals/{proposal_id}/support", headers=auth("official")
    )
    assert official.status_code == 403


async def test_a_rejected_proposal_cannot_be_supported(client: Any, auth: Any) -> None:
    round_id = await _round_in(client, auth)
    proposal_id = (await _submit(client, round_id, resident(auth, "anna", "WK026801"))).json()["id"]
    other = (await _submit(client, round_id, resident(auth, "bram", "WK026801"))).json()["id"]
    await move(client, auth, round_id, "review")
    await _review(client, auth, round_id, proposal_id, decision="reject", reason="Kan niet.")
    await _review(client, auth, round_id, other, decision="accept", final_cost_cents=1_000_000)
    await move(client, auth, round_id, "supports")
    response = await client.post(
        f"/api/rounds/{round_id}/proposals/{proposal_id}/support",
        headers=resident(auth, "fan", "WK026801"),
    )
    assert response.status_code == 409
    assert response.json()["code"] == "proposal_not_supportable"


async def test_proposals_belong_to_budget_rounds_only(client: Any, auth: Any) -> None:
    ruleset_hash = await publish_ruleset(client, auth, example_ruleset("preferendum"))
    round_id = (
        await create_round(client, auth, ruleset_hash, areas=[("GM0268", "Nijmegen", None)])
    )["id"]
    response = await _submit(client, round_id, resident(auth, "anna", "GM0268"), area="GM0268")
    assert response.status_code == 422
    assert response.json()["code"] == "proposals_not_for_instrument"


async def test_limits_hold_when_a_resident_sends_several_requests_at_once(
    concurrent_client: Any, auth: Any
) -> None:
    import asyncio

    client = concurrent_client
    round_id = await _round_in(client, auth)
    anna = resident(auth, "anna", "WK026801")
    client.in_flight.reset()
    submissions = await asyncio.gather(
        *(_submit(client, round_id, anna, title=f"Idee {n}") for n in range(5))
    )
    assert client.in_flight.most > 1, "the requests ran one after another"
    assert sorted(r.status_code for r in submissions) == [201, 201, 201, 409, 409]
    mine = await client.get(f"/api/rounds/{round_id}/proposals", headers=anna)
    assert len(mine.json()) == 3


async def test_without_a_review_a_proposal_reaches_the_ballot_at_its_estimate(
    client: Any, auth: Any
) -> None:
    document = example_ruleset("nijmegen-buurtbegroting")
    document["phases"] = ["submission", "voting"]
    document["proposals"].update({"review": False, "supports_needed": 0})
    document["proposals"].pop("supports_per_resident")
    for phase in ("review", "supports"):
        document["round_bounds"]["phase_days"].pop(phase)
    round_id = await _round_in(client, auth, "submission", document)
    for subject, area in (("anna", "WK026801"), ("bram", "WK026802")):
        created = await _submit(client, round_id, resident(auth, subject, area), area=area)
        assert created.status_code == 201, created.text
        assert (created.json()["status"], created.json()["final_cost_cents"]) == (
            "accepted",
            1_500_000,
        )
    assert len((await client.get(f"/api/rounds/{round_id}/proposals")).json()) == 2
    no_review = await _review(
        client, auth, round_id, created.json()["id"], decision="reject", reason="nee"
    )
    assert no_review.status_code == 409
    assert no_review.json()["code"] == "no_review"
    voting = await move(client, auth, round_id, "voting")
    assert voting["phase"] == "voting"
    on_ballot = (await client.get(f"/api/rounds/{round_id}/proposals")).json()
    assert [p["ballot_code"] for p in on_ballot] == ["001", "002"]


async def test_an_author_withdraws_a_proposal_and_may_then_submit_another(
    client: Any, auth: Any
) -> None:
    round_id = await _round_in(client, auth)
    anna = resident(auth, "anna", "WK026801")
    ids = [
        (await _submit(client, round_id, anna, title=f"Idee {n}")).json()["id"] for n in range(3)
    ]
    assert (await _submit(client, round_id, anna, title="Idee 4")).status_code == 409
    url = f"/api/rounds/{round_id}/proposals/{ids[0]}"
    assert (await client.delete(url, headers=resident(auth, "bram", "WK026801"))).status_code == 403
    withdrawn = await client.delete(url, headers=anna)
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "withdrawn"
    assert (await client.delete(url, headers=anna)).status_code == 409
    assert (await client.patch(url, json={"title": "Toch"}, headers=anna)).status_code == 409
    assert (await _submit(client, round_id, anna, title="Idee 4")).status_code == 201


async def test_out_of_range_numbers_are_refused_as_bad_requests_not_faults(
    client: Any, auth: Any
) -> None:
    round_id = await _round_in(client, auth)
    huge = 2**40
    anna = resident(auth, "anna", "WK026801")
    responses = [
        await client.get(f"/api/rounds/{round_id}/proposals/{huge}", headers=anna),
        await _submit(client, round_id, anna, estimated_cost_cents=2**60),
        await client.post(
            f"/api/rounds/{round_id}/phase",
            json={"to": "review", "revision": huge},
            headers=auth("official"),
        ),
    ]
    assert [r.status_code for r in responses] == [400, 400, 400]


async def test_a_token_with_a_malformed_area_claim_is_refused_not_a_fault(
    client: Any, auth: Any
) -> None:
    round_id = await _round_in(client, auth)
    response = await _submit(client, round_id, resident(auth, "odd", "Oost"))
    assert response.status_code == 403
    assert response.json()["code"] == "not_eligible_area"
    assert (await client.get("/api/rounds?area=Oost")).status_code == 400
