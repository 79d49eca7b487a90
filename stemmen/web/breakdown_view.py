"""The results page's breakdown: the published breakdown (``stemmen.results.breakdown``) as
tables with names and labels. A suppressed group shows "hidden", never a number, and the
same whether it is small or protects a small one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from stemmen.auth import User
from stemmen.results.breakdown import AREA, Group, Table
from stemmen.web.i18n import translate


@dataclass(frozen=True)
class Cell:
    value: int | None

    @property
    def suppressed(self) -> bool:
        return self.value is None


@dataclass(frozen=True)
class TableView:
    caption: str
    corner: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, tuple[Cell, ...]], ...]


@dataclass(frozen=True)
class BreakdownView:
    min_group_size: int
    record_public: bool
    area_missing: bool
    one_channel: bool
    tables: tuple[TableView, ...]


def _cell(group: Group, value: int | None) -> Cell:
    return Cell(None if group.suppressed else value)


def _column(group: Group, dimension: str, names: dict[str, str], lang: str) -> str:
    if dimension == AREA:
        return names.get(group.key, group.key)
    return translate(f"channel.{group.key}", lang)


def budget_tables(
    tables: tuple[Table, ...], definition: dict[str, Any], lang: str
) -> tuple[TableView, ...]:
    names = {str(a["code"]): str(a.get("name") or a["code"]) for a in definition["areas"]}
    projects = {
        str(a["code"]): [(str(p["id"]), str(p["name"])) for p in a["projects"]]
        for a in definition["areas"]
    }
    voters = translate("breakdown.voters", lang)
    views = []
    for table in tables:
        columns = tuple(_column(g, table.dimension, names, lang) for g in table.groups)
        rows = [(voters, tuple(_cell(g, g.voters) for g in table.groups))]
        if table.area is None:
            caption = translate("breakdown.round_channels", lang)
        else:
            caption = translate("breakdown.area_channels", lang, area=names.get(table.area))
            for code, title in projects.get(table.area, []):
                rows.append(
                    (
                        title,
                        tuple(_cell(g, (g.support or {}).get(code)) for g in table.groups),
                    )
                )
        corner = translate("breakdown.group", lang)
        views.append(TableView(caption, corner, columns, tuple(rows)))
    return tuple(views)


def preferendum_tables(
    tables: tuple[Table, ...], definition: dict[str, Any], lang: str
) -> tuple[TableView, ...]:
    names = {str(a["code"]): str(a.get("name") or a["code"]) for a in definition["areas"]}
    views = []
    for table in tables:
        columns = tuple(_column(g, table.dimension, names, lang) for g in table.groups)
        dimension = translate(f"breakdown.by_{table.dimension}", lang)
        views.append(
            TableView(
                translate("breakdown.voters_by", lang, dimension=dimension),
                translate("breakdown.group", lang),
                columns,
                (
                    (
                        translate("breakdown.voters", lang),
                        tuple(_cell(g, g.voters) for g in table.groups),
                    ),
                ),
            )
        )
        for question in definition["questions"]:
            key = str(question["id"])

            def answers(group: Group, key: str = key) -> dict[str, Any]:
                return dict((group.questions or {}).get(key) or {})

            rows = [
                (
                    translate("breakdown.answered", lang),
                    tuple(_cell(g, answers(g).get("answered")) for g in table.groups),
                )
            ]
            rows.extend(
                (
                    str(option.get("label") or option["id"]),
                    tuple(
                        _cell(g, (answers(g).get("support") or {}).get(str(option["id"])))
                        for g in table.groups
                    ),
                )
                for option in question["options"]
            )
            views.append(
                TableView(
                    translate(
                        "breakdown.question_by",
                        lang,
                        question=str(question.get("text") or key),
                        dimension=dimension,
                    ),
                    translate("breakdown.support", lang),
                    columns,
                    tuple(rows),
                )
            )
    return tuple(views)


async def breakdown_view(
    session: AsyncSession, user: User | None, round_id: str, lang: str
) -> BreakdownView:
    from stemmen.results.breakdown_service import round_breakdown
    from stemmen.results.service import _readable_round

    round_, ruleset = await _readable_round(session, user, round_id)
    breakdown, definition = await round_breakdown(session, round_, ruleset)
    if ruleset.is_budget:
        views = budget_tables(breakdown.tables, definition, lang)
    else:
        views = preferendum_tables(breakdown.tables, definition, lang)
    return BreakdownView(
        min_group_size=breakdown.min_group_size,
        record_public=ruleset.publication.cast_vote_record,
        area_missing=not ruleset.is_budget and AREA not in breakdown.dimensions,
        one_channel=len(ruleset.ballot.channels) < 2,
        tables=views,
    )
