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


class BreakdownQuestion(BaseModel):
    answered: int = Field(description="Voters of the group who answered the question.")
    support: dict[str, int] = Field(
        description="Per option the group's voters who support it: ranked it first, approved "
        "it, or graded it above the middle of the scale."
    )


class BreakdownGroup(BaseModel):
    group: str = Field(description="An area code, or a channel (online, paper).")
    suppressed: bool = Field(
        description="True when the group is not shown: it has fewer voters than the rule "
        "set's min_group_size, or it is suppressed so that a small group cannot be computed "
        "as the total minus the others (which of the two is not said: that too could give a "
        "small group away). Then voters, support and questions are null."
    )
    voters: int | None
    support: dict[str, int] | None = Field(
        description="Budget rounds: per project id, the group's ballots that chose it."
    )
    questions: dict[str, BreakdownQuestion] | None = Field(
        description="Preferenda: per question, who answered and each option's support."
    )


class BreakdownTable(BaseModel):
    dimension: str = Field(description="What the groups are: area or channel.")
    area: str | None = Field(
        description="The area whose voters the table splits; null for the whole round."
    )
    voters: int = Field(description="The table's total voters (public with the result).")
    groups: list[BreakdownGroup]


class BreakdownRead(BaseModel):
    round: str
    instrument: str
    phase: str
    published: bool
    min_group_size: int = Field(
        description="The rule set's publication.min_group_size: the smallest group shown."
    )
    ballots: int
    dimensions: list[str] = Field(description="The dimensions this round is broken down by.")
    not_available: dict[str, str] = Field(
        description="Dimensions a council may ask for that this round cannot give, and why."
    )
    cast_vote_record_public: bool = Field(
        description="Whether the rule set publishes the cast-vote record; when it does, "
        "anyone can count every group from it, suppressed or not (docs/bundle.md)."
    )
    tables: list[BreakdownTable]
