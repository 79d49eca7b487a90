"""Residents' and officials' pages, driven as a browser without JavaScript: every action
goes through the same services as the API, refusals come back in the visitor's language,
and nothing a resident typed is ever run as markup."""

from __future__ import annotations

import re
from typing import Any

from tests.integration.ballot_helpers import cast_ok, close, publish
from tests.integration.round_helpers import (
    budget_ruleset_without_supports,
    create_round,
    move,
    open_budget_round,
    open_preferendum_round,
    publish_ruleset,
)
from tests.integration.web_helpers import csrf_token, sign_in, sign_in_resident, submit, text_of

OOST = "WK026801"


async def submission_round(client: Any, auth: Any) -> str:
    ruleset_hash = await publish_ruleset(client, auth, budget_ruleset_without_supports())
    created = await create_round(client, auth, ruleset_hash)
    await move(client, auth, created["id"], "submission")
    return str(created["id"])


async def propose(client: Any, round_id: str, lang: str | None = None, **fields: str) -> Any:
    form = {
        "title": "Speeltuin",
        "description": "Een speeltuin",
        "area": OOST,
        "category": "Groen",
        "cost": "12500",
    }
    form.update(fields)
    return await submit(
        client, f"/rounds/{round_id}/propose", f"/rounds/{round_id}/propose", form, lang=lang
    )


async def test_proposal_form_explains_the_rule_sets_bounds_beside_the_fields(
    client: Any, auth: Any, token: Any
) -> None:
    round_id = await submission_round(client, auth)
    sign_in_resident(client, token, "r1", OOST)
    page = text_of((await client.get(f"/rounds/{round_id}/propose")).text)
    assert "tussen € 1.000 en € 25.000" in page
    assert "hoogstens 3 voorstel(len)" in page
    assert "Spelen en sport" in page
    english = text_of((await client.get(f"/rounds/{round_id}/propose?lang=en")).text)
    assert "from EUR 1,000 to EUR 25,000" in english


async def test_resident_submits_a_proposal_and_sees_it_as_theirs(
    client: Any, auth: Any, token: Any
) -> None:
    round_id = await submission_round(client, auth)
    sign_in_resident(client, token, "r1", OOST)
    sent = await propose(client, round_id, title="Bankjes bij de Waal", cost="1.250,50")
    assert sent.status_code == 200
    assert "Voorstel ontvangen" in sent.text
    round_page = text_of((await client.get(f"/rounds/{round_id}")).text)
    assert "Bankjes bij de Waal" in round_page
    assert "€ 1.250,50" in round_page
    assert "uw voorstel" in round_page
    # Another resident does not see a proposal that is not accepted yet.
    sign_in_resident(client, token, "r2", OOST)
    assert "Bankjes bij de Waal" not in (await client.get(f"/rounds/{round_id}")).text


async def test_a_proposal_titled_with_markup_shows_as_text(
    client: Any, auth: Any, token: Any
) -> None:
    round_id = await submission_round(client, auth)
    sign_in_resident(client, token, "r1", OOST)
    await propose(client, round_id, title="<script>alert(1)</script>")
    page = (await client.get(f"/rounds/{round_id}")).text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


async def test_a_cost_outside_the_bounds_is_refused_in_the_visitors_language(
    client: Any, auth: Any, token: Any
) -> None:
    round_id = await submission_round(client, auth)
    sign_in_resident(client, token, "r1", OOST)
    dutch = await propose(client, round_id, cost="99")
    assert dutch.status_code == 422
    assert "een voorstel kost van € 1.000 tot € 25.000" in text_of(dutch.text)
    assert 'value="99"' in dutch.text  # what they typed is kept
    english = await propose(client, round_id, cost="99", lang="en")
    assert "a proposal costs from EUR 1,000 to EUR 25,000" in text_of(english.text)
    # The language picked stays picked (a cookie) until switched back.
    unreadable = await propose(client, round_id, cost="veel", lang="nl")
    assert "bedrag in euro's" in text_of(unreadable.text)


