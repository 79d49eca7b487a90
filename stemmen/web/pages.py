"""Residents' pages: a round, its proposals, submitting and supporting, the ballot, the
receipt check and the results. Thin like the API controllers: every rule (phases,
eligibility, bounds, validation) is the services'; a refusal is shown in the visitor's
language next to what they typed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import PathParameter, QueryParameter
from litestar.response import Redirect, Template
from pydantic import ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from stemmen.auth import Role, User
from stemmen.db import DbSession
from stemmen.errors import DomainError
from stemmen.web.controller import PAGE_ERRORS, render
from stemmen.web.forms import FormValues, ballot_from_form, error_text, parse_euros
from stemmen.web.i18n import translate
from stemmen.web.session import page_language, page_user

RoundId = Annotated[str, PathParameter(pattern=r"^[0-9a-zA-Z_-]{1,40}$")]
ProposalId = Annotated[int, PathParameter(ge=1)]
AnyRequest = Request[Any, Any, Any]


async def form_values(request: AnyRequest) -> dict[str, list[str]]:
    """Every field of a posted form with all its values (checkbox groups send several)."""
    form = await request.form()
    return {key: [str(value) for value in form.getall(key)] for key in form}


def message(
    request: AnyRequest,
    heading_key: str,
    text: str,
    *,
    kind: str = "error",
    status: int = 200,
    signin_link: bool = False,
) -> Template:
    lang = page_language(request)
    response = render(
        request,
        "message.html",
        heading=translate(heading_key, lang),
        message=text,
        kind=kind,
        signin_link=signin_link,
    )
    response.status_code = status
    return response


def needs_sign_in(request: AnyRequest) -> Template:
    return message(
        request,
        "error.title",
        translate("error.signin_needed", page_language(request)),
        status=401,
        signin_link=True,
    )


def refused(request: AnyRequest, error: DomainError) -> Template:
    return message(
        request,
        "error.title",
        error_text(error, page_language(request)),
        status=error.status_code,
    )


def validation_text(error: ValidationError, lang: str) -> str:
    fields = sorted({str(problem["loc"][0]) for problem in error.errors() if problem["loc"]})
    names = ", ".join(translate(f"field.{name}", lang) for name in fields)
    return translate("error.fields", lang, fields=names)


async def _round_view(session: AsyncSession, round_id: str) -> tuple[Any, Any]:
    from stemmen.rounds import service as rounds

    round_ = await rounds.get_round(session, round_id)
    return await rounds.read_round(session, round_), await rounds.ruleset_of(session, round_)


class ResidentPages(Controller):
    path = "/"
    include_in_schema = False
    exception_handlers = PAGE_ERRORS

    # ----------------------------------------------------------------------- a round

    @get("/rounds/{round_id:str}")
    async def round_page(
        self, round_id: RoundId, request: AnyRequest, db_session: DbSession
    ) -> Template:
        return await self._round(request, db_session, round_id)

    async def _round(
        self,
        request: AnyRequest,
        session: AsyncSession,
        round_id: str,
        *,
        error: str | None = None,
        notice: str | None = None,
        status: int = 200,
    ) -> Template:
        from stemmen.proposals import service as proposals

        try:
            round_read, ruleset = await _round_view(session, round_id)
        except DomainError as failure:
            return refused(request, failure)
        user = page_user(request)
        listed: Sequence[Any] = []
        if ruleset.is_budget:
            listed = await proposals.list_proposals(
                session, request.app.state.settings, round_id, user
            )
        response = render(
            request,
            "round.html",
            round=round_read,
            ruleset=ruleset,
            proposals=listed,
            area_names={area.code: area.name for area in round_read.areas},
            error=error,
            notice=notice,
        )
        response.status_code = status
        return response

    # ----------------------------------------------------------------------- proposals

    @get("/rounds/{round_id:str}/propose")
    async def proposal_form(
        self, round_id: RoundId, request: AnyRequest, db_session: DbSession
    ) -> Template:
        if page_user(request) is None:
            return needs_sign_in(request)
        try:
            round_read, ruleset = await _round_view(db_session, round_id)
        except DomainError as failure:
            return refused(request, failure)
        return render(request, "propose.html", round=round_read, ruleset=ruleset, values={})

    @post("/rounds/{round_id:str}/propose", status_code=200)
    async def submit_proposal(
        self, round_id: RoundId, request: AnyRequest, db_session: DbSession
    ) -> Template:
        from stemmen.proposals import service as proposals
        from stemmen.proposals.schemas import ProposalCreate

        user = page_user(request)
        if user is None:
            return needs_sign_in(request)
        lang = page_language(request)
        form = await form_values(request)
        values = {key: items[0] for key, items in form.items() if items}
        try:
            round_read, ruleset = await _round_view(db_session, round_id)
        except DomainError as failure:
            return refused(request, failure)
        problem: str | None = None
        cost = parse_euros(values.get("cost", ""))
        if cost is None:
            problem = translate("propose.cost_unreadable", lang)
        else:
            try:
                data = ProposalCreate(
                    title=values.get("title", "").strip(),
                    description=values.get("description", "").strip(),
                    area=values.get("area", ""),
                    category=values.get("category") or None,
                    estimated_cost_cents=cost,
                )
                created = await proposals.submit_proposal(
                    db_session, request.app.state.settings, round_id, data, user
                )
            except ValidationError as invalid:
                problem = validation_text(invalid, lang)
            except DomainError as failure:
                problem = error_text(failure, lang)
        if problem is not None:
            response = render(
                request,
                "propose.html",
                round=round_read,
                ruleset=ruleset,
                values=values,
                error=problem,
            )
            response.status_code = 422
            return response
        return render(request, "proposal_sent.html", round=round_read, proposal=created)

    @post("/rounds/{round_id:str}/proposals/{proposal_id:int}/support", status_code=303)
    async def support(
        self,
        round_id: RoundId,
        proposal_id: ProposalId,
        request: AnyRequest,
        db_session: DbSession,
    ) -> Template | Redirect:
        from stemmen.proposals import service as proposals

        user = page_user(request)
        if user is None:
            return needs_sign_in(request)
        form = await form_values(request)
        withdraw = (form.get("action") or [""])[0] == "withdraw"
        settings = request.app.state.settings
        try:
            if withdraw:
                await proposals.withdraw_support(db_session, settings, round_id, proposal_id, user)
            else:
                await proposals.support_proposal(db_session, settings, round_id, proposal_id, user)
        except DomainError as failure:
            return await self._round(
                request,
                db_session,
                round_id,
                error=error_text(failure, page_language(request)),
                status=failure.status_code,
            )
        return Redirect(f"/rounds/{round_id}#proposal-{proposal_id}", status_code=303)

    @post("/rounds/{round_id:str}/proposals/{proposal_id:int}/withdraw", status_code=303)
    async def withdraw(
        self,
        round_id: RoundId,
        proposal_id: ProposalId,
        request: AnyRequest,
        db_session: DbSession,
    ) -> Template | Redirect:
        from stemmen.proposals import service as proposals

        user = page_user(request)
        if user is None:
            return needs_sign_in(request)
        try:
            await proposals.withdraw_proposal(
                db_session, request.app.state.settings, round_id, proposal_id, user
            )
        except DomainError as failure:
            return await self._round(
                request,
                db_session,
                round_id,
                error=error_text(failure, page_language(request)),
                status=failure.status_code,
            )
        return Redirect(f"/rounds/{round_id}#proposal-{proposal_id}", status_code=303)

    # ----------------------------------------------------------------------- voting

    @get("/rounds/{round_id:str}/vote")
    async def ballot_page(
        self,
        round_id: RoundId,
        request: AnyRequest,
        db_session: DbSession,
        area: Annotated[str | None, QueryParameter(required=False, max_length=20)] = None,
    ) -> Template:
        user = page_user(request)
        if user is None:
            return needs_sign_in(request)
        return await self._ballot(request, db_session, user, round_id, area, previous={})

    async def _ballot(
        self,
        request: AnyRequest,
        session: AsyncSession,
        user: User,
        round_id: str,
        area: str | None,
        *,
        previous: FormValues,
        error: str | None = None,
        status: int = 200,
    ) -> Template:
        from stemmen.ballots import service as ballots

        lang = page_language(request)
        if user.role != Role.RESIDENT:
            return message(
                request, "error.title", translate("vote.residents_only", lang), status=403
            )
        try:
            ballot = await ballots.read_ballot(
                session, request.app.state.settings, user, round_id, area
            )
        except DomainError as failure:
            if failure.code == "choose_area":
                return render(
                    request,
                    "choose_area.html",
                    round_id=round_id,
                    areas=failure.details.get("areas", []),
                )
            return refused(request, failure)
        response = render(
            request,
            "vote.html",
            ballot=ballot,
            previous=previous,
            error=error,
            action=f"/rounds/{round_id}/vote",
        )
        response.status_code = status
        return response

    @post("/rounds/{round_id:str}/vote", status_code=200)
    async def cast(self, round_id: RoundId, request: AnyRequest, db_session: DbSession) -> Template:
        from stemmen.ballots import service as ballots

        user = page_user(request)
        if user is None:
            return needs_sign_in(request)
        lang = page_language(request)
        if user.role != Role.RESIDENT:
            return message(
                request, "error.title", translate("vote.residents_only", lang), status=403
            )
        form = await form_values(request)
        area = (form.get("area") or [""])[0] or None
        try:
            shown = await ballots.read_ballot(
                db_session, request.app.state.settings, user, round_id, area
            )
            raw = ballot_from_form(
                shown.rules.format,
                form,
                projects=[project.code for project in shown.projects],
                questions=[
                    (question.id, [option.id for option in question.options])
                    for question in shown.questions
                ],
            )
            receipt = await ballots.cast_ballot(
                db_session, request.app.state.settings, user, round_id, area, raw
            )
        except DomainError as failure:
            return await self._ballot(
                request,
                db_session,
                user,
                round_id,
                area,
                previous=form,
                error=error_text(failure, lang),
                status=failure.status_code,
            )
        return render(request, "voted.html", receipt=receipt, ballot=shown)

    # ----------------------------------------------------------------------- receipts

    @get("/receipt")
    async def receipt_form(self, request: AnyRequest) -> Template:
        return render(request, "receipt.html", code="", found=None)

    @post("/receipt", status_code=200)
    async def check_receipt(self, request: AnyRequest, db_session: DbSession) -> Template:
        from stemmen.ballots import service as ballots

        form = await form_values(request)
        code = ((form.get("code") or [""])[0]).strip()[:80]
        try:
            found = await ballots.read_receipt(db_session, code)
        except DomainError as failure:
            response = render(
                request,
                "receipt.html",
                code=code,
                found=None,
                error=error_text(failure, page_language(request)),
            )
            response.status_code = failure.status_code
            return response
        title = None
        try:
            round_read, _ = await _round_view(db_session, found.round)
            title = round_read.title
        except DomainError:
            pass
        return render(request, "receipt.html", code=code, found=found, round_title=title)

    # ----------------------------------------------------------------------- results

    @get("/rounds/{round_id:str}/results")
    async def results(
        self, round_id: RoundId, request: AnyRequest, db_session: DbSession
    ) -> Template:
        from stemmen.web.breakdown_view import breakdown_view
        from stemmen.web.result_views import result_view

        try:
            view = await result_view(
                db_session, page_user(request), round_id, page_language(request)
            )
            breakdown = await breakdown_view(
                db_session, page_user(request), round_id, page_language(request)
            )
        except DomainError as failure:
            return refused(request, failure)
        return render(request, "results.html", view=view, breakdown=breakdown)
