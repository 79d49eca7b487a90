"""Proposals residents submit, officials review, residents support; accepted ones reach the ballot."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from stemmen.db import utc_column, utcnow


class ProposalStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    MERGED = "merged"
    WITHDRAWN = "withdrawn"


STATUS_VALUES = ", ".join(f"'{status.value}'" for status in ProposalStatus)


class Proposal(SQLModel, table=True):
    __tablename__ = "proposals"
    __table_args__ = (
        sa.CheckConstraint(f"status IN ({STATUS_VALUES})", name="status_known"),
        sa.CheckConstraint("estimated_cost_cents >= 0", name="estimate_not_negative"),
        sa.CheckConstraint(
            "final_cost_cents IS NULL OR final_cost_cents > 0", name="final_cost_positive"
        ),
        sa.CheckConstraint(
            "status != 'accepted' OR final_cost_cents IS NOT NULL", name="accepted_has_final_cost"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    round_id: str = Field(foreign_key="rounds.id", max_length=32, index=True)
    area_code: str = Field(max_length=20)
    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=10_000)
    category: str | None = Field(default=None, max_length=100)
    estimated_cost_cents: int = Field(sa_type=sa.BigInteger)
    final_cost_cents: int | None = Field(default=None, sa_type=sa.BigInteger)
    # The author's per-round pseudonym, never the subject: enough to show them their own.
    author_key: str = Field(max_length=64, index=True)
    status: str = Field(default=ProposalStatus.SUBMITTED.value, max_length=20)
    review_reason: str | None = Field(default=None, max_length=5_000)
    reviewed_by: str | None = Field(default=None, max_length=200)
    reviewed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    merged_into_id: int | None = Field(default=None, foreign_key="proposals.id")
    # Set when voting opens: the ballot is frozen from then on.
    on_ballot: bool = Field(default=False)
    ballot_code: str | None = Field(default=None, max_length=40)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))


class Support(SQLModel, table=True):
    __tablename__ = "supports"
    __table_args__ = (sa.UniqueConstraint("proposal_id", "supporter_key"),)

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposals.id", index=True)
    round_id: str = Field(foreign_key="rounds.id", max_length=32, index=True)
    supporter_key: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
