"""Rule sets and their immutable, content-addressed versions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from stemmen.db import json_column, utc_column, utcnow


class RuleSet(SQLModel, table=True):
    __tablename__ = "rule_sets"

    id: str = Field(default_factory=lambda: uuid.uuid4().hex, primary_key=True, max_length=32)
    slug: str = Field(max_length=80, sa_column_kwargs={"unique": True, "nullable": False})
    instrument: str = Field(max_length=40)
    title: str = Field(max_length=300)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))


class RuleSetVersion(SQLModel, table=True):
    """One published version. Its id is the SHA-256 of its canonical JSON (RFC 8785)."""

    __tablename__ = "rule_set_versions"
    __table_args__ = (
        sa.UniqueConstraint("rule_set_id", "number"),
        sa.CheckConstraint("length(hash) = 64", name="hash_is_sha256_hex"),
        sa.CheckConstraint("number >= 1", name="number_positive"),
    )

    hash: str = Field(primary_key=True, max_length=64)
    rule_set_id: str = Field(foreign_key="rule_sets.id", max_length=32, index=True)
    number: int
    document: dict[str, Any] = Field(sa_column=json_column(nullable=False))
    published_by: str = Field(max_length=200)
    published_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
