"""Result routes: the result with its explanation, the anonymised cast-vote record, what-if."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import JSONBody, PathParameter, QueryParameter
from litestar.status_codes import HTTP_200_OK

from stemmen.auth import officials_only
from stemmen.db import DbSession
from stemmen.results import service
from stemmen.results.schemas import BreakdownRead, ResultRead, WhatIfRead, WhatIfRequest
from stemmen.rounds.team import round_team

RoundId = Annotated[
    str, PathParameter(pattern=r"^[0-9a-zA-Z_-]{1,40}$", description="The round's id.")
]


class ResultController(Controller):
    path = "/api"
    tags = ["results"]

    @get(
        "/rounds/{round_id:str}/result",
        summary="The result with its full explanation (public once published; officials after the close)",
    )
    async def read_result(
        self, round_id: RoundId, request: Request[Any, Any, Any], db_session: DbSession
    ) -> ResultRead:
        return await service.read_result(db_session, request.user, round_id)

    @get(
        "/rounds/{round_id:str}/breakdown",
        summary="Voters and support by area and channel, groups below the rule set's "
        "min_group_size suppressed (visible to whoever may see the result)",
    )
    async def read_breakdown(
        self, round_id: RoundId, request: Request[Any, Any, Any], db_session: DbSession
    ) -> BreakdownRead:
        from stemmen.results.breakdown_service import read_breakdown

        return await read_breakdown(db_session, request.user, round_id)

    @get(
        "/rounds/{round_id:str}/cast-vote-record",
        summary="The anonymised cast-vote record, sorted by receipt: pabulib per area, or JSON",
    )
    async def cast_vote_record(
        self,
        round_id: RoundId,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        area: Annotated[str | None, QueryParameter(required=False, max_length=20)] = None,
        question: Annotated[str | None, QueryParameter(required=False, max_length=40)] = None,
    ) -> Response[Any]:
        body, media_type = await service.cast_vote_record(
            db_session, request.user, round_id, area, question
        )
        headers = {}
        if area is not None:
            headers["Content-Disposition"] = f'attachment; filename="{round_id}-{area}.pb"'
        return Response(body, media_type=media_type, headers=headers)

    @post(
        "/rounds/{round_id:str}/what-if",
        guards=[officials_only, round_team],
        status_code=HTTP_200_OK,
        summary="The round's ballots under another rule, compared with the stored result (officials)",
    )
    async def what_if(
        self,
        round_id: RoundId,
        data: JSONBody[WhatIfRequest],
        request: Request[Any, Any, Any],
        db_session: DbSession,
    ) -> WhatIfRead:
        return await service.what_if(db_session, request.user, round_id, data.rule, data.options)
