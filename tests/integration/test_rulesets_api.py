"""Rule sets over the API: the council's frame, validated, content-addressed and immutable."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support import PROJECT_ROOT

EXAMPLES = PROJECT_ROOT / "examples" / "rulesets"


def example(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    return document


async def test_official_publishes_a_rule_set_and_anyone_reads_it(client: Any, auth: Any) -> None:
    created = await client.post(
        "/api/rulesets",
        json={"slug": "nijmegen-buurtbegroting", "document": example("nijmegen-buurtbegroting")},
        headers=auth("official"),
    )
    assert created.status_code == 201, created.text
    version = created.json()["version"]
    assert len(version["hash"]) == 64
    assert version["number"] == 1

    listed = await client.get("/api/rulesets")
    assert [rule_set["slug"] for rule_set in listed.json()] == ["nijmegen-buurtbegroting"]
    fetched = await client.get(f"/api/ruleset-versions/{version['hash']}")
    assert fetched.json()["document"] == example("nijmegen-buurtbegroting")


async def test_identical_content_gets_the_same_version_id(client: Any, auth: Any) -> None:
    document = example("wijkpeiling")
    first = await client.post(
        "/api/rulesets", json={"slug": "peiling", "document": document}, headers=auth("official")
    )
    reordered = dict(reversed(list(document.items())))
    again = await client.post(
        "/api/rulesets/peiling/versions", json={"document": reordered}, headers=auth("admin")
    )
    assert again.status_code == 200
    assert again.json()["created"] is False
    assert again.json()["version"]["hash"] == first.json()["version"]["hash"]


async def test_changed_content_is_a_new_version(client: Any, auth: Any) -> None:
    document = example("wijkpeiling")
    await client.post(
        "/api/rulesets", json={"slug": "peiling", "document": document}, headers=auth("official")
    )
    document["title"] = "Wijkpeiling 2027"
    second = await client.post(
        "/api/rulesets/peiling/versions", json={"document": document}, headers=auth("official")
    )
    assert second.status_code == 201
    assert second.json()["version"]["number"] == 2
    rule_set = await client.get("/api/rulesets/peiling")
    assert len(rule_set.json()["versions"]) == 2


async def test_invalid_rule_set_is_refused_naming_the_field(client: Any, auth: Any) -> None:
    document = example("nijmegen-buurtbegroting")
    document["ballot"]["format"] = "raffle"
    response = await client.post(
        "/api/rulesets", json={"slug": "broken", "document": document}, headers=auth("official")
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "ruleset_invalid"
    assert "/ballot/format" in body["message"]
    assert any(problem["path"] == "/ballot/format" for problem in body["details"]["problems"])
    assert body["message_nl"]
    assert (await client.get("/api/rulesets")).json() == []


async def test_export_gives_the_canonical_bytes_the_hash_covers(client: Any, auth: Any) -> None:
    import hashlib

    created = await client.post(
        "/api/rulesets",
        json={"slug": "peiling", "document": example("wijkpeiling")},
        headers=auth("official"),
    )
    version_hash = created.json()["version"]["hash"]
    exported = await client.get(f"/api/ruleset-versions/{version_hash}/export")
    assert exported.status_code == 200
    assert hashlib.sha256(exported.content).hexdigest() == version_hash
    imported = await client.post(
        "/api/rulesets/peiling/import",
        content=exported.content,
        headers={**auth("official"), "Content-Type": "application/json"},
    )
    assert imported.status_code == 200
    assert imported.json()["version"]["hash"] == version_hash


async def test_import_of_a_broken_file_says_so(client: Any, auth: Any) -> None:
    await client.post(
        "/api/rulesets",
        json={"slug": "peiling", "document": example("wijkpeiling")},
        headers=auth("official"),
    )
    response = await client.post(
        "/api/rulesets/peiling/import",
        content=b"[1, 2",
        headers={**auth("official"), "Content-Type": "application/json"},
    )
    assert response.status_code in (400, 422)


async def test_a_version_cannot_change_the_instrument(client: Any, auth: Any) -> None:
    await client.post(
        "/api/rulesets",
        json={"slug": "peiling", "document": example("wijkpeiling")},
        headers=auth("official"),
    )
    response = await client.post(
        "/api/rulesets/peiling/versions",
        json={"document": example("preferendum")},
        headers=auth("official"),
    )
    assert response.status_code == 422
    assert response.json()["details"]["path"] == "/instrument"


async def test_an_unpinned_version_can_be_deleted_by_an_admin(client: Any, auth: Any) -> None:
    created = await client.post(
        "/api/rulesets",
        json={"slug": "peiling", "document": example("wijkpeiling")},
        headers=auth("official"),
    )
    version_hash = created.json()["version"]["hash"]
    assert (
        await client.delete(f"/api/ruleset-versions/{version_hash}", headers=auth("admin"))
    ).status_code == 204
    assert (await client.get(f"/api/ruleset-versions/{version_hash}")).status_code == 404


async def test_the_json_schema_is_published(client: Any) -> None:
    response = await client.get("/api/ruleset-schema")
    assert response.status_code == 200
    assert response.json()["$schema"].startswith("https://json-schema.org/")


async def test_publishing_is_logged_in_the_global_audit_chain(
    client: Any, auth: Any, settings: Any
) -> None:
    from stemmen.audit.chain import verify_chain
    from stemmen.audit.log import chain_entries
    from stemmen.db import create_engine, session_maker

    await client.post(
        "/api/rulesets",
        json={"slug": "peiling", "document": example("wijkpeiling")},
        headers=auth("official", name="J. de Vries"),
    )
    engine = create_engine(settings)
    try:
        async with session_maker(engine)() as session:
            entries = await chain_entries(session, "global")
    finally:
        await engine.dispose()
    assert [entry.kind for entry in entries] == ["ruleset.published"]
    assert entries[0].actor == "J. de Vries"
    assert verify_chain(entries).ok


async def test_a_pinned_version_can_never_be_deleted_or_changed(
    client: Any, auth: Any, settings: Any
) -> None:
    import sqlalchemy as sa
    from sqlalchemy.exc import IntegrityError

    from stemmen.db import create_engine, session_maker
    from stemmen.rounds.models import Round

    created = await client.post(
        "/api/rulesets",
        json={"slug": "peiling", "document": example("wijkpeiling")},
        headers=auth("official"),
    )
    version_hash = created.json()["version"]["hash"]
    engine = create_engine(settings)
    try:
        async with session_maker(engine)() as session:
            session.add(
                Round(
                    title="Peiling",
                    instrument="wijkpeiling",
                    ruleset_hash=version_hash,
                    created_by="official-1",
                )
            )
            await session.commit()
        refused = await client.delete(
            f"/api/ruleset-versions/{version_hash}", headers=auth("admin")
        )
        assert refused.status_code == 409
        assert refused.json()["code"] == "ruleset_version_pinned"
        assert (await client.get(f"/api/ruleset-versions/{version_hash}")).json()[
            "pinned_by_rounds"
        ] == 1
        with pytest.raises(IntegrityError):
            async with engine.begin() as connection:
                await connection.execute(sa.text("UPDATE rule_set_versions SET number = 7"))
    finally:
        await engine.dispose()
