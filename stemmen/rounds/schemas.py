"""Request and response bodies of the rounds API: rounds, their schedule and their questions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator

AREA_CODE_PATTERN = r"^(GM[0-9]{4}|WK[0-9]{6}|BU[0-9]{8})$"
QUESTION_KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$"
OPTION_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$"
# Amounts stay exact in JSON and in the canonical audit log (integers up to 2**53 - 1).
MAX_CENTS = 2**53 - 1


class AreaIn(BaseModel):
    code: str = Field(
        pattern=AREA_CODE_PATTERN, description="CBS code: GM0268, WK026801, BU02680100."
    )
    name: str = Field(
        default="", max_length=200, description="Shown to residents; defaults to the code."
    )
    budget_cents: int | None = Field(
        default=None,
        ge=0,
        le=MAX_CENTS,
        description="Budget of this area in euro cents (budget instruments only).",
    )


class PhaseWindowIn(BaseModel):
    starts_at: datetime | None = Field(
        default=None, description="Scheduled start (ISO 8601 with zone)."
    )
    ends_at: datetime | None = Field(
        default=None, description="Scheduled end (ISO 8601 with zone)."
    )

    @field_validator("starts_at", "ends_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give the time with its zone, e.g. 2026-03-01T09:00:00+01:00")
        return value


class RoundCreate(BaseModel):
    ruleset_hash: str = Field(
        pattern=r"^[0-9a-fA-F]{64}$", description="The published rule-set version the round pins."
    )
    title: str = Field(min_length=1, max_length=300)
    description: str = Field(default="", max_length=20_000)
    areas: list[AreaIn] = Field(min_length=1, max_length=200)
    phases: dict[str, PhaseWindowIn] = Field(
        default_factory=dict,
        description="Optional schedule per phase of the rule set (submission, review, supports, voting).",
    )


class RoundUpdate(BaseModel):
    """Changes to a draft round; fields left out stay as they are."""

    revision: int = Field(
        ge=1, le=2**31 - 1, description="The revision the change is based on (from the last read)."
    )
    title: str | None = Field(default=None, min_length=1, max_length=300)
    description: str | None = Field(default=None, max_length=20_000)
    areas: list[AreaIn] | None = Field(default=None, min_length=1, max_length=200)
    phases: dict[str, PhaseWindowIn] | None = None


class PhaseMove(BaseModel):
    to: str = Field(description="The phase to move to: the next one the rule set uses.")
    revision: int | None = Field(
        default=None,
        ge=1,
        le=2**31 - 1,
        description="Optional: refuse the move if the round changed since this revision.",
    )


class AreaRead(BaseModel):
    code: str
    name: str
    budget_cents: int | None


class PhaseRead(BaseModel):
    phase: str
    starts_at: datetime | None
    ends_at: datetime | None
    started_at: datetime | None
    started_by: str | None


class OptionIn(BaseModel):
    id: str = Field(pattern=OPTION_ID_PATTERN)
    label: str = Field(min_length=1, max_length=500)


class QuestionCreate(BaseModel):
    key: str = Field(
        pattern=QUESTION_KEY_PATTERN, description="Stable id of the question in the round."
    )
    title: str = Field(min_length=1, max_length=500)
    description: str = Field(default="", max_length=10_000)
    method: str | None = Field(
        default=None, description="Tally method; defaults to the rule set's."
    )
    ballot_format: str | None = Field(
        default=None, description="Defaults to the rule set's ballot format."
    )
    options: list[OptionIn] = Field(min_length=2, max_length=100)
    position: int | None = Field(
        default=None, ge=1, le=1000, description="Defaults to after the last question."
    )


class QuestionUpdate(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=500)
    description: str | None = Field(default=None, max_length=10_000)
    method: str | None = None
    ballot_format: str | None = None
    options: list[OptionIn] | None = Field(default=None, min_length=2, max_length=100)


class QuestionRead(BaseModel):
    key: str
    position: int
    title: str
    description: str
    method: str
    ballot_format: str
    options: list[dict[str, Any]]


class RoundSummary(BaseModel):
    id: str
    title: str
    instrument: str
    phase: str
    ruleset_hash: str
    areas: list[str]


class RoundRead(BaseModel):
    id: str
    title: str
    description: str
    instrument: str
    ruleset_hash: str
    phase: str
    revision: int
    created_by: str
    created_at: datetime
    updated_at: datetime
    areas: list[AreaRead]
    phases: list[PhaseRead] = Field(description="Every phase the round runs through, in order.")
    next_phase: str | None
    questions: list[QuestionRead]
    seed_commitment: str | None = Field(description="Logged when voting opens.")
    seed: str | None = Field(
        description="The tie-break seed, revealed once the result is published."
    )


# An official's subject as the identity provider writes it: visible characters, spaces only
# inside (a subject is compared exactly, so stray whitespace would name somebody else).
SUBJECT_PATTERN = r"^[^\s\x00-\x1f\x7f](?:[^\x00-\x1f\x7f]{0,198}[^\s\x00-\x1f\x7f])?$"


class TeamMemberAdd(BaseModel):
    subject: str = Field(
        pattern=SUBJECT_PATTERN,
        max_length=200,
        description="The official's subject (the 'sub' claim of their sign-in token).",
    )


class TeamMemberRead(BaseModel):
    subject: str
    added_by: str | None = Field(description="Who added them; null for the round's creator.")
    added_at: datetime


class TeamRead(BaseModel):
    round_id: str
    officials: str = Field(
        description="The rule set's administration.officials: any-official (every official may "
        "act on the round; the team is not used) or round-team (only the team and admins)."
    )
    members: list[TeamMemberRead] = Field(
        description="The round's creator first, then the officials added, oldest first."
    )
