"""Close, compute, publish: the round's result, computed once with the pure engines.

The result is computed from exactly what is published: for a budget round each area's
cast-vote record is written as a pabulib ``.pb`` text and the allocation is computed from that
text with the rule set's rule, options and tie-break (the lottery seeded with the round's seed);
for a preferendum each question is tallied from the answers the JSON cast-vote record holds.
The recomputation is the auditor's own (``stemmen.audit.verify``), so a published bundle, or
``stemmen budget allocate`` / ``stemmen tally`` on a downloaded record, gives the same result.

It is stored once: ``results`` has the round as primary key, so two computations racing each
other store one result, and the loser returns the stored one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from stemmen.audit.bundle import AreaBallot, budget_area_pabulib, results_hash
from stemmen.audit.chain import RESULT_PUBLISHED, ROUND_CLOSED, SEED_REVEALED
from stemmen.audit.merkle import receipt_root
from stemmen.auth import Role, User
from stemmen.ballots.models import Ballot, BallotStatus, Channel, PaperBatch
from stemmen.ballots.service import (
    PABULIB_VOTE_TYPES,
    get_round,
    question_rows,
    round_areas,
    ruleset_of,
)
from stemmen.db import utcnow
from stemmen.errors import Conflict, Forbidden, InvalidInput, NotFound
from stemmen.proposals.models import Proposal
from stemmen.results.models import Result
from stemmen.results.schemas import ResultRead, WhatIfRead
from stemmen.rounds.models import Phase, Round
from stemmen.rules.document import RuleSet, validate_ruleset

# The rules a rule set may name (its schema's allocation.rule); what-if takes any the registry has.
BUDGET_RULES = ("greedy", "greedy-no-skip", "greedy-per-cost", "max-welfare", "mes", "phragmen")
AFTER_CLOSE = (Phase.CLOSED.value, Phase.PUBLISHED.value)


# --------------------------------------------------------------------------- what was cast


class CountedBallot(NamedTuple):
    """What a published record needs of a counted ballot: nothing that identifies the voter."""

    area_code: str | None
    channel: str
    content: dict[str, Any]
    receipt_hash: str
    receipt_nonce: str


async def counted_ballots(session: AsyncSession, round_id: str) -> list[CountedBallot]:
    """The ballots that count, in canonical (receipt) order: no time or voter order leaks.

    Plain rows, not ORM objects: a city-wide round has 100,000 of them, and building mapped
    instances took most of the time of publishing it.
    """
    rows = await session.execute(
        sa.select(
            col(Ballot.area_code),
            col(Ballot.channel),
            col(Ballot.content),
            col(Ballot.receipt_hash),
            col(Ballot.receipt_nonce),
        )
        .where(col(Ballot.round_id) == round_id, col(Ballot.status) == BallotStatus.COUNTED.value)
        .order_by(col(Ballot.receipt_hash))
    )
    return [CountedBallot(*row) for row in rows]


async def round_definition(
    session: AsyncSession, round_: Round, ruleset: RuleSet
) -> dict[str, Any]:
    """The round as published: areas with budgets and projects, or questions with options."""
    definition: dict[str, Any] = {
        "id": round_.id,
        "title": round_.title,
        "instrument": round_.instrument,
        "ruleset_hash": round_.ruleset_hash,
    }
    areas = await round_areas(session, round_)
    if ruleset.is_budget:
        proposals = (
            await session.exec(
                select(Proposal)
                .where(Proposal.round_id == round_.id, col(Proposal.on_ballot).is_(True))
                .order_by(col(Proposal.ballot_code), col(Proposal.id))
            )
        ).all()
        definition["areas"] = [
            {
                "code": area.code,
                "name": area.name,
                "budget_cents": int(area.budget_cents or 0),
                "projects": [
                    {
                        "id": proposal.ballot_code or str(proposal.id),
                        "name": proposal.title,
                        "cost_cents": int(
                            proposal.final_cost_cents or proposal.estimated_cost_cents
                        ),
                        "category": proposal.category,
                    }
                    for proposal in proposals
                    if proposal.area_code == area.code
                ],
            }
            for area in areas
        ]
    else:
        definition["areas"] = [{"code": area.code, "name": area.name} for area in areas]
        definition["questions"] = [
            {
                "id": row.key,
                "text": row.title,
                "method": row.method,
                "options": [
                    {"id": str(o["id"]), "label": str(o.get("label", o["id"]))} for o in row.options
                ],
                **({"scale": row.settings["scale"]} if row.settings.get("scale") else {}),
            }
            for row in await question_rows(session, round_.id)
        ]
    return definition


def _scale_json(ruleset: RuleSet) -> dict[str, Any] | None:
    scale = ruleset.ballot.scale
    if scale is None:
        return None
    return (
        {"labels": list(scale.labels)}
        if scale.is_labelled
        else {"min": scale.min, "max": scale.max}
    )


def _uses_channels(ruleset: RuleSet) -> bool:
    return bool(ruleset.allocation and ruleset.allocation.channel_weights)


def area_records(
    definition: Mapping[str, Any], ruleset: RuleSet, ballots: Sequence[CountedBallot]
) -> dict[str, str]:
    """Per area the pabulib ``.pb`` text of its counted ballots, the receipt as voter id."""
    vote_type = PABULIB_VOTE_TYPES[ruleset.ballot.format]
    by_area: dict[str, list[AreaBallot]] = {area["code"]: [] for area in definition["areas"]}
    with_channel = _uses_channels(ruleset)
    for ballot in ballots:
        content = ballot.content
        points = content.get("points")
        by_area.setdefault(str(ballot.area_code), []).append(
            AreaBallot(
                receipt=ballot.receipt_hash,
                nonce=ballot.receipt_nonce,
                vote=tuple(content.get("vote", ())),
                points=None if points is None else tuple(int(p) for p in points),
                channel=ballot.channel if with_channel else None,
            )
        )
    return {
        code: budget_area_pabulib(
            round_definition=definition, area_code=code, vote_type=vote_type, ballots=items
        )
        for code, items in sorted(by_area.items())
    }


def preferendum_record(
    definition: Mapping[str, Any],
    ruleset: RuleSet,
    ballots: Sequence[CountedBallot],
    seed: str | None,
) -> dict[str, Any]:
    """The cast-vote record of a preferendum, which is also the tally engine's record.

    Every counted ballot's answers with its receipt and nonce, sorted by receipt, beside the
    questions with their methods, scale and quorum (``docs/bundle.md`` section 4), so that
    ``stemmen tally`` reads the file as it is. The lottery tie-break appears only with the
    seed, which is public once the result is.
    """
    from stemmen.audit.bundle import preferendum_tally_record

    bundle_view = {
        "ruleset": {"document": ruleset.document()},
        "round": definition,
        "seed": {"value": seed or ""},
        "cast_vote_record": {
            "ballots": [
                {"receipt": ballot.receipt_hash, "answers": ballot.content.get("answers", {})}
                for ballot in ballots
            ]
        },
    }
    record = preferendum_tally_record(bundle_view)
    if seed is None:
        for question in record["questions"]:
            question["tie_break"] = []
    nonces = {ballot.receipt_hash: ballot.receipt_nonce for ballot in ballots}
    for item in record["ballots"]:
        item["nonce"] = nonces[item["receipt"]]
    return {"format": "stemmen-ballots/1", **record}


def question_record(record: Mapping[str, Any], question_id: str) -> dict[str, Any] | None:
    """One question of a preferendum record as a single-question tally record."""
    for question in record["questions"]:
        if question["id"] == question_id:
            return {
                **question,
                "ballots": [
                    dict(ballot["answers"][question_id])
                    for ballot in record["ballots"]
                    if question_id in ballot["answers"]
                ],
            }
    return None


# --------------------------------------------------------------------------- engines


def allocate_area(
    pabulib_text: str, ruleset_document: Mapping[str, Any], seed: str
) -> dict[str, Any]:
    """The allocation of one area's published ``.pb`` under the rule set, as JSON.

    This is the auditor's own recomputation, so the stored result and ``stemmen verify`` agree
    by construction.
    """
    from stemmen.audit.verify import recompute_budget_area

    allocation: dict[str, Any] = exact_json(
        recompute_budget_area(pabulib_text, ruleset_document, seed)
    )
    return allocation


def tally_preferendum(record: Mapping[str, Any]) -> dict[str, Any]:
    """The tally engine's preferendum result (every question, turnout and quorum), as JSON."""
    from stemmen.audit.verify import recompute_preferendum

    outcome: dict[str, Any] = exact_json(recompute_preferendum(record))
    return outcome


