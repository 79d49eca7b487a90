"""The one stored result of a round. Its primary key is the round: two computations racing
each other can store only one result."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from stemmen.db import json_column, utc_column, utcnow


class Result(SQLModel, table=True):
    __tablename__ = "results"

    round_id: str = Field(foreign_key="rounds.id", primary_key=True, max_length=32)
    document: dict[str, Any] = Field(sa_column=json_column(nullable=False))
    result_hash: str = Field(max_length=64)
    merkle_root: str = Field(max_length=64)
    ballot_count: int
    computed_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
    published_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