async def test_knapsack_ballot_over_budget_is_refused_then_corrected_and_the_receipt_checks(
    client: Any, auth: Any, token: Any
) -> None:
    budget = await open_budget_round(client, auth)
    codes = [code for code, _ in budget.ballot[OOST]]
    sign_in_resident(client, token, "voter", OOST)
    page = (await client.get(f"/rounds/{budget.round_id}/vote")).text
    assert 'data-budget="5000000"' in page
    assert 'method="post"' in page
    over = await submit(
        client,
        f"/rounds/{budget.round_id}/vote",
        f"/rounds/{budget.round_id}/vote",
        {"area": OOST, "choice": codes},
    )
    assert over.status_code == 422
    assert "€ 7.000 meer dan het budget van € 50.000" in text_of(over.text)
    assert all(f'value="{code}" data-cost' in over.text for code in codes)
    assert over.text.count("checked") >= len(codes)  # the choices are kept to correct
    done = await submit(
        client,
        f"/rounds/{budget.round_id}/vote",
        f"/rounds/{budget.round_id}/vote",
        {"area": OOST, "choice": codes[:2]},
    )
    assert done.status_code == 200, text_of(done.text)
    receipt = re.search(r'id="receipt-code">([^<]+)<', done.text)
    assert receipt
    assert receipt.group(1) not in str(done.url)
    checked = await submit(client, "/receipt", "/receipt", {"code": receipt.group(1).lower()})
    assert "Uw stem telt zoals u die uitbracht" in text_of(checked.text)
    unknown = await submit(client, "/receipt", "/receipt", {"code": "AAA-AAA-AAA"}, lang="en")
    assert unknown.status_code in (404, 422)
    assert 'class="error"' in unknown.text


async def test_preferendum_grades_are_radio_groups_on_the_labelled_scale(
    client: Any, auth: Any, token: Any
) -> None:
    poll = await open_preferendum_round(client, auth)
    sign_in_resident(client, token, "voter", "GM0268")
    page = (await client.get(f"/rounds/{poll.round_id}/vote")).text
    assert 'type="radio" id="q:autoluw:grade:a-0" name="q:autoluw:grade:a" value="0"' in page
    assert "zeer eens" in page
    assert "geen mening" in page
    done = await submit(
        client,
        f"/rounds/{poll.round_id}/vote",
        f"/rounds/{poll.round_id}/vote",
        {"q:autoluw:grade:a": "4", "q:autoluw:grade:b": "1", "q:groen:grade:park": "3"},
    )
    assert done.status_code == 200, text_of(done.text)
    assert 'id="receipt-code"' in done.text


async def test_official_reviews_proposals_and_opens_voting_through_the_pages(
    client: Any, auth: Any, token: Any
) -> None:
    round_id = await submission_round(client, auth)
    for index, area in enumerate((OOST, "WK026802")):
        sign_in_resident(client, token, f"author-{index}", area)
        await propose(client, round_id, title=f"Plan {index}", area=area)
    sign_in(client, token, "official", "j.devries")
    manage = f"/manage/rounds/{round_id}"
    moved = await submit(client, manage, f"{manage}/phase", {"to": "review"})
    assert "beoordelingsfase" in moved.text or "beoordeeld" in moved.text
    listed = await client.get(f"/api/rounds/{round_id}/proposals", headers=auth("official"))
    first, second = (p["id"] for p in listed.json())
    refused = await submit(
        client, manage, f"{manage}/proposals/{first}/review", {"decision": "reject", "reason": ""}
    )
    assert "Afwijzen vraagt een reden" in text_of(refused.text)
    accepted = await submit(
        client,
        manage,
        f"{manage}/proposals/{first}/review",
        {"decision": "accept", "final_cost": "15000"},
    )
    assert "€ 15.000" in text_of(accepted.text)
    await submit(
        client,
        manage,
        f"{manage}/proposals/{second}/review",
        {"decision": "reject", "reason": "Te duur voor deze plek"},
    )
    early = await submit(client, manage, f"{manage}/phase", {"to": "voting"})
    assert "WK026802" in text_of(early.text)  # no project there: voting cannot open
    assert 'class="error"' in early.text
    # The rejected author reads the reason on the public page.
    sign_in_resident(client, token, "author-1", "WK026802")
    public = text_of((await client.get(f"/rounds/{round_id}")).text)
    assert "Te duur voor deze plek" in public