def exact_json(value: Any) -> Any:
    """Engine JSON made hashable: solver timings and gaps (floats) become text."""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Fraction):
        return str(value)
    if isinstance(value, Mapping):
        return {str(key): exact_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [exact_json(item) for item in value]
    return value


async def compute_document(
    session: AsyncSession, round_: Round, ruleset: RuleSet
) -> dict[str, Any]:
    if round_.seed is None:
        raise Conflict("this round has no tie-break seed: voting never opened", code="no_seed")
    definition = await round_definition(session, round_, ruleset)
    ballots = await counted_ballots(session, round_.id)
    document_rules = ruleset.document()
    results: list[dict[str, Any]] = []
    valid = True
    if ruleset.is_budget:
        for code, text in area_records(definition, ruleset, ballots).items():
            ballots_in_area = sum(1 for ballot in ballots if ballot.area_code == code)
            results.append(
                {
                    "area": code,
                    "ballots": ballots_in_area,
                    "allocation": allocate_area(text, document_rules, round_.seed),
                }
            )
    else:
        outcome = tally_preferendum(preferendum_record(definition, ruleset, ballots, round_.seed))
        valid = outcome.get("quorum_met") is not False
        results.append({"preferendum": outcome})
    return {
        "round": round_.id,
        "instrument": round_.instrument,
        "ruleset_hash": round_.ruleset_hash,
        "ballots": len(ballots),
        "merkle_root": receipt_root(ballot.receipt_hash for ballot in ballots),
        "valid": valid,
        "results": results,
    }


async def ensure_result(session: AsyncSession, round_: Round) -> Result:
    """The stored result, computed and stored now when there is none (within the caller's transaction)."""
    stored = await session.get(Result, round_.id)
    if stored is not None:
        return stored
    ruleset = await ruleset_of(session, round_.ruleset_hash)
    document = await compute_document(session, round_, ruleset)
    result = Result(
        round_id=round_.id,
        document=document,
        result_hash=results_hash(document["results"]),
        merkle_root=document["merkle_root"],
        ballot_count=document["ballots"],
    )
    try:
        async with session.begin_nested():
            session.add(result)
    except IntegrityError:
        # Computed at the same moment elsewhere: that one is stored, and it is the same.
        return (
            await session.exec(
                select(Result)
                .where(Result.round_id == round_.id)
                .execution_options(populate_existing=True)
            )
        ).one()
    return result


# --------------------------------------------------------------------------- close and publish


async def seal_ballots(session: AsyncSession, round_: Round, actor: User | str) -> None:
    """At the close: fix the counted ballots under a Merkle root, and log it.

    Refuses while a paper batch is still open: its ballots would otherwise be lost or counted
    unchecked. Confirm or reject every batch first. Called by the phase machine after it has
    logged the move to ``closed`` and before it commits.
    """
    from stemmen.audit.log import append_event

    open_batches = (
        await session.exec(
            select(PaperBatch.id).where(
                PaperBatch.round_id == round_.id, PaperBatch.status == "open"
            )
        )
    ).all()
    if open_batches:
        raise Conflict(
            f"{len(open_batches)} paper batch(es) are still open ({', '.join(map(str, open_batches))}): "
            "have a second official confirm or reject them before closing",
            code="paper_batches_open",
            message_nl=f"{len(open_batches)} papieren batch(es) zijn nog open: laat een tweede ambtenaar "
            "ze bevestigen of afkeuren voordat de ronde sluit",
            details={"batches": list(open_batches)},
        )
    rows = (
        await session.execute(
            sa.select(col(Ballot.status), col(Ballot.channel), sa.func.count())
            .where(col(Ballot.round_id) == round_.id)
            .group_by(col(Ballot.status), col(Ballot.channel))
        )
    ).all()
    counts = {(str(status), str(channel)): int(n) for status, channel, n in rows}
    receipts = (
        await session.exec(
            select(Ballot.receipt_hash).where(
                Ballot.round_id == round_.id, Ballot.status == BallotStatus.COUNTED.value
            )
        )
    ).all()
    root = receipt_root(receipts)
    await session.execute(
        sa.update(Round)
        .where(col(Round.id) == round_.id)
        .values(merkle_root=root, counted_ballots=len(receipts))
    )
    round_.merkle_root, round_.counted_ballots = root, len(receipts)

    def total(status: BallotStatus, channel: Channel | None = None) -> int:
        return sum(
            n
            for (s, c), n in counts.items()
            if s == status.value and (channel is None or c == channel.value)
        )

    await append_event(
        session,
        kind=ROUND_CLOSED,
        actor=actor,
        payload={
            "merkle_root": root,
            "ballots": len(receipts),
            "online": total(BallotStatus.COUNTED, Channel.ONLINE),
            "paper": total(BallotStatus.COUNTED, Channel.PAPER),
            "superseded": total(BallotStatus.SUPERSEDED),
            "discarded": total(BallotStatus.DISCARDED),
        },
        round_id=round_.id,
    )


async def publish_result(session: AsyncSession, round_: Round, actor: User | str) -> Result:
    """At publication: the stored result (computed now if needed), the seed revealed, both logged.

    Called by the phase machine within its transaction, after logging the move to ``published``.
    """
    from stemmen.audit.log import append_event

    result = await ensure_result(session, round_)
    await session.execute(
        sa.update(Result).where(col(Result.round_id) == round_.id).values(published_at=utcnow())
    )
    await append_event(
        session,
        kind=SEED_REVEALED,
        actor=actor,
        payload={"seed": round_.seed, "commitment": round_.seed_commitment},
        round_id=round_.id,
    )
    await append_event(
        session,
        kind=RESULT_PUBLISHED,
        actor=actor,
        payload={
            "results_hash": result.result_hash,
            "merkle_root": result.merkle_root,
            "ballots": result.ballot_count,
        },
        round_id=round_.id,
    )
    return result


# --------------------------------------------------------------------------- reading


def _may_see_before_publication(user: User | None, ruleset: RuleSet) -> bool:
    if user is None:
        return False
    if user.role in (Role.OFFICIAL, Role.ADMIN):
        return True
    return user.role == Role.AUDITOR and ruleset.publication.auditor_sees_before_publication


async def _readable_round(
    session: AsyncSession, user: User | None, round_id: str
) -> tuple[Round, RuleSet]:
    round_ = await get_round(session, round_id)
    ruleset = await ruleset_of(session, round_.ruleset_hash)
    if round_.phase not in AFTER_CLOSE:
        raise Conflict(
            f"there is no result before the close; the round is in the {round_.phase} phase",
            code="not_closed",
            message_nl=f"er is geen uitslag voor de sluiting; de ronde is in fase {round_.phase}",
            details={"phase": round_.phase},
        )
    if round_.phase != Phase.PUBLISHED.value and not _may_see_before_publication(user, ruleset):
        raise Forbidden(
            "the result is not published yet; until then only officials"
            + (" and auditors" if ruleset.publication.auditor_sees_before_publication else "")
            + " may see it",
            code="not_published",
            message_nl="de uitslag is nog niet gepubliceerd",
        )
    return round_, ruleset


SEED_HIDDEN = "SEED-REVEALED-AT-PUBLICATION"


def without_seed(value: Any, round_: Round) -> Any:
    """The engines' explanations name the lottery seed; before publication it stays hidden."""
    if round_.phase == Phase.PUBLISHED.value or not round_.seed:
        return value
    seed = round_.seed
    if isinstance(value, str):
        return value.replace(seed, SEED_HIDDEN)
    if isinstance(value, Mapping):
        return {key: without_seed(item, round_) for key, item in value.items()}
    if isinstance(value, list):
        return [without_seed(item, round_) for item in value]
    return value


async def read_result(session: AsyncSession, user: User | None, round_id: str) -> ResultRead:
    round_, _ = await _readable_round(session, user, round_id)
    try:
        result = await ensure_result(session, round_)
        await session.commit()
    except IntegrityError:
        await session.rollback()
        result = (await session.exec(select(Result).where(Result.round_id == round_id))).one()
    published = round_.phase == Phase.PUBLISHED.value
    return ResultRead(
        round=round_.id,
        instrument=round_.instrument,
        phase=round_.phase,
        published=published,
        ballots=result.ballot_count,
        merkle_root=result.merkle_root,
        result_hash=result.result_hash,
        computed_at=result.computed_at,
        published_at=result.published_at,
        seed=round_.seed if published else None,
        seed_commitment=round_.seed_commitment,
        valid=bool(result.document.get("valid", True)),
        results=without_seed(list(result.document["results"]), round_),
    )


async def cast_vote_record(
    session: AsyncSession, user: User | None, round_id: str, area: str | None, question: str | None
) -> tuple[Any, str]:
    """The anonymised record and its media type: after publication (officials: after the close)."""
    round_, ruleset = await _readable_round(session, user, round_id)
    if round_.phase != Phase.PUBLISHED.value and (user is None or not user.is_official):
        raise Forbidden("the cast-vote record is published with the result", code="not_published")
    if not ruleset.publication.cast_vote_record and (user is None or not user.is_official):
        raise Forbidden(
            "this round's rule set does not publish the cast-vote record (publication.cast_vote_record)",
            code="record_not_published",
        )
    definition = await round_definition(session, round_, ruleset)
    ballots = await counted_ballots(session, round_id)
    if ruleset.is_budget:
        records = area_records(definition, ruleset, ballots)
        if area is not None:
            if area not in records:
                raise NotFound(f"round {round_id} has no area {area}", code="area_not_found")
            return records[area], "text/plain; charset=utf-8"
        return {
            "format": "pabulib",
            "areas": [{"area": code, "pabulib": text} for code, text in records.items()],
        }, "application/json"
    # The seed is public only once the result is: before that the record carries no lottery.
    seed = round_.seed if round_.phase == Phase.PUBLISHED.value else None
    record = preferendum_record(definition, ruleset, ballots, seed)
    if question is not None:
        single = question_record(record, question)
        if single is None:
            raise NotFound(
                f"round {round_id} has no question {question}", code="question_not_found"
            )
        return single, "application/json"
    return record, "application/json"


async def round_phases(session: AsyncSession, round_id: str) -> list[dict[str, Any]]:
    """The phases the round went through after draft, in order, each with its start and end."""
    from stemmen.audit.chain import format_utc
    from stemmen.rounds.models import RoundPhase

    rows = (
        await session.exec(
            select(RoundPhase)
            .where(
                RoundPhase.round_id == round_id,
                RoundPhase.phase != Phase.DRAFT.value,
                col(RoundPhase.started_at).is_not(None),
            )
            .order_by(col(RoundPhase.started_at), col(RoundPhase.id))
        )
    ).all()
    starts = [format_utc(row.started_at) for row in rows if row.started_at is not None]
    return [
        {
            "phase": row.phase,
            "start": start,
            "end": starts[index + 1] if index + 1 < len(starts) else None,
        }
        for index, (row, start) in enumerate(zip(rows, starts, strict=True))
    ]


async def published_bundle(session: AsyncSession, round_id: str) -> dict[str, Any]:
    """The round's bundle (``docs/bundle.md``) from what is stored: for the bundle route and CLI.

    Refuses before publication: the seed and the nonces are secret until then.
    """
    from stemmen.audit.bundle import assemble_bundle
    from stemmen.audit.log import chain_entries

    round_ = await get_round(session, round_id)
    if round_.phase != Phase.PUBLISHED.value:
        raise Conflict(
            f"a round's bundle exists once its result is published; it is {round_.phase}",
            code="not_published",
        )
    ruleset = await ruleset_of(session, round_.ruleset_hash)
    result = await ensure_result(session, round_)
    definition = await round_definition(session, round_, ruleset)
    definition["phases"] = await round_phases(session, round_id)
    ballots = await counted_ballots(session, round_id)
    record: dict[str, Any]
    if ruleset.is_budget:
        records = area_records(definition, ruleset, ballots)
        record = {
            "format": "pabulib",
            "areas": [{"area": code, "pabulib": text} for code, text in records.items()],
        }
    else:
        full = preferendum_record(definition, ruleset, ballots, round_.seed)
        record = {"format": full["format"], "ballots": full["ballots"]}
    assert round_.seed is not None
    assert round_.seed_commitment is not None
    return assemble_bundle(
        round_definition=definition,
        ruleset_document=ruleset.document(),
        cast_vote_record=record,
        results=result.document["results"],
        log_entries=await chain_entries(session, round_id),
        seed=round_.seed,
        seed_commitment=round_.seed_commitment,
    )


# --------------------------------------------------------------------------- what-if


# What a what-if may vary beside the rule: the rule set's own knobs, by their rule-set names.
BUDGET_WHAT_IF_OPTIONS = (
    "satisfaction",
    "completion",
    "min_support",
    "category_caps_cents",
    "channel_weights",
)
TALLY_WHAT_IF_OPTIONS = (
    "unranked_below_ranked",
    "schulze_variant",
    "ranked_pairs_strength",
    "blank",
)


def _known_options(options: Mapping[str, Any], known: Sequence[str]) -> None:
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise InvalidInput(
            f"a what-if cannot vary {', '.join(unknown)}; it takes {', '.join(known)}",
            code="what_if_invalid",
            details={"unknown": unknown, "options": list(known)},
        )


async def what_if(
    session: AsyncSession, user: User, round_id: str, rule: str, options: dict[str, Any]
) -> WhatIfRead:
    """The stored ballots under another rule, compared with the stored result; stores nothing."""
    from stemmen.tally import METHODS, TallyError

    round_, ruleset = await _readable_round(session, user, round_id)
    result = await ensure_result(session, round_)
    await session.commit()
    assert round_.seed is not None
    stored = {str(item.get("area")): item for item in result.document["results"]}
    definition = await round_definition(session, round_, ruleset)
    ballots = await counted_ballots(session, round_id)
    document = ruleset.document()
    comparison: list[dict[str, Any]] = []
    if ruleset.is_budget:
        assert ruleset.allocation is not None
        from stemmen.budget.registry import RULES

        budget_rules = sorted(RULES)
        if rule not in budget_rules:
            raise InvalidInput(
                f"unknown budget rule {rule!r}; choose one of {', '.join(budget_rules)}",
                code="unknown_rule",
                details={"rules": budget_rules},
            )
        allocation = {
            key: value
            for key, value in document["allocation"].items()
            if key not in ("rule", "satisfaction", "completion")
        }
        _known_options(options, BUDGET_WHAT_IF_OPTIONS)
        document["allocation"] = {"rule": rule, **allocation, **options}
        if rule in BUDGET_RULES:
            # The variant must be a frame the council could adopt: the rule set's own checks.
            problems = validate_ruleset(document)
            if problems:
                raise InvalidInput(
                    f"{rule} with these options is not a valid allocation: "
                    + "; ".join(f"{p.path}: {p.message_en}" for p in problems),
                    code="what_if_invalid",
                    details={"problems": [p.as_dict() for p in problems]},
                )
        stored_rule = ruleset.allocation.rule
        for code, text in area_records(definition, ruleset, ballots).items():
            try:
                ours = allocate_area(text, document, round_.seed)
            except (ValueError, TypeError, LookupError, ArithmeticError) as error:
                raise InvalidInput(
                    f"{rule} cannot run with these options: {error}", code="what_if_invalid"
                ) from error
            before = stored[code]["allocation"]
            now, then = set(ours["selected"]), set(before["selected"])
            comparison.append(
                {
                    "area": code,
                    "selected": ours["selected"],
                    "stored_selected": before["selected"],
                    "newly_funded": sorted(now - then),
                    "no_longer_funded": sorted(then - now),
                    "total_cost_minor": ours["total_cost_minor"],
                    "stored_total_cost_minor": before["total_cost_minor"],
                    "allocation": ours,
                }
            )
        changes = any(item["newly_funded"] or item["no_longer_funded"] for item in comparison)
    else:
        if rule not in METHODS:
            raise InvalidInput(
                f"unknown tally method {rule!r}; choose one of {', '.join(sorted(METHODS))}",
                code="unknown_rule",
                details={"methods": sorted(METHODS)},
            )
        stored_rule = ruleset.tally.method if ruleset.tally else ""
        record = preferendum_record(definition, ruleset, ballots, round_.seed)
        _known_options(options, TALLY_WHAT_IF_OPTIONS)
        for question_spec in record["questions"]:
            question_spec["method"] = rule
            question_spec.update(options)
        try:
            ours_all = tally_preferendum(record)
        except (TallyError, ValueError, TypeError, LookupError, ArithmeticError) as error:
            raise InvalidInput(
                f"{rule} cannot count these ballots: {error}", code="what_if_invalid"
            ) from error
        before_all = {
            str(item["id"]): item
            for item in result.document["results"][0]["preferendum"]["questions"]
        }
        for question in ours_all["questions"]:
            ours, before = question["result"] or {}, before_all[str(question["id"])]["result"] or {}
            comparison.append(
                {
                    "question": question["id"],
                    "stored_method": before_all[str(question["id"])]["method"],
                    "ranking": ours.get("ranking"),
                    "stored_ranking": before.get("ranking"),
                    "winners": ours.get("winners"),
                    "stored_winners": before.get("winners"),
                    "ranking_changed": ours.get("ranking") != before.get("ranking"),
                    "winners_changed": ours.get("winners") != before.get("winners"),
                    "tally": ours,
                }
            )
        changes = any(item["ranking_changed"] for item in comparison)
    return WhatIfRead(
        round=round_id,
        rule=rule,
        options=options,
        stored_rule=stored_rule,
        changes=changes,
        comparison=without_seed(comparison, round_),
    )
