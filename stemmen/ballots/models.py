"""Cast ballots and paper-ballot batches.

A ballot is stored under a per-round pseudonym (a keyed hash of round and subject), never the
subject. ``live_slot`` is set only on the ballot that currently counts (or, for paper, will
count once its batch is confirmed) and is unique: the database itself allows one live ballot
per voter per round (or per area), whatever races the workers run.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from stemmen.db import json_column, utc_column, utcnow


class BallotStatus(enum.StrEnum):
    COUNTED = "counted"
    PENDING = "pending"  # paper, waiting for its batch to be confirmed by a second official
    SUPERSEDED = "superseded"
    DISCARDED = "discarded"  # paper batch rejected


class Channel(enum.StrEnum):
    ONLINE = "online"
    PAPER = "paper"


STATUS_VALUES = ", ".join(f"'{status.value}'" for status in BallotStatus)


class Ballot(SQLModel, table=True):
    __tablename__ = "ballots"
    __table_args__ = (
        sa.UniqueConstraint("live_slot"),
        sa.UniqueConstraint("receipt_hash"),
        sa.CheckConstraint(f"status IN ({STATUS_VALUES})", name="status_known"),
        sa.CheckConstraint("channel IN ('online', 'paper')", name="channel_known"),
        sa.CheckConstraint(
            "(live_slot IS NULL) = (status IN ('superseded', 'discarded'))",
            name="live_iff_not_retired",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    round_id: str = Field(foreign_key="rounds.id", max_length=32, index=True)
    area_code: str | None = Field(default=None, max_length=20)
    voter_key: str = Field(max_length=64, index=True)
    live_slot: str | None = Field(default=None, max_length=140)
    channel: str = Field(default="online", max_length=10)
    status: str = Field(default=BallotStatus.COUNTED.value, max_length=12)
    content: dict[str, Any] = Field(sa_column=json_column(nullable=False))
    receipt_hash: str = Field(max_length=64)
    # The receipt's random nonce (hex): secret until publication, then published beside the
    # ballot so anyone can recompute its receipt from what it records.
    receipt_nonce: str = Field(max_length=64)
    batch_id: int | None = Field(default=None, foreign_key="paper_batches.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
    superseded_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class PaperBatch(SQLModel, table=True):
    """Paper ballots entered by one official; they count only once a second official confirms."""

    __tablename__ = "paper_batches"
    __table_args__ = (
        sa.CheckConstraint("status IN ('open', 'confirmed', 'rejected')", name="status_known"),
        sa.CheckConstraint("confirmed_by IS NULL OR confirmed_by != entered_by", name="four_eyes"),
    )

    id: int | None = Field(default=None, primary_key=True)
    round_id: str = Field(foreign_key="rounds.id", max_length=32, index=True)
    label: str = Field(max_length=200)
    status: str = Field(default="open", max_length=12)
    entered_by: str = Field(max_length=200)
    confirmed_by: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
    confirmed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
