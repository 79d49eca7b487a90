"""The published bundle over the API and the CLI: a two-district budget round and a multi-question
preferendum, run through the API to publication, verify with every check passing; before
publication only officials (and auditors where the rule set allows) get a preview.

The helpers here are shared by the tamper and auditor tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.integration.ballot_helpers import cast_ok, close, publish
from tests.integration.round_helpers import (
    budget_ruleset_without_supports,
    example_ruleset,
    open_budget_round,
    open_preferendum_round,
)

PREFERENDUM_BALLOTS = (
    {
        "autoluw": {"grades": {"a": "oneens", "b": "eens", "c": "zeer eens"}},
        "groen": {"grades": {"park": 4}},
    },
    {"autoluw": {"grades": {"a": 0, "b": 4}}, "groen": {"grades": {"park": 3, "kade": 3}}},
    {"groen": {"grades": {"markt": "neutraal", "kade": "zeer eens"}}},
)


@dataclass(frozen=True)
class PublishedRound:
    round_id: str
    receipts: dict[str, str]  # voter -> receipt code of their counted ballot
    replaced: tuple[str, ...]  # receipt codes that were superseded by a revote
    head_at_close: str  # the round's log head as /api/log/head showed it right after the close


async def round_head(client: Any, round_id: str) -> str:
    heads = (await client.get("/api/log/head")).json()["heads"]
    (head,) = [item["hash"] for item in heads if item["chain"] == round_id]
    return str(head)


async def voting_budget_round(
    client: Any, auth: Any, document: Mapping[str, Any] | None = None
) -> tuple[str, dict[str, str], tuple[str, ...]]:
    """Two districts, five ballots, one revote; voting still open."""
    budget = await open_budget_round(
        client, auth, document=document or budget_ruleset_without_supports()
    )
    east = [code for code, _ in budget.ballot["WK026801"]]
    centre = [code for code, _ in budget.ballot["WK026802"]]
    receipts: dict[str, str] = {}
    for voter, home, choice in (
        ("e0", "WK026801", [east[0], east[1]]),
        ("e1", "WK026801", [east[0]]),
        ("e2", "WK026801", [east[2]]),
        ("c0", "WK026802", [centre[0], centre[2]]),
        ("c1", "WK026802", [centre[1]]),
    ):
        receipts[voter] = (
            await cast_ok(client, auth, budget.round_id, voter, home, {"approvals": choice})
        )["receipt"]
    replaced = (receipts["e1"],)
    receipts["e1"] = (
        await cast_ok(client, auth, budget.round_id, "e1", "WK026801", {"approvals": [east[1]]})
    )["receipt"]
    return budget.round_id, receipts, replaced


async def close_and_publish(
    client: Any, auth: Any, round_id: str, receipts: dict[str, str], replaced: tuple[str, ...]
) -> PublishedRound:
    await close(client, auth, round_id)
    head = await round_head(client, round_id)
    await publish(client, auth, round_id)
    return PublishedRound(round_id, receipts, replaced, head)


async def published_budget_round(
    client: Any, auth: Any, document: Mapping[str, Any] | None = None
) -> PublishedRound:
    round_id, receipts, replaced = await voting_budget_round(client, auth, document)
    return await close_and_publish(client, auth, round_id, receipts, replaced)


async def published_preferendum(client: Any, auth: Any) -> PublishedRound:
    document = example_ruleset("preferendum")
    document["tally"]["quorum"] = {"min_turnout": 2}
    poll = await open_preferendum_round(client, auth, document=document)
    receipts = {
        f"r{index}": (
            await cast_ok(client, auth, poll.round_id, f"r{index}", "GM0268", {"questions": ballot})
        )["receipt"]
        for index, ballot in enumerate(PREFERENDUM_BALLOTS)
    }
    return await close_and_publish(client, auth, poll.round_id, receipts, ())


async def api_bundle(
    client: Any, round_id: str, headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    from stemmen.audit.bundle import dump_bundle, load_bundle

    response = await client.get(f"/api/rounds/{round_id}/bundle", headers=dict(headers or {}))
    assert response.status_code == 200, response.text
    bundle = load_bundle(response.content)
    assert dump_bundle(bundle) == response.content, "the bundle is served as canonical JSON"
    return bundle


async def stored_bundle(settings: Any, round_id: str) -> dict[str, Any]:
    """The bundle as build_bundle makes it from the database now (after a tamper, say)."""
    from stemmen.audit.service import build_bundle
    from tests.integration.round_helpers import database

    async with database(settings) as sessions, sessions() as session:
        return await build_bundle(session, round_id)


def failures(bundle: Mapping[str, Any], heads: tuple[str, ...] = ()) -> list[str]:
    """The verifier's findings as 'check at where: message' lines; empty when all is verified."""
    from stemmen.audit.verify import verify_bundle

    return [
        f"{finding.check} at {finding.where}: {finding.message}"
        for finding in verify_bundle(bundle, heads).findings
    ]


