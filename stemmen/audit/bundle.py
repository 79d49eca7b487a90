"""The published bundle of a round: one JSON document an auditor verifies with no server.

The format (``stemmen-bundle/1``) is specified in ``docs/bundle.md``; this module builds and
reads it. A bundle is a single JSON object written as RFC 8785 canonical JSON, so the SHA-256
of the file is a stable id to cite. Its parts:

- ``ruleset``: the pinned rule-set version document and its hash;
- ``round``: the round definition (areas with budgets and projects, or questions with
  options and methods) and its phases with times;
- ``cast_vote_record``: per area a pabulib ``.pb`` text (budgets), or every ballot's answers
  (preferenda), each ballot with its receipt hash and nonce, sorted by receipt;
- ``receipts`` and ``merkle_root``: the counted ballots' receipts, ascending, and their
  RFC 6962 tree head;
- ``results``: what the service published, with the engines' explanation;
- ``seed``: the tie-break seed revealed at publication and its commitment;
- ``log``: the round's audit-log chain and its head hash.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from stemmen.audit.canonical import canonical_bytes, canonical_hash
from stemmen.audit.chain import LogEntry
from stemmen.audit.merkle import receipt_root

__all__ = [
    "BUDGET",
    "BUDGET_INSTRUMENTS",
    "BUNDLE_FORMAT",
    "NONCE_COLUMN",
    "PHASES",
    "PREFERENDUM",
    "PREFERENDUM_INSTRUMENTS",
    "AreaBallot",
    "BundleError",
    "assemble_bundle",
    "budget_area_pabulib",
    "cents_of",
    "closing_payload",
    "dump_bundle",
    "family_of",
    "load_bundle",
    "opening_payload",
    "preferendum_tally_record",
    "publication_payload",
    "publishable_allocation",
    "results_hash",
    "round_frame",
    "round_frame_hash",
]

BUNDLE_FORMAT = "stemmen-bundle/1"
BUDGET = "budget"
PREFERENDUM = "preferendum"
BUDGET_INSTRUMENTS = ("buurtbegroting", "wijkbudget", "burgerbegroting")
PREFERENDUM_INSTRUMENTS = ("preferendum", "wijkpeiling", "stadspeiling", "peiling")
# Every phase a round can be in, in the only order it may pass through them.
PHASES = ("draft", "submission", "review", "supports", "voting", "closed", "published")
# The VOTES column of a budget round's .pb that holds each ballot's receipt nonce (hex).
NONCE_COLUMN = "nonce"
CHANNEL_COLUMN = "voting_method"


class BundleError(ValueError):
    """A bundle that cannot be read or built; the message says which part."""


def _refuse_float(text: str) -> Any:
    raise BundleError(f"the bundle contains the non-integer number {text}; exact values only")


def load_bundle(source: bytes | str | Path) -> dict[str, Any]:
    """Read a bundle from a path, or from its bytes or text. Refuses non-integer numbers."""
    if isinstance(source, Path):
        source = source.read_bytes()
    try:
        value = json.loads(source, parse_float=_refuse_float, parse_constant=_refuse_float)
    except json.JSONDecodeError as error:
        raise BundleError(f"not JSON: {error}") from error
    if not isinstance(value, dict):
        raise BundleError("a bundle is a JSON object")
    return value


def dump_bundle(bundle: Mapping[str, Any]) -> bytes:
    """The bundle as canonical JSON bytes (write them to a file as they are)."""
    return canonical_bytes(bundle)


def round_frame(round_definition: Mapping[str, Any]) -> dict[str, Any]:
    """What voting opens on: the round definition without its phases (their times change)."""
    return {key: value for key, value in round_definition.items() if key != "phases"}


def round_frame_hash(round_definition: Mapping[str, Any]) -> str:
    """Hash of :func:`round_frame`, logged when voting opens (payload ``round_hash``)."""
    return canonical_hash(round_frame(round_definition))


def results_hash(results: Any) -> str:
    """Hash of the bundle's ``results``, logged when they are published."""
    return canonical_hash(results)


