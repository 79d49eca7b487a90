"""Casting ballots: who may vote where, validation, the live-ballot slot, receipts, paper.

The hot path (``cast_ballot``) reuses the rule set, the voting end and the frozen ballot of
the area from a process-wide cache (all fixed once voting opens: a rule-set version is
content-addressed, the schedule changes only in draft and the ballot freezes at the opening).
On PostgreSQL a voter's first online ballot is then one statement (``FIRST_BALLOT``): it
share-locks the round's row so the close waits for it, checks under that lock that voting is
open, and writes the ballot and its pending log event (the event enters the round's hash
chain when sealed, ``stemmen.audit.log``). Re-votes, the paper/online exclusion, paper and
SQLite take a transaction of several statements that holds the same lock.
The database decides races: ``live_slot`` is unique, so two ballots of one voter can never
both count; the loser gets a 409, never a 500.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from asyncpg.exceptions import IntegrityConstraintViolationError, PostgresError
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from stemmen.audit.chain import BALLOT_ACCEPTED, BALLOT_SUPERSEDED, PAPER_BATCH_CONFIRMED
from stemmen.audit.models import AuditPending
from stemmen.audit.receipts import (
    ReceiptCodeError,
    ballot_record_bytes,
    budget_ballot_record,
    code_prefix,
    make_receipt,
    new_nonce,
    preferendum_ballot_record,
    receipt_code,
)
from stemmen.auth import User
from stemmen.ballots.forms import (
    BallotContext,
    BallotProject,
    BudgetBallotContext,
    Question,
    QuestionOption,
    QuestionsBallotContext,
)
from stemmen.ballots.models import Ballot, BallotStatus, Channel, PaperBatch
from stemmen.ballots.schemas import (
    BallotOptionRead,
    BallotProjectRead,
    BallotQuestionRead,
    BallotRead,
    BallotRules,
    CastReceipt,
    PaperBatchRead,
    ReceiptRead,
)
from stemmen.ballots.validation import ValidBallot, validate_ballot
from stemmen.config import Settings
from stemmen.db import first_read, read_one, utcnow
from stemmen.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from stemmen.proposals.models import Proposal
from stemmen.pseudonyms import pseudonym
from stemmen.rounds.models import Phase, Round, RoundArea, RoundPhase
from stemmen.rounds.models import Question as QuestionRow
from stemmen.rules.document import RuleSet, area_within
from stemmen.rules.service import ruleset_view

logger = logging.getLogger("stemmen.ballots")

# Content-addressed and frozen data only (see the module text): never a phase or a ballot.
_FROZEN: dict[tuple[str, str | None], FrozenRound] = {}
_FROZEN_LIMIT = 2_000

PABULIB_VOTE_TYPES: Mapping[str, str] = {
    "approval": "approval",
    "knapsack": "approval",
    "k-approval": "approval",
    "cumulative": "cumulative",
    "scores": "scoring",
    "ranking": "ordinal",
}


@dataclasses.dataclass(frozen=True)
class FrozenRound:
    """What a round's ballot is made of once voting has opened."""

    areas: tuple[RoundArea, ...]
    context: BallotContext | None


@dataclasses.dataclass(frozen=True)
class VotingRound:
    round: Round
    ruleset: RuleSet
    closes_at: datetime | None


# --------------------------------------------------------------------------- loading


async def ruleset_of(session: AsyncSession, ruleset_hash: str) -> RuleSet:
    return await ruleset_view(session, ruleset_hash)


async def get_round(session: AsyncSession, round_id: str) -> Round:
    found = await session.get(Round, round_id)
    if found is None:
        raise NotFound(
            f"there is no round {round_id}",
            code="round_not_found",
            message_nl=f"er is geen ronde {round_id}",
        )
    return found


def _with_voting_end(query: Any) -> Any:
    """The query with the round's voting phase row joined, for its scheduled end (if any)."""
    return query.outerjoin(
        RoundPhase,
        sa.and_(
            col(RoundPhase.round_id) == col(Round.id),
            col(RoundPhase.phase) == Phase.VOTING.value,
        ),
    )


async def load_voting_round(session: AsyncSession, round_id: str) -> VotingRound:
    """The round and the scheduled end of its voting, in one query; the rule set from cache.
    As a session's first statement it skips the connection check and repeats on a fresh
    connection instead (``stemmen.db.first_read``)."""

    async def read() -> Any:
        return (
            await session.execute(
                _with_voting_end(sa.select(Round, col(RoundPhase.ends_at))).where(
                    col(Round.id) == round_id
                )
            )
        ).first()

    row = await (read() if session.in_transaction() else first_read(read, session.rollback))
    if row is None:
        raise NotFound(
            f"there is no round {round_id}",
            code="round_not_found",
            message_nl=f"er is geen ronde {round_id}",
        )
    found, closes_at = row
    return VotingRound(found, await ruleset_of(session, found.ruleset_hash), closes_at)


def _frozen(round_: Round) -> bool:
    return round_.phase in (Phase.VOTING.value, Phase.CLOSED.value, Phase.PUBLISHED.value)


async def round_areas(session: AsyncSession, round_: Round) -> tuple[RoundArea, ...]:
    key = (round_.id, None)
    cached = _FROZEN.get(key)
    if cached is not None:
        return cached.areas
    areas = tuple(
        (
            await session.exec(
                select(RoundArea)
                .where(RoundArea.round_id == round_.id)
                .order_by(col(RoundArea.code))
            )
        ).all()
    )
    if _frozen(round_):
        _remember(key, FrozenRound(areas, None))
    return areas


def _remember(key: tuple[str, str | None], value: FrozenRound) -> None:
    if len(_FROZEN) >= _FROZEN_LIMIT:
        _FROZEN.clear()
    _FROZEN[key] = value


async def ballot_context(
    session: AsyncSession, voting: VotingRound, area: RoundArea | None
) -> BallotContext:
    """What is on the ballot: an area's projects and budget, or the round's questions."""
    round_ = voting.round
    key = (round_.id, area.code if area is not None and voting.ruleset.is_budget else "")
    cached = _FROZEN.get(key)
    if cached is not None and cached.context is not None:
        return cached.context
    context: BallotContext
    if voting.ruleset.is_budget:
        assert area is not None
        proposals = (
            await session.exec(
                select(Proposal)
                .where(
                    Proposal.round_id == round_.id,
                    Proposal.area_code == area.code,
                    col(Proposal.on_ballot).is_(True),
                )
                .order_by(col(Proposal.ballot_code), col(Proposal.id))
            )
        ).all()
        context = BudgetBallotContext(
            area=area.code,
            area_name=area.name or area.code,
            budget_cents=int(area.budget_cents or 0),
            projects=tuple(
                BallotProject(
                    id=proposal.ballot_code or str(proposal.id),
                    title=proposal.title,
                    cost_cents=int(proposal.final_cost_cents or proposal.estimated_cost_cents),
                    area=area.code,
                    category=proposal.category,
                )
                for proposal in proposals
            ),
        )
    else:
        context = QuestionsBallotContext(
            tuple(
                Question(
                    id=row.key,
                    title=row.title,
                    options=tuple(
                        QuestionOption(str(option["id"]), str(option.get("label", option["id"])))
                        for option in row.options
                    ),
                    method=row.method,
                )
                for row in await question_rows(session, round_.id)
            )
        )
    if _frozen(round_):
        _remember(key, FrozenRound((), context))
    return context


