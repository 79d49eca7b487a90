"""Round routes: officials create and run rounds; anyone may read a round's definition."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import JSONBody, PathParameter, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from stemmen.auth import officials_only
from stemmen.db import DbSession
from stemmen.rounds import service, team
from stemmen.rounds.schemas import (
    AREA_CODE_PATTERN,
    PhaseMove,
    QuestionCreate,
    QuestionRead,
    QuestionUpdate,
    RoundCreate,
    RoundRead,
    RoundSummary,
    RoundUpdate,
    TeamMemberAdd,
    TeamRead,
)
from stemmen.rounds.team import round_team

RoundId = Annotated[str, PathParameter(pattern=r"^[0-9a-f]{32}$", description="The round's id")]
QuestionKey = Annotated[str, PathParameter(description="The question's key inside the round")]
Subject = Annotated[
    str, PathParameter(max_length=200, description="The official's subject (their 'sub' claim)")
]


class RoundController(Controller):
    path = "/api/rounds"
    tags = ["rounds"]

    @get("/", summary="Every round, optionally only those of an area or in a phase")
    async def list_rounds(
        self,
        db_session: DbSession,
        area: Annotated[
            str | None, QueryParameter(pattern=AREA_CODE_PATTERN, description="CBS code")
        ] = None,
        phase: Annotated[str | None, QueryParameter()] = None,
    ) -> list[RoundSummary]:
        return await service.list_rounds(db_session, area=area, phase=phase)

    @post(
        "/",
        guards=[officials_only],
        summary="Create a round under a published rule-set version",
        status_code=HTTP_201_CREATED,
    )
    async def create_round(
        self, data: JSONBody[RoundCreate], request: Request[Any, Any, Any], db_session: DbSession
    ) -> RoundRead:
        return await service.create_round(db_session, data, request.user)

    @get("/{round_id:str}", summary="One round: its areas, schedule, phase and questions")
    async def get_round(self, round_id: RoundId, db_session: DbSession) -> RoundRead:
        return await service.read_round(db_session, await service.get_round(db_session, round_id))

    @patch(
        "/{round_id:str}",
        guards=[officials_only, round_team],
        summary="Change a draft round; send the revision you read (409 when it changed meanwhile)",
    )
    async def update_round(
        self,
        round_id: RoundId,
        data: JSONBody[RoundUpdate],
        request: Request[Any, Any, Any],
        db_session: DbSession,
    ) -> RoundRead:
        return await service.update_round(db_session, round_id, data, request.user)

    @post(
        "/{round_id:str}/phase",
        guards=[officials_only, round_team],
        status_code=200,
        summary="Move the round to its next phase (submission, review, supports, voting, closed, published)",
    )
    async def move_phase(
        self,
        round_id: RoundId,
        data: JSONBody[PhaseMove],
        request: Request[Any, Any, Any],
        db_session: DbSession,
    ) -> RoundRead:
        return await service.move_round(db_session, round_id, data.to, request.user, data.revision)

    @get("/{round_id:str}/questions", summary="The questions of a preferendum or poll, in order")
    async def list_questions(self, round_id: RoundId, db_session: DbSession) -> list[QuestionRead]:
        return await service.list_questions(db_session, round_id)

    @post(
        "/{round_id:str}/questions",
        guards=[officials_only, round_team],
        status_code=HTTP_201_CREATED,
        summary="Add a question with its options (before voting opens)",
    )
    async def add_question(
        self,
        round_id: RoundId,
        data: JSONBody[QuestionCreate],
        request: Request[Any, Any, Any],
        db_session: DbSession,
    ) -> QuestionRead:
        return await service.add_question(db_session, round_id, data, request.user)

    @patch(
        "/{round_id:str}/questions/{key:str}",
        guards=[officials_only, round_team],
        summary="Change a question (before voting opens)",
    )
    async def update_question(
        self,
        round_id: RoundId,
        key: QuestionKey,
        data: JSONBody[QuestionUpdate],
        request: Request[Any, Any, Any],
        db_session: DbSession,
    ) -> QuestionRead:
        return await service.update_question(db_session, round_id, key, data, request.user)

    @delete(
        "/{round_id:str}/questions/{key:str}",
        guards=[officials_only, round_team],
        summary="Remove a question (before voting opens)",
    )
    async def delete_question(
        self,
        round_id: RoundId,
        key: QuestionKey,
        request: Request[Any, Any, Any],
        db_session: DbSession,
    ) -> None:
        await service.delete_question(db_session, round_id, key, request.user)

    @get(
        "/{round_id:str}/team",
        guards=[officials_only],
        summary="Who may act on the round: its team where the rule set says round-team",
    )
    async def read_team(self, round_id: RoundId, db_session: DbSession) -> TeamRead:
        return await team.read_team(db_session, round_id)

    @post(
        "/{round_id:str}/team",
        guards=[officials_only, round_team],
        status_code=HTTP_201_CREATED,
        summary="Add an official to the round's team (team members and admins; logged)",
    )
    async def add_team_member(
        self,
        round_id: RoundId,
        data: JSONBody[TeamMemberAdd],
        request: Request[Any, Any, Any],
        db_session: DbSession,
    ) -> TeamRead:
        return await team.add_member(db_session, round_id, data.subject, request.user)

    @delete(
        "/{round_id:str}/team/{subject:str}",
        guards=[officials_only, round_team],
        status_code=200,
        summary="Take an official off the round's team; its creator stays (logged)",
    )
    async def remove_team_member(
        self,
        round_id: RoundId,
        subject: Subject,
        request: Request[Any, Any, Any],
        db_session: DbSession,
    ) -> TeamRead:
        return await team.remove_member(db_session, round_id, subject, request.user)
