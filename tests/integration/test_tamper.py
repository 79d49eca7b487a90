"""Tampering with a published round, one attack per test: each is refused by the database or
found by the verifier in the bundle the server then serves (or in a bundle edited after export).

The attacker here has the database itself (raw SQL or the ORM, no API), as an operator would.
"""

from __future__ import annotations

import asyncio
import copy
import secrets
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlmodel import col, select

from tests.integration.ballot_helpers import cast, cast_ok
from tests.integration.round_helpers import (
    budget_ruleset_without_supports,
    database,
    open_preferendum_round,
    publish_ruleset,
)
from tests.integration.test_bundle import (
    api_bundle,
    assert_verified,
    failures,
    published_budget_round,
    stored_bundle,
)


def checks(problems: list[str]) -> set[str]:
    return {problem.split(" ")[0] for problem in problems}


async def counted(session: Any, round_id: str, area: str | None = None) -> list[Any]:
    from stemmen.ballots.models import Ballot

    query = select(Ballot).where(Ballot.round_id == round_id, Ballot.status == "counted")
    if area is not None:
        query = query.where(Ballot.area_code == area)
    return list((await session.exec(query.order_by(col(Ballot.receipt_hash)))).all())


# --------------------------------------------------------------------------- ballots


async def test_an_edited_ballot_row_no_longer_hashes_to_its_receipt(
    client: Any, auth: Any, settings: Any
) -> None:
    published = await published_budget_round(client, auth)
    async with database(settings) as sessions, sessions() as session:
        ballot = (await counted(session, published.round_id, "WK026802"))[0]
        ballot.content = {**ballot.content, "vote": []}  # every ballot here chose something
        session.add(ballot)
        await session.commit()

    problems = failures(await stored_bundle(settings, published.round_id))
    assert "ballots.receipt" in checks(problems), problems


async def test_a_deleted_ballot_row_breaks_the_tree_logged_at_the_close_and_the_counts(
    client: Any, auth: Any, settings: Any
) -> None:
    published = await published_budget_round(client, auth)
    async with database(settings) as sessions, sessions() as session:
        victim = (await counted(session, published.round_id))[0]
        await session.execute(sa.text("DELETE FROM ballots WHERE id = :id"), {"id": victim.id})
        await session.commit()

    problems = failures(await stored_bundle(settings, published.round_id))
    assert {"merkle.logged", "counts.missing"} <= checks(problems), problems
    (missing,) = [p for p in problems if p.startswith("counts.missing")]
    assert victim.receipt_hash[:12] in missing, "the dropped ballot is named by its receipt"


async def test_an_inserted_ballot_with_a_valid_receipt_is_still_found(
    client: Any, auth: Any, settings: Any
) -> None:
    from stemmen.audit.canonical import canonical_bytes
    from stemmen.audit.receipts import compute_receipt_hash
    from stemmen.ballots.models import Ballot

    published = await published_budget_round(client, auth)
    async with database(settings) as sessions, sessions() as session:
        model = (await counted(session, published.round_id, "WK026801"))[0]
        content = {**model.content, "vote": model.content["vote"][:1]}
        nonce = secrets.token_bytes(32)
        session.add(
            Ballot(
                round_id=published.round_id,
                area_code=model.area_code,
                voter_key="f" * 64,
                live_slot=f"{published.round_id}:forged",
                channel="online",
                status="counted",
                content=content,
                receipt_hash=compute_receipt_hash(canonical_bytes(content), nonce),
                receipt_nonce=nonce.hex(),
            )
        )
        await session.commit()

    bundle = await stored_bundle(settings, published.round_id)
    problems = failures(bundle)
    assert "ballots.receipt" not in checks(problems), "the forged ballot hashes correctly"
    assert {"merkle.logged", "counts.extra"} <= checks(problems), problems


# --------------------------------------------------------------------------- rule set