async def test_official_creates_a_round_from_a_published_rule_set(
    client: Any, auth: Any, token: Any
) -> None:
    await publish_ruleset(client, auth, budget_ruleset_without_supports())
    sign_in(client, token, "official", "j.devries")
    page = (await client.get("/manage")).text
    ruleset_hash = re.search(r'<option value="([0-9a-f]{64})"', page)
    assert ruleset_hash
    bad = await submit(
        client,
        "/manage",
        "/manage/rounds",
        {"ruleset_hash": ruleset_hash.group(1), "title": "Oost", "areas": "WK026801; Oost; 5"},
    )
    assert bad.status_code == 422
    assert 'class="error"' in bad.text
    created = await submit(
        client,
        "/manage",
        "/manage/rounds",
        {
            "ruleset_hash": ruleset_hash.group(1),
            "title": "Buurtbegroting Oost",
            "description": "",
            "areas": "WK026801; Oost; 50000\nWK026802; Centrum; 40.000",
        },
    )
    assert created.status_code == 200
    assert "/manage/rounds/" in str(created.url)
    shown = text_of(created.text)
    assert "Buurtbegroting Oost" in shown
    assert "€ 40.000" in shown


async def test_residents_and_anonymous_visitors_cannot_use_the_officials_pages(
    client: Any, token: Any
) -> None:
    assert (await client.get("/manage")).status_code == 401
    sign_in_resident(client, token, "r1", OOST)
    assert (await client.get("/manage")).status_code == 403


async def test_paper_batch_counts_once_a_second_official_confirms_it(
    client: Any, auth: Any, token: Any
) -> None:
    budget = await open_budget_round(client, auth)
    codes = [code for code, _ in budget.ballot[OOST]]
    manage = f"/manage/rounds/{budget.round_id}"
    sign_in(client, token, "official", "clerk-a")
    await submit(client, manage, f"{manage}/batches", {"label": "Wijkcentrum, doos 1"})
    batches = await client.get(
        f"/api/rounds/{budget.round_id}/paper-batches", headers=auth("official")
    )
    batch = batches.json()[0]["id"]
    entry = f"{manage}/batches/{batch}"
    entered = await submit(
        client, entry, f"{entry}/ballots", {"voter": "123", "area": OOST, "choice": codes[:1]}
    )
    assert "telt zodra een tweede ambtenaar" in text_of(entered.text)
    own = await submit(client, manage, f"{manage}/batches/{batch}/confirm", {})
    assert "tweede ambtenaar" in text_of(own.text)
    sign_in(client, token, "official", "clerk-b")
    confirmed = await submit(client, manage, f"{manage}/batches/{batch}/confirm", {})
    assert "bevestigd door clerk-b" in text_of(confirmed.text)


async def test_results_page_draws_the_budget_and_what_if_compares_rules(
    client: Any, auth: Any, token: Any
) -> None:
    budget = await open_budget_round(client, auth)
    codes = [code for code, _ in budget.ballot[OOST]]
    await cast_ok(client, auth, budget.round_id, "v1", OOST, {"approvals": codes[:1]})
    await close(client, auth, budget.round_id)
    await publish(client, auth, budget.round_id)
    page = (await client.get(f"/rounds/{budget.round_id}/results")).text
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page
    assert "<title id=" in page
    assert "<desc id=" in page
    assert "✓ krijgt geld" in page
    assert "budget € 50.000" in page
    assert "<table>" in page
    sign_in(client, token, "official", "j.devries")
    compared = await submit(
        client,
        f"/manage/rounds/{budget.round_id}",
        f"/manage/rounds/{budget.round_id}/what-if",
        {"rule": "mes"},
    )
    assert "mes naast greedy" in text_of(compared.text)
    assert "De uitkomst zou anders zijn" in text_of(compared.text)


