"""Officials' pages: create a round from a published rule-set version, set its areas and
budgets, review proposals, add questions, move phases (publishing is the last move), enter and
confirm paper batches, compare the result under other rules, and see and change the round's
team. Every action is a call to the services with the signed-in official as actor, after the
round's team check (where the rule set limits a round to its team); refusals come back in the
official's language on the round's page. An official the rule set keeps off a round sees that
refusal as a notice on the round's page, which then offers no forms."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import PathParameter, QueryParameter
from litestar.response import Redirect, Template
from pydantic import ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from stemmen.auth import User
from stemmen.db import DbSession
from stemmen.errors import DomainError
from stemmen.rounds.team import check_round_team
from stemmen.web.controller import PAGE_ERRORS, render
from stemmen.web.forms import ballot_from_form, error_text, parse_euros
from stemmen.web.i18n import translate
from stemmen.web.pages import (
    form_values,
    message,
    needs_sign_in,
    validation_text,
)
from stemmen.web.session import page_language, page_user

RoundId = Annotated[str, PathParameter(pattern=r"^[0-9a-zA-Z_-]{1,40}$")]
ItemId = Annotated[int, PathParameter(ge=1)]
AnyRequest = Request[Any, Any, Any]


class PageRefusal(Exception):
    """A problem with what an official typed, found before any service was asked."""


def official_or_refusal(request: AnyRequest) -> User | Template:
    user = page_user(request)
    if user is None:
        return needs_sign_in(request)
    if not user.is_official:
        return message(
            request, "error.title", translate("error.forbidden", page_language(request)), status=403
        )
    return user


def first(form: dict[str, list[str]], name: str) -> str:
    return (form.get(name) or [""])[0].strip()


def parse_areas(text: str, lang: str) -> list[dict[str, Any]]:
    """Lines of ``CODE; name; budget in euros`` (name and budget optional)."""
    areas = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split(";")]
        area: dict[str, Any] = {"code": parts[0].upper()}
        if len(parts) > 1 and parts[1]:
            area["name"] = parts[1]
        if len(parts) > 2 and parts[2]:
            cents = parse_euros(parts[2])
            if cents is None:
                raise PageRefusal(translate("manage.area_line", lang, line=number))
            area["budget_cents"] = cents
        areas.append(area)
    return areas


def area_lines(areas: Any, lang: str) -> str:
    lines = []
    for area in areas:
        budget = "" if area.budget_cents is None else str(area.budget_cents // 100)
        lines.append(f"{area.code}; {area.name}; {budget}".rstrip("; "))
    return "\n".join(lines)


class OfficialPages(Controller):
    path = "/manage"
    include_in_schema = False
    exception_handlers = PAGE_ERRORS

    # ----------------------------------------------------------------------- overview

    @get("/")
    async def overview(self, request: AnyRequest, db_session: DbSession) -> Template:
        user = official_or_refusal(request)
        if not isinstance(user, User):
            return user
        return await self._overview(request, db_session)

    async def _overview(
        self,
        request: AnyRequest,
        session: AsyncSession,
        *,
        error: str | None = None,
        values: dict[str, str] | None = None,
        status: int = 200,
    ) -> Template:
        from stemmen.rounds.service import list_rounds
        from stemmen.rules.service import list_rule_sets

        rule_sets = [r for r in await list_rule_sets(session) if r.latest is not None]
        response = render(
            request,
            "manage.html",
            rounds=await list_rounds(session),
            rule_sets=rule_sets,
            error=error,
            values=values or {},
        )
        response.status_code = status
        return response

    @post("/rounds", status_code=303)
    async def create(self, request: AnyRequest, db_session: DbSession) -> Template | Redirect:
        from stemmen.rounds.schemas import RoundCreate
        from stemmen.rounds.service import create_round

        user = official_or_refusal(request)
        if not isinstance(user, User):
            return user
        lang = page_language(request)
        form = await form_values(request)
        values = {
            key: first(form, key) for key in ("ruleset_hash", "title", "description", "areas")
        }
        try:
            data = RoundCreate(
                ruleset_hash=values["ruleset_hash"],
                title=values["title"],
                description=values["description"],
                areas=parse_areas(values["areas"], lang),
            )
            created = await create_round(db_session, data, user)
        except PageRefusal as refusal:
            return await self._overview(
                request, db_session, error=str(refusal), values=values, status=422
            )
        except ValidationError as invalid:
            return await self._overview(
                request, db_session, error=validation_text(invalid, lang), values=values, status=422
            )
        except DomainError as failure:
            return await self._overview(
                request,
                db_session,
                error=error_text(failure, lang),
                values=values,
                status=failure.status_code,
            )
        return Redirect(f"/manage/rounds/{created.id}", status_code=303)

    # ----------------------------------------------------------------------- one round

    @get("/rounds/{round_id:str}")
    async def round_page(
        self, round_id: RoundId, request: AnyRequest, db_session: DbSession
    ) -> Template:
        user = official_or_refusal(request)
        if not isinstance(user, User):
            return user
        return await self._round(request, db_session, user, round_id)

    async def _round(
        self,
        request: AnyRequest,
        session: AsyncSession,
        user: User,
        round_id: str,
        *,
        error: str | None = None,
        notice: str | None = None,
        status: int = 200,
        whatif: Any = None,
    ) -> Template:
        from stemmen.ballots.service import list_batches
        from stemmen.proposals.service import list_proposals
        from stemmen.results.service import BUDGET_RULES
        from stemmen.rounds import service as rounds
        from stemmen.tally import METHODS

        lang = page_language(request)
        try:
            round_ = await rounds.get_round(session, round_id)
            round_read = await rounds.read_round(session, round_)
            ruleset = await rounds.ruleset_of(session, round_)
        except DomainError as failure:
            return message(
                request, "error.title", error_text(failure, lang), status=failure.status_code
            )
        proposals = (
            await list_proposals(session, request.app.state.settings, round_id, user)
            if ruleset.is_budget
            else []
        )
        batches = await list_batches(session, round_id)
        team, outsider = await team_view(session, round_id, user, lang)
        response = render(
            request,
            "manage_round.html",
            round=round_read,
            ruleset=ruleset,
            proposals=proposals,
            batches=batches,
            team=team,
            outsider=outsider,
            may_change_team=ruleset.administration.round_team_only
            and outsider is None
            and round_read.phase != "published",
            area_text=area_lines(round_read.areas, lang),
            rules=BUDGET_RULES if ruleset.is_budget else tuple(sorted(METHODS)),
            error=error,
            notice=notice,
            whatif=whatif,
        )
        response.status_code = status
        return response

    async def _act(
        self,
        request: AnyRequest,
        session: AsyncSession,
        round_id: str,
        action: Any,
    ) -> Template | Redirect:
        """Run one service call for the signed-in official; back to the round page with the
        outcome (redirect on success, so a reload does not repeat it)."""
        user = official_or_refusal(request)
        if not isinstance(user, User):
            return user
        lang = page_language(request)
        form = await form_values(request)
        try:
            await check_round_team(session, round_id, user)
            await action(user, form)
        except PageRefusal as refusal:
            return await self._round(
                request, session, user, round_id, error=str(refusal), status=422
            )
        except ValidationError as invalid:
            return await self._round(
                request, session, user, round_id, error=validation_text(invalid, lang), status=422
            )
        except DomainError as failure:
            await session.rollback()
            return await self._round(
                request,
                session,
                user,
                round_id,
                error=error_text(failure, lang),
                status=failure.status_code,
            )
        return Redirect(f"/manage/rounds/{round_id}", status_code=303)

    @post("/rounds/{round_id:str}/areas", status_code=303)
    async def set_areas(
        self, round_id: RoundId, request: AnyRequest, db_session: DbSession
    ) -> Template | Redirect:
        from stemmen.rounds.schemas import RoundUpdate
        from stemmen.rounds.service import update_round

        lang = page_language(request)

        async def action(user: User, form: dict[str, list[str]]) -> None:
            revision = first(form, "revision")
            data = RoundUpdate(
                revision=int(revision) if revision.isdigit() else -1,
                areas=parse_areas(first(form, "areas"), lang),
            )
            await update_round(db_session, round_id, data, user)

        return await self._act(request, db_session, round_id, action)

    @post("/rounds/{round_id:str}/phase", status_code=303)
    async def move(
        self, round_id: RoundId, request: AnyRequest, db_session: DbSession
    ) -> Template | Redirect:
        from stemmen.rounds.service import move_round

        async def action(user: User, form: dict[str, list[str]]) -> None:
            revision = first(form, "revision")
            await move_round(
                db_session,
                round_id,
                first(form, "to"),
                user,
                int(revision) if revision.isdigit() else None,
            )

        return await self._act(request, db_session, round_id, action)

    @post("/rounds/{round_id:str}/proposals/{proposal_id:int}/review", status_code=303)
    async def review(
        self,
        round_id: RoundId,
        proposal_id: ItemId,
        request: AnyRequest,
        db_session: DbSession,
    ) -> Template | Redirect:
        from stemmen.proposals.schemas import ProposalReview
        from stemmen.proposals.service import review_proposal

        lang = page_language(request)

        async def action(user: User, form: dict[str, list[str]]) -> None:
            decision = first(form, "decision")
            cost_text = first(form, "final_cost")
            cost = parse_euros(cost_text) if cost_text else None
            if cost_text and cost is None:
                raise PageRefusal(translate("propose.cost_unreadable", lang))
            data = ProposalReview(
                decision=decision,
                final_cost_cents=cost,
                reason=first(form, "reason") or None,
            )
            await review_proposal(
                db_session, request.app.state.settings, round_id, proposal_id, data, user
            )

        return await self._act(request, db_session, round_id, action)

    @post("/rounds/{round_id:str}/questions", status_code=303)
    async def add_question(
        self, round_id: RoundId, request: AnyRequest, db_session: DbSession
    ) -> Template | Redirect:
        from stemmen.rounds.schemas import QuestionCreate
        from stemmen.rounds.service import add_question

        async def action(user: User, form: dict[str, list[str]]) -> None:
            options = []
            for line in first(form, "options").splitlines():
                if line.strip():
                    key, _, label = line.partition(";")
                    options.append({"id": key.strip(), "label": (label or key).strip()})
            data = QuestionCreate(
                key=first(form, "key"),
                title=first(form, "title"),
                description=first(form, "description"),
                options=options,
            )
            await add_question(db_session, round_id, data, user)

        return await self._act(request, db_session, round_id, action)

    # ----------------------------------------------------------------------- team

    @post("/rounds/{round_id:str}/team", status_code=303)
    async def add_team_member(
        self, round_id: RoundId, request: AnyRequest, db_session: DbSession
    ) -> Template | Redirect:
        from stemmen.rounds.schemas import TeamMemberAdd
        from stemmen.rounds.team import add_member

        async def action(user: User, form: dict[str, list[str]]) -> None:
            data = TeamMemberAdd(subject=first(form, "subject"))
            await add_member(db_session, round_id, data.subject, user)

        return await self._act(request, db_session, round_id, action)

    @post("/rounds/{round_id:str}/team/remove", status_code=303)
    async def remove_team_member(
        self, round_id: RoundId, request: AnyRequest, db_session: DbSession
    ) -> Template | Redirect:
        from stemmen.rounds.team import remove_member

        async def action(user: User, form: dict[str, list[str]]) -> None:
            await remove_member(db_session, round_id, first(form, "subject"), user)

        return await self._act(request, db_session, round_id, action)

    # ----------------------------------------------------------------------- paper

    @post("/rounds/{round_id:str}/batches", status_code=303)
    async def open_batch(
        self, round_id: RoundId, request: AnyRequest, db_session: DbSession
    ) -> Template | Redirect:
        from stemmen.ballots.service import open_batch

        async def action(user: User, form: dict[str, list[str]]) -> None:
            label = first(form, "label")
            if not label:
                raise PageRefusal(translate("paper.label_needed", page_language(request)))
            await open_batch(db_session, user, round_id, label[:200])

        return await self._act(request, db_session, round_id, action)

    @post("/rounds/{round_id:str}/batches/{batch_id:int}/confirm", status_code=303)
    async def confirm_batch(
        self, round_id: RoundId, batch_id: ItemId, request: AnyRequest, db_session: DbSession
    ) -> Template | Redirect:
        from stemmen.ballots.service import confirm_batch

        async def action(user: User, form: dict[str, list[str]]) -> None:
            await confirm_batch(db_session, user, round_id, batch_id)

        return await self._act(request, db_session, round_id, action)

    @post("/rounds/{round_id:str}/batches/{batch_id:int}/reject", status_code=303)
    async def reject_batch(
        self, round_id: RoundId, batch_id: ItemId, request: AnyRequest, db_session: DbSession
    ) -> Template | Redirect:
        from stemmen.ballots.service import reject_batch

        async def action(user: User, form: dict[str, list[str]]) -> None:
            reason = first(form, "reason")
            if not reason:
                raise PageRefusal(translate("paper.reason_needed", page_language(request)))
            await reject_batch(db_session, user, round_id, batch_id, reason[:2000])

        return await self._act(request, db_session, round_id, action)

    @get("/rounds/{round_id:str}/batches/{batch_id:int}")
    async def batch_page(
        self,
        round_id: RoundId,
        batch_id: ItemId,
        request: AnyRequest,
        db_session: DbSession,
        area: Annotated[str | None, QueryParameter(required=False, max_length=20)] = None,
    ) -> Template:
        user = official_or_refusal(request)
        if not isinstance(user, User):
            return user
        try:
            # The entry form is only for those whose entries the round would accept.
            await check_round_team(db_session, round_id, user)
        except DomainError as refusal:
            text = error_text(refusal, page_language(request))
            return message(request, "error.title", text, status=refusal.status_code)
        return await self._batch(request, db_session, round_id, batch_id, area)

    async def _batch(
        self,
        request: AnyRequest,
        session: AsyncSession,
        round_id: str,
        batch_id: int,
        area_code: str | None,
        *,
        error: str | None = None,
        notice: str | None = None,
        previous: dict[str, list[str]] | None = None,
        status: int = 200,
    ) -> Template:
        lang = page_language(request)
        try:
            ballot, areas, batch = await paper_ballot_view(session, round_id, batch_id, area_code)
        except DomainError as failure:
            return message(
                request, "error.title", error_text(failure, lang), status=failure.status_code
            )
        response = render(
            request,
            "paper_batch.html",
            ballot=ballot,
            areas=areas,
            batch=batch,
            previous=previous or {},
            error=error,
            notice=notice,
            action=f"/manage/rounds/{round_id}/batches/{batch_id}/ballots",
        )
        response.status_code = status
        return response

    @post("/rounds/{round_id:str}/batches/{batch_id:int}/ballots", status_code=200)
    async def enter_paper(
        self, round_id: RoundId, batch_id: ItemId, request: AnyRequest, db_session: DbSession
    ) -> Template:
        from stemmen.ballots.service import enter_paper_ballot

        user = official_or_refusal(request)
        if not isinstance(user, User):
            return user
        lang = page_language(request)
        form = await form_values(request)
        area = first(form, "area") or None
        try:
            await check_round_team(db_session, round_id, user)
            ballot, _, _ = await paper_ballot_view(db_session, round_id, batch_id, area)
            raw = ballot_from_form(
                ballot.rules.format,
                form,
                projects=[project.code for project in ballot.projects],
                questions=[(q.id, [o.id for o in q.options]) for q in ballot.questions],
            )
            voter = first(form, "voter")
            if not voter:
                raise PageRefusal(translate("paper.voter_needed", lang))
            await enter_paper_ballot(
                db_session, request.app.state.settings, user, round_id, batch_id, voter, area, raw
            )
        except PageRefusal as refusal:
            return await self._batch(
                request,
                db_session,
                round_id,
                batch_id,
                area,
                error=str(refusal),
                previous=form,
                status=422,
            )
        except DomainError as failure:
            return await self._batch(
                request,
                db_session,
                round_id,
                batch_id,
                area,
                error=error_text(failure, lang),
                previous=form,
                status=failure.status_code,
            )
        return await self._batch(
            request, db_session, round_id, batch_id, area, notice=translate("paper.entered", lang)
        )

    # ----------------------------------------------------------------------- what-if

    @post("/rounds/{round_id:str}/what-if", status_code=200)
    async def what_if(
        self, round_id: RoundId, request: AnyRequest, db_session: DbSession
    ) -> Template:
        from stemmen.results.service import what_if

        user = official_or_refusal(request)
        if not isinstance(user, User):
            return user
        lang = page_language(request)
        form = await form_values(request)
        try:
            await check_round_team(db_session, round_id, user)
            compared = await what_if(db_session, user, round_id, first(form, "rule"), {})
        except DomainError as failure:
            return await self._round(
                request,
                db_session,
                user,
                round_id,
                error=error_text(failure, lang),
                status=failure.status_code,
            )
        return await self._round(request, db_session, user, round_id, whatif=compared)


async def team_view(
    session: AsyncSession, round_id: str, user: User, lang: str
) -> tuple[Any, str | None]:
    """The round's team, and for an official the rule set keeps off this round, the refusal
    every write would get (in their language), so the page shows it instead of forms."""
    from stemmen.errors import Forbidden
    from stemmen.rounds.team import read_team

    team = await read_team(session, round_id)
    try:
        await check_round_team(session, round_id, user)
    except Forbidden as refusal:
        return team, error_text(refusal, lang)
    return team, None


async def paper_ballot_view(
    session: AsyncSession, round_id: str, batch_id: int, area_code: str | None
) -> tuple[Any, list[Any], Any]:
    """The ballot a paper voter filled in, shaped like a resident's ballot page, for the
    official to copy; with the round's areas and the batch."""
    from stemmen.ballots import service as ballots
    from stemmen.errors import NotFound

    voting = await ballots.load_voting_round(session, round_id)
    areas = list(await ballots.round_areas(session, voting.round))
    batch = next(
        (b for b in await ballots.list_batches(session, round_id) if b.id == batch_id), None
    )
    if batch is None:
        raise NotFound(f"round {round_id} has no paper batch {batch_id}", code="batch_not_found")
    needs_area = voting.ruleset.is_budget or voting.ruleset.eligibility.one_ballot_per == "area"
    area = None
    if needs_area:
        area = next((a for a in areas if a.code == area_code), areas[0] if areas else None)
    context = await ballots.ballot_context(session, voting, area)
    ballot = await ballots.ballot_read(session, voting, area, context, already_voted=False)
    return ballot, areas, batch
