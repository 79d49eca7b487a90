"""Rounds run by their team, where the council's rule set says so (administration.officials).

Under ``round-team`` only the round's team (its creator and the officials added to it) and
admins may act on a round: every other official is refused with 403 ``not_on_round_team`` on
every write, through the API and through the officials' pages, and nothing is written. Under
``any-official`` (the default) nothing changes. Team changes are logged in the round's chain.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from stemmen.audit.bundle import load_bundle
from stemmen.audit.verify import verify_bundle
from tests.integration.round_helpers import (
    BudgetRound,
    budget_ruleset_without_supports,
    move,
    open_budget_round,
)
from tests.integration.web_helpers import sign_in, submit, text_of

AREA = "WK026801"
CREATOR = "official-1"  # the subject of auth("official"), who creates the helpers' rounds
OUTSIDER = "p.jansen"
COLLEAGUE = "m.bakker"


def team_ruleset() -> dict[str, Any]:
    document = copy.deepcopy(budget_ruleset_without_supports())
    document["administration"] = {"officials": "round-team"}
    return document


def official(auth: Any, subject: str) -> dict[str, str]:
    return auth("official", subject=subject)


async def team_round(client: Any, auth: Any) -> tuple[BudgetRound, int]:
    """A round-team budget round in voting, with a paper batch its creator opened and filled."""
    budget = await open_budget_round(client, auth, document=team_ruleset())
    opened = await client.post(
        f"/api/rounds/{budget.round_id}/paper-batches",
        json={"label": "Wijkcentrum, doos 1"},
        headers=auth("official"),
    )
    assert opened.status_code == 201, opened.text
    batch = opened.json()["id"]
    entered = await client.post(
        f"/api/rounds/{budget.round_id}/paper-batches/{batch}/ballots",
        json={
            "voter": "register-1",
            "area": AREA,
            "ballot": {"approvals": [budget.ballot[AREA][0][0]]},
        },
        headers=auth("official"),
    )
    assert entered.status_code == 201, entered.text
    return budget, batch


async def stored_state(client: Any, auth: Any, round_id: str) -> dict[str, Any]:
    """Everything an official write could change, as an admin reads it."""
    admin = auth("admin")
    parts = {
        "round": f"/api/rounds/{round_id}",
        "log": f"/api/rounds/{round_id}/log",
        "proposals": f"/api/rounds/{round_id}/proposals",
        "batches": f"/api/rounds/{round_id}/paper-batches",
        "team": f"/api/rounds/{round_id}/team",
    }
    state = {}
    for name, path in parts.items():
        response = await client.get(path, headers=admin)
        assert response.status_code == 200, (path, response.text)
        state[name] = response.json()
    return state


def official_writes(
    budget: BudgetRound, batch: int
) -> list[tuple[str, str, dict[str, Any] | None]]:
    """Every official write route of the API on one round: (method, path, JSON body)."""
    base = f"/api/rounds/{budget.round_id}"
    proposal = budget.proposals[AREA][0]
    return [
        ("PATCH", base, {"revision": 1, "title": "Overgenomen"}),
        ("POST", f"{base}/phase", {"to": "closed"}),
        ("POST", f"{base}/questions", {"key": "q1", "title": "Vraag", "options": []}),
        ("PATCH", f"{base}/questions/q1", {"title": "Vraag"}),
        ("DELETE", f"{base}/questions/q1", None),
        (
            "POST",
            f"{base}/proposals",
            {
                "title": "Eigen project",
                "description": "Van de gemeente",
                "area": AREA,
                "category": "Groen",
                "estimated_cost_cents": 1_000_000,
            },
        ),
        ("PATCH", f"{base}/proposals/{proposal}", {"title": "Overgenomen"}),
        ("DELETE", f"{base}/proposals/{proposal}", None),
        (
            "POST",
            f"{base}/proposals/{proposal}/review",
            {"decision": "reject", "reason": "Te duur"},
        ),
        ("POST", f"{base}/paper-batches", {"label": "Doos 2"}),
        (
            "POST",
            f"{base}/paper-batches/{batch}/ballots",
            {
                "voter": "register-2",
                "area": AREA,
                "ballot": {"approvals": [budget.ballot[AREA][0][0]]},
            },
        ),
        ("POST", f"{base}/paper-batches/{batch}/confirm", None),
        ("POST", f"{base}/paper-batches/{batch}/reject", {"reason": "Verkeerd geteld"}),
        ("POST", f"{base}/what-if", {"rule": "mes"}),
        ("POST", f"{base}/team", {"subject": OUTSIDER}),
        ("DELETE", f"{base}/team/{CREATOR}", None),
    ]


async def request(
    client: Any, method: str, path: str, body: dict[str, Any] | None, headers: dict[str, str]
) -> Any:
    if body is None:
        return await client.request(method, path, headers=headers)
    return await client.request(method, path, json=body, headers=headers)


async def test_an_official_outside_the_team_is_refused_on_every_write_and_nothing_is_written(
    client: Any, auth: Any
) -> None:
    budget, batch = await team_round(client, auth)
    before = await stored_state(client, auth, budget.round_id)
    outsider = official(auth, OUTSIDER)
    for method, path, body in official_writes(budget, batch):
        response = await request(client, method, path, body, outsider)
        assert response.status_code == 403, (method, path, response.text)
        refusal = response.json()
        assert refusal["code"] == "not_on_round_team", (method, path, refusal)
        assert "you are not on this round's team" in refusal["message"]
        assert f"ask {CREATOR}" in refusal["message"]
        assert "u hoort niet bij het team van deze ronde" in refusal["message_nl"]
        assert f"vraag {CREATOR}" in refusal["message_nl"]
    assert await stored_state(client, auth, budget.round_id) == before
    # Reading stays open to every official, so they can see whom to ask.
    for path in ("", "/proposals", "/paper-batches", "/team", "/log"):
        seen = await client.get(f"/api/rounds/{budget.round_id}{path}", headers=outsider)
        assert seen.status_code == 200, (path, seen.text)


async def test_an_official_outside_the_team_is_refused_on_every_officials_page(
    client: Any, auth: Any, token: Any
) -> None:
    budget, batch = await team_round(client, auth)
    before = await stored_state(client, auth, budget.round_id)
    proposal = budget.proposals[AREA][0]
    sign_in(client, token, "official", OUTSIDER)
    manage = f"/manage/rounds/{budget.round_id}"
    actions: list[tuple[str, dict[str, Any]]] = [
        ("areas", {"revision": "1", "areas": f"{AREA}; Oost; 60000"}),
        ("phase", {"to": "closed"}),
        (f"proposals/{proposal}/review", {"decision": "reject", "reason": "Te duur"}),
        ("questions", {"key": "q1", "title": "Vraag", "options": "a; A\nb; B"}),
        ("batches", {"label": "Doos 2"}),
        (f"batches/{batch}/ballots", {"voter": "register-2", "area": AREA}),
        (f"batches/{batch}/confirm", {}),
        (f"batches/{batch}/reject", {"reason": "Verkeerd geteld"}),
        ("what-if", {"rule": "mes"}),
    ]
    for action, fields in actions:
        page = await submit(client, manage, f"{manage}/{action}", fields, lang="en")
        assert page.status_code == 403, (action, text_of(page.text))
        assert "you are not on this round's team" in text_of(page.text).lower(), action
    # Nor is the paper entry form shown to them, only the refusal.
    entry = await client.get(f"{manage}/batches/{batch}?lang=en")
    assert entry.status_code == 403, text_of(entry.text)
    assert "you are not on this round's team" in text_of(entry.text).lower()
    assert f"{manage}/batches/{batch}/ballots" not in entry.text
    assert await stored_state(client, auth, budget.round_id) == before


async def test_the_team_acts_four_eyes_included_and_an_admin_always_may(
    client: Any, auth: Any
) -> None:
    budget, batch = await team_round(client, auth)
    base = f"/api/rounds/{budget.round_id}"
    colleague = official(auth, COLLEAGUE)
    # Not yet on the team: the colleague cannot be the second pair of eyes.
    refused = await client.post(f"{base}/paper-batches/{batch}/confirm", headers=colleague)
    assert refused.status_code == 403, refused.text
    added = await client.post(f"{base}/team", json={"subject": COLLEAGUE}, headers=auth("official"))
    assert added.status_code == 201, added.text
    assert [m["subject"] for m in added.json()["members"]] == [CREATOR, COLLEAGUE]
    assert added.json()["officials"] == "round-team"
    confirmed = await client.post(f"{base}/paper-batches/{batch}/confirm", headers=colleague)
    assert confirmed.status_code == 200, confirmed.text
    # The creator's own batch still needs another pair of eyes: the team check comes on top.
    second = await client.post(
        f"{base}/paper-batches", json={"label": "Doos 2"}, headers=auth("official")
    )
    own = await client.post(
        f"{base}/paper-batches/{second.json()['id']}/confirm", headers=auth("official")
    )
    assert own.status_code in (403, 409), own.text
    assert own.json()["code"] != "not_on_round_team"
    # A team member may add others; an admin on no team may act and change the team.
    by_member = await client.post(f"{base}/team", json={"subject": "k.smit"}, headers=colleague)
    assert by_member.status_code == 201, by_member.text
    admin = auth("admin", subject="beheerder")
    reject = await client.post(
        f"{base}/paper-batches/{second.json()['id']}/reject",
        json={"reason": "Leeg"},
        headers=admin,
    )
    assert reject.status_code == 200, reject.text
    removed = await client.delete(f"{base}/team/k.smit", headers=admin)
    assert removed.status_code == 200, removed.text
    assert [m["subject"] for m in removed.json()["members"]] == [CREATOR, COLLEAGUE]
    closed = await client.post(f"{base}/phase", json={"to": "closed"}, headers=colleague)
    assert closed.status_code == 200, closed.text
    # Taken off the team, the colleague is refused again; publishing is the creator's.
    gone = await client.delete(f"{base}/team/{COLLEAGUE}", headers=auth("official"))
    assert gone.status_code == 200, gone.text
    late = await client.post(f"{base}/phase", json={"to": "published"}, headers=colleague)
    assert late.status_code == 403, late.text
    await move(client, auth, budget.round_id, "published")


async def test_team_changes_are_logged_in_the_rounds_chain(client: Any, auth: Any) -> None:
    budget, batch = await team_round(client, auth)
    base = f"/api/rounds/{budget.round_id}"
    assert (
        await client.post(f"{base}/team", json={"subject": COLLEAGUE}, headers=auth("official"))
    ).status_code == 201
    assert (
        await client.delete(f"{base}/team/{COLLEAGUE}", headers=auth("admin", subject="beheerder"))
    ).status_code == 200
    log = (await client.get(f"{base}/log", headers=auth("official"))).json()
    changes = [
        (entry["actor_role"], entry["actor"], entry["payload"])
        for entry in log["entries"]
        if entry["kind"] == "round.changed"
    ]
    assert changes[-2:] == [
        ("official", CREATOR, {"team_member_added": COLLEAGUE}),
        ("admin", "beheerder", {"team_member_removed": COLLEAGUE}),
    ]
    # The chain still verifies end to end with the team changes in it.
    confirmed = await client.post(
        f"{base}/paper-batches/{batch}/confirm", headers=official(auth, COLLEAGUE)
    )
    assert confirmed.status_code == 403  # taken off the team again
    rejected = await client.post(
        f"{base}/paper-batches/{batch}/reject",
        json={"reason": "Proef"},
        headers=auth("admin", subject="beheerder"),
    )
    assert rejected.status_code == 200, rejected.text
    await move(client, auth, budget.round_id, "closed")
    await move(client, auth, budget.round_id, "published")
    bundle = await client.get(f"{base}/bundle")
    assert bundle.status_code == 200, bundle.text
    report = verify_bundle(load_bundle(bundle.content))
    assert report.ok, report.render()


async def test_the_team_refuses_what_makes_no_sense(client: Any, auth: Any) -> None:
    budget, _ = await team_round(client, auth)
    base = f"/api/rounds/{budget.round_id}"
    creator = auth("official")
    again = await client.post(f"{base}/team", json={"subject": CREATOR}, headers=creator)
    assert (again.status_code, again.json()["code"]) == (409, "already_on_team")
    stays = await client.delete(f"{base}/team/{CREATOR}", headers=creator)
    assert (stays.status_code, stays.json()["code"]) == (409, "creator_stays_on_team")
    unknown = await client.delete(f"{base}/team/nobody", headers=creator)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_on_team")
    blank = await client.post(f"{base}/team", json={"subject": " padded "}, headers=creator)
    assert blank.status_code == 400, blank.text
    resident = await client.post(
        f"{base}/team",
        json={"subject": "r1"},
        headers=auth("resident", subject="r1", areas=[AREA], birth_date="1980-04-01"),
    )
    assert resident.status_code == 403
    assert resident.json()["code"] != "not_on_round_team"


async def test_any_official_rounds_are_unchanged_and_have_no_team_to_change(
    client: Any, auth: Any
) -> None:
    budget = await open_budget_round(client, auth)
    base = f"/api/rounds/{budget.round_id}"
    other = official(auth, OUTSIDER)
    team = await client.get(f"{base}/team", headers=other)
    assert team.status_code == 200, team.text
    assert team.json()["officials"] == "any-official"
    assert [m["subject"] for m in team.json()["members"]] == [CREATOR]
    added = await client.post(f"{base}/team", json={"subject": OUTSIDER}, headers=auth("official"))
    assert (added.status_code, added.json()["code"]) == (409, "round_has_no_team")
    batch = await client.post(f"{base}/paper-batches", json={"label": "Doos 1"}, headers=other)
    assert batch.status_code == 201, batch.text
    rejected = await client.post(
        f"{base}/paper-batches/{batch.json()['id']}/reject",
        json={"reason": "Proef"},
        headers=auth("official"),
    )
    assert rejected.status_code == 200, rejected.text
    closed = await client.post(f"{base}/phase", json={"to": "closed"}, headers=other)
    assert closed.status_code == 200, closed.text


# --------------------------------------------------------------------------- the round page


def round_forms(page: str, round_id: str) -> list[str]:
    """The actions of the forms on a page that act on the round (not signing out)."""
    return re.findall(rf'<form[^>]*action="(/manage/rounds/{round_id}/[^"]*)"', page)


async def team_round_page(client: Any, auth: Any, token: Any, subject: str) -> tuple[str, str]:
    """A round-team round (team_round) and its officials' page, signed in as ``subject``:
    the round's id and the page's path."""
    budget, _ = await team_round(client, auth)
    sign_in(client, token, "official", subject)
    return budget.round_id, f"/manage/rounds/{budget.round_id}"


async def test_the_round_page_shows_the_team_and_lets_the_team_change_it(
    client: Any, auth: Any, token: Any
) -> None:
    round_id, manage = await team_round_page(client, auth, token, CREATOR)
    page = text_of((await client.get(manage)).text)
    assert "Team van de ronde" in page
    assert "alleen het team van deze ronde en beheerders" in page
    assert f"{CREATOR} (u) · maakte de ronde aan" in page
    assert "Ambtenaar toevoegen" in page

    added = await submit(client, manage, f"{manage}/team", {"subject": COLLEAGUE})
    assert added.status_code == 200, text_of(added.text)
    assert f"{COLLEAGUE} · toegevoegd door {CREATOR}" in text_of(added.text)
    team = await client.get(f"/api/rounds/{round_id}/team", headers=auth("official"))
    assert [m["subject"] for m in team.json()["members"]] == [CREATOR, COLLEAGUE]

    # Refusals come back on the page in the official's language; nothing changes.
    again = await submit(client, manage, f"{manage}/team", {"subject": COLLEAGUE}, lang="en")
    assert again.status_code == 409
    # (a user name keeps its case: the page does not capitalise it as a sentence's start)
    assert f"The official {COLLEAGUE} is already on this round's team" in text_of(again.text)
    blank = await submit(client, manage, f"{manage}/team", {"subject": " "})
    assert blank.status_code == 422

    # The creator has no remove button (they stay); an added member has one, named for them.
    page_html = (await client.get(manage)).text
    for form in re.findall(r"<form[^>]*>.*?</form>", page_html, flags=re.S):
        assert 'method="post"' in form
        assert 'name="_csrf_token"' in form
    assert page_html.count(f'action="{manage}/team/remove"') == 1
    assert f'name="subject" value="{COLLEAGUE}"' in page_html
    removed = await submit(client, manage, f"{manage}/team/remove", {"subject": COLLEAGUE})
    assert removed.status_code == 200, text_of(removed.text)
    assert COLLEAGUE not in text_of(removed.text)
    log = (await client.get(f"/api/rounds/{round_id}/log", headers=auth("official"))).json()
    assert [e["payload"] for e in log["entries"] if e["kind"] == "round.changed"][-2:] == [
        {"team_member_added": COLLEAGUE},
        {"team_member_removed": COLLEAGUE},
    ]


async def test_an_outsider_sees_a_notice_and_the_team_instead_of_forms_that_would_be_refused(
    client: Any, auth: Any, token: Any
) -> None:
    round_id, manage = await team_round_page(client, auth, token, CREATOR)
    assert round_forms((await client.get(manage)).text, round_id)  # the team has forms

    sign_in(client, token, "official", OUTSIDER)
    response = await client.get(manage)
    assert response.status_code == 200
    assert round_forms(response.text, round_id) == []
    assert 'role="note"' in response.text
    page = text_of(response.text)
    assert "U kunt deze ronde bekijken, maar niet wijzigen: u hoort niet bij het team." in page
    assert f"vraag {CREATOR} (die de ronde aanmaakte)" in page
    assert f"{CREATOR} · maakte de ronde aan" in page
    assert "Wijkcentrum, doos 1" in page
    english = text_of((await client.get(f"{manage}?lang=en")).text)
    assert "You can see this round but not change it: you are not on its team." in english
    assert f"ask {CREATOR} (who created the round)" in english

    # An admin on no team is no outsider: the page offers the forms and the team change.
    sign_in(client, token, "admin", "beheerder")
    admin_page = (await client.get(manage)).text
    assert f"{manage}/team" in round_forms(admin_page, round_id)
    assert "niet bij het team" not in text_of(admin_page)


async def test_the_team_panel_says_when_there_is_no_team_or_it_can_no_longer_change(
    client: Any, auth: Any, token: Any
) -> None:
    anyone = await open_budget_round(client, auth)
    sign_in(client, token, "official", OUTSIDER)
    page = await client.get(f"/manage/rounds/{anyone.round_id}")
    assert "mag elke ambtenaar aan deze ronde werken; er is geen team" in text_of(page.text)
    forms = round_forms(page.text, anyone.round_id)
    assert forms
    assert not any("/team" in action for action in forms)

    budget, batch = await team_round(client, auth)
    await client.post(
        f"/api/rounds/{budget.round_id}/paper-batches/{batch}/reject",
        json={"reason": "Proef"},
        headers=auth("admin", subject="beheerder"),
    )
    await move(client, auth, budget.round_id, "closed")
    await move(client, auth, budget.round_id, "published")
    sign_in(client, token, "official", CREATOR)
    published = await client.get(f"/manage/rounds/{budget.round_id}")
    assert "het team verandert niet meer" in text_of(published.text)
    assert not any("/team" in a for a in round_forms(published.text, budget.round_id))