def assert_verified(bundle: Mapping[str, Any], heads: tuple[str, ...] = ()) -> None:
    from stemmen.audit.verify import verify_bundle

    report = verify_bundle(bundle, heads)
    assert report.ok, report.render()


# --------------------------------------------------------------------------- published rounds


async def test_a_published_two_district_budget_round_verifies_from_the_public_api_bundle(
    client: Any, auth: Any
) -> None:
    from stemmen.audit.verify import verify_receipt

    published = await published_budget_round(client, auth)
    bundle = await api_bundle(client, published.round_id)  # no token: it is public now

    assert {area["area"] for area in bundle["cast_vote_record"]["areas"]} == {
        "WK026801",
        "WK026802",
    }
    assert len(bundle["receipts"]) == 5
    assert bundle["seed"]["value"], "the seed is revealed with the result"
    assert "preview" not in bundle
    assert_verified(bundle, (published.head_at_close,))
    # The opening committed to the round's frame itself, not only to the ballot list.
    opening = next(e for e in bundle["log"]["entries"] if e["payload"].get("to") == "voting")
    assert {"round_hash", "ruleset_hash"} <= set(opening["payload"])

    for code in published.receipts.values():
        report = verify_receipt(bundle, code)
        assert report.ok, report.render()
    (earlier,) = published.replaced
    assert not verify_receipt(bundle, earlier).ok, "a replaced ballot is not counted"


async def test_a_published_preferendum_verifies_including_its_questions_as_opened(
    client: Any, auth: Any
) -> None:
    from stemmen.audit.verify import verify_bundle, verify_receipt

    published = await published_preferendum(client, auth)
    bundle = await api_bundle(client, published.round_id)

    report = verify_bundle(bundle, (published.head_at_close,))
    assert report.ok, report.render()
    round_line = next(line for line in report.render().splitlines() if " round:" in line)
    assert round_line.startswith("OK")
    assert "as opened" in round_line
    assert [item.keys() for item in bundle["results"]] == [{"preferendum": 0}.keys()]
    code = published.receipts["r1"]
    assert verify_receipt(bundle, code).ok


async def test_ballot_events_in_the_published_log_are_timed_to_the_hour_only(
    client: Any, auth: Any
) -> None:
    published = await published_preferendum(client, auth)
    log = (await client.get(f"/api/rounds/{published.round_id}/log")).json()
    ballot_times = [e["at"] for e in log["entries"] if e["kind"].startswith("ballot.")]
    assert len(ballot_times) == 3
    assert all(at.endswith(":00:00.000000Z") for at in ballot_times), ballot_times
    others = [e["at"] for e in log["entries"] if not e["kind"].startswith("ballot.")]
    assert others, "other events keep their exact time"


async def test_a_receipt_proof_from_the_api_leads_to_the_root_logged_at_the_close(
    client: Any, auth: Any
) -> None:
    from stemmen.audit.merkle import verify_inclusion

    published = await published_preferendum(client, auth)
    bundle = await api_bundle(client, published.round_id)
    closing = next(e for e in bundle["log"]["entries"] if e["kind"] == "round.closed")
    for code in published.receipts.values():
        response = await client.get(f"/api/rounds/{published.round_id}/receipts/{code}/proof")
        assert response.status_code == 200, response.text
        proof = response.json()
        assert proof["merkle_root"] == closing["payload"]["merkle_root"]
        assert verify_inclusion(
            bytes.fromhex(proof["receipt_hash"]),
            proof["leaf_index"],
            proof["tree_size"],
            [bytes.fromhex(node) for node in proof["path"]],
            bytes.fromhex(proof["merkle_root"]),
        )
    unknown = await client.get(
        f"/api/rounds/{published.round_id}/receipts/000-000-000-000-000-000-000/proof"
    )
    assert unknown.status_code in (404, 422), unknown.text


