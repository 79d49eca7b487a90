"""Attacks on sign-in and on other people's data, beyond test_auth.py's bad tokens.

HS/RS confusion against a server set up for RS256; role escalation through claims; one
resident reading or changing another's proposal or ballot; officials stopped where the rule
set or their role limits them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.integration.ballot_helpers import cast
from tests.integration.round_helpers import (
    budget_ruleset_without_supports,
    move,
    open_budget_round,
    publish_ruleset,
    resident,
)

AREA = "WK026801"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": "attacker",
        "role": "admin",
        "iss": "stemmen-dev",
        "aud": "stemmen",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    return claims


def _hand_signed(header: dict[str, Any], claims: dict[str, Any], key: bytes) -> str:
    """HMAC-signed by hand: PyJWT itself refuses to use a PEM key as an HMAC secret."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


# --- a server that verifies RS256 tokens with a public key ------------------------------------


@pytest.fixture(scope="module")
def rsa_keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    tmp_path = tmp_path_factory.mktemp("idp")
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_path = tmp_path / "idp-public.pem"
    public_path.write_bytes(
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private_pem, public_path


@pytest.fixture
async def rs_client(settings: Any, rsa_keys: tuple[str, Path]) -> AsyncIterator[Any]:
    from litestar.testing import AsyncTestClient

    from stemmen.app import create_app

    rs_settings = settings.model_copy(
        update={"jwt_algorithms": ["RS256"], "jwt_public_key_file": rsa_keys[1]}
    )
    async with AsyncTestClient(app=create_app(rs_settings)) as client:
        yield client


PROTECTED = "/api/rulesets"
PROBE = {"slug": "probe", "document": {}}


async def test_rs256_token_from_the_identity_provider_is_accepted(
    rs_client: Any, rsa_keys: tuple[str, Path]
) -> None:
    token = jwt.encode(_claims(role="official"), rsa_keys[0], algorithm="RS256")
    response = await rs_client.post(
        PROTECTED, json=PROBE, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code not in (401, 403), response.text


@pytest.mark.parametrize("algorithm", ["HS256", "HS384", "HS512"])
async def test_token_hmac_signed_with_the_public_key_is_401(
    rs_client: Any, rsa_keys: tuple[str, Path], algorithm: str
) -> None:
    public_pem = rsa_keys[1].read_bytes()
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
    header = {"alg": algorithm, "typ": "JWT"}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(_claims()).encode())}"
    signature = hmac.new(public_pem, signing_input.encode(), digest[algorithm]).digest()
    forged = f"{signing_input}.{_b64(signature)}"
    response = await rs_client.post(
        PROTECTED, json=PROBE, headers={"Authorization": f"Bearer {forged}"}
    )
    assert response.status_code == 401
    # Also with the key's trailing newline stripped, as some libraries normalise it.
    stripped = _hand_signed(header | {"alg": "HS256"}, _claims(), public_pem.strip())
    response = await rs_client.post(
        PROTECTED, json=PROBE, headers={"Authorization": f"Bearer {stripped}"}
    )
    assert response.status_code == 401