def publishable_allocation(allocation_json: Mapping[str, Any]) -> dict[str, Any]:
    """A budget engine's allocation JSON as the bundle publishes it.

    Solver diagnostics that are not exact and not reproducible (a run time in seconds) are
    left out: a published result holds only what anyone recomputes to the same bytes.
    """
    result = dict(allocation_json)
    solver = result.get("solver")
    if isinstance(solver, Mapping):
        result["solver"] = {
            key: value for key, value in solver.items() if not isinstance(value, float)
        }
    return result


def opening_payload(
    previous_phase: str, ruleset_hash: str, round_definition: Mapping[str, Any]
) -> dict[str, Any]:
    """Payload of the ``round.phase_changed`` event that opens voting (what verify reads)."""
    return {
        "from": previous_phase,
        "to": "voting",
        "ruleset_hash": ruleset_hash,
        "round_hash": round_frame_hash(round_definition),
    }


def closing_payload(receipt_hashes: Iterable[str]) -> dict[str, Any]:
    """Payload of ``round.closed``: the ballot tree root and the number of counted ballots."""
    receipts = list(receipt_hashes)
    return {"merkle_root": receipt_root(receipts), "ballots": len(receipts)}


def publication_payload(results: Any) -> dict[str, Any]:
    """Payload of ``result.published``."""
    return {"results_hash": results_hash(results)}


@dataclass(frozen=True)
class AreaBallot:
    """One counted budget ballot as the .pb file publishes it."""

    receipt: str
    nonce: str
    vote: tuple[str, ...]
    points: tuple[int, ...] | None = None
    channel: str | None = None


def budget_area_pabulib(
    *,
    round_definition: Mapping[str, Any],
    area_code: str,
    vote_type: str,
    ballots: Iterable[AreaBallot],
    meta: Mapping[str, str] | None = None,
) -> str:
    """The ``.pb`` text of one area: projects and budget from the round, ballots by receipt.

    Costs are written in euros with cents (``1234.50``): any pabulib tool reads them. The
    voter id is the receipt hash; the ``nonce`` column lets anyone recompute it.
    """
    from stemmen.budget.model import Instance, Profile, Project, Voter
    from stemmen.budget.pabulib import write_pabulib

    area = _area(round_definition, area_code)
    projects = tuple(
        Project(
            id=str(project["id"]),
            cost=int(project["cost_cents"]),
            name=str(project.get("name", "")),
            categories=tuple([str(project["category"])] if project.get("category") else []),
        )
        for project in area["projects"]
    )
    index_of = {project.id: index for index, project in enumerate(projects)}
    ordered = sorted(ballots, key=lambda ballot: ballot.receipt)
    with_channel = any(ballot.channel for ballot in ordered)
    voters = []
    for ballot in ordered:
        attributes = {NONCE_COLUMN: ballot.nonce}
        if with_channel:
            attributes[CHANNEL_COLUMN] = ballot.channel or ""
        voters.append(
            Voter(
                id=ballot.receipt,
                projects=tuple(index_of[project_id] for project_id in ballot.vote),
                points=ballot.points,
                attributes=attributes,
            )
        )
    header = ["voter_id", "vote"]
    if vote_type in ("cumulative", "scoring"):
        header.append("points")
    header.append(NONCE_COLUMN)
    if with_channel:
        header.append(CHANNEL_COLUMN)
    full_meta = {
        "description": str(round_definition.get("title", "")),
        "country": "Netherlands",
        "unit": area_code,
        "instance": str(round_definition["id"]),
        "num_projects": str(len(projects)),
        "num_votes": str(len(voters)),
        "budget": "",
        "vote_type": vote_type,
        "currency": "EUR",
        **(meta or {}),
    }
    instance = Instance(
        projects=projects,
        budget=int(area["budget_cents"]),
        unit=100,
        meta={key: value for key, value in full_meta.items() if key != "budget"},
        project_columns=("project_id", "cost", "name")
        + (("category",) if any(p.categories for p in projects) else ()),
    )
    profile = Profile(vote_type=vote_type, voters=tuple(voters), voter_columns=tuple(header))  # type: ignore[arg-type]
    return write_pabulib(instance, profile)


def _area(round_definition: Mapping[str, Any], area_code: str) -> Mapping[str, Any]:
    for area in round_definition.get("areas", []):
        if area.get("code") == area_code:
            return area  # type: ignore[no-any-return]
    raise BundleError(f"the round has no area {area_code!r}")


