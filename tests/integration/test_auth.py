"""Every way a token can be wrong is a 401; a right token with the wrong role is a 403."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest

from tests.conftest import TEST_JWT_SECRET

PROTECTED = "/api/rulesets"
VALID_DOCUMENT_SLUG = {"slug": "probe", "document": {}}


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "sub": "official-1",
        "role": "official",
        "iss": "stemmen-dev",
        "aud": "stemmen",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    return claims


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_no_token_is_401(client: Any) -> None:
    response = await client.post(PROTECTED, json=VALID_DOCUMENT_SLUG)
    assert response.status_code == 401
    assert "token" in response.json()["message"]


@pytest.mark.parametrize(
    ("name", "token_factory"),
    [
        (
            "expired",
            lambda: jwt.encode(
                _claims(
                    exp=int(time.time()) - 3600,
                    iat=int(time.time()) - 7200,
                    nbf=int(time.time()) - 7200,
                ),
                TEST_JWT_SECRET,
                "HS256",
            ),
        ),
        (
            "not yet valid",
            lambda: jwt.encode(_claims(nbf=int(time.time()) + 3600), TEST_JWT_SECRET, "HS256"),
        ),
        (
            "wrong key",
            lambda: jwt.encode(_claims(), "another-secret-that-is-also-long-enough-0000", "HS256"),
        ),
        (
            "wrong audience",
            lambda: jwt.encode(_claims(aud="someone-else"), TEST_JWT_SECRET, "HS256"),
        ),
        (
            "wrong issuer",
            lambda: jwt.encode(_claims(iss="https://evil.example"), TEST_JWT_SECRET, "HS256"),
        ),
        ("disallowed algorithm", lambda: jwt.encode(_claims(), TEST_JWT_SECRET, "HS512")),
        ("unknown role", lambda: jwt.encode(_claims(role="superuser"), TEST_JWT_SECRET, "HS256")),
        (
            "missing expiry",
            lambda: jwt.encode(
                {k: v for k, v in _claims().items() if k != "exp"}, TEST_JWT_SECRET, "HS256"
            ),
        ),
        ("garbage", lambda: "not.a.token"),
    ],
)
async def test_untrustworthy_token_is_401(client: Any, name: str, token_factory: Any) -> None:
    response = await client.post(
        PROTECTED, json=VALID_DOCUMENT_SLUG, headers=_bearer(token_factory())
    )
    assert response.status_code == 401, name


def _b64(data: dict[str, Any] | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


async def test_alg_none_token_is_401(client: Any) -> None:
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(role='admin'))}."
    response = await client.post(PROTECTED, json=VALID_DOCUMENT_SLUG, headers=_bearer(unsigned))
    assert response.status_code == 401


async def test_tampered_payload_is_401(client: Any, token: Any) -> None:
    header, _, signature = token("resident").split(".")
    forged = f"{header}.{_b64(_claims(role='admin', sub='resident-1'))}.{signature}"
    response = await client.post(PROTECTED, json=VALID_DOCUMENT_SLUG, headers=_bearer(forged))
    assert response.status_code == 401


async def test_wrong_scheme_is_401(client: Any, token: Any) -> None:
    response = await client.post(
        PROTECTED, json=VALID_DOCUMENT_SLUG, headers={"Authorization": f"Basic {token('official')}"}
    )
    assert response.status_code == 401


@pytest.mark.parametrize("role", ["resident", "auditor"])
async def test_role_without_the_right_is_403(client: Any, auth: Any, role: str) -> None:
    response = await client.post(PROTECTED, json=VALID_DOCUMENT_SLUG, headers=auth(role))
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


async def test_official_passes_the_guard(client: Any, auth: Any) -> None:
    response = await client.post(PROTECTED, json=VALID_DOCUMENT_SLUG, headers=auth("official"))
    assert response.status_code not in (401, 403)


async def test_only_admins_delete_versions(client: Any, auth: Any) -> None:
    response = await client.delete("/api/ruleset-versions/" + "0" * 64, headers=auth("official"))
    assert response.status_code == 403
