"""The audit routes' database side: a round's bundle, its log segment and every chain's head.

The bundle is put together by the results service (``published_bundle``) from what is
stored; this module decides who may have what and when:

- after publication the bundle and the log are public, unless the rule set keeps the
  cast-vote record unpublished (``publication.cast_vote_record: false``), in which case only
  officials and auditors get them;
- before publication officials, and auditors where the rule set's
  ``publication.auditor_sees_before_publication`` allows it, get a *preview*: the same
  document with what exists at that moment (the ballots only from the close on; the seed
  never, it is revealed at publication), marked ``"preview"`` so nobody mistakes it for the
  published bundle;
- the log segment is the auditors' and officials' at any moment: watching it during voting
  is how an auditor witnesses heads; the heads of every chain are public.

Every reader of a chain first seals the ballot events still waiting for it
(``stemmen.audit.log.seal_waiting``, its own short transaction), so what it reads holds every
ballot acknowledged before the request.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from stemmen.audit.log import seal_waiting
from stemmen.auth import Role, User
from stemmen.errors import Conflict, Forbidden, NotFound
from stemmen.rounds.models import Phase, Round
from stemmen.rules.document import RuleSet

AFTER_CLOSE = (Phase.CLOSED.value, Phase.PUBLISHED.value)


def _is_auditor_or_official(user: User | None) -> bool:
    return user is not None and user.role in (Role.AUDITOR, Role.OFFICIAL, Role.ADMIN)


def may_see_before_publication(user: User | None, ruleset: RuleSet) -> bool:
    """Officials always; auditors when the council's rule set says so; nobody else."""
    if user is None:
        return False
    if user.is_official:
        return True
    return user.role == Role.AUDITOR and ruleset.publication.auditor_sees_before_publication


def _published_openly(round_: Round, ruleset: RuleSet) -> bool:
    return round_.phase == Phase.PUBLISHED.value and ruleset.publication.cast_vote_record


async def _round_and_rules(session: AsyncSession, round_id: str) -> tuple[Round, RuleSet]:
    from stemmen.ballots.service import get_round, ruleset_of

    round_ = await get_round(session, round_id)
    return round_, await ruleset_of(session, round_.ruleset_hash)


async def build_bundle(session: AsyncSession, round_id: str) -> dict[str, Any]:
    """The published bundle of a round (``docs/bundle.md``); refuses before publication."""
    from stemmen.results.service import published_bundle

    await seal_waiting(session, round_id)  # nothing waits once the round closed; be sure
    return await published_bundle(session, round_id)


async def preview_bundle(session: AsyncSession, round_: Round, ruleset: RuleSet) -> dict[str, Any]:
    """The bundle with what exists before publication: no seed; ballots from the close on."""
    from stemmen.audit.bundle import assemble_bundle
    from stemmen.audit.log import chain_entries
    from stemmen.results.service import (
        area_records,
        counted_ballots,
        ensure_result,
        preferendum_record,
        round_definition,
        round_phases,
        without_seed,
    )

    definition = await round_definition(session, round_, ruleset)
    definition["phases"] = await round_phases(session, round_.id)
    closed = round_.phase in AFTER_CLOSE
    ballots = await counted_ballots(session, round_.id) if closed else []
    record: dict[str, Any]
    if ruleset.is_budget:
        records = area_records(definition, ruleset, ballots) if closed else {}
        record = {
            "format": "pabulib",
            "areas": [{"area": code, "pabulib": text} for code, text in records.items()],
        }
    else:
        full = preferendum_record(definition, ruleset, ballots, None)
        record = {"format": full["format"], "ballots": full["ballots"]}
    results: list[Any] = []
    if closed and round_.seed is not None:
        result = await ensure_result(session, round_)
        await session.commit()
        # The engines' explanations name the lottery seed, which is secret until publication.
        results = without_seed(list(result.document["results"]), round_)
    bundle = assemble_bundle(
        round_definition=definition,
        ruleset_document=ruleset.document(),
        cast_vote_record=record,
        results=results,
        log_entries=await chain_entries(session, round_.id),
        seed="",
        seed_commitment=round_.seed_commitment or "",
    )
    bundle["seed"] = {"commitment": round_.seed_commitment, "value": None}
    bundle["preview"] = {
        "phase": round_.phase,
        "note": "not the published bundle: the seed is revealed at publication"
        + ("" if closed else ", the ballots are sealed at the close"),
    }
    return bundle