def run_stemmen(*arguments: str, database_url: str) -> subprocess.CompletedProcess[str]:
    """The real command in its own process (slow to start: used once)."""
    environment = {**os.environ, "STEMMEN_DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "stemmen", *arguments],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )


async def invoke(*arguments: str, database_url: str) -> Any:
    """The command in-process, in a thread of its own (it runs its own event loop)."""
    import asyncio

    from click.testing import CliRunner

    from stemmen.cli import main

    runner = CliRunner()
    return await asyncio.to_thread(
        runner.invoke, main, list(arguments), env={"STEMMEN_DATABASE_URL": database_url}
    )


async def test_export_bundle_writes_the_api_bundle_byte_for_byte_and_stemmen_verify_passes_on_it(
    client: Any, auth: Any, settings: Any, tmp_path: Path
) -> None:
    import asyncio

    published = await published_budget_round(client, auth)
    response = await client.get(f"/api/rounds/{published.round_id}/bundle")
    out = tmp_path / "round.bundle.json"

    exported = await invoke(
        "export-bundle", published.round_id, "--out", str(out), database_url=settings.database_url
    )
    assert exported.exit_code == 0, exported.output
    assert out.read_bytes() == response.content
    assert published.round_id in exported.output
    assert "5 ballots" in exported.output

    verified = await asyncio.to_thread(
        run_stemmen,
        "verify",
        "--expect-head",
        published.head_at_close,
        str(out),
        database_url=settings.database_url,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "VERIFIED" in verified.stdout
    receipt = await invoke(
        "verify", "--receipt", published.receipts["c0"], str(out), database_url=""
    )
    assert receipt.exit_code == 0, receipt.output


async def test_export_bundle_refuses_a_round_that_is_not_published_and_an_unknown_round(
    client: Any, auth: Any, settings: Any, tmp_path: Path
) -> None:
    round_id, _, _ = await voting_budget_round(client, auth)
    out = tmp_path / "nothing.json"
    not_published = await invoke(
        "export-bundle", round_id, "--out", str(out), database_url=settings.database_url
    )
    assert not_published.exit_code == 1, not_published.output
    assert "published" in not_published.output
    assert not out.exists()
    unknown = await invoke(
        "export-bundle", "no-such-round", "--out", str(out), database_url=settings.database_url
    )
    assert unknown.exit_code == 1, unknown.output
    assert "no round no-such-round" in unknown.output
    assert not out.exists()


# --------------------------------------------------------------------------- before publication


async def test_before_publication_the_bundle_is_refused_to_the_public_and_previewed_for_officials(
    client: Any, auth: Any
) -> None:
    round_id, receipts, _ = await voting_budget_round(client, auth)

    public = await client.get(f"/api/rounds/{round_id}/bundle")
    assert public.status_code == 403
    assert public.json()["code"] == "not_published"
    resident = await client.get(f"/api/rounds/{round_id}/bundle", headers=auth("resident"))
    assert resident.status_code == 403
    auditor = await client.get(f"/api/rounds/{round_id}/bundle", headers=auth("auditor"))
    assert auditor.status_code == 403, (
        "the example rule set keeps it from auditors before publication"
    )

    during = await api_bundle(client, round_id, auth("official"))
    assert during["preview"]["phase"] == "voting"
    assert during["receipts"] == []
    assert during["results"] == []
    assert during["seed"]["value"] is None
    assert during["seed"]["commitment"]
    assert (
        during["log"]["head"]
        == (await client.get(f"/api/rounds/{round_id}/log", headers=auth("official"))).json()[
            "head"
        ]["hash"]
    )

    await close(client, auth, round_id)
    after_close = await api_bundle(client, round_id, auth("official"))
    assert after_close["preview"]["phase"] == "closed"
    assert len(after_close["receipts"]) == len(receipts)
    assert after_close["results"], "the result is computed at the close for officials"
    assert after_close["seed"]["value"] is None, "the seed stays secret until publication"
    await publish(client, auth, round_id)
    seed = (await api_bundle(client, round_id))["seed"]["value"]
    assert seed not in json.dumps(after_close), "the preview never leaks the seed"
    # Everything checks out already but the seed (revealed at publication) and the result's log entry.
    problems = failures(after_close)
    assert problems
    assert {problem.split(" ")[0] for problem in problems} == {
        "seed.commitment",
        "seed.logged",
        "result.logged",
    }, problems


async def test_a_draft_round_has_a_preview_with_only_its_creation_logged(
    client: Any, auth: Any
) -> None:
    from tests.integration.round_helpers import create_round, publish_ruleset

    ruleset_hash = await publish_ruleset(client, auth, budget_ruleset_without_supports())
    draft = (await create_round(client, auth, ruleset_hash))["id"]
    preview = await api_bundle(client, draft, auth("official"))
    assert preview["preview"]["phase"] == "draft"
    assert [entry["kind"] for entry in preview["log"]["entries"]] == ["round.created"]
    assert preview["seed"] == {"commitment": None, "value": None}
    assert "round.frame" in {problem.split(" ")[0] for problem in failures(preview)}
    assert (await client.get("/api/rounds/no-such-round/bundle")).status_code == 404


async def test_auditors_see_a_preview_before_publication_when_the_rule_set_says_so(
    client: Any, auth: Any
) -> None:
    document = budget_ruleset_without_supports()
    document["publication"]["auditor_sees_before_publication"] = True
    round_id, _, _ = await voting_budget_round(client, auth, document)
    await close(client, auth, round_id)
    preview = await api_bundle(client, round_id, auth("auditor"))
    assert preview["preview"]["phase"] == "closed"
    assert len(preview["receipts"]) == 5
    assert (
        await client.get(f"/api/rounds/{round_id}/bundle", headers=auth("resident"))
    ).status_code == 403


async def test_a_rule_set_that_keeps_the_record_unpublished_keeps_the_bundle_and_log_to_auditors(
    client: Any, auth: Any
) -> None:
    document = budget_ruleset_without_supports()
    document["publication"]["cast_vote_record"] = False
    published = await published_budget_round(client, auth, document)
    for path in ("bundle", "log"):
        refused = await client.get(f"/api/rounds/{published.round_id}/{path}")
        assert refused.status_code == 403, refused.text
    assert_verified(await api_bundle(client, published.round_id, auth("auditor")))


# --------------------------------------------------------------------------- log and heads


async def test_the_round_log_is_for_auditors_until_publication_and_then_public(
    client: Any, auth: Any
) -> None:
    from stemmen.audit.chain import LogEntry, verify_chain

    round_id, _, _ = await voting_budget_round(client, auth)
    assert (await client.get(f"/api/rounds/{round_id}/log")).status_code == 403
    assert (
        await client.get(f"/api/rounds/{round_id}/log", headers=auth("resident"))
    ).status_code == 403
    during = (await client.get(f"/api/rounds/{round_id}/log", headers=auth("auditor"))).json()
    assert verify_chain([LogEntry.from_json(e) for e in during["entries"]]).ok
    assert during["head"]["hash"] == await round_head(client, round_id)
    assert all(e["actor"] is None for e in during["entries"] if e["actor_role"] == "resident")

    await close(client, auth, round_id)
    await publish(client, auth, round_id)
    public = (await client.get(f"/api/rounds/{round_id}/log")).json()
    bundle = await api_bundle(client, round_id)
    assert public["entries"] == bundle["log"]["entries"]
    assert public["entries"][: len(during["entries"])] == during["entries"], "history never changes"
    assert (
        await client.get("/api/rounds/no-such-round/log", headers=auth("auditor"))
    ).status_code == 404


async def test_log_heads_are_public_one_per_chain_and_move_with_each_event(
    client: Any, auth: Any
) -> None:
    round_id, _, _ = await voting_budget_round(client, auth)
    response = await client.get("/api/log/head")
    assert response.status_code == 200
    heads = response.json()["heads"]
    chains = [head["chain"] for head in heads]
    assert chains == sorted(chains)
    assert "global" in chains
    assert round_id in chains
    before = next(head for head in heads if head["chain"] == round_id)
    log = (await client.get(f"/api/rounds/{round_id}/log", headers=auth("auditor"))).json()
    assert (before["seq"], before["hash"]) == (log["head"]["seq"], log["head"]["hash"])
    await close(client, auth, round_id)
    after = next(
        head
        for head in (await client.get("/api/log/head")).json()["heads"]
        if head["chain"] == round_id
    )
    assert after["seq"] > before["seq"]
    assert after["hash"] != before["hash"]
    assert json.dumps(after)  # plain JSON: seq, hash, time, ready to publish