async def test_preferendum_results_show_stacked_grades_and_the_ranking(
    client: Any, auth: Any
) -> None:
    from tests.integration.round_helpers import example_ruleset

    document = example_ruleset("preferendum")
    document["tally"].pop("quorum", None)
    poll = await open_preferendum_round(client, auth, document=document)
    for index, grades in enumerate(({"a": 4, "b": 1}, {"a": 3, "b": 0})):
        await cast_ok(
            client,
            auth,
            poll.round_id,
            f"v{index}",
            "GM0268",
            {"questions": {"autoluw": {"grades": grades}, "groen": {"grades": {"markt": 2}}}},
        )
    await close(client, auth, poll.round_id)
    await publish(client, auth, poll.round_id)
    page = (await client.get(f"/rounds/{poll.round_id}/results?lang=en")).text
    assert page.count("<svg") == 2
    assert "Grades given to 3 options" in page
    assert "Zoals nu" in page
    assert "Ranking: Hoe autoluw moet de binnenstad worden?" in page


async def test_every_form_posts_and_carries_a_csrf_token(
    client: Any, auth: Any, token: Any
) -> None:
    budget = await open_budget_round(client, auth)
    sign_in_resident(client, token, "voter", OOST)
    for url in (f"/rounds/{budget.round_id}/vote", "/receipt"):
        page = (await client.get(url)).text
        forms = re.findall(r"<form[^>]*>.*?</form>", page, flags=re.S)
        assert forms
        for form in forms:
            assert 'method="post"' in form
            assert 'name="_csrf_token"' in form
    refused = await client.post(f"/rounds/{budget.round_id}/vote", data={"choice": "001"})
    assert refused.status_code == 403


async def test_residents_support_and_withdraw_support_on_the_round_page(
    client: Any, auth: Any, token: Any
) -> None:
    from tests.integration.round_helpers import example_ruleset

    ruleset_hash = await publish_ruleset(client, auth, example_ruleset("nijmegen-buurtbegroting"))
    created = await create_round(
        client, auth, ruleset_hash, areas=(("WK026801", "Oost", 5_000_000),)
    )
    round_id = created["id"]
    await move(client, auth, round_id, "submission")
    sign_in_resident(client, token, "author", OOST)
    await propose(client, round_id, title="Moestuin")
    await move(client, auth, round_id, "review")
    listed = await client.get(f"/api/rounds/{round_id}/proposals", headers=auth("official"))
    proposal = listed.json()[0]["id"]
    await client.post(
        f"/api/rounds/{round_id}/proposals/{proposal}/review",
        json={"decision": "accept", "final_cost_cents": 1_000_000},
        headers=auth("official"),
    )
    await move(client, auth, round_id, "supports")
    sign_in_resident(client, token, "supporter", OOST)
    page = f"/rounds/{round_id}"
    action = f"/rounds/{round_id}/proposals/{proposal}/support"
    supported = await submit(client, page, action, {"action": "support"})
    assert "U steunt dit voorstel" in text_of(supported.text)
    again = await client.post(
        action,
        data={"action": "support", "_csrf_token": csrf_token((await client.get(page)).text)},
    )
    assert again.status_code == 409
    assert "U steunt voorstel" in text_of(again.text)
    withdrawn = await submit(client, page, action, {"action": "withdraw"})
    assert "Steun dit voorstel" in text_of(withdrawn.text)


