"""Request and response bodies of the voting API: the ballot, casting, paper batches, receipts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

AREA_PATTERN = r"^[A-Za-z0-9_.-]{1,20}$"
# A round id in a path (without anchors, for a full match).
ROUND_ID_PATTERN = r"[0-9a-zA-Z_-]{1,40}"


class BallotProjectRead(BaseModel):
    code: str = Field(description="The project's code on the ballot; vote with this id.")
    title: str
    cost_cents: int
    category: str | None = None


class BallotOptionRead(BaseModel):
    id: str
    label: str


class BallotQuestionRead(BaseModel):
    id: str
    title: str
    description: str = ""
    method: str
    options: list[BallotOptionRead]


class BallotRules(BaseModel):
    """What a person needs to fill the ballot in correctly."""

    format: str = Field(
        description="approval, knapsack, k-approval, cumulative, ranking, grades or scores."
    )
    min_selections: int
    max_selections: int | None
    within_budget: bool
    max_points: int | None = None
    max_points_per_option: int | None = None
    allow_abstain: bool
    revote: str = Field(
        description="last_counts: you may vote again and the last ballot counts; forbidden."
    )
    scale: dict[str, Any] | None = Field(default=None, description="Grades or scores scale.")
    ranking_complete: bool = False
    ranking_ties_allowed: bool = False
    answer_form: dict[str, Any] = Field(description="An example of the JSON to send as `ballot`.")


class BallotRead(BaseModel):
    round: str
    title: str
    instrument: str
    area: str | None = Field(
        description="The area this ballot is for (budgets, or per-area rounds)."
    )
    area_name: str | None = None
    budget_cents: int | None = None
    closes_at: datetime | None = None
    rules: BallotRules
    projects: list[BallotProjectRead] = Field(default_factory=list)
    questions: list[BallotQuestionRead] = Field(default_factory=list)
    already_voted: bool = Field(
        description="Whether a ballot of yours counts (or waits, on paper) already."
    )


class CastBallot(BaseModel):
    area: str | None = Field(
        default=None,
        pattern=AREA_PATTERN,
        description="Needed only when you may vote in more than one area of the round.",
    )
    ballot: dict[str, Any] = Field(
        description='Your answer, e.g. {"approvals": ["P1", "P3"]} or {"questions": {"q1": {...}}}.'
    )


class CastReceipt(BaseModel):
    receipt: str = Field(
        description="Keep this code: with it you can check your ballot was counted."
    )
    receipt_hash: str
    round: str
    area: str | None
    channel: str
    status: str
    replaced_earlier_ballot: bool
    recorded: dict[str, Any] = Field(description="What was recorded, in normal form.")
    cost_cents: int | None = None


class PaperBatchCreate(BaseModel):
    label: str = Field(
        min_length=1, max_length=200, description="e.g. 'stembureau Wijkcentrum, doos 3'."
    )


class PaperBallotIn(BaseModel):
    voter: str = Field(
        min_length=1,
        max_length=200,
        description="The voter's identifier from the register; stored only as a pseudonym.",
    )
    area: str | None = Field(default=None, pattern=AREA_PATTERN)
    ballot: dict[str, Any]


class PaperBatchReject(BaseModel):
    reason: str = Field(min_length=1, max_length=2_000)


class PaperBatchRead(BaseModel):
    id: int
    round: str
    label: str
    status: str
    entered_by: str
    confirmed_by: str | None
    created_at: datetime
    confirmed_at: datetime | None
    ballots: int


class ReceiptRead(BaseModel):
    receipt: str
    receipt_hash: str
    round: str
    status: str = Field(
        description="counted, pending (paper, waiting for confirmation), superseded or discarded."
    )
    channel: str
    counted: bool
    explanation: str
    recorded: dict[str, Any]
    merkle_root: str | None = None
    inclusion_proof: dict[str, Any] | None = None
