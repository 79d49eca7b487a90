"""Who may act on a round: every official, or only the round's team.

The council's rule set decides (``administration.officials``). Under ``any-official``, the
default, every official may act on every round. Under ``round-team`` a round has a team: the
official who created it, and the officials a team member or an admin added since. Only the
team and admins may then change the round, move its phases (publishing included), add its
questions, submit and review its proposals, enter, confirm or reject its paper batches and
compare its result under other rules; every other official is refused with 403
``not_on_round_team``. Reading stays open to every official, so they can see whom to ask.

Every official write route carries the guard :func:`round_team` (after the role guard); the
officials' pages call :func:`check_round_team` with the request's session. Team changes are
logged in the round's audit chain (``round.changed`` with ``team_member_added`` or
``team_member_removed``), in the same transaction as the change.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from stemmen.audit import chain as events
from stemmen.audit.log import append_event
from stemmen.auth import Role, User, current_user
from stemmen.errors import Conflict, Forbidden, NotFound
from stemmen.rounds.models import Phase, Round, RoundTeamMember
from stemmen.rounds.schemas import TeamMemberRead, TeamRead
from stemmen.rounds.service import get_round, ruleset_of
from stemmen.rules.document import ROUND_TEAM
from stemmen.rules.service import ruleset_view

RULE = "administration.officials"


def not_on_team(round_id: str, created_by: str, reference: str) -> Forbidden:
    return Forbidden(
        f"you are not on this round's team: the council's rule set ({reference}, {RULE}) lets "
        f"only the round's team and admins act on it; ask {created_by} (who created the round), "
        "another team member or an admin to add you",
        code="not_on_round_team",
        message_nl=f"u hoort niet bij het team van deze ronde: volgens het kader van de raad "
        f"({reference}, {RULE}) mogen alleen het team van de ronde en beheerders eraan werken; "
        f"vraag {created_by} (die de ronde aanmaakte), een ander teamlid of een beheerder om u "
        "toe te voegen",
        details={"round": round_id, "rule": RULE, "created_by": created_by},
    )


async def check_round_team(session: AsyncSession, round_id: str, user: User | None) -> None:
    """Refuse (403 ``not_on_round_team``) an official outside the team of a round whose rule
    set limits it to its team. Anyone else passes: admins always may, residents and auditors
    are judged by the role guards and services, and an unknown round is the service's 404."""
    if user is None or user.role != Role.OFFICIAL:
        return
    # Plain columns, not the ORM row: a service that locks the round next must read the row
    # fresh, not find this snapshot in the session.
    found = (
        await session.execute(
            sa.select(col(Round.ruleset_hash), col(Round.created_by)).where(
                col(Round.id) == round_id
            )
        )
    ).first()
    if found is None:
        return
    ruleset_hash, created_by = found
    ruleset = await ruleset_view(session, ruleset_hash)
    if not ruleset.administration.round_team_only or user.subject == created_by:
        return
    member = (
        await session.execute(
            sa.select(col(RoundTeamMember.id)).where(
                col(RoundTeamMember.round_id) == round_id,
                col(RoundTeamMember.subject) == user.subject,
            )
        )
    ).first()
    if member is None:
        raise not_on_team(round_id, created_by, ruleset.reference)


