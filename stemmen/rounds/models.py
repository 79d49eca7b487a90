"""Rounds: one run of an instrument under one pinned rule-set version."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from stemmen.db import json_column, utc_column, utcnow


class Phase(enum.StrEnum):
    DRAFT = "draft"
    SUBMISSION = "submission"
    REVIEW = "review"
    SUPPORTS = "supports"
    VOTING = "voting"
    CLOSED = "closed"
    PUBLISHED = "published"


PHASE_ORDER: tuple[Phase, ...] = tuple(Phase)
PHASE_VALUES = ", ".join(f"'{phase.value}'" for phase in Phase)


def new_id() -> str:
    return uuid.uuid4().hex


class Round(SQLModel, table=True):
    __tablename__ = "rounds"
    __table_args__ = (sa.CheckConstraint(f"phase IN ({PHASE_VALUES})", name="phase_known"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    title: str = Field(max_length=300)
    description: str = Field(default="", max_length=20_000)
    instrument: str = Field(max_length=40)
    ruleset_hash: str = Field(
        sa_column=sa.Column(
            sa.String(64),
            sa.ForeignKey("rule_set_versions.hash", ondelete="RESTRICT"),
            nullable=False,
            index=True,
        )
    )
    phase: str = Field(default=Phase.DRAFT.value, max_length=20)
    # Optimistic lock: two officials changing a round at once cannot silently overwrite.
    revision: int = Field(default=1)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
    # Tie-break lottery seed: its hash is committed (logged) when voting opens; the seed itself
    # is revealed only at publication.
    seed_commitment: str | None = Field(default=None, max_length=64)
    seed: str | None = Field(default=None, max_length=128)
    merkle_root: str | None = Field(default=None, max_length=64)
    counted_ballots: int | None = Field(default=None)


class RoundArea(SQLModel, table=True):
    """A district or neighbourhood of a round (CBS code where real), with its budget."""

    __tablename__ = "round_areas"
    __table_args__ = (
        sa.UniqueConstraint("round_id", "code"),
        sa.CheckConstraint("budget_cents IS NULL OR budget_cents >= 0", name="budget_not_negative"),
    )

    id: int | None = Field(default=None, primary_key=True)
    round_id: str = Field(foreign_key="rounds.id", max_length=32, index=True)
    code: str = Field(max_length=20)
    name: str = Field(max_length=200)
    budget_cents: int | None = Field(default=None, sa_type=sa.BigInteger)


class RoundPhase(SQLModel, table=True):
    """The schedule of one phase and when, and by whom, it really started and ended."""

    __tablename__ = "round_phases"
    __table_args__ = (
        sa.UniqueConstraint("round_id", "phase"),
        sa.CheckConstraint(f"phase IN ({PHASE_VALUES})", name="phase_known"),
        sa.CheckConstraint(
            "starts_at IS NULL OR ends_at IS NULL OR starts_at < ends_at", name="starts_before_end"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    round_id: str = Field(foreign_key="rounds.id", max_length=32, index=True)
    phase: str = Field(max_length=20)
    starts_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    ends_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    started_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    started_by: str | None = Field(default=None, max_length=200)


class Question(SQLModel, table=True):
    """A preferendum or poll question; frozen when voting opens."""

    __tablename__ = "questions"
    __table_args__ = (
        sa.UniqueConstraint("round_id", "key"),
        sa.UniqueConstraint("round_id", "position"),
    )

    id: int | None = Field(default=None, primary_key=True)
    round_id: str = Field(foreign_key="rounds.id", max_length=32, index=True)
    key: str = Field(max_length=40, description="Stable id of the question inside the round.")
    position: int
    title: str = Field(max_length=500)
    description: str = Field(default="", max_length=10_000)
    method: str = Field(max_length=40)
    ballot_format: str = Field(max_length=20)
    options: list[dict[str, Any]] = Field(sa_column=json_column(nullable=False))
    settings: dict[str, Any] = Field(default_factory=dict, sa_column=json_column(nullable=False))


class RoundTeamMember(SQLModel, table=True):
    """An official added to a round's team. Where the rule set says ``administration.officials:
    round-team`` only the team (these officials and the round's creator) and admins may act on
    the round; under ``any-official`` the table is not consulted."""

    __tablename__ = "round_team_members"
    __table_args__ = (sa.UniqueConstraint("round_id", "subject"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: str = Field(foreign_key="rounds.id", max_length=32, index=True)
    subject: str = Field(max_length=200)
    added_by: str = Field(max_length=200)
    added_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
