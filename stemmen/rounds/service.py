"""Rounds: creating them inside the council's frame, changing drafts, the phase machine and
questions. The service owns its transactions; every change that matters is logged in the
round's audit chain in the same transaction."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from stemmen.audit import chain as events
from stemmen.audit.chain import format_utc
from stemmen.audit.log import append_event
from stemmen.audit.receipts import commit_seed, new_seed
from stemmen.auth import User
from stemmen.db import utcnow
from stemmen.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from stemmen.proposals.models import Proposal, ProposalStatus, Support
from stemmen.rounds.models import Phase, Question, Round, RoundArea, RoundPhase
from stemmen.rounds.schemas import (
    AreaIn,
    AreaRead,
    PhaseRead,
    PhaseWindowIn,
    QuestionCreate,
    QuestionRead,
    QuestionUpdate,
    RoundCreate,
    RoundRead,
    RoundSummary,
    RoundUpdate,
)
from stemmen.rules.document import (
    PHASE_NAMES_EN,
    PHASE_NAMES_NL,
    TALLY_FORMATS,
    PhaseWindow,
    RoundOutOfBounds,
    RuleSet,
    area_within,
    check_round_against_bounds,
)
from stemmen.rules.service import get_version, ruleset_view

logger = logging.getLogger("stemmen.rounds")

SYSTEM_ACTOR = "system"
Actor = User | str

_PHASE_NAMES_EN = {**PHASE_NAMES_EN, "draft": "draft", "closed": "closed", "published": "published"}
_PHASE_NAMES_NL = {
    **PHASE_NAMES_NL,
    "draft": "concept",
    "closed": "gesloten",
    "published": "gepubliceerd",
}

# --------------------------------------------------------------------------- loading


async def ruleset_of(session: AsyncSession, round_: Round) -> RuleSet:
    return await ruleset_view(session, round_.ruleset_hash)


async def lock_round(session: AsyncSession, round_id: str) -> None:
    """Hold the round's row until commit (a no-op UPDATE: a row lock on PostgreSQL, the write
    lock on SQLite), so that limits counted next and the phase read next cannot be raced by a
    concurrent submission, support or phase move of the same round."""
    await session.execute(
        sa.update(Round).where(col(Round.id) == round_id).values(revision=Round.revision)
    )


async def get_round(session: AsyncSession, round_id: str) -> Round:
    round_ = await session.get(Round, round_id)
    if round_ is None:
        raise NotFound(
            f"there is no round {round_id}",
            code="round_not_found",
            message_nl=f"er is geen ronde {round_id}",
        )
    return round_


async def round_areas(session: AsyncSession, round_id: str) -> list[RoundArea]:
    statement = (
        select(RoundArea).where(RoundArea.round_id == round_id).order_by(col(RoundArea.code))
    )
    return list((await session.exec(statement)).all())


async def round_questions(session: AsyncSession, round_id: str) -> list[Question]:
    statement = (
        select(Question).where(Question.round_id == round_id).order_by(col(Question.position))
    )
    return list((await session.exec(statement)).all())


async def phase_rows(session: AsyncSession, round_id: str) -> dict[str, RoundPhase]:
    rows = (await session.exec(select(RoundPhase).where(RoundPhase.round_id == round_id))).all()
    return {row.phase: row for row in rows}


def actor_name(actor: Actor) -> str:
    if isinstance(actor, str):
        return actor
    return actor.subject


# --------------------------------------------------------------------------- phases


def applicable_phases(ruleset: RuleSet) -> tuple[str, ...]:
    """The phases a round under this rule set runs through, in order."""
    return tuple(phase.value for phase in Phase if ruleset.has_phase(phase.value))


def next_phase(ruleset: RuleSet, phase: str) -> str | None:
    order = applicable_phases(ruleset)
    if phase not in order or phase == order[-1]:
        return None
    return order[order.index(phase) + 1]


async def closing_day(session: AsyncSession, round_: Round) -> date:
    """The day ages are measured on: the scheduled end of voting, or today when unscheduled."""
    rows = await phase_rows(session, round_.id)
    voting = rows.get(Phase.VOTING.value)
    if voting is not None and voting.ends_at is not None:
        return voting.ends_at.astimezone(UTC).date()
    return utcnow().date()


def age_on(birth_date: date, day: date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def resident_area(user: User, area_codes: Sequence[str]) -> str | None:
    """The round area the resident lives in (their token areas nest in it), if any."""
    for code in sorted(area_codes):
        if any(area_within(own, code) for own in user.areas):
            return code
    return None


def check_resident_eligible(
    ruleset: RuleSet, area_codes: Sequence[str], user: User, on_day: date, *, doing: str
) -> str:
    """The round area an eligible resident belongs to; Forbidden saying why otherwise."""
    eligibility = ruleset.eligibility
    area = resident_area(user, area_codes)
    if area is None:
        own = ", ".join(user.areas) or "none"
        raise Forbidden(
            f"you may not {doing}: your sign-in places you in {own}, outside this round's areas "
            f"({', '.join(sorted(area_codes))})",
            code="not_eligible_area",
            message_nl=f"u mag dit niet: uw gebied ({own}) ligt buiten de gebieden van deze ronde",
            details={"your_areas": list(user.areas), "round_areas": sorted(area_codes)},
        )
    if user.birth_date is None:
        raise Forbidden(
            f"you may not {doing}: your sign-in does not state your birth date, which the rule "
            "set needs to check your age",
            code="not_eligible_age_unknown",
            message_nl="u mag dit niet: uw inlog vermeldt geen geboortedatum",
        )
    age = age_on(user.birth_date, on_day)
    if not eligibility.admits_age(age):
        limit = f"at least {eligibility.min_age}"
        limit_nl = f"minstens {eligibility.min_age}"
        if eligibility.max_age is not None:
            limit = f"from {eligibility.min_age} to {eligibility.max_age}"
            limit_nl = f"van {eligibility.min_age} tot en met {eligibility.max_age}"
        raise Forbidden(
            f"you may not {doing}: you will be {age} on the closing day ({on_day.isoformat()}); "
            f"the council's rule set ({ruleset.reference}, eligibility) requires an age {limit}",
            code="not_eligible_age",
            message_nl=f"u mag dit niet: u bent op de sluitingsdag {age}; het kader van de raad "
            f"({ruleset.reference}) vraagt een leeftijd van {limit_nl}",
            details={"age_on_closing_day": age, "closing_day": on_day.isoformat()},
        )
    return area


# --------------------------------------------------------------------------- reading


async def read_round(session: AsyncSession, round_: Round) -> RoundRead:
    ruleset = await ruleset_of(session, round_)
    rows = await phase_rows(session, round_.id)
    phases = []
    for phase in applicable_phases(ruleset):
        row = rows.get(phase)
        phases.append(
            PhaseRead(
                phase=phase,
                starts_at=row.starts_at if row else None,
                ends_at=row.ends_at if row else None,
                started_at=row.started_at if row else None,
                started_by=row.started_by if row else None,
            )
        )
    return RoundRead(
        id=round_.id,
        title=round_.title,
        description=round_.description,
        instrument=round_.instrument,
        ruleset_hash=round_.ruleset_hash,
        phase=round_.phase,
        revision=round_.revision,
        created_by=round_.created_by,
        created_at=round_.created_at,
        updated_at=round_.updated_at,
        areas=[
            AreaRead(code=area.code, name=area.name, budget_cents=area.budget_cents)
            for area in await round_areas(session, round_.id)
        ],
        phases=phases,
        next_phase=next_phase(ruleset, round_.phase),
        questions=[question_read(q) for q in await round_questions(session, round_.id)],
        seed_commitment=round_.seed_commitment,
        seed=round_.seed if round_.phase == Phase.PUBLISHED.value else None,
    )


async def list_rounds(
    session: AsyncSession, *, area: str | None = None, phase: str | None = None
) -> list[RoundSummary]:
    statement = select(Round).order_by(col(Round.created_at), col(Round.id))
    if phase is not None:
        if phase not in {p.value for p in Phase}:
            raise InvalidInput(
                f"there is no phase '{phase}'; choose one of {', '.join(p.value for p in Phase)}",
                code="unknown_phase",
            )
        statement = statement.where(Round.phase == phase)
    rounds = (await session.exec(statement)).all()
    all_areas = (await session.exec(select(RoundArea).order_by(col(RoundArea.code)))).all()
    codes: dict[str, list[str]] = {}
    for row in all_areas:
        codes.setdefault(row.round_id, []).append(row.code)
    summaries = []
    for round_ in rounds:
        own = codes.get(round_.id, [])
        # A resident's neighbourhood finds the district round it lies in, and the reverse.
        if area is not None and not any(
            area_within(area, code) or area_within(code, area) for code in own
        ):
            continue
        summaries.append(
            RoundSummary(
                id=round_.id,
                title=round_.title,
                instrument=round_.instrument,
                phase=round_.phase,
                ruleset_hash=round_.ruleset_hash,
                areas=own,
            )
        )
    return summaries


# --------------------------------------------------------------------------- creating, changing


def _schedule(phases: Mapping[str, PhaseWindowIn]) -> dict[str, PhaseWindow]:
    return {
        phase: PhaseWindow(window.starts_at, window.ends_at) for phase, window in phases.items()
    }


def _check_bounds(
    ruleset: RuleSet,
    areas: Sequence[AreaIn],
    phases: Mapping[str, PhaseWindowIn],
    question_methods: Mapping[str, str] | None = None,
) -> None:
    budgets = {area.code: area.budget_cents for area in areas if area.budget_cents is not None}
    problems = check_round_against_bounds(
        ruleset,
        [area.code for area in areas],
        budgets,
        _schedule(phases),
        question_methods,
    )
    if problems:
        raise RoundOutOfBounds(problems)


def _area_payload(areas: Sequence[AreaIn]) -> list[dict[str, Any]]:
    return [
        {"code": a.code, "name": a.name or a.code, "budget_cents": a.budget_cents} for a in areas
    ]


def _phases_payload(phases: Mapping[str, PhaseWindowIn]) -> dict[str, Any]:
    return {
        phase: {
            "starts_at": format_utc(window.starts_at) if window.starts_at else None,
            "ends_at": format_utc(window.ends_at) if window.ends_at else None,
        }
        for phase, window in sorted(phases.items())
    }


async def create_round(session: AsyncSession, data: RoundCreate, actor: User) -> RoundRead:
    version = await get_version(session, data.ruleset_hash)
    ruleset = await ruleset_view(session, version.hash)
    _check_bounds(ruleset, data.areas, data.phases)
    round_ = Round(
        title=data.title,
        description=data.description,
        instrument=ruleset.instrument,
        ruleset_hash=version.hash,
        created_by=actor.subject,
    )
    session.add(round_)
    await session.flush()
    for area in data.areas:
        session.add(
            RoundArea(
                round_id=round_.id,
                code=area.code,
                name=area.name or area.code,
                budget_cents=area.budget_cents,
            )
        )
    session.add(
        RoundPhase(
            round_id=round_.id,
            phase=Phase.DRAFT.value,
            started_at=round_.created_at,
            started_by=actor.subject,
        )
    )
    for phase, window in data.phases.items():
        session.add(
            RoundPhase(
                round_id=round_.id, phase=phase, starts_at=window.starts_at, ends_at=window.ends_at
            )
        )
    await session.flush()
    await append_event(
        session,
        kind=events.ROUND_CREATED,
        actor=actor,
        round_id=round_.id,
        payload={
            "title": round_.title,
            "instrument": round_.instrument,
            "ruleset_hash": round_.ruleset_hash,
            "areas": _area_payload(data.areas),
            "phases": _phases_payload(data.phases),
        },
    )
    await session.commit()
    return await read_round(session, round_)


def _stale(round_id: str) -> Conflict:
    return Conflict(
        f"round {round_id} was changed by someone else meanwhile; reload it and apply your change again",
        code="round_changed_meanwhile",
        message_nl="de ronde is intussen door iemand anders gewijzigd; laad haar opnieuw en "
        "breng uw wijziging opnieuw aan",
    )


def _not_draft(round_: Round, what: str) -> Conflict:
    return Conflict(
        f"{what} only while the round is a draft; it is in the {round_.phase} phase now",
        code="round_not_draft",
        message_nl=f"dit kan alleen zolang de ronde een concept is; zij is nu in de fase "
        f"'{_PHASE_NAMES_NL.get(round_.phase, round_.phase)}'",
        details={"phase": round_.phase},
    )


async def update_round(
    session: AsyncSession, round_id: str, data: RoundUpdate, actor: User
) -> RoundRead:
    round_ = await get_round(session, round_id)
    if round_.phase != Phase.DRAFT.value:
        raise _not_draft(round_, "a round's settings can be changed")
    ruleset = await ruleset_of(session, round_)
    current_areas = await round_areas(session, round_.id)
    rows = await phase_rows(session, round_.id)
    areas = data.areas
    if areas is None:
        areas = [
            AreaIn(code=a.code, name=a.name, budget_cents=a.budget_cents) for a in current_areas
        ]
    phases = data.phases
    if phases is None:
        phases = {
            phase: PhaseWindowIn(starts_at=row.starts_at, ends_at=row.ends_at)
            for phase, row in rows.items()
            if row.starts_at is not None or row.ends_at is not None
        }
    methods = {q.key: q.method for q in await round_questions(session, round_.id)}
    _check_bounds(ruleset, areas, phases, methods or None)

    values: dict[str, Any] = {"revision": Round.revision + 1, "updated_at": utcnow()}
    if data.title is not None:
        values["title"] = data.title
    if data.description is not None:
        values["description"] = data.description
    # The optimistic lock: only the change based on the current revision wins.
    changed = await session.execute(
        sa.update(Round)
        .where(
            col(Round.id) == round_.id,
            col(Round.revision) == data.revision,
            col(Round.phase) == Phase.DRAFT.value,
        )
        .values(**values)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        await session.rollback()
        raise _stale(round_id)
    if data.areas is not None:
        await session.execute(sa.delete(RoundArea).where(col(RoundArea.round_id) == round_.id))
        for area in data.areas:
            session.add(
                RoundArea(
                    round_id=round_.id,
                    code=area.code,
                    name=area.name or area.code,
                    budget_cents=area.budget_cents,
                )
            )
    if data.phases is not None:
        for phase, row in rows.items():
            if phase not in data.phases:
                row.starts_at = None
                row.ends_at = None
                session.add(row)
        for phase, window in data.phases.items():
            row = rows.get(phase) or RoundPhase(round_id=round_.id, phase=phase)
            row.starts_at = window.starts_at
            row.ends_at = window.ends_at
            session.add(row)
    await session.flush()
    changes: dict[str, Any] = {"revision": data.revision + 1}
    if data.title is not None:
        changes["title"] = data.title
    if data.description is not None:
        changes["description"] = data.description
    if data.areas is not None:
        changes["areas"] = _area_payload(data.areas)
    if data.phases is not None:
        changes["phases"] = _phases_payload(data.phases)
    await append_event(
        session, kind=events.ROUND_CHANGED, actor=actor, round_id=round_.id, payload=changes
    )
    await session.commit()
    await session.refresh(round_)
    return await read_round(session, round_)


# --------------------------------------------------------------------------- the phase machine


def _wrong_move(round_: Round, to_phase: str, expected: str | None) -> Conflict:
    current = round_.phase
    if current == Phase.PUBLISHED.value:
        return Conflict(
            "the round's result is published; nothing can change after publication",
            code="round_published",
            message_nl="de uitslag van de ronde is gepubliceerd; daarna kan niets meer veranderen",
        )
    if to_phase == Phase.CLOSED.value and current != Phase.VOTING.value:
        en = f"the round cannot close before voting has opened; it is in the {current} phase"
        nl = f"de ronde kan niet sluiten voordat de stemming is geopend; zij is in de fase '{_PHASE_NAMES_NL[current]}'"
    elif to_phase == current:
        en = f"the round is already in the {current} phase"
        nl = f"de ronde is al in de fase '{_PHASE_NAMES_NL[current]}'"
    else:
        en = f"the round is in the {current} phase; it can only move to the {expected} phase next, not to {to_phase}"
        nl = (
            f"de ronde is in de fase '{_PHASE_NAMES_NL[current]}'; de volgende fase is "
            f"'{_PHASE_NAMES_NL.get(expected or '', expected)}', niet '{_PHASE_NAMES_NL[to_phase]}'"
        )
    return Conflict(
        en,
        code="phase_move_not_allowed",
        message_nl=nl,
        details={"phase": current, "next": expected},
    )


async def support_counts(session: AsyncSession, round_id: str) -> dict[int, int]:
    """Supports per proposal of a round."""
    statement = (
        sa.select(col(Support.proposal_id), sa.func.count())
        .where(col(Support.round_id) == round_id)
        .group_by(col(Support.proposal_id))
    )
    return {int(pid): int(count) for pid, count in (await session.execute(statement)).all()}


async def _check_review_done(session: AsyncSession, round_: Round) -> None:
    waiting = (
        await session.execute(
            sa.select(sa.func.count())
            .select_from(Proposal)
            .where(
                col(Proposal.round_id) == round_.id,
                col(Proposal.status) == ProposalStatus.SUBMITTED.value,
            )
        )
    ).scalar_one()
    if waiting:
        raise Conflict(
            f"{waiting} proposal(s) still wait for review; accept, reject or merge each one first",
            code="review_unfinished",
            message_nl=f"{waiting} voorstel(len) wachten nog op beoordeling; keur elk eerst goed, af of voeg samen",
            details={"unreviewed": int(waiting)},
        )


async def _budget_ballot(session: AsyncSession, round_: Round, ruleset: RuleSet) -> list[Proposal]:
    """The proposals that go on the ballot, or a refusal naming each area without any."""
    accepted = (
        await session.exec(
            select(Proposal)
            .where(Proposal.round_id == round_.id, Proposal.status == ProposalStatus.ACCEPTED.value)
            .order_by(col(Proposal.area_code), col(Proposal.id))
        )
    ).all()
    needed = ruleset.proposals.supports_needed if ruleset.proposals is not None else 0
    counts = await support_counts(session, round_.id)
    chosen = [p for p in accepted if p.id is not None and counts.get(p.id, 0) >= needed]
    empty = [
        a.code
        for a in await round_areas(session, round_.id)
        if not any(p.area_code == a.code for p in chosen)
    ]
    if empty:
        reason = (
            "no accepted proposal"
            if needed == 0
            else f"no accepted proposal with at least {needed} supports"
        )
        reason_nl = (
            "geen goedgekeurd voorstel"
            if needed == 0
            else f"geen goedgekeurd voorstel met minstens {needed} steunbetuigingen"
        )
        raise Conflict(
            f"voting cannot open: {', '.join(empty)} has {reason}, so its ballot would be empty",
            code="ballot_not_ready",
            message_nl=f"de stemming kan niet openen: {', '.join(empty)} heeft {reason_nl}",
            details={"areas_without_projects": empty, "supports_needed": needed},
        )
    return chosen


async def _check_questions_ready(session: AsyncSession, round_: Round) -> None:
    questions = await round_questions(session, round_.id)
    if not questions:
        raise Conflict(
            "voting cannot open: the round has no questions yet; add at least one",
            code="ballot_not_ready",
            message_nl="de stemming kan niet openen: de ronde heeft nog geen vragen",
        )
    thin = [q.key for q in questions if len(q.options) < 2]
    if thin:
        raise Conflict(
            f"voting cannot open: question(s) {', '.join(thin)} need at least two options",
            code="ballot_not_ready",
            message_nl=f"de stemming kan niet openen: vraag {', '.join(thin)} heeft minstens twee opties nodig",
            details={"questions": thin},
        )


def ballot_code(position: int, total: int) -> str:
    """Codes residents write on paper: numbers of equal width, so text order is number order."""
    return str(position).zfill(max(3, len(str(total))))


async def _ready_for(
    session: AsyncSession, round_: Round, ruleset: RuleSet, from_phase: str, to_phase: str
) -> list[Proposal]:
    if from_phase == Phase.REVIEW.value:
        await _check_review_done(session, round_)
    if to_phase != Phase.VOTING.value:
        return []
    if ruleset.is_budget:
        return await _budget_ballot(session, round_, ruleset)
    await _check_questions_ready(session, round_)
    return []


async def transition(
    session: AsyncSession,
    round_: Round,
    to_phase: str,
    actor: Actor,
    *,
    expected_revision: int | None = None,
) -> Round:
    """Move a round to its next phase, or refuse with a reason; commits.

    The move is one conditional UPDATE on the phase and revision read, so of two officials (or
    scheduler workers) moving the same round at once exactly one wins; the other gets 409.
    """
    if to_phase not in {p.value for p in Phase}:
        raise InvalidInput(
            f"there is no phase '{to_phase}'; phases are {', '.join(p.value for p in Phase)}",
            code="unknown_phase",
        )
    ruleset = await ruleset_of(session, round_)
    if not ruleset.has_phase(to_phase):
        raise InvalidInput(
            f"the council's rule set ({ruleset.reference}, phases) has no {to_phase} phase; "
            f"this round runs {', '.join(applicable_phases(ruleset))}",
            code="phase_not_in_ruleset",
            message_nl=f"het kader van de raad ({ruleset.reference}) kent geen fase '{_PHASE_NAMES_NL[to_phase]}'",
        )
    expected = next_phase(ruleset, round_.phase)
    if to_phase != expected:
        raise _wrong_move(round_, to_phase, expected)
    round_id, from_phase = round_.id, round_.phase
    revision = round_.revision if expected_revision is None else expected_revision
    moment = utcnow()
    moved = await session.execute(
        sa.update(Round)
        .where(
            col(Round.id) == round_.id,
            col(Round.phase) == from_phase,
            col(Round.revision) == revision,
        )
        .values(phase=to_phase, revision=Round.revision + 1, updated_at=moment)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        await session.rollback()
        raise _stale(round_id)
    await session.refresh(round_)
    # Checked after the UPDATE has locked the round's row: proposals, supports and questions
    # change only under that lock (see lock_round), so what is frozen is what was checked.
    try:
        on_ballot = await _ready_for(session, round_, ruleset, from_phase, to_phase)
    except DomainError:
        await session.rollback()
        raise

    row = (
        await session.exec(
            select(RoundPhase).where(RoundPhase.round_id == round_.id, RoundPhase.phase == to_phase)
        )
    ).first() or RoundPhase(round_id=round_.id, phase=to_phase)
    row.started_at = moment
    row.started_by = actor_name(actor)
    session.add(row)

    seed_commitment = None
    if to_phase == Phase.VOTING.value:
        width_total = len(on_ballot)
        for position, proposal in enumerate(on_ballot, start=1):
            proposal.on_ballot = True
            proposal.ballot_code = ballot_code(position, width_total)
            session.add(proposal)
        seed = new_seed()
        seed_commitment = commit_seed(seed)
        round_.seed = seed
        round_.seed_commitment = seed_commitment
        session.add(round_)
    await session.flush()

    payload: dict[str, Any] = {"from": from_phase, "to": to_phase, "revision": round_.revision}
    if on_ballot:
        payload["ballot"] = [
            {
                "code": p.ballot_code,
                "proposal": p.id,
                "area": p.area_code,
                "cost_cents": p.final_cost_cents,
            }
            for p in on_ballot
        ]
    if to_phase == Phase.VOTING.value:
        # Commit to the frame voters are shown (questions too), as the bundle's verifier reads it.
        from stemmen.audit.bundle import opening_payload
        from stemmen.results.service import round_definition

        frame = await round_definition(session, round_, ruleset)
        payload.update(opening_payload(from_phase, round_.ruleset_hash, frame))
    await append_event(
        session, kind=events.ROUND_PHASE_CHANGED, actor=actor, round_id=round_.id, payload=payload
    )
    if seed_commitment is not None:
        await append_event(
            session,
            kind=events.SEED_COMMITTED,
            actor=actor,
            round_id=round_.id,
            payload={"commitment": seed_commitment, "ruleset_hash": round_.ruleset_hash},
        )
    if to_phase == Phase.CLOSED.value:
        from stemmen.results.service import seal_ballots

        await seal_ballots(session, round_, actor)
    elif to_phase == Phase.PUBLISHED.value:
        from stemmen.results.service import publish_result

        await publish_result(session, round_, actor)
    try:
        await session.commit()
    except IntegrityError as error:
        await session.rollback()
        raise _stale(round_id) from error
    await session.refresh(round_)
    logger.info("round moved", extra={"round": round_.id, "from": from_phase, "to": to_phase})
    return round_


async def move_round(
    session: AsyncSession, round_id: str, to_phase: str, actor: User, expected_revision: int | None
) -> RoundRead:
    round_ = await get_round(session, round_id)
    await transition(session, round_, to_phase, actor, expected_revision=expected_revision)
    return await read_round(session, round_)


# --------------------------------------------------------------------------- questions


def question_read(question: Question) -> QuestionRead:
    return QuestionRead(
        key=question.key,
        position=question.position,
        title=question.title,
        description=question.description,
        method=question.method,
        ballot_format=question.ballot_format,
        options=list(question.options),
    )


def _check_questions_open(round_: Round) -> None:
    if phase_reached_voting(round_.phase):
        raise Conflict(
            "the questions are frozen: voting has opened, so the ballot can no longer change",
            code="questions_frozen",
            message_nl="de vragen liggen vast: de stemming is geopend, het stembiljet kan niet meer veranderen",
            details={"phase": round_.phase},
        )


def phase_reached_voting(phase: str) -> bool:
    order = [p.value for p in Phase]
    return order.index(phase) >= order.index(Phase.VOTING.value)


def _question_settings(
    ruleset: RuleSet,
    key: str,
    method: str | None,
    ballot_format: str | None,
    options: Sequence[Any],
) -> tuple[str, str]:
    if not ruleset.is_questions:
        raise InvalidInput(
            f"{ruleset.instrument} asks no questions; the council's rule set ({ruleset.reference}) "
            "is a participatory budget with proposals",
            code="questions_not_for_instrument",
            message_nl=f"{ruleset.instrument} stelt geen vragen; het kader is een burgerbegroting",
        )
    chosen_method = method or (ruleset.tally.method if ruleset.tally else "")
    chosen_format = ballot_format or ruleset.ballot_format
    if chosen_format != ruleset.ballot_format:
        raise InvalidInput(
            f"question {key} asks for a {chosen_format} ballot; the council's rule set "
            f"({ruleset.reference}, ballot.format) sets {ruleset.ballot_format} for every question",
            code="format_not_allowed",
            message_nl=f"vraag {key} vraagt om een stembiljet '{chosen_format}'; het kader schrijft "
            f"'{ruleset.ballot_format}' voor",
            details={"rule": "ballot.format"},
        )
    # A method outside the frame is refused by the bounds check, citing the rule; the rule
    # set's own validation already made sure every allowed method reads its ballot format.
    if (
        chosen_method in ruleset.allowed_methods
        and chosen_method in TALLY_FORMATS
        and chosen_format not in TALLY_FORMATS[chosen_method]
    ):
        raise InvalidInput(
            f"question {key}: the method {chosen_method} cannot count {chosen_format} ballots; it reads "
            f"{', '.join(TALLY_FORMATS[chosen_method])}",
            code="method_cannot_read_format",
            message_nl=f"vraag {key}: de methode {chosen_method} kan geen stembiljetten '{chosen_format}' tellen",
        )
    ids = [option.id for option in options]
    doubles = sorted({i for i in ids if ids.count(i) > 1})
    if doubles:
        raise InvalidInput(
            f"question {key} lists option id(s) {', '.join(doubles)} more than once; give each option its own id",
            code="duplicate_option",
            message_nl=f"vraag {key} noemt optie {', '.join(doubles)} meer dan eens",
        )
    return chosen_method, chosen_format


async def _check_methods(
    session: AsyncSession, round_: Round, ruleset: RuleSet, methods: dict[str, str]
) -> None:
    areas = [a.code for a in await round_areas(session, round_.id)]
    problems = [
        problem
        for problem in check_round_against_bounds(ruleset, areas, question_methods=methods)
        if problem.path.startswith("/questions")
    ]
    if problems:
        raise RoundOutOfBounds(problems)


async def list_questions(session: AsyncSession, round_id: str) -> list[QuestionRead]:
    await get_round(session, round_id)
    return [question_read(q) for q in await round_questions(session, round_id)]


async def _get_question(session: AsyncSession, round_id: str, key: str) -> Question:
    question = (
        await session.exec(
            select(Question).where(Question.round_id == round_id, Question.key == key)
        )
    ).first()
    if question is None:
        raise NotFound(f"round {round_id} has no question '{key}'", code="question_not_found")
    return question


async def _questions_changed(
    session: AsyncSession, round_: Round, actor: User, change: dict[str, Any]
) -> None:
    # A question belongs to the round's definition: the change bumps its revision and is logged.
    await session.execute(
        sa.update(Round)
        .where(col(Round.id) == round_.id)
        .values(revision=Round.revision + 1, updated_at=utcnow())
    )
    await append_event(
        session, kind=events.ROUND_CHANGED, actor=actor, round_id=round_.id, payload=change
    )
    try:
        await session.commit()
    except IntegrityError as error:
        await session.rollback()
        raise Conflict(
            "another question with this key or position was added meanwhile; reload and retry",
            code="question_conflict",
        ) from error


async def add_question(
    session: AsyncSession, round_id: str, data: QuestionCreate, actor: User
) -> QuestionRead:
    await lock_round(session, round_id)
    round_ = await get_round(session, round_id)
    _check_questions_open(round_)
    ruleset = await ruleset_of(session, round_)
    method, ballot_format = _question_settings(
        ruleset, data.key, data.method, data.ballot_format, data.options
    )
    existing = await round_questions(session, round_.id)
    if any(q.key == data.key for q in existing):
        raise Conflict(
            f"round {round_.id} already has a question '{data.key}'; change it or choose another key",
            code="question_exists",
        )
    await _check_methods(
        session, round_, ruleset, {**{q.key: q.method for q in existing}, data.key: method}
    )
    last = max((q.position for q in existing), default=0)
    position = data.position or last + 1
    if data.position is not None:
        # Make room: later questions move one down, from the end so positions stay unique.
        for question in sorted(existing, key=lambda q: -q.position):
            if question.position >= position:
                await session.execute(
                    sa.update(Question)
                    .where(col(Question.id) == question.id)
                    .values(position=question.position + 1)
                )
        position = min(position, last + 1)
    question = Question(
        round_id=round_.id,
        key=data.key,
        position=position,
        title=data.title,
        description=data.description,
        method=method,
        ballot_format=ballot_format,
        options=[option.model_dump() for option in data.options],
    )
    session.add(question)
    await session.flush()
    await _questions_changed(
        session,
        round_,
        actor,
        {
            "question_added": {
                "key": data.key,
                "method": method,
                "options": [o.id for o in data.options],
            }
        },
    )
    await session.refresh(question)
    return question_read(question)


async def update_question(
    session: AsyncSession, round_id: str, key: str, data: QuestionUpdate, actor: User
) -> QuestionRead:
    await lock_round(session, round_id)
    round_ = await get_round(session, round_id)
    _check_questions_open(round_)
    question = await _get_question(session, round_id, key)
    ruleset = await ruleset_of(session, round_)
    options = data.options if data.options is not None else None
    method, ballot_format = _question_settings(
        ruleset,
        key,
        data.method or question.method,
        data.ballot_format or question.ballot_format,
        options if options is not None else [_Option(o["id"]) for o in question.options],
    )
    existing = await round_questions(session, round_.id)
    await _check_methods(
        session, round_, ruleset, {**{q.key: q.method for q in existing}, key: method}
    )
    if data.title is not None:
        question.title = data.title
    if data.description is not None:
        question.description = data.description
    if options is not None:
        question.options = [option.model_dump() for option in options]
    question.method = method
    question.ballot_format = ballot_format
    session.add(question)
    await session.flush()
    await _questions_changed(
        session, round_, actor, {"question_changed": {"key": key, "method": method}}
    )
    await session.refresh(question)
    return question_read(question)


async def delete_question(session: AsyncSession, round_id: str, key: str, actor: User) -> None:
    await lock_round(session, round_id)
    round_ = await get_round(session, round_id)
    _check_questions_open(round_)
    question = await _get_question(session, round_id, key)
    await session.delete(question)
    await session.flush()
    await _questions_changed(session, round_, actor, {"question_removed": {"key": key}})


class _Option:
    """A stored option seen as the request shape, for the duplicate-id check."""

    def __init__(self, option_id: str) -> None:
        self.id = option_id