async def round_team(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Route guard: the round of the path (``round_id``) accepts this official. Put it after
    the role guard. It reads with a session of its own, before the request body is parsed, so
    a refused request writes nothing."""
    user = current_user(connection)
    round_id = connection.path_params.get("round_id")
    if user is None or user.role != Role.OFFICIAL or not isinstance(round_id, str):
        return
    async with connection.app.state.session_maker() as session:
        await check_round_team(session, round_id, user)


# --------------------------------------------------------------------------- the team itself


async def _members(session: AsyncSession, round_id: str) -> list[RoundTeamMember]:
    statement = (
        select(RoundTeamMember)
        .where(RoundTeamMember.round_id == round_id)
        .order_by(col(RoundTeamMember.added_at), col(RoundTeamMember.id))
    )
    return list((await session.exec(statement)).all())


async def _team_read(session: AsyncSession, round_: Round, officials: str) -> TeamRead:
    creator = TeamMemberRead(subject=round_.created_by, added_by=None, added_at=round_.created_at)
    added = [
        TeamMemberRead(subject=m.subject, added_by=m.added_by, added_at=m.added_at)
        for m in await _members(session, round_.id)
    ]
    return TeamRead(round_id=round_.id, officials=officials, members=[creator, *added])


async def read_team(session: AsyncSession, round_id: str) -> TeamRead:
    round_ = await get_round(session, round_id)
    ruleset = await ruleset_of(session, round_)
    return await _team_read(session, round_, ruleset.administration.officials)


async def _changeable_team(session: AsyncSession, round_id: str, actor: User) -> Round:
    round_ = await get_round(session, round_id)
    await check_round_team(session, round_id, actor)
    ruleset = await ruleset_of(session, round_)
    if not ruleset.administration.round_team_only:
        raise Conflict(
            f"this round has no team to change: the council's rule set ({ruleset.reference}, "
            f"{RULE}) lets every official act on it",
            code="round_has_no_team",
            message_nl=f"deze ronde heeft geen team om te wijzigen: volgens het kader van de "
            f"raad ({ruleset.reference}, {RULE}) mag elke ambtenaar eraan werken",
            details={"rule": RULE, "officials": ruleset.administration.officials},
        )
    if round_.phase == Phase.PUBLISHED.value:
        raise Conflict(
            "the round's result is published; its team can no longer change",
            code="round_published",
            message_nl="de uitslag van de ronde is gepubliceerd; het team kan niet meer veranderen",
        )
    return round_


def _already(subject: str) -> Conflict:
    return Conflict(
        f"the official {subject} is already on this round's team",
        code="already_on_team",
        message_nl=f"ambtenaar {subject} hoort al bij het team van deze ronde",
    )


async def add_member(session: AsyncSession, round_id: str, subject: str, actor: User) -> TeamRead:
    """Add an official to the team (team members and admins may); logged in the round's chain."""
    round_ = await _changeable_team(session, round_id, actor)
    if subject == round_.created_by or any(
        m.subject == subject for m in await _members(session, round_id)
    ):
        raise _already(subject)
    session.add(RoundTeamMember(round_id=round_id, subject=subject, added_by=actor.subject))
    try:
        await session.flush()
    except IntegrityError as error:  # added by someone else meanwhile
        await session.rollback()
        raise _already(subject) from error
    await append_event(
        session,
        kind=events.ROUND_CHANGED,
        actor=actor,
        round_id=round_id,
        payload={"team_member_added": subject},
    )
    try:
        await session.commit()
    except IntegrityError as error:
        await session.rollback()
        raise _already(subject) from error
    return await _team_read(session, round_, ROUND_TEAM)


async def remove_member(
    session: AsyncSession, round_id: str, subject: str, actor: User
) -> TeamRead:
    """Take an official off the team (the creator stays); logged in the round's chain."""
    round_ = await _changeable_team(session, round_id, actor)
    if subject == round_.created_by:
        raise Conflict(
            f"the official {subject} created the round and stays on its team",
            code="creator_stays_on_team",
            message_nl=f"ambtenaar {subject} heeft de ronde aangemaakt en blijft in het team",
        )
    removed = await session.execute(
        sa.delete(RoundTeamMember).where(
            col(RoundTeamMember.round_id) == round_id, col(RoundTeamMember.subject) == subject
        )
    )
    if removed.rowcount != 1:  # type: ignore[attr-defined]
        await session.rollback()
        raise NotFound(
            f"the official {subject} is not on this round's team",
            code="not_on_team",
            message_nl=f"ambtenaar {subject} hoort niet bij het team van deze ronde",
        )
    await append_event(
        session,
        kind=events.ROUND_CHANGED,
        actor=actor,
        round_id=round_id,
        payload={"team_member_removed": subject},
    )
    await session.commit()
    return await _team_read(session, round_, ROUND_TEAM)
