"""Proposals: residents submit in the submission phase, officials review, residents support.

Authors and supporters are stored under per-round pseudonyms (``pseudonym(key, round,
subject, purpose)``), never their subject: enough to show residents their own proposals and
supports, and to enforce one support per resident per proposal in the database.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from stemmen.audit import chain as events
from stemmen.audit.log import append_event
from stemmen.auth import Role, User
from stemmen.ballots.money import format_eur
from stemmen.config import Settings
from stemmen.db import utcnow
from stemmen.errors import Conflict, Forbidden, InvalidInput, NotFound
from stemmen.proposals.models import Proposal, ProposalStatus, Support
from stemmen.proposals.schemas import (
    ProposalCreate,
    ProposalRead,
    ProposalReview,
    ProposalUpdate,
    SupportRead,
)
from stemmen.pseudonyms import pseudonym
from stemmen.rounds.models import Phase, Round
from stemmen.rounds.service import (
    check_resident_eligible,
    closing_day,
    get_round,
    lock_round,
    round_areas,
    ruleset_of,
    support_counts,
)
from stemmen.rules.document import (
    PHASE_NAMES_EN,
    PHASE_NAMES_NL,
    ProposalRules,
    RuleSet,
    area_within,
)

AUTHOR = "author"
SUPPORTER = "supporter"
# Officials may put the municipality's own projects in before voting, whatever the phase.
OFFICIAL_SUBMISSION_PHASES = (Phase.DRAFT.value, Phase.SUBMISSION.value, Phase.REVIEW.value)


def _author_key(settings: Settings, round_id: str, user: User) -> str:
    return pseudonym(settings.pseudonym_key, round_id, user.subject, AUTHOR)


def _supporter_key(settings: Settings, round_id: str, user: User) -> str:
    return pseudonym(settings.pseudonym_key, round_id, user.subject, SUPPORTER)


def _sees_everything(user: User | None) -> bool:
    return user is not None and user.role in (Role.OFFICIAL, Role.ADMIN, Role.AUDITOR)


def _wrong_phase(round_: Round, phase: str, doing: str) -> Conflict:
    name_en = PHASE_NAMES_EN.get(phase, f"{phase} phase")
    name_nl = PHASE_NAMES_NL.get(phase, f"fase {phase}")
    return Conflict(
        f"you can {doing} only in the {name_en}; the round is in the {round_.phase} phase",
        code="wrong_phase",
        message_nl=f"dit kan alleen in de {name_nl}; de ronde is in de fase '{round_.phase}'",
        details={"phase": round_.phase, "needed": phase},
    )


async def _budget_round(
    session: AsyncSession, round_id: str
) -> tuple[Round, RuleSet, ProposalRules]:
    round_ = await get_round(session, round_id)
    ruleset = await ruleset_of(session, round_)
    if ruleset.proposals is None:
        raise InvalidInput(
            f"round {round_id} is a {ruleset.instrument}, which has no proposals",
            code="proposals_not_for_instrument",
            message_nl=f"ronde {round_id} is een {ruleset.instrument}, die geen voorstellen kent",
        )
    return round_, ruleset, ruleset.proposals


async def _get(session: AsyncSession, round_id: str, proposal_id: int) -> Proposal:
    proposal = await session.get(Proposal, proposal_id)
    if proposal is None or proposal.round_id != round_id:
        raise NotFound(
            f"round {round_id} has no proposal {proposal_id}",
            code="proposal_not_found",
            message_nl=f"ronde {round_id} heeft geen voorstel {proposal_id}",
        )
    return proposal


async def _my_supports(session: AsyncSession, round_id: str, key: str | None) -> set[int]:
    if key is None:
        return set()
    rows = await session.exec(
        select(Support.proposal_id).where(
            Support.round_id == round_id, Support.supporter_key == key
        )
    )
    return {int(pid) for pid in rows.all()}


def _read(proposal: Proposal, supports: int, mine: bool, supported: bool) -> ProposalRead:
    assert proposal.id is not None
    return ProposalRead(
        id=proposal.id,
        round_id=proposal.round_id,
        area=proposal.area_code,
        title=proposal.title,
        description=proposal.description,
        category=proposal.category,
        estimated_cost_cents=proposal.estimated_cost_cents,
        final_cost_cents=proposal.final_cost_cents,
        status=proposal.status,
        review_reason=proposal.review_reason,
        reviewed_at=proposal.reviewed_at,
        merged_into=proposal.merged_into_id,
        on_ballot=proposal.on_ballot,
        ballot_code=proposal.ballot_code,
        supports=supports,
        mine=mine,
        supported_by_me=supported,
        created_at=proposal.created_at,
    )


async def _read_one(
    session: AsyncSession, settings: Settings, proposal: Proposal, user: User | None
) -> ProposalRead:
    assert proposal.id is not None
    counts = await support_counts(session, proposal.round_id)
    author = _author_key(settings, proposal.round_id, user) if user is not None else None
    supporter = _supporter_key(settings, proposal.round_id, user) if user is not None else None
    return _read(
        proposal,
        counts.get(proposal.id, 0),
        author == proposal.author_key,
        proposal.id in await _my_supports(session, proposal.round_id, supporter),
    )


def _visible(proposal: Proposal, user: User | None, author_key: str | None) -> bool:
    return (
        _sees_everything(user)
        or proposal.status == ProposalStatus.ACCEPTED.value
        or (author_key is not None and proposal.author_key == author_key)
    )


# --------------------------------------------------------------------------- reading


async def list_proposals(
    session: AsyncSession,
    settings: Settings,
    round_id: str,
    user: User | None,
    *,
    area: str | None = None,
    status: str | None = None,
) -> list[ProposalRead]:
    """Accepted proposals for everyone; a resident also sees their own; officials see all."""
    await _budget_round(session, round_id)
    statement = (
        select(Proposal)
        .where(Proposal.round_id == round_id)
        .order_by(col(Proposal.area_code), col(Proposal.id))
    )
    if area is not None:
        statement = statement.where(Proposal.area_code == area)
    if status is not None:
        statement = statement.where(Proposal.status == status)
    proposals = (await session.exec(statement)).all()
    author = _author_key(settings, round_id, user) if user is not None else None
    supporter = _supporter_key(settings, round_id, user) if user is not None else None
    counts = await support_counts(session, round_id)
    supported = await _my_supports(session, round_id, supporter)
    return [
        _read(p, counts.get(p.id or 0, 0), author == p.author_key, (p.id or 0) in supported)
        for p in proposals
        if _visible(p, user, author)
    ]


async def read_proposal(
    session: AsyncSession, settings: Settings, round_id: str, proposal_id: int, user: User | None
) -> ProposalRead:
    await _budget_round(session, round_id)
    proposal = await _get(session, round_id, proposal_id)
    author = _author_key(settings, round_id, user) if user is not None else None
    if not _visible(proposal, user, author):
        # Not public yet and not theirs: as if it did not exist, so nothing about it leaks.
        raise NotFound(
            f"round {round_id} has no proposal {proposal_id} you may see", code="proposal_not_found"
        )
    return await _read_one(session, settings, proposal, user)


# --------------------------------------------------------------------------- submitting


def _check_fields(
    ruleset: RuleSet,
    rules: ProposalRules,
    area_codes: Sequence[str],
    area: str,
    category: str | None,
    cost: int,
) -> None:
    if area not in area_codes:
        raise InvalidInput(
            f"{area} is not one of this round's areas ({', '.join(area_codes)})",
            code="area_not_in_round",
            message_nl=f"{area} is geen gebied van deze ronde ({', '.join(area_codes)})",
            details={"areas": list(area_codes)},
        )
    if rules.categories:
        if category not in rules.categories:
            raise InvalidInput(
                f"choose a category from the council's rule set ({ruleset.reference}, proposals.categories): "
                f"{', '.join(rules.categories)}"
                + (f"; '{category}' is not one of them" if category else ""),
                code="category_not_allowed",
                message_nl=f"kies een categorie uit het kader: {', '.join(rules.categories)}",
                details={"categories": list(rules.categories)},
            )
    elif category is not None:
        raise InvalidInput(
            "the council's rule set has no categories; leave the category out",
            code="category_not_allowed",
            message_nl="het kader kent geen categorieën; laat de categorie weg",
        )
    _check_cost(ruleset, rules, cost, "estimated cost", "geschatte kosten")


def _check_cost(
    ruleset: RuleSet, rules: ProposalRules, cost: int, what_en: str, what_nl: str
) -> None:
    if rules.admits_cost(cost):
        return
    low_en, high_en = format_eur(rules.cost_min_cents, "en"), format_eur(rules.cost_max_cents, "en")
    low_nl, high_nl = format_eur(rules.cost_min_cents, "nl"), format_eur(rules.cost_max_cents, "nl")
    side = "below the lowest" if cost < rules.cost_min_cents else "above the highest"
    side_nl = "onder de laagste" if cost < rules.cost_min_cents else "boven de hoogste"
    raise InvalidInput(
        f"the {what_en} of {format_eur(cost, 'en')} is {side} the council's rule set allows "
        f"({ruleset.reference}, proposals): a proposal costs from {low_en} to {high_en}",
        code="cost_out_of_bounds",
        message_nl=f"de {what_nl} van {format_eur(cost, 'nl')} liggen {side_nl} die het kader toestaat "
        f"({ruleset.reference}): een voorstel kost van {low_nl} tot {high_nl}",
        details={
            "cost_cents": cost,
            "min_cents": rules.cost_min_cents,
            "max_cents": rules.cost_max_cents,
        },
    )


async def _check_submitter(
    session: AsyncSession,
    round_: Round,
    ruleset: RuleSet,
    rules: ProposalRules,
    area_codes: Sequence[str],
    user: User,
) -> None:
    if user.is_official:
        if round_.phase not in OFFICIAL_SUBMISSION_PHASES:
            raise _wrong_phase(round_, Phase.SUBMISSION.value, "add proposals")
        return
    if user.role != Role.RESIDENT:
        raise Forbidden(f"a {user.role.value} may not submit proposals", code="forbidden")
    if rules.who_may_submit == "officials-only":
        raise Forbidden(
            f"in this round only the municipality puts projects on the ballot (the council's rule set "
            f"{ruleset.reference}, proposals.who_may_submit)",
            code="residents_may_not_submit",
            message_nl="in deze ronde zet alleen de gemeente projecten op het stembiljet",
        )
    if round_.phase != Phase.SUBMISSION.value:
        raise _wrong_phase(round_, Phase.SUBMISSION.value, "submit proposals")
    if rules.who_may_submit == "any-resident":
        if not any(
            area_within(own, outer) for own in user.areas for outer in ruleset.eligibility.areas
        ):
            raise Forbidden(
                f"you may not submit proposals: your sign-in places you in {', '.join(user.areas) or 'no area'}, "
                f"outside {', '.join(ruleset.eligibility.areas)}",
                code="not_eligible_area",
                message_nl="u mag geen voorstellen indienen: uw gebied ligt buiten de gemeente",
            )
        return
    check_resident_eligible(
        ruleset, area_codes, user, await closing_day(session, round_), doing="submit proposals"
    )


async def submit_proposal(
    session: AsyncSession, settings: Settings, round_id: str, data: ProposalCreate, user: User
) -> ProposalRead:
    await lock_round(session, round_id)
    round_, ruleset, rules = await _budget_round(session, round_id)
    area_codes = [a.code for a in await round_areas(session, round_id)]
    await _check_submitter(session, round_, ruleset, rules, area_codes, user)
    _check_fields(ruleset, rules, area_codes, data.area, data.category, data.estimated_cost_cents)
    author_key = _author_key(settings, round_id, user)
    if not user.is_official and rules.per_resident is not None:
        own = (
            await session.execute(
                sa.select(sa.func.count())
                .select_from(Proposal)
                .where(
                    col(Proposal.round_id) == round_id,
                    col(Proposal.author_key) == author_key,
                    col(Proposal.status) != ProposalStatus.WITHDRAWN.value,
                )
            )
        ).scalar_one()
        if own >= rules.per_resident:
            raise Conflict(
                f"you have submitted {own} proposal(s); the council's rule set ({ruleset.reference}, "
                f"proposals.per_resident) allows at most {rules.per_resident} per resident",
                code="too_many_proposals",
                message_nl=f"u hebt {own} voorstel(len) ingediend; het kader staat er hoogstens "
                f"{rules.per_resident} per inwoner toe",
                details={"submitted": int(own), "limit": rules.per_resident},
            )
    reviewed = ruleset.has_phase(Phase.REVIEW.value)
    proposal = Proposal(
        round_id=round_id,
        area_code=data.area,
        title=data.title,
        description=data.description,
        category=data.category,
        estimated_cost_cents=data.estimated_cost_cents,
        author_key=author_key,
        # Without a review phase the estimate is the cost on the ballot.
        status=ProposalStatus.SUBMITTED.value if reviewed else ProposalStatus.ACCEPTED.value,
        final_cost_cents=None if reviewed else data.estimated_cost_cents,
    )
    session.add(proposal)
    await session.commit()
    await session.refresh(proposal)
    return _read(proposal, 0, True, False)


async def _authors_open_proposal(
    session: AsyncSession,
    settings: Settings,
    round_id: str,
    proposal_id: int,
    user: User,
    doing: str,
) -> tuple[Round, RuleSet, ProposalRules, Proposal]:
    """The caller's own proposal, still open to its author; Forbidden or Conflict otherwise."""
    round_, ruleset, rules = await _budget_round(session, round_id)
    proposal = await _get(session, round_id, proposal_id)
    if proposal.author_key != _author_key(settings, round_id, user):
        raise Forbidden(
            f"only the author may {doing} a proposal; this one is someone else's",
            code="not_your_proposal",
            message_nl="alleen de indiener mag dit met een voorstel doen; dit voorstel is van iemand anders",
        )
    if round_.phase != Phase.SUBMISSION.value:
        raise _wrong_phase(round_, Phase.SUBMISSION.value, f"{doing} a proposal")
    # Without a review, submitted proposals are accepted at once and stay the author's to edit.
    open_status = (
        ProposalStatus.SUBMITTED.value
        if ruleset.has_phase(Phase.REVIEW.value)
        else ProposalStatus.ACCEPTED.value
    )
    if proposal.status != open_status:
        raise Conflict(
            f"the proposal is {proposal.status} and can no longer change", code="proposal_not_open"
        )
    return round_, ruleset, rules, proposal


