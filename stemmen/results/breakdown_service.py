"""The published breakdown of a round (``stemmen.results.breakdown``) from its counted
ballots: visible to whoever may see the result, computed from the same ballots.

Once the result is stored the counted ballots cannot change (the close seals them), so a
process keeps the breakdowns of the last few rounds it computed, keyed by the round and the
stored result's ballot-tree root: the results page of a city-wide round would otherwise read
its hundred thousand ballots on every view.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import sqlalchemy as sa
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from stemmen.auth import User
from stemmen.results.breakdown import (
    Breakdown,
    budget_ballot,
    budget_breakdown,
    preferendum_ballot,
    preferendum_breakdown,
)
from stemmen.results.models import Result
from stemmen.results.schemas import BreakdownRead
from stemmen.results.service import (
    _readable_round,
    _scale_json,
    counted_ballots,
    round_definition,
)
from stemmen.rounds.models import Phase, Round
from stemmen.rules.document import RuleSet

NO_AGE = (
    "ballots do not record an age or birth date: the age is checked against the sign-in "
    "when a ballot is cast and not kept, so there are no age bands"
)
ONE_CHANNEL = "this round's rule set allows one way of voting (ballot.channels)"
NO_AREA = (
    "this round's ballots are cast for the whole round (eligibility.one_ballot_per is "
    "round) and do not record the voter's area"
)


CACHED_ROUNDS = 16
_cache: OrderedDict[tuple[str, str, str], tuple[Breakdown, dict[str, Any]]] = OrderedDict()
_cache_lock = threading.Lock()


async def round_breakdown(
    session: AsyncSession, round_: Round, ruleset: RuleSet
) -> tuple[Breakdown, dict[str, Any]]:
    """The round's breakdown and the round definition it names (areas, projects, options)."""
    stored = (
        await session.execute(
            sa.select(col(Result.merkle_root)).where(col(Result.round_id) == round_.id)
        )
    ).scalar_one_or_none()
    key = (round_.id, round_.ruleset_hash, stored or "")
    if stored is not None:
        with _cache_lock:
            if key in _cache:
                _cache.move_to_end(key)
                return _cache[key]
    computed = await _compute(session, round_, ruleset)
    if stored is not None:
        with _cache_lock:
            _cache[key] = computed
            while len(_cache) > CACHED_ROUNDS:
                _cache.popitem(last=False)
    return computed


async def _compute(
    session: AsyncSession, round_: Round, ruleset: RuleSet
) -> tuple[Breakdown, dict[str, Any]]:
    definition = await round_definition(session, round_, ruleset)
    ballots = await counted_ballots(session, round_.id)
    minimum = ruleset.publication.min_group_size
    if ruleset.is_budget:
        areas = {
            str(area["code"]): [str(project["id"]) for project in area["projects"]]
            for area in definition["areas"]
        }
        grouped = [budget_ballot(b.area_code, b.channel, b.content) for b in ballots]
        return budget_breakdown(areas, grouped, minimum, ruleset.ballot.channels), definition
    default_scale = _scale_json(ruleset)
    scales = {str(q["id"]): q.get("scale") or default_scale for q in definition["questions"]}
    questions = {
        str(q["id"]): [str(option["id"]) for option in q["options"]]
        for q in definition["questions"]
    }
    grouped = [
        preferendum_ballot(b.area_code, b.channel, b.content.get("answers", {}), scales)
        for b in ballots
    ]
    areas_in_order = [str(area["code"]) for area in definition["areas"]]
    channels = ruleset.ballot.channels
    return preferendum_breakdown(areas_in_order, questions, grouped, minimum, channels), definition


async def read_breakdown(session: AsyncSession, user: User | None, round_id: str) -> BreakdownRead:
    round_, ruleset = await _readable_round(session, user, round_id)
    breakdown, _ = await round_breakdown(session, round_, ruleset)
    not_available = {"age": NO_AGE}
    if not ruleset.is_budget and "area" not in breakdown.dimensions:
        not_available["area"] = NO_AREA
    if len(ruleset.ballot.channels) < 2:
        not_available["channel"] = ONE_CHANNEL
    return BreakdownRead(
        round=round_.id,
        instrument=round_.instrument,
        phase=round_.phase,
        published=round_.phase == Phase.PUBLISHED.value,
        not_available=not_available,
        cast_vote_record_public=ruleset.publication.cast_vote_record,
        **breakdown.to_json(),
    )
