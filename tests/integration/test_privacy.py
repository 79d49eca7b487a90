"""Privacy: what the service writes to its logs and publishes never identifies a resident.

A whole round is run with residents whose subject ids, names and birth dates are distinctive
strings; afterwards none of them (nor their per-round pseudonyms, their tokens or their
network address) may appear in an info-level log line, in the published bundle, the
cast-vote record or the public audit log.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from stemmen.logs import JsonFormatter
from stemmen.pseudonyms import pseudonym
from tests.integration.ballot_helpers import close, publish
from tests.integration.round_helpers import open_budget_round

AREA = "WK026801"
SUBJECTS = [f"bsn-99887766{n}" for n in range(4)]
NAMES = [f"Jantje Privé-{n}" for n in range(4)]
BIRTH_DATE = "1979-11-23"


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def info_logs() -> Iterator[Collect]:
    collector = Collect()
    logger = logging.getLogger("stemmen")
    previous = logger.level
    logger.addHandler(collector)
    logger.setLevel(logging.INFO)
    try:
        yield collector
    finally:
        logger.removeHandler(collector)
        logger.setLevel(previous)


def _secrets(settings: Any, round_id: str, tokens: list[str]) -> dict[str, str]:
    found = {f"subject {s}": s for s in SUBJECTS}
    found |= {f"name {n}": n for n in NAMES}
    found["birth date"] = BIRTH_DATE
    for subject in SUBJECTS:
        found[f"pseudonym of {subject}"] = pseudonym(settings.pseudonym_key, round_id, subject)
    for number, token in enumerate(tokens):
        found[f"token {number}"] = token.split(".")[1]
    return found


def _leaks(text: str, secrets: dict[str, str]) -> list[str]:
    return [label for label, value in secrets.items() if value in text]


async def _voted_round(client: Any, auth: Any, token: Any) -> tuple[str, list[str], list[Any]]:
    budget = await open_budget_round(client, auth)
    codes = [code for code, _ in budget.ballot[AREA]]
    tokens, receipts = [], []
    for number, subject in enumerate(SUBJECTS):
        bearer = token("resident", subject, areas=[AREA], birth_date=BIRTH_DATE, name=NAMES[number])
        tokens.append(bearer)
        headers = {"Authorization": f"Bearer {bearer}", "X-Forwarded-For": "203.0.113.77"}
        response = await client.post(
            f"/api/rounds/{budget.round_id}/ballots",
            json={"ballot": {"approvals": [codes[number % len(codes)]]}},
            headers=headers,
        )
        assert response.status_code == 201, response.text
        receipts.append(response.json())
        # A refused ballot too: its message must not carry the voter into the log.
        await client.post(
            f"/api/rounds/{budget.round_id}/ballots",
            json={"ballot": {"approvals": ["no-such-project"]}},
            headers=headers,
        )
    return budget.round_id, tokens, receipts


async def test_info_logs_carry_no_identity_ballot_or_address(
    client: Any, auth: Any, token: Any, settings: Any, info_logs: Collect
) -> None:
    round_id, tokens, receipts = await _voted_round(client, auth, token)
    await close(client, auth, round_id)
    await publish(client, auth, round_id)
    assert info_logs.lines, "nothing was logged at info level; the test proved nothing"
    text = "\n".join(info_logs.lines)
    assert _leaks(text, _secrets(settings, round_id, tokens)) == []
    # No network address (the test client's, or the forwarded one).
    assert "testclient" not in text
    assert "203.0.113.77" not in text
    # No ballot contents: the receipts' recorded choices never reach the log.
    for receipt in receipts:
        assert json.dumps(receipt["recorded"]) not in text
        assert "approvals" not in text


async def test_published_bundle_and_records_carry_nothing_personal(
    client: Any, auth: Any, token: Any, settings: Any
) -> None:
    round_id, tokens, _ = await _voted_round(client, auth, token)
    await close(client, auth, round_id)
    await publish(client, auth, round_id)
    secrets = _secrets(settings, round_id, tokens)
    published = {
        "bundle": await client.get(f"/api/rounds/{round_id}/bundle"),
        "cast-vote record": await client.get(f"/api/rounds/{round_id}/cast-vote-record"),
        "audit log": await client.get(f"/api/rounds/{round_id}/log"),
        "result": await client.get(f"/api/rounds/{round_id}/result"),
    }
    for what, response in published.items():
        assert response.status_code == 200, (what, response.text[:200])
        assert _leaks(response.text, secrets) == [], what
        # Not even hashed subjects (a dictionary attack on a few million BSNs is cheap).
        for subject in SUBJECTS:
            assert hashlib.sha256(subject.encode()).hexdigest() not in response.text, what


async def test_the_receipt_check_reveals_no_one_elses_ballot(
    client: Any, auth: Any, token: Any
) -> None:
    round_id, _, receipts = await _voted_round(client, auth, token)
    await close(client, auth, round_id)
    await publish(client, auth, round_id)
    looked_up = await client.get(f"/api/rounds/{round_id}/receipts/{receipts[0]['receipt']}")
    assert looked_up.status_code == 200, looked_up.text
    for other in receipts[1:]:
        assert other["receipt_hash"] not in looked_up.text
    for subject in SUBJECTS:
        assert subject not in looked_up.text