async def test_official_adds_a_question_to_a_preferendum_through_the_page(
    client: Any, auth: Any, token: Any
) -> None:
    poll = await open_preferendum_round(client, auth, questions=(), open_voting=False)
    sign_in(client, token, "official", "j.devries")
    manage = f"/manage/rounds/{poll.round_id}"
    added = await submit(
        client,
        manage,
        f"{manage}/questions",
        {"key": "parkeren", "title": "Betaald parkeren?", "options": "ja; Ja\nnee; Nee"},
    )
    shown = text_of(added.text)
    assert "Betaald parkeren?" in shown
    assert "majority-judgment" in shown
    refused = await submit(
        client, manage, f"{manage}/questions", {"key": "leeg", "title": "Eén optie", "options": "a"}
    )
    assert refused.status_code == 422
    assert "Opties" in text_of(refused.text)
    public = text_of((await client.get(f"/rounds/{poll.round_id}")).text)
    assert "Betaald parkeren?" in public


async def test_signing_in_is_offered_when_a_page_needs_it(client: Any, auth: Any) -> None:
    budget = await open_budget_round(client, auth)
    page = await client.get(f"/rounds/{budget.round_id}/vote")
    assert page.status_code == 401
    assert 'href="/signin"' in page.text


async def test_a_ranking_ballot_is_a_select_per_option_and_shared_places_are_explained(
    client: Any, auth: Any, token: Any
) -> None:
    from tests.integration.round_helpers import example_ruleset

    document = example_ruleset("preferendum")
    document["ballot"].pop("scale")
    document["ballot"].update(
        {"format": "ranking", "ranking": {"complete": False, "ties_allowed": False}}
    )
    document["tally"]["method"] = "schulze"
    document["round_bounds"]["allowed_methods"] = ["schulze"]
    poll = await open_preferendum_round(client, auth, document=document)
    sign_in_resident(client, token, "voter", "GM0268")
    vote = f"/rounds/{poll.round_id}/vote"
    page = (await client.get(vote)).text
    assert '<select id="q:autoluw:rank:a" name="q:autoluw:rank:a">' in page
    assert '<label for="q:autoluw:rank:a">Zoals nu</label>' in page
    tied = await submit(client, vote, vote, {"q:autoluw:rank:a": "1", "q:autoluw:rank:b": "1"})
    assert tied.status_code == 422
    assert 'class="error"' in tied.text
    assert '<option value="1" selected>' in tied.text  # the places given are kept
    done = await submit(
        client,
        vote,
        vote,
        {"q:autoluw:rank:c": "1", "q:autoluw:rank:a": "2", "q:groen:rank:kade": "1"},
    )
    assert done.status_code == 200, text_of(done.text)
    assert 'id="receipt-code"' in done.text


async def test_after_a_form_post_the_language_switch_leads_back_to_the_form(
    client: Any, auth: Any, token: Any
) -> None:
    round_id = await submission_round(client, auth)
    sign_in_resident(client, token, "r1", OOST)
    refused = await propose(client, round_id, cost="1")
    assert f'href="/rounds/{round_id}/propose?lang=en"' in refused.text


async def test_an_author_withdraws_their_proposal_during_submission(
    client: Any, auth: Any, token: Any
) -> None:
    round_id = await submission_round(client, auth)
    sign_in_resident(client, token, "r1", OOST)
    await propose(client, round_id, title="Te vroeg idee")
    listed = await client.get(f"/api/rounds/{round_id}/proposals", headers=auth("official"))
    proposal = listed.json()[0]["id"]
    page = f"/rounds/{round_id}"
    withdrawn = await submit(client, page, f"{page}/proposals/{proposal}/withdraw", {})
    assert "ingetrokken" in text_of(withdrawn.text)
    sign_in_resident(client, token, "r2", OOST)
    other = await submit(client, page, f"{page}/proposals/{proposal}/withdraw", {})
    assert other.status_code in (403, 404, 409)
    assert 'class="error"' in other.text


