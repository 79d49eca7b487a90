"""Screenshots of every page at phone (360 px) and desktop (1280 px) width, for the README.

Starts ``stemmen serve`` on a fresh SQLite database in development mode (the browser tests'
``tests/e2e/live.py``), sets up a budget round and a preferendum through the API, and visits
each page in Debian's Chromium. Writes ``docs/screenshots/<page>-<width>.png``.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from tests.e2e.live import LiveServer, chromium, live_server, sign_in_page, why_no_browser  # noqa: E402
from tests.integration.ballot_helpers import cast_ok, close, publish  # noqa: E402
from tests.integration.round_helpers import (  # noqa: E402
    ADULT_BIRTH_DATE,
    budget_ruleset_without_supports,
    create_round,
    example_ruleset,
    move,
    open_budget_round,
    open_preferendum_round,
    publish_ruleset,
    resident,
)

WIDTHS = (360, 1280)
OOST = "WK026801"
PROJECTS = (
    (OOST, "Speeltuin Bottendaal", "Spelen en sport", 2_000_000),
    (OOST, "Bankjes langs de Waal", "Ontmoeting", 1_200_000),
    (OOST, "Geveltuinen in de Javastraat", "Groen", 2_500_000),
    (OOST, "Buurtfeest op het plein", "Cultuur", 300_000),
)


def set_up(server: LiveServer) -> dict[str, str]:
    """A round taking proposals, one under review, one voting, one published, a preferendum
    voting and one published; their ids."""

    async def steps(client: Any, auth: Any) -> dict[str, str]:
        rounds: dict[str, str] = {}
        document = budget_ruleset_without_supports()
        ruleset_hash = await publish_ruleset(client, auth, document)
        areas = (("WK026801", "Oost", 5_000_000),)
        created = await create_round(
            client, auth, ruleset_hash, title="Buurtbegroting Oost 2027", areas=areas
        )
        await move(client, auth, created["id"], "submission")
        rounds["submission"] = created["id"]
        review = await create_round(
            client, auth, ruleset_hash, title="Buurtbegroting Oost, beoordeling", areas=areas
        )
        await move(client, auth, review["id"], "submission")
        for index, (area, title, category, cost) in enumerate(PROJECTS[:2]):
            await client.post(
                f"/api/rounds/{review['id']}/proposals",
                json={
                    "title": title,
                    "description": f"{title}: een idee van bewoners.",
                    "area": area,
                    "category": category,
                    "estimated_cost_cents": cost,
                },
                headers=resident(auth, f"author-{index}", area),
            )
        await move(client, auth, review["id"], "review")
        rounds["review"] = review["id"]
        voting = await open_budget_round(
            client, auth, areas=areas, proposals=PROJECTS, title="Buurtbegroting Oost, stemmen"
        )
        rounds["voting"] = voting.round_id
        done = await open_budget_round(
            client, auth, areas=areas, proposals=PROJECTS, title="Buurtbegroting Oost 2026"
        )
        choices = (["001", "002"], ["001", "004"], ["003"], ["001", "002", "004"], ["002"])
        for index, choice in enumerate(choices):
            await cast_ok(
                client, auth, done.round_id, f"kiezer-{index}", OOST, {"approvals": choice}
            )
        await close(client, auth, done.round_id)
        await publish(client, auth, done.round_id)
        rounds["published"] = done.round_id
        poll_rules = example_ruleset("preferendum")
        poll_rules["tally"].pop("quorum", None)
        poll = await open_preferendum_round(client, auth, document=poll_rules)
        rounds["poll"] = poll.round_id
        finished = await open_preferendum_round(
            client, auth, document=poll_rules, title="Preferendum binnenstad 2026"
        )
        for index, grades in enumerate(
            ({"a": 0, "b": 3, "c": 4}, {"a": 1, "b": 3, "c": 2}, {"a": 2, "b": 4, "c": 3})
        ):
            await cast_ok(
                client,
                auth,
                finished.round_id,
                f"stemmer-{index}",
                "GM0268",
                {"questions": {"autoluw": {"grades": grades}, "groen": {"grades": {"kade": 4}}}},
            )
        await close(client, auth, finished.round_id)
        await publish(client, auth, finished.round_id)
        rounds["poll_published"] = finished.round_id
        return rounds

    result: dict[str, str] = server.api(steps)
    return result


def shoot(browser: Any, server: LiveServer, rounds: dict[str, str], out: Path) -> list[Path]:
    written: list[Path] = []
    url = server.url
    visits: list[tuple[str, str, Callable[[Any], None] | None]] = [
        ("home", "resident", None),
        ("round", "resident", lambda p: p.goto(f"{url}/rounds/{rounds['submission']}")),
        ("propose", "resident", lambda p: p.goto(f"{url}/rounds/{rounds['submission']}/propose")),
        ("ballot-knapsack", "resident", lambda p: _over_budget(p, url, rounds["voting"])),
        ("ballot-refused", "resident", lambda p: _refused(p, url, rounds["voting"])),
        ("receipt-shown", "resident", lambda p: _voted(p, url, rounds["voting"])),
        ("receipt-check", "resident", lambda p: p.goto(f"{url}/receipt")),
        ("ballot-grades", "poll", lambda p: p.goto(f"{url}/rounds/{rounds['poll']}/vote")),
        ("results-budget", None, lambda p: p.goto(f"{url}/rounds/{rounds['published']}/results")),
        (
            "results-preferendum",
            None,
            lambda p: p.goto(f"{url}/rounds/{rounds['poll_published']}/results"),
        ),
        ("signin", None, lambda p: p.goto(f"{url}/signin")),
        ("manage", "official", lambda p: p.goto(f"{url}/manage")),
        ("manage-review", "official", lambda p: p.goto(f"{url}/manage/rounds/{rounds['review']}")),
        (
            "manage-whatif",
            "official",
            lambda p: _what_if(p, url, rounds["published"]),
        ),
    ]
    for width in WIDTHS:
        for name, who, go in visits:
            context = browser.new_context(
                viewport={"width": width, "height": 800}, locale="nl-NL", device_scale_factor=1
            )
            page = context.new_page()
            page.set_default_timeout(15_000)
            if who == "resident":
                sign_in_page(page, url, "resident", f"foto-{width}-{name}", OOST, ADULT_BIRTH_DATE)
            elif who == "poll":
                sign_in_page(
                    page, url, "resident", f"foto-{width}-{name}", "GM0268", ADULT_BIRTH_DATE
                )
            elif who == "official":
                sign_in_page(page, url, "official", "j.devries")
            else:
                page.goto(url)
            if go is not None:
                go(page)
            target = out / f"{name}-{width}.png"
            page.screenshot(path=str(target), full_page=True)
            shrink(target)
            written.append(target)
            context.close()
    return written


def shrink(path: Path) -> None:
    """A palette PNG (the pages are flat colours), when Pillow is at hand: a third the bytes."""
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(path) as image:
        reduced = image.convert("RGB").quantize(colors=96, method=Image.Quantize.MEDIANCUT)
    reduced.save(path, optimize=True)


def _over_budget(page: Any, url: str, round_id: str) -> None:
    page.goto(f"{url}/rounds/{round_id}/vote")
    for title in ("Speeltuin Bottendaal", "Bankjes langs de Waal", "Geveltuinen in de Javastraat"):
        page.get_by_label(title).check()
    page.locator("#running-total").wait_for()


def _refused(page: Any, url: str, round_id: str) -> None:
    _over_budget(page, url, round_id)
    page.get_by_role("button", name="Stem uitbrengen").click()
    page.get_by_role("alert").wait_for()


def _voted(page: Any, url: str, round_id: str) -> None:
    page.goto(f"{url}/rounds/{round_id}/vote")
    page.get_by_label("Speeltuin Bottendaal").check()
    page.get_by_label("Buurtfeest op het plein").check()
    page.get_by_role("button", name="Stem uitbrengen").click()
    page.locator("#receipt-code").wait_for()


def _what_if(page: Any, url: str, round_id: str) -> None:
    page.goto(f"{url}/manage/rounds/{round_id}")
    page.get_by_label("Regel").select_option("mes")
    page.get_by_role("button", name="Vergelijken").click()
    page.get_by_role("heading", name="mes naast greedy").wait_for()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    reason = why_no_browser()
    if reason is not None:
        print(f"cannot take screenshots: {reason}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    with live_server() as server, chromium() as browser:
        rounds = set_up(server)
        written = shoot(browser, server, rounds, args.out)
    for path in written:
        print(f"{path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