async def test_a_published_rule_set_version_cannot_be_changed_in_the_database(
    client: Any, auth: Any, settings: Any
) -> None:
    published = await published_budget_round(client, auth)
    async with database(settings) as sessions, sessions() as session:
        ruleset_hash = (
            await session.execute(
                sa.text("SELECT ruleset_hash FROM rounds WHERE id = :id"),
                {"id": published.round_id},
            )
        ).scalar_one()
        with pytest.raises(DBAPIError, match="refused"):
            await session.execute(
                sa.text("UPDATE rule_set_versions SET number = number + 100 WHERE hash = :h"),
                {"h": ruleset_hash},
            )
        await session.rollback()
    assert_verified(await stored_bundle(settings, published.round_id))


async def test_a_round_repinned_to_another_rule_set_version_after_opening_is_found(
    client: Any, auth: Any, settings: Any
) -> None:
    published = await published_budget_round(client, auth)
    lenient = budget_ruleset_without_supports()
    lenient["allocation"]["rule"] = "greedy"
    lenient["title"] = lenient["title"] + " (herzien)"
    other = await publish_ruleset(client, auth, lenient)
    async with database(settings) as sessions, sessions() as session:
        await session.execute(
            sa.text("UPDATE rounds SET ruleset_hash = :h WHERE id = :id"),
            {"h": other, "id": published.round_id},
        )
        await session.commit()

    problems = failures(await stored_bundle(settings, published.round_id))
    assert "ruleset.logged" in checks(problems), problems


# --------------------------------------------------------------------------- result


async def test_a_changed_stored_result_is_found(client: Any, auth: Any, settings: Any) -> None:
    from stemmen.results.models import Result

    published = await published_budget_round(client, auth)
    async with database(settings) as sessions, sessions() as session:
        result = await session.get(Result, published.round_id)
        assert result is not None
        document = copy.deepcopy(result.document)
        allocation = next(
            item["allocation"] for item in document["results"] if item["allocation"]["selected"]
        )
        allocation["selected"] = allocation["selected"][:-1]  # one funded project less
        result.document = document
        session.add(result)
        await session.commit()

    problems = failures(await stored_bundle(settings, published.round_id))
    assert {"result.logged", "result.recomputed"} & checks(problems), problems


# --------------------------------------------------------------------------- the log


LOG_ATTACKS = {
    "edit a payload": "UPDATE audit_events SET payload = payload WHERE chain = :chain AND seq = 2",
    "reorder": "UPDATE audit_events SET seq = seq + 1000 WHERE chain = :chain AND seq = 3",
    "rehash": "UPDATE audit_events SET hash = prev_hash WHERE chain = :chain",
    "drop one": "DELETE FROM audit_events WHERE chain = :chain AND seq = 4",
    "drop all": "DELETE FROM audit_events WHERE chain = :chain",
}


async def test_the_database_refuses_to_edit_reorder_or_drop_log_entries(
    client: Any, auth: Any, settings: Any
) -> None:
    poll = await open_preferendum_round(client, auth)
    await cast_ok(
        client,
        auth,
        poll.round_id,
        "r1",
        "GM0268",
        {"questions": {"groen": {"grades": {"park": 4}}}},
    )
    async with database(settings) as sessions:
        for statement in LOG_ATTACKS.values():
            async with sessions() as session:
                with pytest.raises(DBAPIError, match="refused"):
                    await session.execute(sa.text(statement), {"chain": poll.round_id})
                await session.rollback()
    log = (await client.get(f"/api/rounds/{poll.round_id}/log", headers=auth("auditor"))).json()
    assert [entry["seq"] for entry in log["entries"]] == list(range(1, len(log["entries"]) + 1))
    assert log["entries"][-1]["kind"] == "ballot.accepted"


async def test_a_log_entry_forged_into_the_database_after_publication_is_found(
    client: Any, auth: Any, settings: Any
) -> None:
    from stemmen.audit.chain import BALLOT_ACCEPTED
    from stemmen.audit.log import append_event

    published = await published_budget_round(client, auth)
    async with database(settings) as sessions, sessions() as session:
        # Appending is allowed (that is how the log grows): a late "ballot" goes in with a
        # perfectly valid hash, after the ballots were sealed and the result published.
        await append_event(
            session,
            kind=BALLOT_ACCEPTED,
            actor="resident",
            payload={"receipt": "ab" * 32, "channel": "online", "area": "WK026801"},
            round_id=published.round_id,
        )
        await session.commit()

    bundle = await stored_bundle(settings, published.round_id)
    problems = failures(bundle, (published.head_at_close,))
    assert "phases.event" in checks(problems), problems
    assert not any(p.startswith("log.") for p in problems), "the chain itself is intact"


