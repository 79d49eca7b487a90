"""Voting routes: the ballot, casting, paper batches (four eyes) and receipt look-ups."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.params import JSONBody, PathParameter, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from stemmen.auth import officials_only, residents_only
from stemmen.ballots import service
from stemmen.ballots.middleware import CAST, FETCH, HOT_ROUTE
from stemmen.ballots.schemas import (
    ROUND_ID_PATTERN,
    BallotRead,
    CastBallot,
    CastReceipt,
    PaperBallotIn,
    PaperBatchCreate,
    PaperBatchRead,
    PaperBatchReject,
    ReceiptRead,
)
from stemmen.db import DbSession
from stemmen.rounds.team import round_team

RoundId = Annotated[
    str, PathParameter(pattern=f"^{ROUND_ID_PATTERN}$", description="The round's id.")
]
BatchId = Annotated[int, PathParameter(ge=1, description="The paper batch's number.")]
ReceiptCode = Annotated[
    str,
    PathParameter(max_length=60, description="The receipt code, e.g. 7KQ-2M9-XDA-0RT-C4N-H8W-VE5."),
]


class BallotController(Controller):
    path = "/api"
    tags = ["voting"]

    # Most of these two requests are answered by stemmen.ballots.middleware, which calls the
    # same service functions as the bodies below: keep them in step.
    @get(
        "/rounds/{round_id:str}/ballot",
        guards=[residents_only],
        opt={HOT_ROUTE: FETCH},
        summary="Your ballot: the projects of your area with their costs and budget, or the questions",
    )
    async def read_ballot(
        self,
        round_id: RoundId,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        area: Annotated[str | None, QueryParameter(required=False, max_length=20)] = None,
    ) -> Response[BallotRead]:
        # The body comes ready-made (the same bytes for every voter of an area while voting is
        # open, see service.read_ballot_json); the schema still documents BallotRead.
        body = await service.read_ballot_json(
            db_session, request.app.state.settings, request.user, round_id, area
        )
        return Response(body, media_type=MediaType.JSON)  # type: ignore[arg-type]

    @post(
        "/rounds/{round_id:str}/ballots",
        guards=[residents_only],
        status_code=HTTP_201_CREATED,
        opt={HOT_ROUTE: CAST},
        summary="Cast your ballot; the answer carries your receipt code",
    )
    async def cast_ballot(
        self,
        round_id: RoundId,
        data: JSONBody[CastBallot],
        request: Request[Any, Any, Any],
        db_session: DbSession,
    ) -> CastReceipt:
        return await service.cast_ballot(
            db_session, request.app.state.settings, request.user, round_id, data.area, data.ballot
        )

    @post(
        "/rounds/{round_id:str}/paper-batches",
        guards=[officials_only, round_team],
        status_code=HTTP_201_CREATED,
        summary="Open a batch of paper ballots to enter (officials)",
    )
    async def open_batch(
        self,
        round_id: RoundId,
        data: JSONBody[PaperBatchCreate],
        request: Request[Any, Any, Any],
        db_session: DbSession,
    ) -> PaperBatchRead:
        return await service.open_batch(db_session, request.user, round_id, data.label)

    @get(
        "/rounds/{round_id:str}/paper-batches",
        guards=[officials_only],
        summary="The round's paper batches and their state (officials)",
    )
    async def list_batches(self, round_id: RoundId, db_session: DbSession) -> list[PaperBatchRead]:
        return await service.list_batches(db_session, round_id)

    @post(
        "/rounds/{round_id:str}/paper-batches/{batch_id:int}/ballots",
        guards=[officials_only, round_team],
        status_code=HTTP_201_CREATED,
        summary="Enter one paper ballot into your open batch (officials)",
    )
    async def enter_paper_ballot(
        self,
        round_id: RoundId,
        batch_id: BatchId,
        data: JSONBody[PaperBallotIn],
        request: Request[Any, Any, Any],
        db_session: DbSession,
    ) -> CastReceipt:
        return await service.enter_paper_ballot(
            db_session,
            request.app.state.settings,
            request.user,
            round_id,
            batch_id,
            data.voter,
            data.area,
            data.ballot,
        )

    @post(
        "/rounds/{round_id:str}/paper-batches/{batch_id:int}/confirm",
        guards=[officials_only, round_team],
        status_code=HTTP_200_OK,
        summary="Confirm a batch another official entered; its ballots then count",
    )
    async def confirm_batch(
        self,
        round_id: RoundId,
        batch_id: BatchId,
        request: Request[Any, Any, Any],
        db_session: DbSession,
    ) -> PaperBatchRead:
        return await service.confirm_batch(db_session, request.user, round_id, batch_id)

    @post(
        "/rounds/{round_id:str}/paper-batches/{batch_id:int}/reject",
        guards=[officials_only, round_team],
        status_code=HTTP_200_OK,
        summary="Reject a batch: its ballots never count and their voters may vote again",
    )
    async def reject_batch(
        self,
        round_id: RoundId,
        batch_id: BatchId,
        data: JSONBody[PaperBatchReject],
        request: Request[Any, Any, Any],
        db_session: DbSession,
    ) -> PaperBatchRead:
        return await service.reject_batch(db_session, request.user, round_id, batch_id, data.reason)

    @get(
        "/receipts/{code:str}",
        exclude_from_auth=True,
        summary="Check a receipt: was this ballot counted as cast, or replaced?",
    )
    async def read_receipt(self, code: ReceiptCode, db_session: DbSession) -> ReceiptRead:
        return await service.read_receipt(db_session, code)

    @get(
        "/rounds/{round_id:str}/receipts/{code:str}",
        exclude_from_auth=True,
        summary="Check a receipt within one round",
    )
    async def read_round_receipt(
        self, round_id: RoundId, code: ReceiptCode, db_session: DbSession
    ) -> ReceiptRead:
        return await service.read_receipt(db_session, code, round_id)
