"""The result page's view: the results service's stored result joined with the published
round definition (names, costs, labels), and its pictures. Reads only; computes nothing that
the results service has not stored."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from stemmen.auth import User
from stemmen.web.charts import (
    GradeRow,
    ProjectBar,
    RankRow,
    budget_chart,
    grades_chart,
    ranking_chart,
)
from stemmen.web.i18n import translate


@dataclass(frozen=True)
class ProjectRow:
    code: str
    title: str
    cost_cents: int
    support: int
    funded: bool


@dataclass(frozen=True)
class AreaResult:
    code: str
    name: str
    budget_cents: int
    ballots: int
    spent_cents: int
    projects: tuple[ProjectRow, ...]
    svg: str


@dataclass(frozen=True)
class QuestionResult:
    key: str
    title: str
    method: str
    participation: int
    grade_labels: tuple[str, ...]
    grade_rows: tuple[GradeRow, ...]
    ranking: tuple[RankRow, ...]
    svg: str | None


@dataclass(frozen=True)
class ResultView:
    round_id: str
    title: str
    instrument: str
    published: bool
    valid: bool
    ballots: int
    merkle_root: str
    result_hash: str
    areas: tuple[AreaResult, ...]
    questions: tuple[QuestionResult, ...]


def _whole(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return None


def area_results(
    definition: dict[str, Any], results: list[dict[str, Any]], lang: str
) -> tuple[AreaResult, ...]:
    by_code = {str(item.get("area")): item for item in results}
    areas = []
    for area in definition.get("areas", []):
        code = str(area["code"])
        allocation = (by_code.get(code) or {}).get("allocation") or {}
        outcome = {str(p["id"]): p for p in allocation.get("projects", [])}
        rows = [
            ProjectRow(
                code=str(project["id"]),
                title=str(project["name"]),
                cost_cents=int(project["cost_cents"]),
                support=int(outcome.get(str(project["id"]), {}).get("support", 0)),
                funded=bool(outcome.get(str(project["id"]), {}).get("funded", False)),
            )
            for project in area.get("projects", [])
        ]
        # Most support first; the ballot code keeps equal support in a stable order.
        rows.sort(key=lambda row: (-row.support, row.code))
        spent = sum(row.cost_cents for row in rows if row.funded)
        name = str(area.get("name") or code)
        svg = budget_chart(
            f"chart-{code}",
            [ProjectBar(row.title, row.support, row.cost_cents, row.funded) for row in rows],
            int(area.get("budget_cents", 0)),
            lang=lang,
            title=translate("results.chart_title", lang, area=name),
        )
        areas.append(
            AreaResult(
                code=code,
                name=name,
                budget_cents=int(area.get("budget_cents", 0)),
                ballots=int((by_code.get(code) or {}).get("ballots", 0)),
                spent_cents=spent,
                projects=tuple(rows),
                svg=svg,
            )
        )
    return tuple(areas)


def question_results(
    definition: dict[str, Any], results: list[dict[str, Any]], lang: str
) -> tuple[QuestionResult, ...]:
    outcome = (results[0].get("preferendum") if results else None) or {}
    tallied = {str(q["id"]): q for q in outcome.get("questions", [])}
    questions = []
    for question in definition.get("questions", []):
        key = str(question["id"])
        labels = {str(o["id"]): str(o["label"]) for o in question.get("options", [])}
        entry = tallied.get(key) or {}
        result = entry.get("result") or {}
        distributions = result.get("grade_distributions") or {}
        grade_labels: tuple[str, ...] = ()
        grade_rows: tuple[GradeRow, ...] = ()
        if distributions:
            first = next(iter(distributions.values()))
            grade_labels = tuple(str(name) for name in first if name != "blank")
            grade_rows = tuple(
                GradeRow(
                    labels.get(option, option),
                    tuple(int(counts.get(name, 0)) for name in grade_labels),
                    int(counts.get("blank", 0)),
                )
                for option, counts in distributions.items()
            )
        scores = result.get("scores") or {}
        ranking = []
        for position, tier in enumerate(result.get("ranking") or [], start=1):
            for option in tier:
                score = scores.get(option)
                ranking.append(
                    RankRow(
                        position,
                        labels.get(str(option), str(option)),
                        None if score is None else str(score),
                        _whole(score),
                    )
                )
        title = str(question.get("text") or key)
        svg = None
        if grade_rows:
            svg = grades_chart(f"chart-{key}", grade_rows, grade_labels, lang=lang, title=title)
        elif ranking:
            svg = ranking_chart(f"chart-{key}", ranking, lang=lang, title=title)
        questions.append(
            QuestionResult(
                key=key,
                title=title,
                method=str(entry.get("method") or question.get("method") or ""),
                participation=int(entry.get("participation") or 0),
                grade_labels=grade_labels,
                grade_rows=grade_rows,
                ranking=tuple(ranking),
                svg=svg,
            )
        )
    return tuple(questions)


async def result_view(
    session: AsyncSession, user: User | None, round_id: str, lang: str
) -> ResultView:
    from stemmen.ballots.service import get_round, ruleset_of
    from stemmen.results import service as results_service

    result = await results_service.read_result(session, user, round_id)
    round_ = await get_round(session, round_id)
    ruleset = await ruleset_of(session, round_.ruleset_hash)
    definition = await results_service.round_definition(session, round_, ruleset)
    return ResultView(
        round_id=round_id,
        title=round_.title,
        instrument=round_.instrument,
        published=result.published,
        valid=result.valid,
        ballots=result.ballots,
        merkle_root=result.merkle_root,
        result_hash=result.result_hash,
        areas=area_results(definition, result.results, lang) if ruleset.is_budget else (),
        questions=() if ruleset.is_budget else question_results(definition, result.results, lang),
    )
