"""Set-up shared by the voting, paper, receipt and result tests: casting, closing, publishing.

Rounds themselves come from ``round_helpers`` (the public API, as officials would do it).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from stemmen.audit.chain import BALLOT_ACCEPTED
from tests.integration.round_helpers import move, resident

Auth = Callable[..., dict[str, str]]


class StoredBallots(NamedTuple):
    """What the database holds of a round's ballots, read past the service."""

    ballots: set[str]  # receipt hashes of the stored ballots
    events: set[str]  # receipts of their ballot.accepted events, in the chain or waiting
    waiting: int  # of those events, how many still wait to be sealed (audit_pending)


async def stored_ballots(database_url: str, round_id: str) -> StoredBallots:
    """The round's stored ballots and their ``ballot.accepted`` events, read with a fresh
    engine (the app's may be the one a fault test broke). An event is either in the audit log
    or committed with its ballot and still waiting to be sealed into it (``audit_pending``);
    fails when one is in both, or twice in either: each is logged exactly once.

    The three reads share one snapshot (REPEATABLE READ on PostgreSQL; SQLite's transactions
    are serialisable): a sealer moving events from waiting into the log between two reads
    would otherwise make them look lost."""
    snapshot = {"isolation_level": "REPEATABLE READ"} if database_url.startswith("postgres") else {}
    engine = create_async_engine(database_url, **snapshot)
    try:
        async with engine.connect() as connection:
            if not snapshot:
                await connection.exec_driver_sql("BEGIN")  # one read transaction on SQLite
            ballots = {
                row[0]
                for row in await connection.execute(
                    sa.text("SELECT receipt_hash FROM ballots WHERE round_id = :r"),
                    {"r": round_id},
                )
            }
            events: list[str] = []
            waiting = 0
            for table in ("audit_events", "audit_pending"):
                payloads = await connection.execute(
                    sa.text(f"SELECT payload FROM {table} WHERE round_id = :r AND kind = :k"),
                    {"r": round_id, "k": BALLOT_ACCEPTED},
                )
                for (payload,) in payloads:
                    value = payload if isinstance(payload, dict) else json.loads(payload)
                    events.append(value["receipt"])
                    waiting += table == "audit_pending"
    finally:
        await engine.dispose()
    assert len(events) == len(set(events)), "a ballot event logged twice"
    return StoredBallots(ballots, set(events), waiting)


async def cast(
    client: Any,
    auth: Auth,
    round_id: str,
    subject: str,
    home: str,
    ballot: Mapping[str, Any],
    *,
    area: str | None = None,
    birth_date: str = "1980-04-01",
) -> Any:
    """A resident living in ``home`` casts ``ballot``; the raw response."""
    body: dict[str, Any] = {"ballot": dict(ballot)}
    if area is not None:
        body["area"] = area
    return await client.post(
        f"/api/rounds/{round_id}/ballots",
        json=body,
        headers=resident(auth, subject, home, birth_date),
    )


async def cast_ok(
    client: Any,
    auth: Auth,
    round_id: str,
    subject: str,
    home: str,
    ballot: Mapping[str, Any],
    **kwargs: Any,
) -> dict[str, Any]:
    response = await cast(client, auth, round_id, subject, home, ballot, **kwargs)
    assert response.status_code == 201, response.text
    receipt: dict[str, Any] = response.json()
    return receipt


async def close(client: Any, auth: Auth, round_id: str) -> dict[str, Any]:
    return await move(client, auth, round_id, "closed")


async def publish(client: Any, auth: Auth, round_id: str) -> dict[str, Any]:
    return await move(client, auth, round_id, "published")


async def result_of(
    client: Any, round_id: str, headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    response = await client.get(f"/api/rounds/{round_id}/result", headers=dict(headers or {}))
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def counted_receipts(client: Any, auth: Auth, round_id: str) -> list[str]:
    """The receipts in the published record of a round (officials may read it after the close)."""
    response = await client.get(
        f"/api/rounds/{round_id}/cast-vote-record", headers=auth("official")
    )
    assert response.status_code == 200, response.text
    record = response.json()
    if record["format"] == "pabulib":
        from stemmen.budget.pabulib import parse_pabulib

        return sorted(
            voter.id
            for area in record["areas"]
            for voter in parse_pabulib(area["pabulib"])[1].voters
        )
    return [ballot["receipt"] for ballot in record["ballots"]]
