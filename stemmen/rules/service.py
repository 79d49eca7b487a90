"""Publishing and reading rule-set versions. The service owns its transactions."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from stemmen.auth import User
from stemmen.errors import Conflict, InvalidInput, NotFound
from stemmen.rules.document import RuleSet as RuleSet_
from stemmen.rules.document import load_ruleset, ruleset_hash
from stemmen.rules.models import RuleSet, RuleSetVersion
from stemmen.rules.schemas import PublishResult, RuleSetRead, VersionRead

# Rounds pin versions; a lightweight table clause avoids importing the rounds feature here.
_rounds = sa.table("rounds", sa.column("ruleset_hash"))


def validated(document: dict[str, Any]) -> tuple[str, RuleSet_]:
    """The document's version id and typed view; RuleSetInvalid (a 422 naming every bad
    field, in English and Dutch) when the council's frame is not usable as written."""
    return ruleset_hash(document), load_ruleset(document)


_VIEWS: dict[str, RuleSet_] = {}


async def ruleset_view(session: AsyncSession, version_hash: str) -> RuleSet_:
    """The typed view of a published version, loaded once per worker: a version is
    content-addressed and the database refuses to change it, so the cache can never be stale."""
    cached = _VIEWS.get(version_hash)
    if cached is not None:
        return cached
    version = await get_version(session, version_hash)
    view = load_ruleset(version.document)
    _VIEWS[version.hash] = view
    return view


async def pinned_round_count(session: AsyncSession, version_hash: str) -> int:
    statement = (
        sa.select(sa.func.count())
        .select_from(_rounds)
        .where(_rounds.c.ruleset_hash == version_hash)
    )
    return int((await session.exec(statement)).scalar_one())  # type: ignore[call-overload]


async def _version_read(session: AsyncSession, version: RuleSetVersion, slug: str) -> VersionRead:
    return VersionRead(
        hash=version.hash,
        rule_set=slug,
        number=version.number,
        published_by=version.published_by,
        published_at=version.published_at,
        pinned_by_rounds=await pinned_round_count(session, version.hash),
        document=version.document,
    )


async def get_rule_set(session: AsyncSession, slug: str) -> RuleSet:
    rule_set = (await session.exec(select(RuleSet).where(RuleSet.slug == slug))).first()
    if rule_set is None:
        raise NotFound(f"there is no rule set named '{slug}'", code="ruleset_not_found")
    return rule_set


async def get_version(session: AsyncSession, version_hash: str) -> RuleSetVersion:
    version = await session.get(RuleSetVersion, version_hash.lower())
    if version is None:
        raise NotFound(
            f"there is no published rule-set version {version_hash}",
            code="ruleset_version_not_found",
        )
    return version


async def read_version(session: AsyncSession, version_hash: str) -> VersionRead:
    version = await get_version(session, version_hash)
    rule_set = await session.get(RuleSet, version.rule_set_id)
    assert rule_set is not None
    return await _version_read(session, version, rule_set.slug)


async def read_rule_set(session: AsyncSession, rule_set: RuleSet) -> RuleSetRead:
    versions = (
        await session.exec(
            select(RuleSetVersion)
            .where(RuleSetVersion.rule_set_id == rule_set.id)
            .order_by(col(RuleSetVersion.number))
        )
    ).all()
    return RuleSetRead(
        slug=rule_set.slug,
        instrument=rule_set.instrument,
        title=rule_set.title,
        created_by=rule_set.created_by,
        created_at=rule_set.created_at,
        versions=[version.hash for version in versions],
        latest=await _version_read(session, versions[-1], rule_set.slug) if versions else None,
    )


async def list_rule_sets(session: AsyncSession) -> list[RuleSetRead]:
    rule_sets = (await session.exec(select(RuleSet).order_by(col(RuleSet.slug)))).all()
    return [await read_rule_set(session, rule_set) for rule_set in rule_sets]


async def create_rule_set(
    session: AsyncSession, slug: str, document: dict[str, Any], actor: User
) -> PublishResult:
    """A new rule set with its first version."""
    validated(document)
    existing = (await session.exec(select(RuleSet).where(RuleSet.slug == slug))).first()
    if existing is not None:
        raise Conflict(
            f"a rule set named '{slug}' exists already; publish a new version of it instead "
            f"(POST /api/rulesets/{slug}/versions)",
            code="ruleset_exists",
        )
    rule_set = RuleSet(
        slug=slug,
        instrument=document["instrument"],
        title=document["title"],
        created_by=actor.subject,
    )
    session.add(rule_set)
    try:
        await session.flush()
    except IntegrityError as error:
        await session.rollback()
        raise Conflict(
            f"a rule set named '{slug}' exists already", code="ruleset_exists"
        ) from error
    return await _publish(session, rule_set, document, actor)


async def publish_version(
    session: AsyncSession, slug: str, document: dict[str, Any], actor: User
) -> PublishResult:
    rule_set = await get_rule_set(session, slug)
    if document.get("instrument") != rule_set.instrument:
        raise InvalidInput(
            f"rule set '{slug}' is for the instrument '{rule_set.instrument}'; a version cannot "
            f"change it to '{document.get('instrument')}'. Create a new rule set instead.",
            code="ruleset_instrument_changed",
            details={"path": "/instrument"},
        )
    return await _publish(session, rule_set, document, actor)


async def _publish(
    session: AsyncSession, rule_set: RuleSet, document: dict[str, Any], actor: User
) -> PublishResult:
    from stemmen.audit.log import append_event  # the log writer needs the database layer

    version_hash, _ = validated(document)
    existing = await session.get(RuleSetVersion, version_hash)
    if existing is not None:
        if existing.rule_set_id != rule_set.id:
            owner = await session.get(RuleSet, existing.rule_set_id)
            raise Conflict(
                f"this exact document is already published as version {existing.number} of "
                f"rule set '{owner.slug if owner else existing.rule_set_id}' ({version_hash})",
                code="ruleset_version_elsewhere",
                details={"hash": version_hash},
            )
        return PublishResult(
            created=False, version=await _version_read(session, existing, rule_set.slug)
        )
    last = (
        await session.exec(
            select(sa.func.max(RuleSetVersion.number)).where(
                RuleSetVersion.rule_set_id == rule_set.id
            )
        )
    ).one()
    version = RuleSetVersion(
        hash=version_hash,
        rule_set_id=rule_set.id,
        number=(last or 0) + 1,
        document=document,
        published_by=actor.subject,
    )
    session.add(version)
    await append_event(
        session,
        kind="ruleset.published",
        actor=actor,
        payload={"rule_set": rule_set.slug, "hash": version_hash, "number": version.number},
    )
    try:
        await session.commit()
    except IntegrityError as error:
        await session.rollback()
        # Two officials published at once; the loser sees the winner's version.
        raise Conflict(
            "another version of this rule set was published at the same moment; reload and retry",
            code="ruleset_publish_race",
        ) from error
    return PublishResult(created=True, version=await _version_read(session, version, rule_set.slug))


async def delete_version(session: AsyncSession, version_hash: str) -> None:
    version = await get_version(session, version_hash)
    pinned = await pinned_round_count(session, version.hash)
    if pinned:
        raise Conflict(
            f"version {version.hash} is pinned by {pinned} round(s) and can never be changed or "
            "deleted; publish a new version for new rounds",
            code="ruleset_version_pinned",
            details={"rounds": pinned},
        )
    await session.delete(version)
    try:
        await session.commit()
    except IntegrityError as error:
        await session.rollback()
        raise Conflict(
            f"version {version.hash} is pinned by a round and can never be deleted",
            code="ruleset_version_pinned",
        ) from error
