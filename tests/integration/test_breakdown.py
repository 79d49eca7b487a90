"""Published breakdowns: turnout and support by channel (and area), with every group smaller
than the rule set's min_group_size suppressed, on the API and the results page, and never
the hidden number; visible to whoever may see the result."""

from __future__ import annotations

import copy
import re
from typing import Any

from stemmen.audit.bundle import load_bundle
from stemmen.results.breakdown import bundle_breakdown
from tests.integration.ballot_helpers import cast_ok, close, publish
from tests.integration.round_helpers import (
    budget_ruleset_without_supports,
    example_ruleset,
    open_budget_round,
    open_preferendum_round,
)
from tests.integration.test_paper import confirm, enter, open_batch
from tests.integration.web_helpers import text_of

OOST, CENTRUM = "WK026801", "WK026802"


def with_min_group(document: dict[str, Any], size: int) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    changed["publication"]["min_group_size"] = size
    return changed


async def budget_round_with_paper(
    client: Any, auth: Any, *, online: dict[str, int], paper: dict[str, int], min_group: int
) -> Any:
    """Online and paper ballots per area; everyone chooses the area's first project, online
    voters in Oost the second too."""
    budget = await open_budget_round(
        client, auth, document=with_min_group(budget_ruleset_without_supports(), min_group)
    )
    for area, count in online.items():
        codes = [code for code, _ in budget.ballot[area]]
        for number in range(count):
            choice = codes[:2] if area == OOST else codes[:1]
            await cast_ok(
                client, auth, budget.round_id, f"{area}-{number}", area, {"approvals": choice}
            )
    batch = await open_batch(client, auth, budget.round_id)
    for area, count in paper.items():
        first = budget.ballot[area][0][0]
        for number in range(count):
            entered = await enter(
                client,
                auth,
                budget.round_id,
                batch,
                f"paper-{area}-{number}",
                area,
                {"approvals": [first]},
            )
            assert entered.status_code == 201, entered.text
    assert (await confirm(client, auth, budget.round_id, batch)).status_code == 200
    return budget


def tables_of(breakdown: dict[str, Any]) -> dict[tuple[str, str | None], dict[str, Any]]:
    return {(t["dimension"], t["area"]): t for t in breakdown["tables"]}


