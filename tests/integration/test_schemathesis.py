"""Hostile input on every endpoint, generated from the app's own OpenAPI schema.

schemathesis drives the app in-process (ASGI, no network) with valid and invalid requests,
anonymously and with valid tokens of each role, against a database holding real rounds (a
budget round and a preferendum in voting, a budget round in review), so that generated ids
sometimes hit rows that exist. Every answer must be a non-5xx, with a status, content type,
headers and body the published schema documents.

Sized for the regular suite (a few examples per endpoint, role and database); set
STEMMEN_FUZZ_EXAMPLES to go deeper, or run the `slow` deep run on SQLite.
"""

from __future__ import annotations

import os
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

schemathesis = pytest.importorskip("schemathesis")

from schemathesis import GenerationMode, checks  # noqa: E402
from schemathesis.python import asgi as schemathesis_asgi  # noqa: E402

from stemmen.ratelimit import AuthFailureLimiter, CastLimiter  # noqa: E402
from tests.conftest import run_coroutine  # noqa: E402
from tests.integration.round_helpers import (  # noqa: E402
    open_budget_round,
    open_preferendum_round,
)

REGULAR_EXAMPLES = int(os.environ.get("STEMMEN_FUZZ_EXAMPLES", "4"))
DEEP_EXAMPLES = 60

CHECKS = (
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
)


# Found by this test and reported to the owners; each shows as a warning until fixed, and the
# test fails on anything not listed. (operation, check) -> what is wrong and whose it is.
KNOWN_ISSUES: dict[tuple[str, str], str] = {}


@dataclass
class Seeded:
    """Ids of rows that exist, keyed by the path parameter names the API uses."""

    values: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, *values: object) -> None:
        self.values.setdefault(name, []).extend(str(value) for value in values)


async def _seed(settings: Any, auth: Callable[..., dict[str, str]]) -> Seeded:
    from litestar.testing import AsyncTestClient

    from stemmen.app import create_app

    seeded = Seeded()
    async with AsyncTestClient(app=create_app(settings)) as client:
        budget = await open_budget_round(client, auth)
        preferendum = await open_preferendum_round(client, auth)
        in_review = await open_budget_round(client, auth, title="In review", open_voting=False)
        seeded.add("round_id", budget.round_id, preferendum.round_id, in_review.round_id)
        seeded.add("version_hash", budget.ruleset_hash, preferendum.ruleset_hash)
        seeded.add("slug", "test-buurtbegroting", "test-preferendum")
        for ids in (*budget.proposals.values(), *in_review.proposals.values()):
            seeded.add("proposal_id", *ids)
        seeded.add("key", *preferendum.questions)
    return seeded


@dataclass
class Findings:
    failures: Counter[tuple[str, str, int]] = field(default_factory=Counter)
    examples: dict[tuple[str, str, int], str] = field(default_factory=dict)
    statuses: Counter[int] = field(default_factory=Counter)

    def report(self) -> str:
        lines = [
            f"{count} x {label}: {check} answered {status}"
            for (label, check, status), count in sorted(self.failures.items())
        ]
        lines += [f"  e.g. {example}" for example in list(self.examples.values())[:10]]
        return "\n".join(lines)


def _fuzz(
    app: Any, role_headers: dict[str, dict[str, str]], seeded: Seeded, examples: int
) -> dict[str, Findings]:
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
    # Our own tokens (or none) instead of random Authorization values: those only ever
    # meet the token check, which tests/integration/test_auth*.py covers.
    schema.config.generation.update(
        with_security_parameters=False,
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    )
    findings = {role: Findings() for role in role_headers}
    for result in schema.get_all_operations():
        _exercise(result.ok(), role_headers, seeded, examples, findings)
    return findings