def _budget_receipts(cast_vote_record: Mapping[str, Any]) -> list[str]:
    from stemmen.budget.pabulib import parse_pabulib

    receipts: list[str] = []
    for area in cast_vote_record["areas"]:
        _, profile = parse_pabulib(area["pabulib"])
        receipts.extend(voter.id for voter in profile.voters)
    return receipts


def family_of(round_definition: Mapping[str, Any]) -> str:
    instrument = round_definition.get("instrument")
    if instrument in BUDGET_INSTRUMENTS:
        return BUDGET
    if instrument in PREFERENDUM_INSTRUMENTS:
        return PREFERENDUM
    raise BundleError(f"unknown instrument {instrument!r}")


def assemble_bundle(
    *,
    round_definition: Mapping[str, Any],
    ruleset_document: Mapping[str, Any],
    cast_vote_record: Mapping[str, Any],
    results: Sequence[Mapping[str, Any]],
    log_entries: Sequence[LogEntry],
    seed: str,
    seed_commitment: str,
    engine_version: str | None = None,
) -> dict[str, Any]:
    """Put a round's published parts together, deriving receipts, tree head and log head.

    ``cast_vote_record`` is ``{"format": "pabulib", "areas": [{"area", "pabulib"}]}`` for a
    budget round and ``{"format": "stemmen-ballots/1", "ballots": [{"receipt", "nonce",
    "answers"}]}`` for a preferendum.
    """
    if family_of(round_definition) == BUDGET:
        receipts = _budget_receipts(cast_vote_record)
    else:
        receipts = [str(ballot["receipt"]) for ballot in cast_vote_record["ballots"]]
    receipts.sort()
    if engine_version is None:
        from stemmen import __version__ as engine_version
    return {
        "format": BUNDLE_FORMAT,
        "engine": {"name": "stemmen", "version": engine_version},
        "ruleset": {"hash": canonical_hash(ruleset_document), "document": ruleset_document},
        "round": round_definition,
        "cast_vote_record": cast_vote_record,
        "receipts": receipts,
        "merkle_root": receipt_root(receipts),
        "results": list(results),
        "seed": {"commitment": seed_commitment, "value": seed},
        "log": {
            "entries": [entry.to_json() for entry in log_entries],
            "head": log_entries[-1].hash if log_entries else None,
        },
    }


def preferendum_tally_record(bundle: Mapping[str, Any]) -> dict[str, Any]:
    """The tally engine's multi-question JSON record (``docs/tally-json.md``) of a bundle.

    Questions, options and methods come from the round; the scale from the question or else
    the rule set's ``ballot.scale``; the tie-break is the lottery with the revealed seed when
    the rule set's ``tie_break`` has one; ``tally.unranked_below_ranked`` and
    ``tally.quorum`` come from the rule set. Each ballot keeps its ``receipt``.
    """
    ruleset = bundle["ruleset"]["document"]
    settings = ruleset.get("tally", {})
    lottery = (
        [f"lottery:{bundle['seed']['value']}"] if "lottery" in ruleset.get("tie_break", []) else []
    )
    questions = []
    for question in bundle["round"]["questions"]:
        entry: dict[str, Any] = {
            "id": str(question["id"]),
            "options": [
                str(option["id"]) if isinstance(option, Mapping) else str(option)
                for option in question["options"]
            ],
            "method": str(question["method"]),
            "tie_break": lottery,
            "unranked_below_ranked": bool(settings.get("unranked_below_ranked", True)),
        }
        scale = question.get("scale") or ruleset.get("ballot", {}).get("scale")
        if scale:
            entry["scale"] = {key: value for key, value in scale.items() if key != "blank_allowed"}
        questions.append(entry)
    record: dict[str, Any] = {
        "questions": questions,
        "ballots": [
            {"receipt": ballot["receipt"], "answers": ballot["answers"]}
            for ballot in bundle["cast_vote_record"]["ballots"]
        ],
    }
    quorum = settings.get("quorum")
    if quorum:
        record["quorum"] = {key: value for key, value in quorum.items() if value is not None}
    return record


def cents_of(minor: int, unit: int) -> Fraction:
    """An amount in a .pb file's minor units as euro cents (exact)."""
    return Fraction(minor * 100, unit)
