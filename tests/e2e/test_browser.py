"""A resident and an official in a real browser (Debian's Chromium through Playwright)
against ``stemmen serve``: proposing, reviewing and opening voting, a knapsack ballot that goes
over budget and is corrected, the receipt check, the results, and a round team taking in a
colleague. Set-up that is not under test goes through the API."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.live import LiveServer, sign_in_page
from tests.integration.ballot_helpers import cast_ok, close, publish
from tests.integration.round_helpers import (
    ADULT_BIRTH_DATE,
    budget_ruleset_without_supports,
    create_round,
    move,
    open_budget_round,
    publish_ruleset,
    resident,
)

pytestmark = pytest.mark.slow

OOST = "WK026801"
AREAS = (("WK026801", "Oost", 5_000_000),)
PROJECTS = (
    (OOST, "Speeltuin Bottendaal", "Spelen en sport", 2_000_000),
    (OOST, "Bankjes langs de Waal", "Ontmoeting", 1_200_000),
    (OOST, "Geveltuinen", "Groen", 2_500_000),
)


def expect() -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect


def submission_round(server: LiveServer, title: str, proposals: int = 0) -> str:
    async def steps(client: Any, auth: Any) -> str:
        ruleset_hash = await publish_ruleset(client, auth, budget_ruleset_without_supports())
        created = await create_round(client, auth, ruleset_hash, title=title, areas=AREAS)
        await move(client, auth, created["id"], "submission")
        for index in range(proposals):
            response = await client.post(
                f"/api/rounds/{created['id']}/proposals",
                json={
                    "title": f"Plan {index + 1}",
                    "description": "Een plan",
                    "area": OOST,
                    "category": "Groen",
                    "estimated_cost_cents": 1_500_000,
                },
                headers=resident(auth, f"author-{index}", OOST),
            )
            assert response.status_code == 201, response.text
        return str(created["id"])

    return str(server.api(steps))


def voting_round(server: LiveServer, title: str) -> str:
    async def steps(client: Any, auth: Any) -> str:
        budget = await open_budget_round(client, auth, areas=AREAS, proposals=PROJECTS, title=title)
        return budget.round_id

    return str(server.api(steps))


def sign_in_resident(page: Any, server: LiveServer, subject: str) -> None:
    sign_in_page(page, server.url, "resident", subject, OOST, ADULT_BIRTH_DATE)


def test_a_resident_submits_a_proposal(server: LiveServer, page: Any) -> None:
    submission_round(server, "Buurtbegroting Indienen")
    sign_in_resident(page, server, "anna")
    page.get_by_role("link", name="Buurtbegroting Indienen").click()
    page.get_by_role("link", name="Voorstel indienen").click()
    expect()(page.get_by_text("tussen € 1.000 en € 25.000")).to_be_visible()
    page.get_by_label("Titel", exact=True).fill("Speeltuin in het park")
    page.get_by_label("Beschrijving").fill("Klimrek en schommels voor kinderen tot 12 jaar.")
    page.get_by_label("Categorie").select_option("Spelen en sport")
    page.get_by_label("Geschatte kosten (euro)").fill("500")
    page.get_by_role("button", name="Voorstel versturen").click()
    # The service's own refusal, in Dutch, with what was typed kept.
    expect()(page.get_by_role("alert")).to_contain_text(
        "een voorstel kost van € 1.000 tot € 25.000"
    )
    expect()(page.get_by_label("Titel", exact=True)).to_have_value("Speeltuin in het park")
    page.get_by_label("Geschatte kosten (euro)").fill("12.500")
    page.get_by_role("button", name="Voorstel versturen").click()
    expect()(page.get_by_role("status")).to_contain_text("Speeltuin in het park")
    page.get_by_role("link", name="Buurtbegroting Indienen").click()
    expect()(page.locator("article", has_text="Speeltuin in het park")).to_contain_text(
        "uw voorstel"
    )


def test_an_official_reviews_a_proposal_and_opens_voting(server: LiveServer, page: Any) -> None:
    round_id = submission_round(server, "Buurtbegroting Beoordelen", proposals=2)
    sign_in_page(page, server.url, "official", "j.devries")
    page.get_by_role("link", name="Beheer").click()
    page.get_by_role("link", name="Buurtbegroting Beoordelen").click()
    page.get_by_role("button", name="Naar de fase: voorstellen worden beoordeeld").click()
    plan_one = page.locator("article", has_text="Plan 1")
    plan_one.get_by_label("Vastgestelde kosten (euro)").fill("14.000")
    plan_one.get_by_role("button", name="Goedkeuren").click()
    plan_two = page.locator("article", has_text="Plan 2")
    plan_two.get_by_label("Reden van afwijzing").fill("Past niet op deze plek")
    plan_two.get_by_role("button", name="Afwijzen").click()
    expect()(page.locator("article", has_text="Plan 1")).to_contain_text("€ 14.000")
    page.get_by_role("button", name="Naar de fase: stemmen").click()
    expect()(page.get_by_text("Nu: stemmen")).to_be_visible()
    expect()(page.locator("article", has_text="Plan 1")).to_contain_text(
        "op het stembiljet als 001"
    )
    assert page.url.endswith(f"/manage/rounds/{round_id}")


def test_a_knapsack_ballot_over_budget_is_refused_then_corrected(
    server: LiveServer, page: Any
) -> None:
    round_id = voting_round(server, "Buurtbegroting Stemmen")
    sign_in_resident(page, server, "bram")
    page.goto(f"{server.url}/rounds/{round_id}")
    page.get_by_role("link", name="Naar het stembiljet").click()
    total = page.locator("#running-total")
    expect()(total).to_contain_text("Gekozen: € 0 van € 50.000")
    for title in ("Speeltuin Bottendaal", "Bankjes langs de Waal"):
        page.get_by_label(title).check()
    # Keyboard: reach the third project with Tab and tick it with the space bar.
    page.get_by_label("Bankjes langs de Waal").focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    expect()(page.get_by_label("Geveltuinen")).to_be_checked()
    expect()(total).to_contain_text("€ 7.000 meer dan het budget van € 50.000")
    page.get_by_role("button", name="Stem uitbrengen").click()
    # Still over: the server refuses with its own message, and the choices stay ticked.
    expect()(page.get_by_role("alert")).to_contain_text(
        "Uw keuze kost € 57.000, dat is € 7.000 meer dan het budget van € 50.000 voor Oost"
    )
    expect()(page.get_by_label("Geveltuinen")).to_be_checked()
    page.get_by_label("Geveltuinen").uncheck()
    expect()(total).to_contain_text("er is nog € 18.000 over")
    page.get_by_role("button", name="Stem uitbrengen").click()
    expect()(page.get_by_role("heading", name="Uw stem is ontvangen")).to_be_visible()
    code = page.locator("#receipt-code").inner_text().strip()
    assert re.fullmatch(r"[0-9A-Z]{3}(-[0-9A-Z]{3})+", code)
    assert code not in page.url
    assert "choice" not in page.url


def test_the_receipt_check_finds_the_counted_ballot(server: LiveServer, page: Any) -> None:
    round_id = voting_round(server, "Buurtbegroting Ontvangst")

    async def steps(client: Any, auth: Any) -> str:
        receipt = await cast_ok(client, auth, round_id, "carla", OOST, {"approvals": ["001"]})
        return str(receipt["receipt"])

    code = str(server.api(steps))
    page.goto(server.url)
    page.get_by_role("link", name="Ontvangstbewijs controleren").click()
    page.get_by_label("Ontvangstcode").fill(code.lower())
    page.get_by_role("button", name="Controleren").click()
    expect()(page.get_by_role("status")).to_contain_text("Uw stem telt zoals u die uitbracht")
    assert code.lower() not in page.url.lower()
    page.get_by_label("Ontvangstcode").fill("AAA-BBB-CCC")
    page.get_by_role("button", name="Controleren").click()
    expect()(page.get_by_role("alert")).to_be_visible()


def test_the_results_page_shows_the_chart_and_its_table(server: LiveServer, page: Any) -> None:
    round_id = voting_round(server, "Buurtbegroting Uitslag")

    async def steps(client: Any, auth: Any) -> None:
        for index, choice in enumerate((["001", "002"], ["001"], ["003"])):
            await cast_ok(client, auth, round_id, f"kiezer-{index}", OOST, {"approvals": choice})
        await close(client, auth, round_id)
        await publish(client, auth, round_id)

    server.api(steps)
    page.goto(server.url)
    page.get_by_role("link", name="Buurtbegroting Uitslag").click()
    page.get_by_role("link", name="Bekijk de uitslag").click()
    chart = page.get_by_role("img", name="Stemmen per project in Oost")
    expect()(chart).to_be_visible()
    table = page.get_by_role("table", name="Projecten in Oost")
    expect()(table.get_by_role("row", name=re.compile("Speeltuin Bottendaal"))).to_contain_text(
        "✓ krijgt geld"
    )
    page.get_by_role("link", name="English").click()
    expect()(page.get_by_role("img", name="Votes per project in Oost")).to_be_visible()


def test_the_ballot_fits_a_320_pixel_screen_and_shows_focus(
    server: LiveServer, browser: Any
) -> None:
    round_id = voting_round(server, "Buurtbegroting Smal")
    context = browser.new_context(viewport={"width": 320, "height": 640}, locale="nl-NL")
    try:
        page = context.new_page()
        sign_in_resident(page, server, "dirk")
        for path in ("/", "/signin", "/receipt", f"/rounds/{round_id}", f"/rounds/{round_id}/vote"):
            page.goto(f"{server.url}{path}")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 320, f"{path} is {width} px wide"
        page.keyboard.press("Tab")  # the skip link comes first
        assert page.evaluate("document.activeElement.className") == "skip"
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline != "none"
    finally:
        context.close()


def test_a_preferendum_is_graded_with_the_keyboard_alone(server: LiveServer, page: Any) -> None:
    from tests.integration.round_helpers import open_preferendum_round

    async def steps(client: Any, auth: Any) -> str:
        poll = await open_preferendum_round(client, auth, title="Preferendum Toetsenbord")
        return poll.round_id

    round_id = str(server.api(steps))
    sign_in_page(page, server.url, "resident", "eva", "GM0268", ADULT_BIRTH_DATE)
    page.goto(f"{server.url}/rounds/{round_id}/vote")
    zoals_nu = page.get_by_role("group", name="Zoals nu")
    zoals_nu.get_by_label("zeer oneens").focus()
    # Arrow keys move through a radio group and choose as they go, as on any form.
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect()(zoals_nu.get_by_label("neutraal")).to_be_checked()
    page.get_by_role("group", name="Helemaal autoluw").get_by_label("zeer eens").check()
    page.get_by_role("button", name="Stem uitbrengen").focus()
    page.keyboard.press("Enter")
    expect()(page.get_by_role("heading", name="Uw stem is ontvangen")).to_be_visible()


def test_a_round_team_takes_in_a_colleague_who_was_shown_whom_to_ask(
    server: LiveServer, page: Any
) -> None:
    from tests.integration.test_round_team import CREATOR, team_ruleset

    def team_voting_round(title: str) -> str:
        async def steps(client: Any, auth: Any) -> str:
            budget = await open_budget_round(
                client, auth, document=team_ruleset(), areas=AREAS, proposals=PROJECTS, title=title
            )
            return budget.round_id

        return str(server.api(steps))

    round_id = team_voting_round("Buurtbegroting Team")
    manage = f"{server.url}/manage/rounds/{round_id}"
    sign_in_page(page, server.url, "official", "p.jansen")
    page.goto(manage)
    notice = page.locator("#team-notice")  # role=note, beside the development banner
    expect()(notice).to_contain_text("U kunt deze ronde bekijken, maar niet wijzigen")
    expect()(notice).to_contain_text(f"vraag {CREATOR}")
    expect()(page.get_by_role("button", name=re.compile("^Naar de fase"))).to_have_count(0)

    sign_in_page(page, server.url, "official", CREATOR)
    page.goto(manage)
    page.get_by_label("Gebruikersnaam van de ambtenaar").fill("p.jansen")
    page.get_by_role("button", name="Ambtenaar toevoegen").click()
    team = page.locator("section", has=page.get_by_role("heading", name="Team van de ronde"))
    expect()(team).to_contain_text(f"p.jansen · toegevoegd door {CREATOR}")

    sign_in_page(page, server.url, "official", "p.jansen")
    page.goto(manage)
    expect()(page.locator("#team-notice")).to_have_count(0)
    expect()(
        page.get_by_role("button", name="Naar de fase: gesloten, uitslag volgt")
    ).to_be_visible()
    remove = page.get_by_role("button", name=re.compile(r"^Uit het team halen\s*: p\.jansen$"))
    expect()(remove).to_be_visible()