async def update_proposal(
    session: AsyncSession,
    settings: Settings,
    round_id: str,
    proposal_id: int,
    data: ProposalUpdate,
    user: User,
) -> ProposalRead:
    await lock_round(session, round_id)
    _, ruleset, rules, proposal = await _authors_open_proposal(
        session, settings, round_id, proposal_id, user, "change"
    )
    area_codes = [a.code for a in await round_areas(session, round_id)]
    area = data.area if data.area is not None else proposal.area_code
    category = data.category if "category" in data.model_fields_set else proposal.category
    cost = (
        data.estimated_cost_cents
        if data.estimated_cost_cents is not None
        else proposal.estimated_cost_cents
    )
    _check_fields(ruleset, rules, area_codes, area, category, cost)
    proposal.area_code = area
    proposal.category = category
    proposal.estimated_cost_cents = cost
    if data.title is not None:
        proposal.title = data.title
    if data.description is not None:
        proposal.description = data.description
    if not ruleset.has_phase(Phase.REVIEW.value):
        proposal.final_cost_cents = cost
    session.add(proposal)
    await session.commit()
    await session.refresh(proposal)
    return await _read_one(session, settings, proposal, user)


async def withdraw_proposal(
    session: AsyncSession, settings: Settings, round_id: str, proposal_id: int, user: User
) -> ProposalRead:
    """The author takes their proposal back during the submission phase; it then no longer
    counts towards their limit."""
    await lock_round(session, round_id)
    _, _, _, proposal = await _authors_open_proposal(
        session, settings, round_id, proposal_id, user, "withdraw"
    )
    proposal.status = ProposalStatus.WITHDRAWN.value
    session.add(proposal)
    await session.commit()
    await session.refresh(proposal)
    return await _read_one(session, settings, proposal, user)