def _exercise(
    operation: Any,
    role_headers: dict[str, dict[str, str]],
    seeded: Seeded,
    examples: int,
    findings: dict[str, Findings],
) -> None:
    # Each generated request is sent once per role. Derandomized generation gives every
    # role the same requests anyway, and generating them is most of this test's cost, so
    # generating them once per role would quadruple the time for no new input.
    @given(case=operation.as_strategy(), data=st.data())
    @hypothesis_settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def exercise(case: Any, data: Any) -> None:
        for name in list(case.path_parameters or {}):
            known = seeded.values.get(name)
            if known and data.draw(st.booleans(), label=f"real {name}"):
                case.path_parameters[name] = data.draw(st.sampled_from(known))
        for role, headers in role_headers.items():
            _send(operation, case, headers, findings[role])

    exercise()


def _send(operation: Any, case: Any, headers: dict[str, str], findings: Findings) -> None:
    response = case.call(headers=headers)
    findings.statuses[response.status_code] += 1
    try:
        case.validate_response(response, checks=CHECKS, headers=headers)
    except (AssertionError, Exception, BaseExceptionGroup):
        pass  # which checks failed is found out below, one at a time
    else:
        return  # one validation for all checks costs less than one per check
    for check in CHECKS:
        try:
            case.validate_response(response, checks=[check], headers=headers)
        except (AssertionError, Exception, BaseExceptionGroup):
            key = (operation.label, check.__name__, response.status_code)
            findings.failures[key] += 1
            findings.examples.setdefault(
                key,
                f"{case.method} {case.formatted_path} query={case.query} "
                f"body={str(case.body)[:160]!r} -> {response.status_code} "
                f"{response.text[:200]!r}",
            )


ROLES = {
    "anonymous": None,
    "resident": {"subject": "fuzz-resident", "areas": ["WK026801"], "birth_date": "1980-04-01"},
    "official": {"subject": "fuzz-official"},
    "admin": {"subject": "fuzz-admin"},
}


def _run(settings: Any, auth: Callable[..., dict[str, str]], examples: int) -> dict[str, Findings]:
    from stemmen.app import create_app

    seeded = run_coroutine(_seed(settings, auth))
    app = create_app(settings)
    # Thousands of requests from one test address: the limits are tested in test_ratelimit.py.
    app.state.auth_failures = AuthFailureLimiter(10**9, 60)
    app.state.cast_limits = CastLimiter(10**9, 60)
    role_headers = {
        role: auth(role, **claims) if claims is not None else {} for role, claims in ROLES.items()
    }
    try:
        return _fuzz(app, role_headers, seeded, examples)
    finally:
        schemathesis_asgi.shutdown_lifespans()


def _assert_clean(findings: dict[str, Findings]) -> None:
    for found in findings.values():
        for label, check, status in list(found.failures):
            if (label, check) in KNOWN_ISSUES:
                warnings.warn(
                    f"known issue, {label} answered {status}: {KNOWN_ISSUES[label, check]}",
                    stacklevel=1,
                )
                del found.failures[label, check, status]
    problems = {role: found.report() for role, found in findings.items() if found.failures}
    assert not problems, "\n".join(f"--- as {role}:\n{text}" for role, text in problems.items())
    answered = Counter[int]()
    for found in findings.values():
        answered.update(found.statuses)
    # The run must have reached past the guards and the 404s, or it proves little.
    assert any(200 <= status < 300 for status in answered), answered
    assert {401, 403, 404} & set(answered), answered


def test_every_endpoint_answers_inside_its_schema_and_never_with_a_5xx(
    settings: Any, auth: Callable[..., dict[str, str]]
) -> None:
    # PostgreSQL answers slower per request; the schema is the same, so fewer examples there.
    examples = REGULAR_EXAMPLES if settings.is_sqlite else max(1, REGULAR_EXAMPLES - 1)
    _assert_clean(_run(settings, auth, examples))


@pytest.mark.slow
def test_deep_fuzz_on_sqlite(settings: Any, auth: Callable[..., dict[str, str]]) -> None:
    if not settings.is_sqlite:
        pytest.skip("the deep run is sized for SQLite; the regular run covers PostgreSQL")
    _assert_clean(_run(settings, auth, DEEP_EXAMPLES))
