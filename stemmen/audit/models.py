"""The audit log's tables. One hash chain per round (and one "global" chain for rule sets), so
a round's published segment verifies on its own and rounds never wait on each other's appends."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from stemmen.db import json_column, utc_column

GLOBAL_CHAIN = "global"


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_events"
    __table_args__ = (
        sa.UniqueConstraint("chain", "seq"),
        sa.UniqueConstraint("hash"),
        sa.CheckConstraint("seq >= 1", name="seq_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    chain: str = Field(max_length=40, index=True)
    seq: int
    at: datetime = Field(sa_column=utc_column(nullable=False))
    at_text: str = Field(max_length=40, description="The exact RFC 3339 text that was hashed.")
    round_id: str | None = Field(default=None, max_length=40)
    kind: str = Field(max_length=40)
    actor_role: str = Field(max_length=20)
    actor: str | None = Field(default=None, max_length=200)
    payload: dict[str, Any] = Field(sa_column=json_column(nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditHead(SQLModel, table=True):
    """The newest entry of each chain; updating this row is what serialises appends."""

    __tablename__ = "audit_heads"

    chain: str = Field(primary_key=True, max_length=40)
    seq: int = Field(default=0)
    hash: str = Field(max_length=64)


class AuditPending(SQLModel, table=True):
    """A ballot event committed with its ballot and not yet in its chain.

    A cast writes its ``ballot.accepted`` (and ``ballot.superseded``) here instead of taking
    the chain's head: every ballot of a round would otherwise queue on that one row lock. The
    sealer (``stemmen.audit.log.seal_pending``) moves these rows into the chain in id order,
    under the head lock, and deletes them in the same transaction, so each reaches the chain
    exactly once; every other append to the chain, and every reader of it, seals first.
    """

    __tablename__ = "audit_pending"

    id: int | None = Field(default=None, primary_key=True)
    chain: str = Field(max_length=40, index=True)
    round_id: str | None = Field(default=None, max_length=40)
    kind: str = Field(max_length=40)
    actor_role: str = Field(max_length=20)
    actor: str | None = Field(default=None, max_length=200)
    payload: dict[str, Any] = Field(sa_column=json_column(nullable=False))
    at: datetime = Field(
        sa_column=utc_column(nullable=False),
        description="The entry's time as it will be logged (ballot events: the hour).",
    )