# --------------------------------------------------------------------------- reviewing


async def review_proposal(
    session: AsyncSession,
    settings: Settings,
    round_id: str,
    proposal_id: int,
    data: ProposalReview,
    user: User,
) -> ProposalRead:
    await lock_round(session, round_id)
    round_, ruleset, rules = await _budget_round(session, round_id)
    if not ruleset.has_phase(Phase.REVIEW.value):
        raise Conflict(
            f"the council's rule set ({ruleset.reference}, proposals.review) has no review: proposals "
            "reach the ballot as submitted",
            code="no_review",
        )
    if round_.phase != Phase.REVIEW.value:
        raise _wrong_phase(round_, Phase.REVIEW.value, "review proposals")
    proposal = await _get(session, round_id, proposal_id)
    if proposal.status in (ProposalStatus.WITHDRAWN.value, ProposalStatus.MERGED.value):
        raise Conflict(
            f"proposal {proposal_id} is {proposal.status}; there is nothing left to review",
            code="proposal_not_open",
        )
    if data.decision == "accept":
        if data.final_cost_cents is None:
            raise InvalidInput(
                "accepting needs final_cost_cents: the cost the municipality fixes for the ballot",
                code="final_cost_missing",
                message_nl="goedkeuren vraagt final_cost_cents: de kosten die de gemeente vaststelt",
            )
        _check_cost(ruleset, rules, data.final_cost_cents, "final cost", "vastgestelde kosten")
        budget = next(
            (
                a.budget_cents
                for a in await round_areas(session, round_id)
                if a.code == proposal.area_code
            ),
            None,
        )
        if budget is not None and data.final_cost_cents > budget:
            raise InvalidInput(
                f"the final cost of {format_eur(data.final_cost_cents, 'en')} is above the "
                f"{format_eur(budget, 'en')} budget of {proposal.area_code}: it could never be funded",
                code="cost_above_budget",
                message_nl=f"de vastgestelde kosten van {format_eur(data.final_cost_cents, 'nl')} liggen boven het "
                f"budget van {format_eur(budget, 'nl')} van {proposal.area_code}",
            )
        proposal.status = ProposalStatus.ACCEPTED.value
        proposal.final_cost_cents = data.final_cost_cents
        proposal.merged_into_id = None
        proposal.review_reason = data.reason
    elif data.decision == "reject":
        if not (data.reason or "").strip():
            raise InvalidInput(
                "rejecting needs a reason the resident can read",
                code="reason_missing",
                message_nl="afwijzen vraagt een reden die de indiener kan lezen",
            )
        proposal.status = ProposalStatus.REJECTED.value
        proposal.review_reason = data.reason
        proposal.merged_into_id = None
    else:
        if data.merge_into is None:
            raise InvalidInput(
                "merging needs merge_into: the proposal this one duplicates",
                code="merge_target_missing",
            )
        if data.merge_into == proposal_id:
            raise InvalidInput("a proposal cannot be merged into itself", code="merge_into_itself")
        target = await _get(session, round_id, data.merge_into)
        if target.status not in (ProposalStatus.SUBMITTED.value, ProposalStatus.ACCEPTED.value):
            raise Conflict(
                f"proposal {target.id} is {target.status}; merge into a proposal that is still open or accepted",
                code="merge_target_closed",
            )
        proposal.status = ProposalStatus.MERGED.value
        proposal.merged_into_id = target.id
        proposal.review_reason = data.reason or f"merged with proposal {target.id}: {target.title}"
        # Proposals merged into this one follow it, so no chain points at a closed proposal.
        await session.execute(
            sa.update(Proposal)
            .where(col(Proposal.merged_into_id) == proposal_id)
            .values(merged_into_id=target.id)
        )
    proposal.reviewed_by = user.subject
    proposal.reviewed_at = utcnow()
    session.add(proposal)
    await session.flush()
    await append_event(
        session,
        kind=events.PROPOSAL_REVIEWED,
        actor=user,
        round_id=round_id,
        payload={
            "proposal": proposal_id,
            "area": proposal.area_code,
            "decision": data.decision,
            "status": proposal.status,
            "final_cost_cents": proposal.final_cost_cents if data.decision == "accept" else None,
            "reason": proposal.review_reason,
            "merged_into": proposal.merged_into_id,
        },
    )
    await session.commit()
    await session.refresh(proposal)
    return await _read_one(session, settings, proposal, user)


