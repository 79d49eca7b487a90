"""Response and request bodies of the results API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class ResultRead(BaseModel):
    round: str
    instrument: str
    phase: str
    published: bool
    ballots: int = Field(
        description="Counted ballots (superseded and rejected paper ones left out)."
    )
    merkle_root: str = Field(description="RFC 6962 tree head over the counted ballots' receipts.")
    result_hash: str = Field(
        description="SHA-256 of the canonical JSON of `results`, logged at publication."
    )
    computed_at: datetime
    published_at: datetime | None
    seed: str | None = Field(description="The tie-break lottery seed, revealed at publication.")
    seed_commitment: str | None
    valid: bool = Field(description="False when a quorum was not met.")
    results: list[dict[str, Any]] = Field(
        description="Per area {area, allocation} for budgets; per question {question, tally, quorum}."
    )


class WhatIfRequest(BaseModel):
    rule: str = Field(
        description="A budget rule (greedy, greedy-no-skip, greedy-per-cost, max-welfare, mes, "
        "phragmen) or a tally method (approval, borda, schulze, majority-judgment, ...)."
    )
    options: dict[str, Any] = Field(
        default_factory=dict,
        description='Rule options, e.g. {"satisfaction": "cardinality", "completion": "add1"}.',
    )


class WhatIfRead(BaseModel):
    round: str
    rule: str
    options: dict[str, Any]
    stored_rule: str
    changes: bool = Field(description="Whether anything would differ from the stored result.")
    comparison: list[dict[str, Any]]
    note: str = "A what-if never changes the stored or published result."
