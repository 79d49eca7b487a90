"""Request and response bodies of the proposals API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from stemmen.rounds.schemas import AREA_CODE_PATTERN, MAX_CENTS


class ProposalCreate(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=10_000)
    area: str = Field(pattern=AREA_CODE_PATTERN, description="The round area the proposal is for.")
    category: str | None = Field(
        default=None, max_length=100, description="One of the rule set's categories."
    )
    estimated_cost_cents: int = Field(
        ge=0, le=MAX_CENTS, description="Estimated cost in euro cents."
    )


class ProposalUpdate(BaseModel):
    """The author's changes during the submission phase; fields left out stay as they are."""

    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    area: str | None = Field(default=None, pattern=AREA_CODE_PATTERN)
    category: str | None = Field(default=None, max_length=100)
    estimated_cost_cents: int | None = Field(default=None, ge=0, le=MAX_CENTS)


class ProposalReview(BaseModel):
    decision: Literal["accept", "reject", "merge"]
    final_cost_cents: int | None = Field(
        default=None, gt=0, le=MAX_CENTS, description="Accept: the cost the municipality fixes."
    )
    reason: str | None = Field(
        default=None,
        max_length=5_000,
        description="Reject: why, in words the resident can read. Optional otherwise.",
    )
    merge_into: int | None = Field(
        default=None, ge=1, le=2**31 - 1, description="Merge: the proposal this one duplicates."
    )


class ProposalRead(BaseModel):
    id: int
    round_id: str
    area: str
    title: str
    description: str
    category: str | None
    estimated_cost_cents: int
    final_cost_cents: int | None
    status: str
    review_reason: str | None
    reviewed_at: datetime | None
    merged_into: int | None
    on_ballot: bool
    ballot_code: str | None
    supports: int
    mine: bool = Field(description="Whether the signed-in resident wrote it.")
    supported_by_me: bool = Field(description="Whether the signed-in resident supports it.")
    created_at: datetime


class SupportRead(BaseModel):
    proposal_id: int
    supports: int = Field(description="Supports the proposal has now.")
    supported_by_me: bool
    my_supports_left: int | None = Field(
        description="How many more proposals you may support (None: no limit)."
    )