# --------------------------------------------------------------------------- supports


async def _support_frame(
    session: AsyncSession, round_id: str, proposal_id: int, user: User, doing: str
) -> tuple[Round, RuleSet, ProposalRules, Proposal, str]:
    round_, ruleset, rules = await _budget_round(session, round_id)
    if not ruleset.has_phase(Phase.SUPPORTS.value):
        raise Conflict(
            f"the council's rule set ({ruleset.reference}) has no supports phase: proposals need no supports",
            code="no_supports_phase",
        )
    if round_.phase != Phase.SUPPORTS.value:
        raise _wrong_phase(round_, Phase.SUPPORTS.value, doing)
    proposal = await _get(session, round_id, proposal_id)
    area_codes = [a.code for a in await round_areas(session, round_id)]
    own_area = check_resident_eligible(
        ruleset, area_codes, user, await closing_day(session, round_), doing=doing
    )
    if ruleset.eligibility.one_ballot_per == "area" and not area_within(
        proposal.area_code, own_area
    ):
        raise Forbidden(
            f"you live in {own_area} and may support proposals there; this one is for {proposal.area_code}",
            code="other_area",
            message_nl=f"u woont in {own_area} en mag daar voorstellen steunen; dit voorstel is voor {proposal.area_code}",
        )
    return round_, ruleset, rules, proposal, own_area


