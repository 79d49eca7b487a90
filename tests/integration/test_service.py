"""The service's ground: health, OpenAPI, errors as 4xx a person can act on."""

from __future__ import annotations

from typing import Any


async def test_health_reports_the_database_reachable(client: Any) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"
    assert response.headers["x-request-id"]


async def test_openapi_document_is_served_as_3_1(client: Any) -> None:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1")
    assert "/api/rulesets" in document["paths"]


async def test_unknown_path_is_a_404_in_the_error_format(client: Any) -> None:
    response = await client.get("/api/nothing-here")
    assert response.status_code == 404
    assert set(response.json()) >= {"code", "message", "details"}


async def test_malformed_json_body_is_a_400_not_a_500(client: Any, auth: Any) -> None:
    response = await client.post(
        "/api/rulesets",
        content=b"{not json",
        headers={**auth("official"), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"


async def test_oversized_body_is_refused_with_413(client: Any, auth: Any) -> None:
    response = await client.post(
        "/api/rulesets",
        content=b'{"slug": "' + b"x" * 2_000_000 + b'"}',
        headers={**auth("official"), "Content-Type": "application/json"},
    )
    assert response.status_code == 413