async def test_a_rejected_paper_batch_never_counts_and_needs_a_reason(
    client: Any, auth: Any, token: Any
) -> None:
    budget = await open_budget_round(client, auth)
    manage = f"/manage/rounds/{budget.round_id}"
    sign_in(client, token, "official", "clerk-a")
    await submit(client, manage, f"{manage}/batches", {"label": "Doos 2"})
    batches = await client.get(
        f"/api/rounds/{budget.round_id}/paper-batches", headers=auth("official")
    )
    batch = batches.json()[0]["id"]
    sign_in(client, token, "official", "clerk-b")
    without = await submit(client, manage, f"{manage}/batches/{batch}/reject", {"reason": ""})
    assert without.status_code == 422
    rejected = await submit(
        client, manage, f"{manage}/batches/{batch}/reject", {"reason": "Doos was open"}
    )
    assert "afgekeurd" in text_of(rejected.text)


async def test_what_if_for_a_preferendum_compares_rankings(
    client: Any, auth: Any, token: Any
) -> None:
    from tests.integration.round_helpers import example_ruleset

    document = example_ruleset("preferendum")
    document["tally"].pop("quorum", None)
    poll = await open_preferendum_round(client, auth, document=document)
    await cast_ok(
        client,
        auth,
        poll.round_id,
        "v1",
        "GM0268",
        {"questions": {"autoluw": {"grades": {"a": 4, "b": 1, "c": 2}}}},
    )
    await close(client, auth, poll.round_id)
    sign_in(client, token, "official", "j.devries")
    manage = f"/manage/rounds/{poll.round_id}"
    compared = await submit(client, manage, f"{manage}/what-if", {"rule": "score-mean"})
    shown = text_of(compared.text)
    assert "score-mean naast majority-judgment" in shown
    assert "1. a" in shown


NASTY_VALUES = ("", "0", "-1", "9" * 30, "<script>", "€ 1.2.3", "\u0000", "a" * 3000, "q:x:grade:y")


async def test_hostile_form_input_never_reaches_a_server_error(
    client: Any, auth: Any, token: Any
) -> None:
    budget = await open_budget_round(client, auth)
    round_id = budget.round_id
    open_for_proposals = await submission_round(client, auth)
    posts = {
        f"/rounds/{open_for_proposals}/propose": ("title", "description", "area", "cost"),
        f"/rounds/{round_id}/vote": ("area", "choice", "abstain"),
        f"/rounds/{round_id}/propose": ("title", "area", "category", "cost"),
        f"/rounds/{round_id}/proposals/1/support": ("action",),
        "/receipt": ("code",),
        "/manage/rounds": ("ruleset_hash", "title", "areas"),
        f"/manage/rounds/{round_id}/phase": ("to", "revision"),
        f"/manage/rounds/{round_id}/areas": ("areas", "revision"),
        f"/manage/rounds/{round_id}/proposals/1/review": ("decision", "final_cost", "reason"),
        f"/manage/rounds/{round_id}/questions": ("key", "title", "options"),
        f"/manage/rounds/{round_id}/batches": ("label",),
        f"/manage/rounds/{round_id}/what-if": ("rule",),
    }
    for role in ("resident", "official"):
        if role == "resident":
            sign_in_resident(client, token, "hostile", OOST)
        else:
            sign_in(client, token, "official", "hostile-official")
        for action, fields in posts.items():
            for value in NASTY_VALUES:
                response = await submit(client, "/receipt", action, dict.fromkeys(fields, value))
                assert response.status_code < 500, (role, action, value, response.text[:300])
    for index, value in enumerate(NASTY_VALUES):
        sign_in_resident(client, token, f"hostile-author-{index}", OOST)  # under the limit
        response = await propose(
            client, open_for_proposals, title=value or "x", description=value, cost="2000"
        )
        assert response.status_code < 500, (value, response.text[:300])


async def test_a_form_without_its_csrf_token_gets_a_page_in_the_visitors_language(
    client: Any, auth: Any, token: Any
) -> None:
    refused = await client.post("/receipt", data={"code": "AAA-BBB"})
    assert refused.status_code == 403
    assert "Dit formulier is verlopen" in text_of(refused.text)
    sign_in(client, token, "official", "j.devries")
    manage = await client.post("/manage/rounds", data={"title": "x"})
    assert manage.status_code == 403
    assert "<html" in manage.text