async def _support_read(
    session: AsyncSession, round_id: str, proposal_id: int, key: str, limit: int | None
) -> SupportRead:
    counts = await support_counts(session, round_id)
    mine = await _my_supports(session, round_id, key)
    return SupportRead(
        proposal_id=proposal_id,
        supports=counts.get(proposal_id, 0),
        supported_by_me=proposal_id in mine,
        my_supports_left=None if limit is None else max(0, limit - len(mine)),
    )


async def support_proposal(
    session: AsyncSession, settings: Settings, round_id: str, proposal_id: int, user: User
) -> SupportRead:
    await lock_round(session, round_id)
    _, ruleset, rules, proposal, _ = await _support_frame(
        session, round_id, proposal_id, user, "support proposals"
    )
    if proposal.status != ProposalStatus.ACCEPTED.value:
        raise Conflict(
            f"proposal {proposal_id} is {proposal.status}; only accepted proposals can be supported",
            code="proposal_not_supportable",
            message_nl=f"voorstel {proposal_id} is niet goedgekeurd en kan geen steun krijgen",
        )
    key = _supporter_key(settings, round_id, user)
    mine = await _my_supports(session, round_id, key)
    if proposal_id in mine:
        raise Conflict(
            f"you already support proposal {proposal_id}; one support per resident per proposal",
            code="already_supported",
            message_nl=f"u steunt voorstel {proposal_id} al; één steunbetuiging per inwoner per voorstel",
        )
    limit = rules.supports_per_resident
    if limit is not None and len(mine) >= limit:
        raise Conflict(
            f"you support {len(mine)} proposals already; the council's rule set ({ruleset.reference}, "
            f"proposals.supports_per_resident) allows {limit}. Withdraw one to support another.",
            code="too_many_supports",
            message_nl=f"u steunt al {len(mine)} voorstellen; het kader staat er {limit} toe. "
            "Trek er een in om een ander te steunen.",
            details={"supports": len(mine), "limit": limit},
        )
    session.add(Support(proposal_id=proposal_id, round_id=round_id, supporter_key=key))
    try:
        await session.commit()
    except IntegrityError as error:
        await session.rollback()
        raise Conflict(
            f"you already support proposal {proposal_id}; one support per resident per proposal",
            code="already_supported",
        ) from error
    return await _support_read(session, round_id, proposal_id, key, limit)


async def withdraw_support(
    session: AsyncSession, settings: Settings, round_id: str, proposal_id: int, user: User
) -> SupportRead:
    await lock_round(session, round_id)
    _, _, rules, _, _ = await _support_frame(
        session, round_id, proposal_id, user, "withdraw a support"
    )
    key = _supporter_key(settings, round_id, user)
    removed = await session.execute(
        sa.delete(Support).where(
            col(Support.round_id) == round_id,
            col(Support.proposal_id) == proposal_id,
            col(Support.supporter_key) == key,
        )
    )
    if removed.rowcount == 0:  # type: ignore[attr-defined]
        await session.rollback()
        raise NotFound(f"you do not support proposal {proposal_id}", code="support_not_found")
    await session.commit()
    return await _support_read(session, round_id, proposal_id, key, rules.supports_per_resident)
