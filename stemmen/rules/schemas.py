"""Request and response bodies of the rule-set API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{1,78}[a-z0-9]$"


class RuleSetCreate(BaseModel):
    slug: str = Field(
        pattern=SLUG_PATTERN,
        description="Short stable name, lowercase letters, digits and hyphens, e.g. 'nijmegen-buurtbegroting'.",
    )
    document: dict[str, Any] = Field(description="The rule-set document (see /api/ruleset-schema).")


class VersionPublish(BaseModel):
    document: dict[str, Any] = Field(description="The rule-set document (see /api/ruleset-schema).")


class VersionRead(BaseModel):
    hash: str = Field(description="SHA-256 of the canonical JSON (RFC 8785) of the document.")
    rule_set: str = Field(description="Slug of the rule set this version belongs to.")
    number: int
    published_by: str
    published_at: datetime
    pinned_by_rounds: int = Field(
        description="How many rounds pin this version; pinned versions never change."
    )
    document: dict[str, Any]


class RuleSetRead(BaseModel):
    slug: str
    instrument: str
    title: str
    created_by: str
    created_at: datetime
    versions: list[str] = Field(description="Version hashes, oldest first.")
    latest: VersionRead | None = None


class PublishResult(BaseModel):
    created: bool = Field(
        description="False when identical content was already published: same id."
    )
    version: VersionRead