async def bundle_for(session: AsyncSession, user: User | None, round_id: str) -> dict[str, Any]:
    """The bundle this user may have now: published, a preview, or a refusal saying why."""
    await seal_waiting(session, round_id)
    round_, ruleset = await _round_and_rules(session, round_id)
    if _published_openly(round_, ruleset) or (
        round_.phase == Phase.PUBLISHED.value and _is_auditor_or_official(user)
    ):
        bundle = await build_bundle(session, round_id)
        await session.commit()  # the result is stored at publication; nothing new, but be sure
        return bundle
    if round_.phase == Phase.PUBLISHED.value:
        raise Forbidden(
            "this round's rule set does not publish the cast-vote record "
            "(publication.cast_vote_record), so its bundle is for officials and auditors only",
            code="record_not_published",
            message_nl="het kader publiceert de stemmen van deze ronde niet; de bundel is alleen "
            "voor ambtenaren en controleurs",
        )
    if not may_see_before_publication(user, ruleset):
        raise Forbidden(
            f"the round's bundle is published with its result; the round is in the "
            f"{round_.phase} phase. Until then only officials"
            + (
                " and auditors"
                if ruleset.publication.auditor_sees_before_publication
                else " (the rule set does not let auditors see it before publication)"
            )
            + " may see a preview",
            code="not_published",
            message_nl="de bundel wordt met de uitslag gepubliceerd; de ronde is nog niet zo ver",
            details={"phase": round_.phase},
        )
    return await preview_bundle(session, round_, ruleset)


async def round_log(session: AsyncSession, user: User | None, round_id: str) -> dict[str, Any]:
    """The round's audit-log chain from its first entry, with its head."""
    from stemmen.audit.log import chain_entries

    round_, ruleset = await _round_and_rules(session, round_id)
    if not (_published_openly(round_, ruleset) or _is_auditor_or_official(user)):
        raise Forbidden(
            "a round's audit log is public once its result is published (and its rule set "
            "publishes the cast-vote record); until then it is for auditors and officials",
            code="log_not_public",
            message_nl="het auditlog van een ronde is openbaar na publicatie van de uitslag; "
            "tot dan alleen voor controleurs en ambtenaren",
            details={"phase": round_.phase},
        )
    await seal_waiting(session, round_id)
    entries = await chain_entries(session, round_id)
    return {
        "round": round_id,
        "phase": round_.phase,
        "entries": [entry.to_json() for entry in entries],
        "head": (
            {"seq": entries[-1].seq, "hash": entries[-1].hash, "at": entries[-1].at}
            if entries
            else None
        ),
    }


async def log_heads(session: AsyncSession) -> list[dict[str, Any]]:
    """Every chain's newest entry (sequence number, hash, time): what a municipality publishes
    to be witnessed outside the server. Sorted by chain name."""
    from stemmen.audit.models import AuditEvent, AuditHead

    await seal_waiting(session)

    rows = (
        await session.exec(
            select(AuditHead, AuditEvent)
            .join(
                AuditEvent,
                (col(AuditEvent.chain) == col(AuditHead.chain))
                & (col(AuditEvent.seq) == col(AuditHead.seq)),
            )
            .order_by(col(AuditHead.chain))
        )
    ).all()
    return [
        {"chain": head.chain, "seq": head.seq, "hash": head.hash, "at": event.at_text}
        for head, event in rows
    ]


async def receipt_proof(session: AsyncSession, round_id: str, code: str) -> dict[str, Any]:
    """A counted receipt's RFC 6962 inclusion proof against the root logged at the close."""
    from stemmen.ballots.service import read_receipt

    found = await read_receipt(session, code, round_id)
    if found.inclusion_proof is None:
        if not found.counted:
            raise NotFound(
                f"this ballot is {found.status}, not counted, so it is not in the ballot tree",
                code="receipt_not_counted",
                message_nl="deze stem telt niet mee en staat dus niet in de stemmenboom",
                details={"status": found.status},
            )
        raise Conflict(
            "the ballot tree is built at the close; this round has not closed yet",
            code="not_closed",
            message_nl="de stemmenboom wordt bij de sluiting gebouwd; de ronde is nog open",
        )
    return {
        "round": round_id,
        "receipt": found.receipt,
        "receipt_hash": found.receipt_hash,
        "merkle_root": found.merkle_root,
        "leaf_index": found.inclusion_proof["index"],
        "tree_size": found.inclusion_proof["tree_size"],
        "path": found.inclusion_proof["path"],
        "algorithm": "RFC 6962 audit path over the sorted receipt hashes (docs/bundle.md, 6)",
    }


async def exported_bundle(database_url: str | None, round_id: str) -> dict[str, Any]:
    """The published bundle read straight from a database (``stemmen export-bundle``)."""
    from stemmen.config import Settings
    from stemmen.db import create_engine, session_maker

    settings = Settings(database_url=database_url) if database_url else Settings()
    engine = create_engine(settings)
    try:
        async with session_maker(engine)() as session:
            return await build_bundle(session, round_id)
    finally:
        await engine.dispose()
