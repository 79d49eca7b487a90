"""Proposal routes under a round: submit, read, change (author), review (officials), support."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import JSONBody, PathParameter, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from stemmen.auth import officials_only, residents_only, signed_in
from stemmen.db import DbSession
from stemmen.proposals import service
from stemmen.proposals.schemas import (
    ProposalCreate,
    ProposalRead,
    ProposalReview,
    ProposalUpdate,
    SupportRead,
)
from stemmen.rounds.team import round_team

RoundId = Annotated[str, PathParameter(pattern=r"^[0-9a-f]{32}$", description="The round's id")]
ProposalId = Annotated[int, PathParameter(ge=1, le=2**31 - 1, description="The proposal's number")]


class ProposalController(Controller):
    path = "/api/rounds/{round_id:str}/proposals"
    tags = ["proposals"]

    @get("/", summary="Accepted proposals; residents also see their own, officials see all")
    async def list_proposals(
        self,
        round_id: RoundId,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        area: Annotated[str | None, QueryParameter()] = None,
        status: Annotated[str | None, QueryParameter()] = None,
    ) -> list[ProposalRead]:
        return await service.list_proposals(
            db_session, request.app.state.settings, round_id, request.user, area=area, status=status
        )

    @post(
        "/",
        guards=[signed_in, round_team],
        status_code=HTTP_201_CREATED,
        summary="Submit a proposal (eligible residents, submission phase; officials before voting)",
    )
    async def submit(
        self,
        round_id: RoundId,
        data: JSONBody[ProposalCreate],
        request: Request[Any, Any, Any],
        db_session: DbSession,
    ) -> ProposalRead:
        return await service.submit_proposal(
            db_session, request.app.state.settings, round_id, data, request.user
        )

    @get(
        "/{proposal_id:int}",
        summary="One proposal, if it is accepted, yours, or you are an official",
    )
    async def get_proposal(
        self,
        round_id: RoundId,
        proposal_id: ProposalId,
        request: Request[Any, Any, Any],
        db_session: DbSession,
    ) -> ProposalRead:
        return await service.read_proposal(
            db_session, request.app.state.settings, round_id, proposal_id, request.user
        )

    @patch(
        "/{proposal_id:int}",
        guards=[signed_in, round_team],
        summary="Change your own proposal (submission phase)",
    )
    async def update(
        self,
        round_id: RoundId,
        proposal_id: ProposalId,
        data: JSONBody[ProposalUpdate],
        request: Request[Any, Any, Any],
        db_session: DbSession,
    ) -> ProposalRead:
        return await service.update_proposal(
            db_session, request.app.state.settings, round_id, proposal_id, data, request.user
        )

    @delete(
        "/{proposal_id:int}",
        guards=[signed_in, round_team],
        status_code=HTTP_200_OK,
        summary="Withdraw your own proposal (submission phase)",
    )
    async def withdraw(
        self,
        round_id: RoundId,
        proposal_id: ProposalId,
        request: Request[Any, Any, Any],
        db_session: DbSession,
    ) -> ProposalRead:
        return await service.withdraw_proposal(
            db_session, request.app.state.settings, round_id, proposal_id, request.user
        )

    @post(
        "/{proposal_id:int}/review",
        guards=[officials_only, round_team],
        status_code=HTTP_200_OK,
        summary="Accept with a final cost, reject with a reason, or merge into a duplicate (review phase)",
    )
    async def review(
        self,
        round_id: RoundId,
        proposal_id: ProposalId,
        data: JSONBody[ProposalReview],
        request: Request[Any, Any, Any],
        db_session: DbSession,
    ) -> ProposalRead:
        return await service.review_proposal(
            db_session, request.app.state.settings, round_id, proposal_id, data, request.user
        )

    @post(
        "/{proposal_id:int}/support",
        guards=[residents_only],
        status_code=HTTP_200_OK,
        summary="Support an accepted proposal (supports phase; once per proposal)",
    )
    async def support(
        self,
        round_id: RoundId,
        proposal_id: ProposalId,
        request: Request[Any, Any, Any],
        db_session: DbSession,
    ) -> SupportRead:
        return await service.support_proposal(
            db_session, request.app.state.settings, round_id, proposal_id, request.user
        )

    @delete(
        "/{proposal_id:int}/support",
        guards=[residents_only],
        status_code=HTTP_200_OK,
        summary="Withdraw your support (supports phase)",
    )
    async def withdraw_support(
        self,
        round_id: RoundId,
        proposal_id: ProposalId,
        request: Request[Any, Any, Any],
        db_session: DbSession,
    ) -> SupportRead:
        return await service.withdraw_support(
            db_session, request.app.state.settings, round_id, proposal_id, request.user
        )