async def question_rows(session: AsyncSession, round_id: str) -> Sequence[QuestionRow]:
    return (
        await session.exec(
            select(QuestionRow)
            .where(QuestionRow.round_id == round_id)
            .order_by(col(QuestionRow.position))
        )
    ).all()


# --------------------------------------------------------------------------- eligibility


def _inside(home: str, area: str) -> bool:
    """Whether a resident's home area (from the token) lies in a round's area."""
    return area_within(home, area)


def age_on(birth_date: date, day: date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def closing_day(voting: VotingRound) -> date:
    return (voting.closes_at or datetime.now(UTC)).astimezone(UTC).date()


def check_age(user: User, voting: VotingRound) -> None:
    check_age_on(user, voting.ruleset, voting.closes_at)


def check_age_on(user: User, ruleset: RuleSet, closes_at: datetime | None) -> None:
    rules = ruleset.eligibility
    if rules.min_age <= 0 and rules.max_age is None:
        return
    if user.birth_date is None:
        raise Forbidden(
            "your sign-in carries no birth date, and this round has an age limit; sign in with "
            "DigiD or your voting-code letter",
            code="not_eligible_age",
            message_nl="uw inlog bevat geen geboortedatum, en deze ronde heeft een leeftijdsgrens",
        )
    day = (closes_at or datetime.now(UTC)).astimezone(UTC).date()
    age = age_on(user.birth_date, day)
    if rules.admits_age(age):
        return
    limit_en = (
        f"at least {rules.min_age}"
        if rules.max_age is None
        else f"{rules.min_age} to {rules.max_age}"
    )
    limit_nl = (
        f"minstens {rules.min_age}"
        if rules.max_age is None
        else f"{rules.min_age} tot en met {rules.max_age}"
    )
    raise Forbidden(
        f"voters in this round must be {limit_en} years old on the closing day ({day.isoformat()}); "
        f"you will be {age}",
        code="not_eligible_age",
        message_nl=f"kiezers in deze ronde moeten op de sluitingsdag ({day.isoformat()}) {limit_nl} "
        f"jaar oud zijn; u bent dan {age}",
        details={"age_on_closing_day": age, "min_age": rules.min_age, "max_age": rules.max_age},
    )


def voter_area(
    ruleset: RuleSet, areas: Sequence[RoundArea], homes: Sequence[str], chosen: str | None
) -> RoundArea | None:
    """The round area this voter votes in, from their home areas; None for a round-wide ballot."""
    if ruleset.eligibility.residents_only:
        possible = [area for area in areas if any(_inside(home, area.code) for home in homes)]
        if not possible:
            codes = ", ".join(area.code for area in areas)
            raise Forbidden(
                f"you do not live in an area of this round ({codes}); your sign-in says "
                f"{', '.join(homes) or 'no area'}",
                code="not_eligible_area",
                message_nl=f"u woont niet in een gebied van deze ronde ({codes}); uw inlog zegt "
                f"{', '.join(homes) or 'geen gebied'}",
                details={"round_areas": [area.code for area in areas], "your_areas": list(homes)},
            )
    else:
        possible = list(areas)
    needs_area = ruleset.is_budget or ruleset.eligibility.one_ballot_per == "area"
    if not needs_area:
        return None
    if chosen is not None:
        for area in possible:
            if area.code == chosen:
                return area
        raise Forbidden(
            f"you may not vote in area {chosen}; you may vote in: "
            f"{', '.join(area.code for area in possible)}",
            code="not_eligible_area",
            message_nl=f"u mag niet stemmen in gebied {chosen}; u mag stemmen in: "
            f"{', '.join(area.code for area in possible)}",
        )
    if len(possible) == 1:
        return possible[0]
    raise InvalidInput(
        "you may vote in more than one area of this round: say which with 'area' "
        f"({', '.join(area.code for area in possible)})",
        code="choose_area",
        message_nl="u mag in meer dan één gebied van deze ronde stemmen: kies er een met 'area'",
        details={"areas": [area.code for area in possible]},
    )


def scope_of(ruleset: RuleSet, area: RoundArea | None) -> str:
    if ruleset.eligibility.one_ballot_per == "area" and area is not None:
        return area.code
    return "round"


def live_slot(round_id: str, scope: str, voter_key: str) -> str:
    return f"{round_id}:{scope}:{voter_key}"


def _require_voting(round_: Round, what_en: str, what_nl: str) -> None:
    _require_voting_phase(round_.phase, what_en, what_nl)


def _require_voting_phase(phase: str, what_en: str, what_nl: str) -> None:
    if phase != Phase.VOTING.value:
        raise Conflict(
            f"{what_en}: voting in this round is not open (the round is in the {phase} phase)",
            code="voting_not_open",
            message_nl=f"{what_nl}: de stemming in deze ronde is niet open (fase: {phase})",
            details={"phase": phase},
        )


def _require_before_end(closes_at: datetime | None) -> None:
    """Voting ends at its scheduled time, not when the scheduler next looks (it runs every
    half minute): a resident's ballot after that moment is refused, so the published end
    means what it says. The close still counts every ballot acknowledged before it."""
    if closes_at is None:
        return
    end = closes_at if closes_at.tzinfo is not None else closes_at.replace(tzinfo=UTC)
    if utcnow() >= end:
        shown = end.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        raise Conflict(
            f"your ballot cannot be cast: voting in this round closed at {shown}",
            code="voting_closed",
            message_nl=f"uw stem kan niet worden uitgebracht: de stemming sloot op {shown}",
            details={"closed_at": end.isoformat()},
        )


# --------------------------------------------------------------------------- records


def ballot_record(
    ruleset: RuleSet, round_id: str, area: str | None, valid: ValidBallot
) -> dict[str, Any]:
    """What the receipt commits to and what is published: choices only, no voter, no time."""
    if ruleset.is_budget:
        answer = valid.answer
        assert area is not None
        if answer.abstained:
            return budget_ballot_record(round_id, area, [])
        if answer.format == "cumulative":
            return budget_ballot_record(
                round_id, area, [o for o, _ in answer.points], [p for _, p in answer.points]
            )
        if answer.format == "scores":
            return budget_ballot_record(
                round_id, area, [o for o, _ in answer.scores], [s for _, s in answer.scores]
            )
        return budget_ballot_record(round_id, area, list(answer.chosen))
    labels = ruleset.ballot.scale.labels if ruleset.ballot.scale else ()
    answers: dict[str, Any] = {}
    for answer in valid.answers:
        if answer.abstained or answer.question is None:
            continue
        if answer.format == "grades":
            answers[answer.question] = {
                "grades": {o: (labels[g] if labels else g) for o, g in answer.grades}
            }
        elif answer.format == "scores":
            # The tally record reads scores as grades on a numeric scale (docs/bundle.md 4).
            answers[answer.question] = {"grades": dict(answer.scores)}
        elif answer.format == "cumulative":
            answers[answer.question] = {"grades": dict(answer.points)}
        elif answer.format == "ranking":
            answers[answer.question] = {"ranking": [list(tier) for tier in answer.ranking]}
        else:
            answers[answer.question] = {"approvals": list(answer.approvals)}
    return preferendum_ballot_record(round_id, answers)


# --------------------------------------------------------------------------- the ballot


def _answer_form(ruleset: RuleSet, context: BallotContext) -> dict[str, Any]:
    kind = ruleset.ballot.format
    if isinstance(context, BudgetBallotContext):
        ids = [project.id for project in context.projects[:2]]
        options: list[str] = ids or ["P1", "P2"]
    else:
        first = context.questions[0] if context.questions else None
        options = [option.id for option in (first.options[:2] if first else ())] or ["a", "b"]
    if kind in ("approval", "knapsack", "k-approval"):
        answer: dict[str, Any] = {"approvals": options}
    elif kind == "cumulative":
        answer = {"points": dict.fromkeys(options, 1)}
    elif kind == "ranking":
        answer = {"ranking": [[option] for option in options]}
    elif kind == "grades":
        scale = ruleset.ballot.scale
        label = scale.labels[-1] if scale and scale.labels else 0
        answer = {"grades": dict.fromkeys(options, label)}
    else:
        scale = ruleset.ballot.scale
        answer = {"scores": dict.fromkeys(options, scale.max if scale else 1)}
    if isinstance(context, QuestionsBallotContext) and context.questions:
        return {"questions": {context.questions[0].id: answer}}
    return answer


def ballot_rules(ruleset: RuleSet, context: BallotContext) -> BallotRules:
    rules = ruleset.ballot
    scale = None
    if rules.scale is not None:
        scale = (
            {"labels": list(rules.scale.labels), "blank_allowed": rules.scale.blank_allowed}
            if rules.scale.is_labelled
            else {
                "min": rules.scale.min,
                "max": rules.scale.max,
                "blank_allowed": rules.scale.blank_allowed,
            }
        )
    return BallotRules(
        format=rules.format,
        min_selections=rules.min_selections,
        max_selections=rules.max_selections,
        within_budget=rules.within_budget,
        max_points=rules.max_points,
        max_points_per_option=rules.max_points_per_option,
        allow_abstain=rules.allow_abstain,
        revote=rules.revote,
        scale=scale,
        ranking_complete=rules.ranking_complete,
        ranking_ties_allowed=rules.ranking_ties_allowed,
        answer_form=_answer_form(ruleset, context),
    )


async def read_ballot(
    session: AsyncSession, settings: Settings, user: User, round_id: str, chosen_area: str | None
) -> BallotRead:
    return (await _read_ballot(session, settings, user, round_id, chosen_area))[0]


async def _read_ballot(
    session: AsyncSession, settings: Settings, user: User, round_id: str, chosen_area: str | None
) -> tuple[BallotRead, VotingRound]:
    voting = await load_voting_round(session, round_id)
    _require_voting(voting.round, "there is no ballot yet", "er is nog geen stembiljet")
    _remember_rules(round_id, voting)
    check_age(user, voting)
    area = voter_area(
        voting.ruleset, await round_areas(session, voting.round), user.areas, chosen_area
    )
    context = await ballot_context(session, voting, area)
    voter_key = pseudonym(settings.pseudonym_key, round_id, user.subject)
    slot = live_slot(round_id, scope_of(voting.ruleset, area), voter_key)
    voted = (
        await session.exec(select(Ballot.id).where(Ballot.live_slot == slot))
    ).first() is not None
    return await ballot_read(session, voting, area, context, already_voted=voted), voting


# The rule set of each round seen in voting (a round's rule set never changes once it has left
# its draft), and the ballot's JSON body for each (round, area, rule set, title, closing time,
# whether the voter voted): the same bytes for every voter of an area while nothing changes.
_VOTING_RULES: dict[str, tuple[str, RuleSet, datetime | None]] = {}
_BODIES: dict[tuple[Any, ...], bytes] = {}
_BODIES_LIMIT = 4_000


def _body_key(
    round_id: str,
    area: str | None,
    ruleset_hash: str,
    title: str,
    instrument: str,
    closes_at: datetime | None,
    voted: bool,
) -> tuple[Any, ...]:
    return (round_id, area, ruleset_hash, title, instrument, closes_at, voted)


# The round's state and whether the voter's live slot is taken, in one statement.
_BALLOT_QUERY = _with_voting_end(
    sa.select(
        col(Round.phase),
        col(Round.title),
        col(Round.instrument),
        col(Round.ruleset_hash),
        col(RoundPhase.ends_at),
        sa.exists().where(col(Ballot.live_slot) == sa.bindparam("slot")).label("voted"),
    )
).where(col(Round.id) == sa.bindparam("round_id"))


async def read_ballot_json(
    session: AsyncSession, settings: Settings, user: User, round_id: str, chosen_area: str | None
) -> bytes:
    """:func:`read_ballot` as the API's JSON body. While voting is open and the worker has seen
    the round's ballot before, this is one read without a transaction or an ORM session (the
    round's phase, title and closing time, and whether the voter's slot is taken) and a cached
    body: the rule set, areas and projects or questions are frozen once voting opens.
    Anything else (another phase, an eligibility refusal, a round not seen yet) takes
    :func:`read_ballot`, which gives the same answer and the same errors."""
    engine = session.bind
    if isinstance(engine, AsyncEngine):
        body = await _served_body(engine, settings, user, round_id, chosen_area)
        if body is not None:
            return body
    ballot, voting = await _read_ballot(session, settings, user, round_id, chosen_area)
    body = ballot.model_dump_json().encode()
    if len(_BODIES) >= _BODIES_LIMIT:
        _BODIES.clear()
    _BODIES[
        _body_key(
            round_id,
            ballot.area,
            voting.round.ruleset_hash,
            voting.round.title,
            voting.round.instrument,
            voting.closes_at,
            ballot.already_voted,
        )
    ] = body
    return body


async def _served_body(
    engine: AsyncEngine, settings: Settings, user: User, round_id: str, chosen_area: str | None
) -> bytes | None:
    found = _cached_voter_area(round_id, user, chosen_area)
    if found is None:
        return None
    (ruleset_hash, ruleset, _), area = found
    voter_key = pseudonym(settings.pseudonym_key, round_id, user.subject)
    slot = live_slot(round_id, scope_of(ruleset, area), voter_key)

    row = await read_one(engine, _BALLOT_QUERY, {"round_id": round_id, "slot": slot})
    if row is None or row.phase != Phase.VOTING.value or row.ruleset_hash != ruleset_hash:
        return None
    check_age_on(user, ruleset, row.ends_at)
    return _BODIES.get(
        _body_key(
            round_id,
            area.code if area is not None else None,
            ruleset_hash,
            row.title,
            row.instrument,
            row.ends_at,
            bool(row.voted),
        )
    )


async def ballot_read(
    session: AsyncSession,
    voting: VotingRound,
    area: RoundArea | None,
    context: BudgetBallotContext | QuestionsBallotContext,
    *,
    already_voted: bool,
) -> BallotRead:
    """The ballot as a voter sees it: the projects of the area, or the questions."""
    projects: list[BallotProjectRead] = []
    questions: list[BallotQuestionRead] = []
    if isinstance(context, BudgetBallotContext):
        projects = [
            BallotProjectRead(
                code=p.id, title=p.title, cost_cents=p.cost_cents, category=p.category
            )
            for p in context.projects
        ]
    else:
        rows = {row.key: row for row in await question_rows(session, voting.round.id)}
        questions = [
            BallotQuestionRead(
                id=q.id,
                title=q.title,
                description=rows[q.id].description if q.id in rows else "",
                method=q.method or "",
                options=[BallotOptionRead(id=o.id, label=o.label) for o in q.options],
            )
            for q in context.questions
        ]
    return BallotRead(
        round=voting.round.id,
        title=voting.round.title,
        instrument=voting.round.instrument,
        area=area.code if area else None,
        area_name=(area.name or area.code) if area else None,
        budget_cents=area.budget_cents if area and voting.ruleset.is_budget else None,
        closes_at=voting.closes_at,
        rules=ballot_rules(voting.ruleset, context),
        projects=projects,
        questions=questions,
        already_voted=already_voted,
    )


# --------------------------------------------------------------------------- storing


@dataclasses.dataclass(frozen=True)
class _Stored:
    round_id: str
    area_code: str | None
    channel: str
    status: str
    receipt_hash: str
    code: str
    replaced: bool


_BALLOTS: sa.Table = Ballot.__table__  # type: ignore[attr-defined]
_PENDING: sa.Table = AuditPending.__table__  # type: ignore[attr-defined]


def _insert(table: sa.Table, prefix: str, columns: Sequence[str]) -> sa.Insert:
    """An INSERT of one row built once, its values bound by name (``prefix`` + column)."""
    return sa.insert(table).values(
        {name: sa.bindparam(prefix + name, type_=table.c[name].type) for name in columns}
    )


_BALLOT_COLUMNS = (
    "round_id",
    "area_code",
    "voter_key",
    "live_slot",
    "channel",
    "status",
    "content",
    "receipt_hash",
    "receipt_nonce",
    "batch_id",
    "created_at",
    "superseded_at",
)
_EVENT_COLUMNS = ("chain", "round_id", "kind", "actor_role", "actor", "payload", "at")
_INSERT_BALLOT = _insert(_BALLOTS, "b_", _BALLOT_COLUMNS)
_INSERT_EVENT = _insert(_PENDING, "e_", _EVENT_COLUMNS)
# PostgreSQL runs a data-modifying WITH whether or not the statement reads it: the ballot and
# its pending event in one round trip.
_INSERT_BALLOT_AND_EVENT = _INSERT_EVENT.add_cte(_INSERT_BALLOT.cte("new_ballot"))


async def _store(
    session: AsyncSession,
    *,
    voting: VotingRound,
    voter_key: str,
    area: RoundArea | None,
    record: dict[str, Any],
    channel: Channel,
    actor: User,
    batch_id: int | None = None,
) -> _Stored:
    """:func:`_write` for a round loaded by :func:`load_voting_round` (voting not yet held
    open: the phase is checked under the round's lock after the first write)."""
    return await _write(
        session,
        round_id=voting.round.id,
        ruleset=voting.ruleset,
        voter_key=voter_key,
        area=area,
        record=record,
        channel=channel,
        actor=actor,
        batch_id=batch_id,
        held=False,
    )


async def _write(
    session: AsyncSession,
    *,
    round_id: str,
    ruleset: RuleSet,
    voter_key: str,
    area: RoundArea | None,
    record: dict[str, Any],
    channel: Channel,
    actor: User,
    batch_id: int | None = None,
    held: bool,
) -> _Stored:
    """Supersede the voter's live ballot where the rules allow, add the new one, log both
    (as pending ballot events, sealed into the chain later), with voting held open: ``held``
    when the caller has already share-locked the round's row and seen voting open (on
    PostgreSQL), otherwise this does it after the first write.

    The voter's live ballot is looked up only where it can change the answer (re-voting, the
    paper/online exclusion, a paper ballot's own refusal); otherwise an online ballot of a
    voter who has voted meets the unique ``live_slot`` and the caller's IntegrityError
    handler refuses it (``already_voted``). Core inserts, no ORM objects: the ballot and its
    event go in one statement on PostgreSQL when nothing is superseded.

    Leaves the commit to the caller; any IntegrityError from here means a concurrent ballot of
    the same voter won the slot (or the voter has voted, where that is not looked up).
    """
    from stemmen.audit.log import ballot_event_row

    slot = live_slot(round_id, scope_of(ruleset, area), voter_key)
    rules = ruleset.ballot
    # Core statements on the session's connection: no ORM execution machinery per statement.
    connection = await session.connection()
    existing = None
    if rules.revote_allowed or rules.paper_online_exclusive or channel != Channel.ONLINE:
        existing = (
            await connection.execute(
                sa.select(_BALLOTS.c.id, _BALLOTS.c.channel, _BALLOTS.c.receipt_hash).where(
                    _BALLOTS.c.live_slot == slot
                )
            )
        ).first()
    if existing is not None:
        if rules.paper_online_exclusive and existing.channel != channel.value:
            earlier_en = "on paper" if existing.channel == Channel.PAPER.value else "online"
            earlier_nl = "op papier" if existing.channel == Channel.PAPER.value else "online"
            raise Conflict(
                f"this voter voted {earlier_en} already; in this round who votes {earlier_en} "
                f"cannot also vote {'online' if channel == Channel.ONLINE else 'on paper'}",
                code="voted_other_channel",
                message_nl=f"deze kiezer heeft al {earlier_nl} gestemd; in deze ronde kan wie "
                f"{earlier_nl} stemt niet ook {'online' if channel == Channel.ONLINE else 'op papier'} stemmen",
                details={"channel": existing.channel},
            )
        if not rules.revote_allowed:
            raise _already_voted()
        retired = await connection.execute(
            sa.update(_BALLOTS)
            .where(_BALLOTS.c.id == existing.id, _BALLOTS.c.live_slot == slot)
            .values(live_slot=None, status=BallotStatus.SUPERSEDED.value, superseded_at=utcnow())
        )
        if retired.rowcount != 1:
            raise _raced()
    nonce = new_nonce()
    receipt = make_receipt(ballot_record_bytes(record), nonce)
    area_code = area.code if area is not None else None
    status = (BallotStatus.PENDING if channel == Channel.PAPER else BallotStatus.COUNTED).value
    ballot = {
        "b_round_id": round_id,
        "b_area_code": area_code,
        "b_voter_key": voter_key,
        "b_live_slot": slot,
        "b_channel": channel.value,
        "b_status": status,
        "b_content": record,
        "b_receipt_hash": receipt.hash,
        "b_receipt_nonce": nonce.hex(),
        "b_batch_id": batch_id,
        "b_created_at": utcnow(),
        "b_superseded_at": None,
    }
    payload: dict[str, Any] = {"receipt": receipt.hash, "channel": channel.value}
    if ruleset.is_budget and area is not None:
        payload["area"] = area_code
    if batch_id is not None:
        payload["batch"] = str(batch_id)
    accepted = _event(
        ballot_event_row(kind=BALLOT_ACCEPTED, actor=actor, payload=payload, round_id=round_id)
    )
    # The events wait in audit_pending and enter the chain when sealed (stemmen.audit.log):
    # no cast queues on the round's chain head.
    if held and existing is None and _dialect(session) == "postgresql":
        await connection.execute(_INSERT_BALLOT_AND_EVENT, {**ballot, **accepted})
    else:
        await connection.execute(_INSERT_BALLOT, ballot)
        if not held:
            await _hold_voting_open(session, round_id)
        if existing is not None:
            superseded = ballot_event_row(
                kind=BALLOT_SUPERSEDED,
                actor=actor,
                payload={"receipt": existing.receipt_hash, "by": receipt.hash},
                round_id=round_id,
            )
            await connection.execute(_INSERT_EVENT, _event(superseded))
        await connection.execute(_INSERT_EVENT, accepted)
    return _Stored(
        round_id, area_code, channel.value, status, receipt.hash, receipt.code, existing is not None
    )


def _event(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"e_" + name: value for name, value in row.items()}


def _dialect(session: AsyncSession) -> str:
    bind = session.bind
    return bind.dialect.name if bind is not None else ""


async def _hold_voting_open(session: AsyncSession, round_id: str) -> None:
    """Share-lock the round's row until commit and check, under that lock, that voting is
    still open: the close's UPDATE of the row waits for every cast holding it and counts
    their ballots, and a cast arriving after the close sees it and is refused.

    Called after the cast's first write: on SQLite that write took the database's single
    write lock (SQLite ignores FOR SHARE), so the phase read here is the latest too.
    """
    phase = (
        await session.execute(
            sa.select(col(Round.phase)).where(col(Round.id) == round_id).with_for_update(read=True)
        )
    ).scalar_one()
    if phase != Phase.VOTING.value:
        raise Conflict(
            f"voting in this round closed while the ballot was being recorded (the round is in "
            f"the {phase} phase); it was not recorded",
            code="voting_not_open",
            message_nl=f"de stemming in deze ronde sloot terwijl de stem werd vastgelegd (fase: "
            f"{phase}); de stem is niet vastgelegd",
            details={"phase": phase},
        )


def _raced() -> Conflict:
    return Conflict(
        "another ballot of yours was recorded at the same moment; that one counts. Check it "
        "with its receipt, and vote again if you want to change it",
        code="ballot_race",
        message_nl="er werd op hetzelfde moment een andere stem van u vastgelegd; die telt. "
        "Controleer die met de ontvangstcode, en stem opnieuw als u iets wilt wijzigen",
    )


def _already_voted() -> Conflict:
    return Conflict(
        "you have already voted in this round, and its rules do not allow voting again",
        code="already_voted",
        message_nl="u hebt al gestemd in deze ronde, en opnieuw stemmen is niet toegestaan",
    )


def _cast_receipt(stored: _Stored, valid: ValidBallot) -> CastReceipt:
    return CastReceipt(
        receipt=stored.code,
        receipt_hash=stored.receipt_hash,
        round=stored.round_id,
        area=stored.area_code,
        channel=stored.channel,
        status=stored.status,
        replaced_earlier_ballot=stored.replaced,
        recorded=valid.as_json(),
        cost_cents=valid.cost_cents,
    )


# --------------------------------------------------------------------------- one statement

# A voter's first online ballot on PostgreSQL: one statement, in its own implicit transaction,
# sent as a prepared statement on the pooled connection's asyncpg connection (no BEGIN, no
# COMMIT, no SQLAlchemy execution). It share-locks the round's row and reads its phase, rule
# set and voting end under the lock (in READ COMMITTED a row updated since the statement's
# snapshot is waited for and re-read, so a close that committed first is seen, and a close
# that comes later waits for this statement's commit); it inserts the ballot and its pending
# event only when voting is open with the rule set and voting end the worker checked the
# ballot against, and the voter has no live ballot; it returns what it saw and whether it
# wrote. The ballot and the event are written together or not at all (one statement).
# ``benchmarks/load.py`` measures the database's own rate with this same statement.
FIRST_BALLOT = """
WITH voting_round AS MATERIALIZED (
    SELECT rounds.phase, rounds.ruleset_hash, round_phases.ends_at
    FROM rounds
    LEFT OUTER JOIN round_phases
        ON round_phases.round_id = rounds.id AND round_phases.phase = 'voting'
    WHERE rounds.id = $1::varchar
    FOR SHARE OF rounds
), live AS MATERIALIZED (
    SELECT EXISTS (SELECT FROM ballots WHERE live_slot = $6::varchar) AS voted
), ballot AS (
    INSERT INTO ballots (
        round_id, area_code, voter_key, live_slot, channel, status, content, receipt_hash,
        receipt_nonce, batch_id, created_at, superseded_at
    )
    SELECT $1, $4::varchar, $5::varchar, $6, 'online', 'counted', $7::jsonb, $8::varchar,
        $9::varchar, NULL, $10::timestamptz, NULL
    FROM voting_round, live
    WHERE voting_round.phase = 'voting' AND voting_round.ruleset_hash = $2::varchar
        AND voting_round.ends_at IS NOT DISTINCT FROM $3::timestamptz AND NOT live.voted
    RETURNING id
), event AS (
    INSERT INTO audit_pending (chain, round_id, kind, actor_role, actor, payload, at)
    SELECT $1, $1, $11::varchar, $12::varchar, $13::varchar, $14::jsonb, $15::timestamptz
    FROM ballot
    RETURNING id
)
SELECT voting_round.phase, voting_round.ruleset_hash, voting_round.ends_at, live.voted,
    (SELECT count(*) FROM event) AS written
FROM voting_round, live
"""


def first_ballot_args(
    *,
    round_id: str,
    ruleset_hash: str,
    closes_at: datetime | None,
    area_code: str | None,
    area_in_event: bool,
    voter_key: str,
    slot: str,
    record: Mapping[str, Any],
    actor: User | str,
) -> tuple[str, tuple[Any, ...]]:
    """The receipt hash and the parameters of :data:`FIRST_BALLOT`: the same ballot row and
    ``ballot.accepted`` event as :func:`_write` makes for an online ballot."""
    from stemmen.audit.log import ballot_event_row

    nonce = new_nonce()
    receipt = make_receipt(ballot_record_bytes(record), nonce)
    payload: dict[str, Any] = {"receipt": receipt.hash, "channel": Channel.ONLINE.value}
    if area_in_event:
        payload["area"] = area_code
    event = ballot_event_row(kind=BALLOT_ACCEPTED, actor=actor, payload=payload, round_id=round_id)
    return receipt.hash, (
        round_id,
        ruleset_hash,
        closes_at,
        area_code,
        voter_key,
        slot,
        json.dumps(record),
        receipt.hash,
        nonce.hex(),
        utcnow(),
        event["kind"],
        event["actor_role"],
        event["actor"],
        json.dumps(event["payload"]),
        event["at"],
    )


async def _cast_in_one_statement(
    engine: AsyncEngine,
    settings: Settings,
    user: User,
    round_id: str,
    frozen: _FrozenCast,
    raw_ballot: Mapping[str, Any],
) -> CastReceipt | None:
    """The cast as :data:`FIRST_BALLOT`, or None where the full path must answer: the ballot
    or the voter's age is refused (the full path refuses it, after the checks that come
    first), the voter has a live ballot (re-voting, the paper/online exclusion, or the
    refusal), or the round is not the one the worker knows."""
    ruleset = frozen.ruleset
    try:
        check_age_on(user, ruleset, frozen.closes_at)
        valid = validate_ballot(ruleset, frozen.context, raw_ballot)
    except DomainError:
        return None
    area_code = frozen.area.code if frozen.area is not None else None
    record = ballot_record(ruleset, round_id, area_code, valid)
    voter_key = pseudonym(settings.pseudonym_key, round_id, user.subject)
    receipt_hash, args = first_ballot_args(
        round_id=round_id,
        ruleset_hash=frozen.ruleset_hash,
        closes_at=frozen.closes_at,
        area_code=area_code,
        area_in_event=ruleset.is_budget and area_code is not None,
        voter_key=voter_key,
        slot=live_slot(round_id, scope_of(ruleset, frozen.area), voter_key),
        record=record,
        actor=user,
    )
    try:
        row = await first_read(lambda: _send(engine, FIRST_BALLOT, args))
    except IntegrityConstraintViolationError as error:
        # A ballot of the same voter committed after this statement's snapshot was taken.
        raise (_raced() if ruleset.ballot.revote_allowed else _already_voted()) from error
    if row is None:
        return None
    if row["written"]:
        stored = _Stored(
            round_id,
            area_code,
            Channel.ONLINE.value,
            BallotStatus.COUNTED.value,
            receipt_hash,
            receipt_code(receipt_hash),
            False,
        )
        return _cast_receipt(stored, valid)
    _require_voting_phase(
        row["phase"], "your ballot cannot be cast", "uw stem kan niet worden uitgebracht"
    )
    return None


async def _send(engine: AsyncEngine, statement: str, args: Sequence[Any]) -> Any:
    """``statement`` on a pooled connection's asyncpg connection, outside any transaction
    block: its one row, or None.

    Errors become what SQLAlchemy makes of them, so the app answers as it does for any
    statement (a dropped connection or a server going away: 503 ``retry_later``). Only an
    error raised before anything was sent (the driver found the connection closed) reads as
    a dead pooled connection to :func:`stemmen.db.first_read`, which then sends the statement
    once more on a checked connection; after one that was sent, the outcome is unknown to
    this worker (written whole or not at all) and the client is told to retry. A unique or
    check constraint's refusal is raised as the driver's IntegrityConstraintViolationError:
    nothing was written. (Reads that are safe to repeat take :func:`stemmen.db.read_one`.)"""
    async with engine.connect() as connection:
        sync = connection.sync_connection
        assert sync is not None
        driver = sync.connection.driver_connection
        assert driver is not None
        try:
            return await driver.fetchrow(statement, *args)
        except IntegrityConstraintViolationError:
            raise
        except BaseException as error:
            if driver.is_closed() or not isinstance(error, PostgresError):
                # Closed, cancelled mid-statement or in an unknown state: never pooled again.
                await connection.invalidate(error if isinstance(error, Exception) else None)
            if not isinstance(error, Exception):
                raise
            raise _wrapped(engine, statement, error) from error


def _wrapped(engine: AsyncEngine, statement: str, error: Exception) -> Exception:
    """The error as SQLAlchemy raises a driver's error (its DBAPIError classes, by SQLSTATE),
    without the statement's parameters (a ballot's contents stay out of logs). Errors that are
    not the driver's (a socket's OSError) stay as they are."""
    dialect = engine.dialect
    try:
        AsyncAdapt_asyncpg_connection._handle_exception_no_connection(dialect.loaded_dbapi, error)
    except Exception as adapted:
        if isinstance(adapted, dialect.loaded_dbapi.Error):
            return sa.exc.DBAPIError.instance(
                statement,
                None,
                adapted,
                dialect.loaded_dbapi.Error,
                hide_parameters=True,
                dialect=dialect,
            )
        return adapted
    return error  # pragma: no cover - the adapter always raises


async def cast_ballot(
    session: AsyncSession,
    settings: Settings,
    user: User,
    round_id: str,
    chosen_area: str | None,
    raw_ballot: Mapping[str, Any],
) -> CastReceipt:
    """Cast an online ballot. While voting is open and the worker knows the round's rule set
    and ballot (both frozen): on PostgreSQL a voter's first ballot is one statement
    (:data:`FIRST_BALLOT`); otherwise the round is read once, share-locked (its phase, rule set
    and closing time) and nothing else is loaded. A round the worker does not know yet is
    loaded in full."""
    cached = _frozen_cast(round_id, user, chosen_area)
    if cached is not None:
        _require_before_end(cached.closes_at)
        engine = session.bind
        if isinstance(engine, AsyncEngine) and engine.dialect.name == "postgresql":
            receipt = await _cast_in_one_statement(
                engine, settings, user, round_id, cached, raw_ballot
            )
            if receipt is not None:
                return receipt
        ruleset_hash, ruleset, area, context = (
            cached.ruleset_hash,
            cached.ruleset,
            cached.area,
            cached.context,
        )
        held = _dialect(session) == "postgresql"

        async def read() -> Any:
            return (
                await (await session.connection()).execute(_CAST_QUERY, {"round_id": round_id})
            ).first()

        row = await (read() if session.in_transaction() else first_read(read, session.rollback))
        if row is not None and row.ruleset_hash == ruleset_hash:
            _require_voting_phase(
                row.phase, "your ballot cannot be cast", "uw stem kan niet worden uitgebracht"
            )
            _require_before_end(row.ends_at)
            check_age_on(user, ruleset, row.ends_at)
            return await _cast(
                session, settings, user, round_id, ruleset, area, context, raw_ballot, held=held
            )
    voting = await load_voting_round(session, round_id)
    _require_voting(
        voting.round, "your ballot cannot be cast", "uw stem kan niet worden uitgebracht"
    )
    _require_before_end(voting.closes_at)
    _remember_rules(round_id, voting)
    check_age(user, voting)
    area = voter_area(
        voting.ruleset, await round_areas(session, voting.round), user.areas, chosen_area
    )
    context = await ballot_context(session, voting, area)
    return await _cast(
        session, settings, user, round_id, voting.ruleset, area, context, raw_ballot, held=False
    )


# The cast's one read on the fast path: the round's phase, rule set and voting end, with the
# round's row share-locked until commit (PostgreSQL: the close's UPDATE of the row waits for
# the cast, and the phase seen here holds until it commits; SQLite ignores FOR SHARE, so the
# cast re-checks the phase after its first write there, see _hold_voting_open).
_CAST_QUERY = (
    _with_voting_end(sa.select(col(Round.phase), col(Round.ruleset_hash), col(RoundPhase.ends_at)))
    .where(col(Round.id) == sa.bindparam("round_id"))
    .with_for_update(read=True, of=Round.__table__)  # type: ignore[attr-defined]
)


@dataclasses.dataclass(frozen=True)
class _FrozenCast:
    ruleset_hash: str
    ruleset: RuleSet
    closes_at: datetime | None
    area: RoundArea | None
    context: BallotContext


def _cached_voter_area(
    round_id: str, user: User, chosen_area: str | None
) -> tuple[tuple[str, RuleSet, datetime | None], RoundArea | None] | None:
    """The worker's cached (rule set hash, rule set, voting end) of a round in voting and the
    voter's area in it, or None when the round is not cached or the voter's area is refused
    (the full path refuses it, after the checks that come first)."""
    known = _VOTING_RULES.get(round_id)
    frozen = _FROZEN.get((round_id, None))
    if known is None or frozen is None:
        return None
    try:
        return known, voter_area(known[1], frozen.areas, user.areas, chosen_area)
    except (Forbidden, InvalidInput):
        return None


def _frozen_cast(round_id: str, user: User, chosen_area: str | None) -> _FrozenCast | None:
    """The rule set, the voting end, the voter's area and the ballot from the worker's caches
    (all fixed once the round has left its draft), or None when any of them is not cached, or
    the voter's area is refused (the full path refuses it, after the checks that come first)."""
    found = _cached_voter_area(round_id, user, chosen_area)
    if found is None:
        return None
    (ruleset_hash, ruleset, closes_at), area = found
    cached = _FROZEN.get((round_id, area.code if area is not None and ruleset.is_budget else ""))
    if cached is None or cached.context is None:
        return None
    return _FrozenCast(ruleset_hash, ruleset, closes_at, area, cached.context)


def _remember_rules(round_id: str, voting: VotingRound) -> None:
    if len(_VOTING_RULES) >= _FROZEN_LIMIT:
        _VOTING_RULES.clear()
    _VOTING_RULES[round_id] = (voting.round.ruleset_hash, voting.ruleset, voting.closes_at)


async def _cast(
    session: AsyncSession,
    settings: Settings,
    user: User,
    round_id: str,
    ruleset: RuleSet,
    area: RoundArea | None,
    context: BallotContext,
    raw_ballot: Mapping[str, Any],
    *,
    held: bool,
) -> CastReceipt:
    valid = validate_ballot(ruleset, context, raw_ballot)
    record = ballot_record(ruleset, round_id, area.code if area else None, valid)
    voter_key = pseudonym(settings.pseudonym_key, round_id, user.subject)
    try:
        stored = await _write(
            session,
            round_id=round_id,
            ruleset=ruleset,
            voter_key=voter_key,
            area=area,
            record=record,
            channel=Channel.ONLINE,
            actor=user,
            held=held,
        )
        await session.commit()
    except IntegrityError as error:
        await session.rollback()
        raise (_raced() if ruleset.ballot.revote_allowed else _already_voted()) from error
    except Conflict:
        await session.rollback()
        raise
    return _cast_receipt(stored, valid)


# --------------------------------------------------------------------------- paper


def _batch_read(batch: PaperBatch, count: int) -> PaperBatchRead:
    assert batch.id is not None
    return PaperBatchRead(
        id=batch.id,
        round=batch.round_id,
        label=batch.label,
        status=batch.status,
        entered_by=batch.entered_by,
        confirmed_by=batch.confirmed_by,
        created_at=batch.created_at,
        confirmed_at=batch.confirmed_at,
        ballots=count,
    )


async def _batch_count(session: AsyncSession, batch_id: int) -> int:
    return int(
        (
            await session.exec(
                select(sa.func.count()).select_from(Ballot).where(Ballot.batch_id == batch_id)
            )
        ).one()
    )


def _require_paper(ruleset: RuleSet) -> None:
    if Channel.PAPER.value not in ruleset.ballot.channels:
        raise Conflict(
            "this round's rule set does not allow paper ballots (ballot.channels)",
            code="paper_not_allowed",
            message_nl="het kader van deze ronde staat geen papieren stembiljetten toe",
        )


async def open_batch(
    session: AsyncSession, user: User, round_id: str, label: str
) -> PaperBatchRead:
    voting = await load_voting_round(session, round_id)
    _require_voting(
        voting.round, "no paper batch can be opened", "er kan geen papieren batch worden geopend"
    )
    _require_paper(voting.ruleset)
    batch = PaperBatch(round_id=round_id, label=label, entered_by=user.subject)
    session.add(batch)
    await session.commit()
    return _batch_read(batch, 0)


async def list_batches(session: AsyncSession, round_id: str) -> list[PaperBatchRead]:
    await get_round(session, round_id)
    rows = (
        await session.execute(
            sa.select(PaperBatch, sa.func.count(col(Ballot.id)))
            .outerjoin(Ballot, col(Ballot.batch_id) == col(PaperBatch.id))
            .where(col(PaperBatch.round_id) == round_id)
            .group_by(col(PaperBatch.id))
            .order_by(col(PaperBatch.id))
        )
    ).all()
    return [_batch_read(batch, int(count)) for batch, count in rows]


async def _get_batch(session: AsyncSession, round_id: str, batch_id: int) -> PaperBatch:
    batch = await session.get(PaperBatch, batch_id)
    if batch is None or batch.round_id != round_id:
        raise NotFound(f"round {round_id} has no paper batch {batch_id}", code="batch_not_found")
    return batch


def _require_open(batch: PaperBatch) -> None:
    if batch.status != "open":
        raise Conflict(
            f"paper batch {batch.id} is {batch.status}; nothing can change in it any more",
            code="batch_not_open",
            message_nl=f"papieren batch {batch.id} is al afgesloten ({batch.status})",
        )


async def enter_paper_ballot(
    session: AsyncSession,
    settings: Settings,
    user: User,
    round_id: str,
    batch_id: int,
    voter: str,
    chosen_area: str | None,
    raw_ballot: Mapping[str, Any],
) -> CastReceipt:
    """One paper ballot, checked like an online one; it counts once another official confirms.

    The official vouches from the register that the voter may vote (age and address); the
    area, when the round needs one, is the one the official gives.
    """
    voting = await load_voting_round(session, round_id)
    _require_voting(
        voting.round, "no paper ballot can be entered", "er kan geen papieren stem worden ingevoerd"
    )
    _require_paper(voting.ruleset)
    batch = await _get_batch(session, round_id, batch_id)
    _require_open(batch)
    if batch.entered_by != user.subject:
        raise Forbidden(
            "only the official who opened this batch enters its ballots; open a batch of your own",
            code="not_your_batch",
            message_nl="alleen de ambtenaar die deze batch opende voert de stemmen in",
        )
    areas = await round_areas(session, voting.round)
    homes = [chosen_area] if chosen_area else [area.code for area in areas]
    area = voter_area(voting.ruleset, areas, homes, chosen_area)
    context = await ballot_context(session, voting, area)
    valid = validate_ballot(voting.ruleset, context, raw_ballot)
    record = ballot_record(voting.ruleset, round_id, area.code if area else None, valid)
    voter_key = pseudonym(settings.pseudonym_key, round_id, voter)
    try:
        stored = await _store(
            session,
            voting=voting,
            voter_key=voter_key,
            area=area,
            record=record,
            channel=Channel.PAPER,
            actor=user,
            batch_id=batch_id,
        )
        await session.commit()
    except IntegrityError as error:
        await session.rollback()
        raise Conflict(
            "this voter has a ballot already (entered at the same moment)",
            code="already_voted",
            message_nl="deze kiezer heeft al een stem (tegelijk ingevoerd)",
        ) from error
    except Conflict:
        await session.rollback()
        raise
    return _cast_receipt(stored, valid)


async def confirm_batch(
    session: AsyncSession, user: User, round_id: str, batch_id: int
) -> PaperBatchRead:
    from stemmen.audit.log import append_event

    round_ = await get_round(session, round_id)
    # The close seals the counted ballots, and it waits for every batch: none is left after.
    _require_voting(round_, "the batch cannot be confirmed", "de batch kan niet worden bevestigd")
    batch = await _get_batch(session, round_id, batch_id)
    _require_open(batch)
    if batch.entered_by == user.subject:
        raise Forbidden(
            "a second official must confirm this batch: you entered its ballots yourself (four eyes)",
            code="four_eyes",
            message_nl="een tweede ambtenaar moet deze batch bevestigen: u voerde de stemmen zelf in",
        )
    changed = await session.execute(
        sa.update(PaperBatch)
        .where(col(PaperBatch.id) == batch_id, col(PaperBatch.status) == "open")
        .values(status="confirmed", confirmed_by=user.subject, confirmed_at=utcnow())
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        await session.rollback()
        raise Conflict(
            "the batch was confirmed or rejected at the same moment; reload", code="batch_not_open"
        )
    await session.execute(
        sa.update(Ballot)
        .where(col(Ballot.batch_id) == batch_id, col(Ballot.status) == BallotStatus.PENDING.value)
        .values(status=BallotStatus.COUNTED.value)
    )
    count = await _batch_count(session, batch_id)
    await append_event(
        session,
        kind=PAPER_BATCH_CONFIRMED,
        actor=user,
        payload={"batch": str(batch_id), "ballots": count, "entered_by": batch.entered_by},
        round_id=round_id,
    )
    await session.commit()
    await session.refresh(batch)
    return _batch_read(batch, count)


async def reject_batch(
    session: AsyncSession, user: User, round_id: str, batch_id: int, reason: str
) -> PaperBatchRead:
    """The batch's ballots never count; their voters may vote again."""
    round_ = await get_round(session, round_id)
    _require_voting(round_, "the batch cannot be rejected", "de batch kan niet worden afgekeurd")
    batch = await _get_batch(session, round_id, batch_id)
    _require_open(batch)
    changed = await session.execute(
        sa.update(PaperBatch)
        .where(col(PaperBatch.id) == batch_id, col(PaperBatch.status) == "open")
        .values(status="rejected", confirmed_by=None)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        await session.rollback()
        raise Conflict(
            "the batch was confirmed or rejected at the same moment; reload", code="batch_not_open"
        )
    await session.execute(
        sa.update(Ballot)
        .where(col(Ballot.batch_id) == batch_id, col(Ballot.status) == BallotStatus.PENDING.value)
        .values(status=BallotStatus.DISCARDED.value, live_slot=None, superseded_at=utcnow())
    )
    count = await _batch_count(session, batch_id)
    await session.commit()
    await session.refresh(batch)
    # The reason goes to the service log (no audit event kind exists for a rejection; the
    # batch's ballots simply never count, which the published counts show).
    logger.info(
        "paper batch rejected",
        extra={"round": round_id, "batch": batch_id, "by": user.subject, "reason": reason},
    )
    return _batch_read(batch, count)


# --------------------------------------------------------------------------- receipts

_EXPLANATIONS = {
    BallotStatus.COUNTED.value: (
        "your ballot counts as you cast it",
        "uw stem telt zoals u die uitbracht",
    ),
    BallotStatus.PENDING.value: (
        "your paper ballot waits for a second official to confirm its batch",
        "uw papieren stem wacht op bevestiging door een tweede ambtenaar",
    ),
    BallotStatus.SUPERSEDED.value: (
        "this ballot was replaced by a later ballot of yours, which counts instead",
        "deze stem is vervangen door een latere stem van u, die in plaats daarvan telt",
    ),
    BallotStatus.DISCARDED.value: (
        "this paper ballot's batch was rejected; it does not count",
        "de batch van deze papieren stem is afgekeurd; de stem telt niet",
    ),
}


# The counted receipts of sealed rounds (they never change after the close), by Merkle root.
_SEALED_LEAVES: dict[tuple[str, str], list[bytes]] = {}


async def _sealed_leaves(session: AsyncSession, round_: Round) -> list[bytes]:
    from stemmen.audit.merkle import receipt_leaves

    assert round_.merkle_root is not None
    key = (round_.id, round_.merkle_root)
    cached = _SEALED_LEAVES.get(key)
    if cached is not None:
        return cached
    receipts = (
        await session.exec(
            select(Ballot.receipt_hash).where(
                Ballot.round_id == round_.id, Ballot.status == BallotStatus.COUNTED.value
            )
        )
    ).all()
    leaves = receipt_leaves(receipts)
    if len(_SEALED_LEAVES) >= 16:
        _SEALED_LEAVES.clear()
    _SEALED_LEAVES[key] = leaves
    return leaves


async def read_receipt(
    session: AsyncSession, code: str, round_id: str | None = None
) -> ReceiptRead:
    from stemmen.audit.merkle import inclusion_proof

    try:
        prefix = code_prefix(code)
    except ReceiptCodeError as error:
        raise InvalidInput(str(error), code="receipt_unreadable") from error
    query = select(Ballot).where(col(Ballot.receipt_hash).startswith(prefix))
    if round_id is not None:
        query = query.where(Ballot.round_id == round_id)
    matches = (await session.exec(query)).all()
    if len(matches) != 1:
        raise NotFound(
            "no ballot has this receipt code; check it character by character",
            code="receipt_not_found",
            message_nl="geen stem heeft deze ontvangstcode; controleer die teken voor teken",
        )
    ballot = matches[0]
    round_ = await get_round(session, ballot.round_id)
    proof = None
    if round_.merkle_root is not None and ballot.status == BallotStatus.COUNTED.value:
        leaves = await _sealed_leaves(session, round_)
        index = leaves.index(bytes.fromhex(ballot.receipt_hash))
        proof = {
            "index": index,
            "tree_size": len(leaves),
            "path": [node.hex() for node in inclusion_proof(leaves, index)],
        }
    explanation = _EXPLANATIONS[ballot.status][0]
    return ReceiptRead(
        receipt=receipt_code(ballot.receipt_hash),
        receipt_hash=ballot.receipt_hash,
        round=ballot.round_id,
        status=ballot.status,
        channel=ballot.channel,
        counted=ballot.status == BallotStatus.COUNTED.value,
        explanation=explanation,
        recorded=ballot.content,
        merkle_root=round_.merkle_root,
        inclusion_proof=proof,
    )