async def test_alg_none_and_foreign_keys_are_401_on_an_rs256_server(rs_client: Any) -> None:
    none_header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    unsigned = f"{none_header}.{_b64(json.dumps(_claims()).encode())}."
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    foreign = jwt.encode(_claims(), other, algorithm="RS256")
    for token in (unsigned, foreign):
        response = await rs_client.post(
            PROTECTED, json=PROBE, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 401


async def test_embedded_jwk_in_the_header_is_not_trusted(rs_client: Any) -> None:
    """A token carrying its own key (jwk/jku/x5u headers) must be verified with the server's
    key, never with the one it brings."""
    own = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(own.public_key()))
    token = jwt.encode(
        _claims(),
        own,
        algorithm="RS256",
        headers={"jwk": jwk, "jku": "https://evil.example/keys", "kid": "evil"},
    )
    response = await rs_client.post(
        PROTECTED, json=PROBE, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 401


# --- role escalation through claims ---------------------------------------------------------


@pytest.mark.parametrize(
    "claims",
    [
        {"role": "Admin"},
        {"role": "ADMIN "},
        {"role": ["resident", "admin"]},
        {"role": {"name": "admin"}},
        {"role": None},
    ],
    ids=["capitalised", "padded", "list", "object", "null"],
)
async def test_a_role_that_is_not_exactly_one_known_role_is_401(
    client: Any, token: Any, claims: dict[str, Any]
) -> None:
    from tests.conftest import TEST_JWT_SECRET

    forged = jwt.encode(_claims(**claims), TEST_JWT_SECRET, algorithm="HS256")
    response = await client.get(PROTECTED, headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


async def test_extra_admin_claims_do_not_make_a_resident_an_admin(client: Any, auth: Any) -> None:
    headers = auth(
        "resident",
        subject="sneaky",
        extra_claims={
            "roles": ["admin", "official"],
            "is_admin": True,
            "scope": "admin official",
            "groups": ["admins"],
            "realm_access": {"roles": ["admin"]},
        },
    )
    response = await client.post(PROTECTED, json=PROBE, headers=headers)
    assert response.status_code == 403
    response = await client.delete("/api/ruleset-versions/" + "0" * 64, headers=headers)
    assert response.status_code == 403


async def test_a_resident_cannot_open_or_close_voting(client: Any, auth: Any) -> None:
    budget = await open_budget_round(client, auth)
    response = await client.post(
        f"/api/rounds/{budget.round_id}/phase",
        json={"to": "closed"},
        headers=resident(auth, "r1", AREA),
    )
    assert response.status_code == 403


# --- one resident and another's data ----------------------------------------------------------


async def _round_in_submission(client: Any, auth: Any) -> str:
    from tests.integration.round_helpers import create_round

    ruleset_hash = await publish_ruleset(client, auth, budget_ruleset_without_supports())
    created = await create_round(client, auth, ruleset_hash)
    await move(client, auth, created["id"], "submission")
    return str(created["id"])


async def test_a_resident_cannot_change_or_see_another_residents_draft_proposal(
    client: Any, auth: Any
) -> None:
    round_id = await _round_in_submission(client, auth)
    created = await client.post(
        f"/api/rounds/{round_id}/proposals",
        json={
            "title": "Mijn idee",
            "description": "Van Anna",
            "area": AREA,
            "category": "Groen",
            "estimated_cost_cents": 1_000_000,
        },
        headers=resident(auth, "anna", AREA),
    )
    assert created.status_code == 201, created.text
    proposal_id = created.json()["id"]
    bert = resident(auth, "bert", AREA)
    changed = await client.patch(
        f"/api/rounds/{round_id}/proposals/{proposal_id}",
        json={"title": "Overgenomen door Bert"},
        headers=bert,
    )
    assert changed.status_code in (403, 404), changed.text
    seen = await client.get(f"/api/rounds/{round_id}/proposals/{proposal_id}", headers=bert)
    assert seen.status_code in (403, 404)
    listed = await client.get(f"/api/rounds/{round_id}/proposals", headers=bert)
    assert all(p["id"] != proposal_id for p in listed.json())
    mine = await client.get(
        f"/api/rounds/{round_id}/proposals/{proposal_id}", headers=resident(auth, "anna", AREA)
    )
    assert mine.json()["title"] == "Mijn idee"
    assert mine.json()["mine"] is True


async def test_a_resident_cannot_read_or_replace_another_residents_ballot(
    client: Any, auth: Any
) -> None:
    budget = await open_budget_round(client, auth)
    codes = [code for code, _ in budget.ballot[AREA]]
    anna = await cast(client, auth, budget.round_id, "anna", AREA, {"approvals": [codes[0]]})
    assert anna.status_code == 201
    # Bert's own ballot page shows nothing of Anna's choice.
    bert_view = await client.get(
        f"/api/rounds/{budget.round_id}/ballot", headers=resident(auth, "bert", AREA)
    )
    assert bert_view.status_code == 200
    assert anna.json()["receipt_hash"] not in bert_view.text
    # Bert casting is Bert's ballot: Anna's stays counted as she cast it.
    bert = await cast(client, auth, budget.round_id, "bert", AREA, {"approvals": [codes[1]]})
    assert bert.status_code == 201
    assert bert.json()["replaced_earlier_ballot"] is False
    # Choosing an area one does not live in does not reach another area's ballots.
    elsewhere = await cast(
        client, auth, budget.round_id, "bert", AREA, {"approvals": [codes[0]]}, area="WK026802"
    )
    assert elsewhere.status_code in (403, 422), elsewhere.text
    # The subject never appears in anything the service returns.
    assert "anna" not in json.dumps(anna.json())


# --- officials, where the rule set limits them ------------------------------------------------


async def test_an_official_cannot_set_a_budget_outside_the_councils_bounds(
    client: Any, auth: Any
) -> None:
    ruleset_hash = await publish_ruleset(client, auth, budget_ruleset_without_supports())
    response = await client.post(
        "/api/rounds",
        json={
            "ruleset_hash": ruleset_hash,
            "title": "Te ruim",
            "areas": [{"code": AREA, "name": "Oost", "budget_cents": 10_000_001}],
        },
        headers=auth("official"),
    )
    assert response.status_code == 422, response.text
    assert "budget" in response.text


async def test_an_official_cannot_use_an_area_outside_the_councils_frame(
    client: Any, auth: Any
) -> None:
    ruleset_hash = await publish_ruleset(client, auth, budget_ruleset_without_supports())
    response = await client.post(
        "/api/rounds",
        json={
            "ruleset_hash": ruleset_hash,
            "title": "Elders",
            "areas": [{"code": "WK036301", "name": "Amsterdam", "budget_cents": 2_000_000}],
        },
        headers=auth("official"),
    )
    assert response.status_code == 422, response.text


async def test_an_official_cannot_change_a_round_once_voting_is_open_or_vote_in_it(
    client: Any, auth: Any
) -> None:
    budget = await open_budget_round(client, auth)
    current = (await client.get(f"/api/rounds/{budget.round_id}", headers=auth("official"))).json()
    changed = await client.patch(
        f"/api/rounds/{budget.round_id}",
        json={"revision": current["revision"], "title": "Andere titel"},
        headers=auth("official"),
    )
    assert changed.status_code in (409, 422), changed.text
    voted = await client.post(
        f"/api/rounds/{budget.round_id}/ballots",
        json={"ballot": {"approvals": [budget.ballot[AREA][0][0]]}},
        headers=auth("official", areas=[AREA], birth_date="1980-04-01"),
    )
    assert voted.status_code == 403


async def test_an_official_of_one_round_cannot_act_on_another_where_the_rule_set_limits_them(
    client: Any, auth: Any
) -> None:
    """Under administration.officials "round-team" each round is its own team's: the official
    who runs one round is refused (403, nothing written) on another (test_round_team.py tries
    every write route)."""
    document = budget_ruleset_without_supports()
    document["administration"] = {"officials": "round-team"}
    ruleset_hash = await publish_ruleset(client, auth, document)
    anna, bert = auth("official", subject="anna"), auth("official", subject="bert")
    rounds = {}
    for who, headers in (("anna", anna), ("bert", bert)):
        created = await client.post(
            "/api/rounds",
            json={
                "ruleset_hash": ruleset_hash,
                "title": f"Ronde van {who}",
                "areas": [{"code": AREA, "name": "Oost", "budget_cents": 5_000_000}],
            },
            headers=headers,
        )
        assert created.status_code == 201, created.text
        rounds[who] = created.json()["id"]
    moved = await client.post(
        f"/api/rounds/{rounds['bert']}/phase", json={"to": "submission"}, headers=anna
    )
    assert moved.status_code == 403, moved.text
    assert moved.json()["code"] == "not_on_round_team"
    joined = await client.post(
        f"/api/rounds/{rounds['bert']}/team", json={"subject": "anna"}, headers=anna
    )
    assert joined.status_code == 403, joined.text
    unchanged = (await client.get(f"/api/rounds/{rounds['bert']}", headers=bert)).json()
    assert unchanged["phase"] == "draft"
    assert unchanged["revision"] == 1
    own = await client.post(
        f"/api/rounds/{rounds['anna']}/phase", json={"to": "submission"}, headers=anna
    )
    assert own.status_code == 200, own.text