async def test_a_bundle_edited_after_export_is_caught_entry_by_entry(
    client: Any, auth: Any
) -> None:
    published = await published_budget_round(client, auth)
    exported = await api_bundle(client, published.round_id)
    entries = exported["log"]["entries"]

    edited = copy.deepcopy(exported)
    accepted = next(e for e in edited["log"]["entries"] if e["kind"] == "ballot.accepted")
    accepted["payload"]["area"] = "WK026802"
    assert "log.edited" in checks(failures(edited))

    dropped = copy.deepcopy(exported)
    del dropped["log"]["entries"][len(entries) // 2]
    assert "log.gap" in checks(failures(dropped))

    reordered = copy.deepcopy(exported)
    log = reordered["log"]["entries"]
    log[3], log[4] = log[4], log[3]
    assert {"log.order", "log.link"} & checks(failures(reordered))

    truncated = copy.deepcopy(exported)
    del truncated["log"]["entries"][-1]
    assert checks(failures(truncated)) & {"log.head", "result.logged", "seed.logged"}


async def test_a_whole_chain_rewritten_after_the_fact_is_caught_only_against_the_head_published_at_the_close(
    client: Any, auth: Any
) -> None:
    from stemmen.audit.chain import LogEntry, append

    published = await published_budget_round(client, auth)
    bundle = await api_bundle(client, published.round_id)

    # The operator rebuilds the chain from the first entry, every hash recomputed: here the
    # first ballot is re-dated, but any edit would do.
    rewritten: list[LogEntry] = []
    for raw in bundle["log"]["entries"]:
        entry = LogEntry.from_json(raw)
        at = entry.at
        if entry.kind == "ballot.accepted" and not any(
            e.kind == "ballot.accepted" for e in rewritten
        ):
            at = at.replace(":00:00.", ":00:01.")
        rewritten.append(
            append(
                rewritten[-1] if rewritten else None,
                at=at,
                round_id=entry.round_id,
                kind=entry.kind,
                actor_role=entry.actor_role,
                actor=entry.actor,
                payload=entry.payload,
            )
        )
    forged = copy.deepcopy(bundle)
    forged["log"] = {
        "entries": [entry.to_json() for entry in rewritten],
        "head": rewritten[-1].hash,
    }

    assert failures(forged) == [], "a rewritten chain is consistent with itself"
    assert checks(failures(forged, (published.head_at_close,))) == {"log.rewritten"}
    assert_verified(bundle, (published.head_at_close,))


# --------------------------------------------------------------------------- concurrency


async def test_twenty_casts_at_once_never_fork_the_chain(
    concurrent_client: Any, auth: Any, settings: Any
) -> None:
    from stemmen.audit.chain import LogEntry, verify_chain

    client = concurrent_client
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("SQLite serialises every write; the race needs PostgreSQL's row locks")
    poll = await open_preferendum_round(client, auth)
    client.in_flight.reset()
    responses = await asyncio.gather(
        *(
            cast(
                client,
                auth,
                poll.round_id,
                f"voter-{index}",
                "GM0268",
                {"questions": {"groen": {"grades": {"park": index % 5}}}},
            )
            for index in range(20)
        )
    )
    assert client.in_flight.most > 1, "the requests ran one after another"
    assert [r.status_code for r in responses] == [201] * 20, [
        r.text for r in responses if r.status_code != 201
    ]
    log = (await client.get(f"/api/rounds/{poll.round_id}/log", headers=auth("auditor"))).json()
    entries = [LogEntry.from_json(raw) for raw in log["entries"]]
    report = verify_chain(entries)
    assert report.ok, report
    accepted = [e for e in entries if e.kind == "ballot.accepted"]
    assert len({e.payload["receipt"] for e in accepted}) == 20
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