def groups(table: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {group["group"]: group for group in table["groups"]}


async def breakdown_of(client: Any, round_id: str, headers: Any = None) -> dict[str, Any]:
    response = await client.get(f"/api/rounds/{round_id}/breakdown", headers=headers or {})
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def test_a_small_paper_group_is_suppressed_and_its_number_is_never_published(
    client: Any, auth: Any
) -> None:
    budget = await budget_round_with_paper(
        client, auth, online={OOST: 4, CENTRUM: 3}, paper={OOST: 2, CENTRUM: 3}, min_group=3
    )
    await close(client, auth, budget.round_id)
    await publish(client, auth, budget.round_id)
    breakdown = await breakdown_of(client, budget.round_id)
    assert breakdown["min_group_size"] == 3
    assert breakdown["ballots"] == 12
    assert breakdown["not_available"]["age"].startswith("ballots do not record an age")
    tables = tables_of(breakdown)
    oost = groups(tables[("channel", OOST)])
    # Two paper voters in Oost: fewer than 3. Online (4) goes too: 6 - paper would give it.
    assert oost["paper"] == {
        "group": "paper",
        "suppressed": True,
        "voters": None,
        "support": None,
        "questions": None,
    }
    # Marked alike: which of the two is small is not said.
    assert oost["online"] == {**oost["paper"], "group": "online"}
    # Paper in the round is 5: with Centrum's split shown, Oost's 2 would follow. Centrum goes.
    centrum = groups(tables[("channel", CENTRUM)])
    assert centrum["online"]["suppressed"]
    assert centrum["paper"]["suppressed"]
    everyone = groups(tables[("channel", None)])
    assert everyone["online"]["voters"] == 7
    assert everyone["paper"]["voters"] == 5
    # Nowhere the hidden 2.
    published = [g["voters"] for t in breakdown["tables"] for g in t["groups"]]
    assert 2 not in published


async def test_a_round_where_every_group_is_large_shows_everything(client: Any, auth: Any) -> None:
    budget = await budget_round_with_paper(
        client, auth, online={OOST: 3, CENTRUM: 2}, paper={OOST: 2, CENTRUM: 2}, min_group=2
    )
    await close(client, auth, budget.round_id)
    await publish(client, auth, budget.round_id)
    tables = tables_of(await breakdown_of(client, budget.round_id))
    oost = groups(tables[("channel", OOST)])
    first, second = (code for code, _ in budget.ballot[OOST][:2])
    assert oost["online"]["voters"] == 3
    assert oost["online"]["support"][first] == 3
    assert oost["online"]["support"][second] == 3
    assert oost["paper"]["voters"] == 2
    assert oost["paper"]["support"][first] == 2
    assert oost["paper"]["support"][second] == 0
    assert not any(g["suppressed"] for t in tables.values() for g in t["groups"])
    assert groups(tables[("channel", None)])["paper"]["voters"] == 4


async def test_the_breakdown_is_seen_by_whoever_may_see_the_result(client: Any, auth: Any) -> None:
    budget = await budget_round_with_paper(
        client, auth, online={OOST: 2}, paper={OOST: 1}, min_group=2
    )
    during = await client.get(f"/api/rounds/{budget.round_id}/breakdown", headers=auth("official"))
    assert during.status_code == 409
    await close(client, auth, budget.round_id)
    before = await client.get(f"/api/rounds/{budget.round_id}/breakdown")
    assert before.status_code == 403
    assert before.json()["code"] == "not_published"
    official = await breakdown_of(client, budget.round_id, auth("official"))
    assert official["published"] is False
    # Officials see the same suppressed breakdown the public will.
    assert groups(tables_of(official)[("channel", OOST)])["paper"]["suppressed"] is True
    await publish(client, auth, budget.round_id)
    public = await breakdown_of(client, budget.round_id)
    assert public["published"] is True
    assert public["tables"] == official["tables"]


async def test_a_preferendum_breakdown_by_channel_with_support_per_option(
    client: Any, auth: Any
) -> None:
    document = with_min_group(example_ruleset("preferendum"), 3)
    rounds = await open_preferendum_round(client, auth, document=document)
    labels = document["ballot"]["scale"]["labels"]
    for number in range(4):
        await cast_ok(
            client,
            auth,
            rounds.round_id,
            f"r{number}",
            "GM0268",
            {"questions": {"autoluw": {"grades": {"c": labels[-1], "a": labels[0]}}}},
        )
    batch = await open_batch(client, auth, rounds.round_id)
    for number in range(2):
        entered = await enter(
            client,
            auth,
            rounds.round_id,
            batch,
            f"paper-{number}",
            None,
            {"questions": {"autoluw": {"grades": {"a": labels[-1]}}}},
        )
        assert entered.status_code == 201, entered.text
    assert (await confirm(client, auth, rounds.round_id, batch)).status_code == 200
    await close(client, auth, rounds.round_id)
    await publish(client, auth, rounds.round_id)
    breakdown = await breakdown_of(client, rounds.round_id)
    assert breakdown["dimensions"] == ["channel"]
    assert "area" in breakdown["not_available"]
    channel = groups(tables_of(breakdown)[("channel", None)])
    # Two paper voters: fewer than 3; online (4) would be 6 - paper, so it goes too.
    assert channel["paper"]["suppressed"] is True
    assert channel["online"]["suppressed"] is True
    assert channel["online"]["questions"] is None


async def test_a_preferendum_where_every_group_is_large_shows_support(
    client: Any, auth: Any
) -> None:
    document = with_min_group(example_ruleset("preferendum"), 2)
    rounds = await open_preferendum_round(client, auth, document=document)
    labels = document["ballot"]["scale"]["labels"]
    for number in range(3):
        await cast_ok(
            client,
            auth,
            rounds.round_id,
            f"r{number}",
            "GM0268",
            {"questions": {"autoluw": {"grades": {"c": labels[-1], "a": labels[0]}}}},
        )
    batch = await open_batch(client, auth, rounds.round_id)
    for number in range(2):
        await enter(
            client,
            auth,
            rounds.round_id,
            batch,
            f"paper-{number}",
            None,
            {"questions": {"autoluw": {"grades": {"a": labels[-1]}}}},
        )
    assert (await confirm(client, auth, rounds.round_id, batch)).status_code == 200
    await close(client, auth, rounds.round_id)
    await publish(client, auth, rounds.round_id)
    channel = groups(tables_of(await breakdown_of(client, rounds.round_id))[("channel", None)])
    assert channel["online"]["voters"] == 3
    assert channel["online"]["questions"]["autoluw"] == {
        "answered": 3,
        "support": {"a": 0, "b": 0, "c": 3},
    }
    assert channel["online"]["questions"]["groen"]["answered"] == 0
    assert channel["paper"]["questions"]["autoluw"]["support"] == {"a": 2, "b": 0, "c": 0}


async def test_the_results_page_shows_suppressed_groups_as_hidden_below_the_minimum(
    client: Any, auth: Any
) -> None:
    budget = await budget_round_with_paper(
        client, auth, online={OOST: 4, CENTRUM: 3}, paper={OOST: 2, CENTRUM: 3}, min_group=3
    )
    await close(client, auth, budget.round_id)
    await publish(client, auth, budget.round_id)
    html = (await client.get(f"/rounds/{budget.round_id}/results")).text
    page = text_of(html)
    assert "Uitsplitsing" in page
    assert "Groepen met minder dan 3 stemmers tonen we niet." in page
    assert "verborgen" in page
    assert "op papier" in page
    section = html[html.index('id="breakdown"') :]
    # The breakdown's cells: the round's 7 online and 5 paper; nothing shows Oost's 2.
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", section)
    assert "7" in cells
    assert "5" in cells
    assert "2" not in cells
    english = text_of((await client.get(f"/rounds/{budget.round_id}/results?lang=en")).text)
    assert "Breakdown" in english
    assert "Groups of fewer than 3 voters are not shown." in english
    assert "hidden" in english


async def test_the_results_page_shows_every_group_when_all_are_large(
    client: Any, auth: Any
) -> None:
    budget = await budget_round_with_paper(
        client, auth, online={OOST: 3, CENTRUM: 2}, paper={OOST: 2, CENTRUM: 2}, min_group=2
    )
    await close(client, auth, budget.round_id)
    await publish(client, auth, budget.round_id)
    html = (await client.get(f"/rounds/{budget.round_id}/results")).text
    section = html[html.index('id="breakdown"') :]
    assert 'class="suppressed"' not in section
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", section)
    assert cells.count("2") >= 3


async def test_the_published_bundle_gives_the_same_breakdown(client: Any, auth: Any) -> None:
    budget = await budget_round_with_paper(
        client, auth, online={OOST: 4, CENTRUM: 3}, paper={OOST: 2, CENTRUM: 3}, min_group=3
    )
    await close(client, auth, budget.round_id)
    await publish(client, auth, budget.round_id)
    bundle = load_bundle((await client.get(f"/api/rounds/{budget.round_id}/bundle")).content)
    published = await breakdown_of(client, budget.round_id)
    recomputed = bundle_breakdown(bundle).to_json()
    assert recomputed["tables"] == published["tables"]
    assert recomputed["min_group_size"] == published["min_group_size"]


async def test_a_preferendum_bundle_gives_the_same_breakdown_by_channel(
    client: Any, auth: Any
) -> None:
    document = with_min_group(example_ruleset("preferendum"), 2)
    rounds = await open_preferendum_round(client, auth, document=document)
    labels = document["ballot"]["scale"]["labels"]
    for number in range(3):
        grades = {"markt": labels[number + 2], "kade": labels[number]}
        await cast_ok(
            client,
            auth,
            rounds.round_id,
            f"r{number}",
            "GM0268",
            {"questions": {"groen": {"grades": grades}}},
        )
    await close(client, auth, rounds.round_id)
    await publish(client, auth, rounds.round_id)
    bundle = load_bundle((await client.get(f"/api/rounds/{rounds.round_id}/bundle")).content)
    published = await breakdown_of(client, rounds.round_id)
    assert bundle_breakdown(bundle).to_json()["tables"] == published["tables"]


async def test_a_preferendum_cast_per_area_is_broken_down_by_neighbourhood(
    client: Any, auth: Any
) -> None:
    document = with_min_group(example_ruleset("preferendum"), 3)
    document["eligibility"]["one_ballot_per"] = "area"
    rounds = await open_preferendum_round(
        client,
        auth,
        document=document,
        areas=((OOST, "Oost", None), (CENTRUM, "Centrum", None), ("WK026803", "West", None)),
    )
    labels = document["ballot"]["scale"]["labels"]
    for area, count in ((OOST, 5), (CENTRUM, 1), ("WK026803", 4)):
        for number in range(count):
            await cast_ok(
                client,
                auth,
                rounds.round_id,
                f"{area}-{number}",
                area,
                {"questions": {"autoluw": {"grades": {"c": labels[-1]}}}},
            )
    await close(client, auth, rounds.round_id)
    await publish(client, auth, rounds.round_id)
    breakdown = await breakdown_of(client, rounds.round_id)
    assert breakdown["dimensions"] == ["area", "channel"]
    by_area = groups(tables_of(breakdown)[("area", None)])
    assert by_area[OOST]["voters"] == 5
    assert by_area[OOST]["questions"]["autoluw"]["support"]["c"] == 5
    # Centrum's one voter is fewer than 3; West (4) goes with it, or 10 - 5 would give it.
    assert by_area[CENTRUM]["suppressed"] is True
    assert by_area["WK026803"]["suppressed"] is True
    html = (await client.get(f"/rounds/{rounds.round_id}/results?lang=en")).text
    page = text_of(html)
    assert "Voters by neighbourhood" in page
    assert "Groups of fewer than 3 voters are not shown." in page
    section = html[html.index('id="breakdown"') :]
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", section)
    assert "5" in cells
    assert "1" not in cells
    assert "4" not in cells


async def test_a_round_voted_one_way_only_has_nothing_to_break_down(client: Any, auth: Any) -> None:
    document = with_min_group(budget_ruleset_without_supports(), 2)
    document["ballot"]["channels"] = ["online"]
    document["ballot"].pop("paper_online_exclusive", None)
    budget = await open_budget_round(client, auth, document=document)
    first = budget.ballot[OOST][0][0]
    for number in range(3):
        await cast_ok(client, auth, budget.round_id, f"r{number}", OOST, {"approvals": [first]})
    await close(client, auth, budget.round_id)
    await publish(client, auth, budget.round_id)
    breakdown = await breakdown_of(client, budget.round_id)
    assert breakdown["tables"] == []
    assert "channel" in breakdown["not_available"]
    page = text_of((await client.get(f"/rounds/{budget.round_id}/results")).text)
    assert "Er is voor deze ronde niets uit te splitsen." in page
