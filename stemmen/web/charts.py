"""Results as pictures: server-rendered SVG that prints, works without JavaScript and explains
itself to screen readers.

Pure functions from plain data to an SVG string. Every text that reaches the SVG is escaped
here, so a project titled ``<script>`` is drawn as those characters. Each chart carries a
``<title>`` and a ``<desc>`` (pages put a table with the same numbers beside it), and no
information is carried by colour alone: funded projects are hatched *and* labelled in words,
grades are labelled in a legend in scale order and each segment has its own title.

Geometry uses integer arithmetic; nothing here decides an outcome, it only draws one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from stemmen.ballots.money import format_eur
from stemmen.web.i18n import translate

WIDTH = 420
MARGIN = 8
BAR_HEIGHT = 18
ROW_HEIGHT = 46
# Bars with a value line under them: at phone width the whole chart is readable.
VALUED_ROW_HEIGHT = 66
INK = "#1b1b1b"
BRAND = "#0b4f8a"
LIGHT = "#dfe8f1"

# Diverging scale from worst to best grade; neighbours differ in lightness as well as hue, and
# the legend and segment titles name every grade, so colour is never the only cue.
GRADE_FILLS = ("#8c1d18", "#d46a4c", "#c9c9c9", "#5d9bd1", "#0b4f8a", "#062a4a", "#3a5a1a")


@dataclass(frozen=True)
class ProjectBar:
    """One project of a budget area's result."""

    label: str
    support: int
    cost_cents: int
    funded: bool


@dataclass(frozen=True)
class GradeRow:
    """How often one option got each grade (in scale order, worst first), and blanks."""

    label: str
    counts: tuple[int, ...]
    blank: int = 0


@dataclass(frozen=True)
class RankRow:
    """One option's place in a ranking; ``value`` (whole number) sizes its bar when given."""

    position: int
    label: str
    score: str | None
    value: int | None = None


def relative_luminance(colour: str) -> float:
    """WCAG 2.1 relative luminance of a ``#rrggbb`` colour."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    """WCAG 2.1 contrast ratio of two colours (1 to 21)."""
    light, dark = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def ink_on(fill: str) -> str:
    """White or near-black text, whichever reads better on ``fill``."""
    return "#ffffff" if contrast("#ffffff", fill) > contrast(INK, fill) else INK


def _text(value: object) -> str:
    return escape(str(value), quote=True)


def _header(chart_id: str, height: int, title: str, description: str) -> list[str]:
    cid = _text(chart_id)
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img" '
        f'aria-labelledby="{cid}-title {cid}-desc" class="chart" '
        f'font-family="system-ui, sans-serif" font-size="15">',
        f'<title id="{cid}-title">{_text(title)}</title>',
        f'<desc id="{cid}-desc">{_text(description)}</desc>',
        "<defs>",
        f'<pattern id="{cid}-hatch" patternUnits="userSpaceOnUse" width="8" height="8" '
        'patternTransform="rotate(45)">'
        f'<rect width="8" height="8" fill="{BRAND}"/>'
        '<line x1="0" y1="0" x2="0" y2="8" stroke="#ffffff" stroke-width="3"/></pattern>',
        "</defs>",
    ]


def _scaled(value: int, largest: int, room: int) -> int:
    if largest <= 0 or value <= 0:
        return 0
    return max(2, room * value // largest)


def budget_chart(
    chart_id: str,
    projects: Sequence[ProjectBar],
    budget_cents: int,
    *,
    lang: str,
    title: str,
) -> str:
    """Support per project as horizontal bars (funded: hatched and marked in words), then the
    funded projects' costs stacked against a line at the budget."""
    t = translate
    room = WIDTH - 2 * MARGIN
    most = max((p.support for p in projects), default=0)
    funded = [p for p in projects if p.funded]
    spent = sum(p.cost_cents for p in funded)
    description = t(
        "chart.budget.desc",
        lang,
        projects=len(projects),
        funded=len(funded),
        spent=format_eur(spent, lang),
        budget=format_eur(budget_cents, lang),
    )
    body_height = MARGIN + 20 + VALUED_ROW_HEIGHT * len(projects)
    height = body_height + 110
    parts = _header(chart_id, height, title, description)
    parts.append(
        f'<text x="{MARGIN}" y="{MARGIN + 12}" font-weight="700" fill="{INK}">'
        f"{_text(t('chart.support_heading', lang))}</text>"
    )
    y = MARGIN + 24
    for project in projects:
        width = _scaled(project.support, most, room)
        mark = t("chart.funded", lang) if project.funded else t("chart.not_funded", lang)
        votes = (
            t("chart.vote_one", lang)
            if project.support == 1
            else t("chart.votes", lang, count=project.support)
        )
        fill = f"url(#{_text(chart_id)}-hatch)" if project.funded else LIGHT
        parts.append(
            f"<g><title>{_text(f'{project.label}: {votes}, {mark}')}</title>"
            f'<text x="{MARGIN}" y="{y + 12}" fill="{INK}">{_text(project.label)}</text>'
            f'<rect x="{MARGIN}" y="{y + 18}" width="{width}" height="{BAR_HEIGHT}" '
            f'fill="{fill}" stroke="{INK}" stroke-width="1"/>'
            f'<text x="{MARGIN}" y="{y + 54}" fill="{INK}">'
            f"{_text(votes)} · "
            f'<tspan font-weight="{700 if project.funded else 400}">'
            f"{_text(('✓ ' if project.funded else '') + mark)}</tspan></text></g>"
        )
        y += VALUED_ROW_HEIGHT
    # The budget panel: what the funded projects cost together, against the budget line.
    y += 14
    parts.append(
        f'<text x="{MARGIN}" y="{y}" font-weight="700" fill="{INK}">'
        f"{_text(t('chart.budget_heading', lang))}</text>"
    )
    y += 10
    scale_top = max(budget_cents, spent, 1)
    full = WIDTH - 2 * MARGIN
    x = MARGIN
    for project in funded:
        width = _scaled(project.cost_cents, scale_top, full)
        parts.append(
            f'<rect x="{x}" y="{y}" width="{width}" height="{BAR_HEIGHT + 6}" '
            f'fill="url(#{_text(chart_id)}-hatch)" stroke="#ffffff" stroke-width="1">'
            f"<title>{_text(project.label)}: {_text(format_eur(project.cost_cents, lang))}</title>"
            "</rect>"
        )
        x += width
    line_x = MARGIN + _scaled(budget_cents, scale_top, full)
    parts.append(
        f'<rect x="{MARGIN}" y="{y}" width="{full}" height="{BAR_HEIGHT + 6}" fill="none" '
        f'stroke="{INK}" stroke-width="1"/>'
        f'<line x1="{line_x}" y1="{y - 6}" x2="{line_x}" y2="{y + BAR_HEIGHT + 14}" '
        f'stroke="{INK}" stroke-width="3" stroke-dasharray="6 3"/>'
    )
    budget_label = t("chart.budget_line", lang, budget=format_eur(budget_cents, lang))
    spent_label = t("chart.spent", lang, spent=format_eur(spent, lang))
    anchor = "end" if line_x > WIDTH // 2 else "start"
    parts.append(
        f'<text x="{line_x}" y="{y + BAR_HEIGHT + 32}" text-anchor="{anchor}" fill="{INK}">'
        f"{_text(budget_label)}</text>"
        f'<text x="{MARGIN}" y="{y + BAR_HEIGHT + 52}" fill="{INK}">{_text(spent_label)}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def grades_chart(
    chart_id: str,
    rows: Sequence[GradeRow],
    grade_labels: Sequence[str],
    *,
    lang: str,
    title: str,
) -> str:
    """One stacked bar per option: how many gave each grade, worst on the left, blanks last."""
    t = translate
    names = [*grade_labels, t("chart.blank", lang)]
    fills = [*GRADE_FILLS[: len(grade_labels)], "#ffffff"]
    if len(grade_labels) > len(GRADE_FILLS):
        fills = ["#9a9a9a" if i % 2 else "#3a3a3a" for i in range(len(grade_labels))] + ["#ffffff"]
    full = WIDTH - 2 * MARGIN
    legend_rows = (len(names) + 1) // 2
    height = MARGIN + ROW_HEIGHT * len(rows) + 26 * legend_rows + 20
    description = t("chart.grades.desc", lang, options=len(rows), grades=", ".join(grade_labels))
    parts = _header(chart_id, height, title, description)
    y = MARGIN
    for row in rows:
        counts = [*row.counts, row.blank]
        total = sum(counts)
        parts.append(f'<text x="{MARGIN}" y="{y + 12}" fill="{INK}">{_text(row.label)}</text>')
        x = MARGIN
        for index, count in enumerate(counts):
            if count <= 0 or total <= 0:
                continue
            width = full * count // total
            parts.append(
                f'<rect x="{x}" y="{y + 18}" width="{width}" height="{BAR_HEIGHT}" '
                f'fill="{fills[index]}" stroke="{INK}" stroke-width="1">'
                f"<title>{_text(f'{row.label}: {names[index]} {count}')}</title></rect>"
            )
            if width >= 28:
                parts.append(
                    f'<text x="{x + width // 2}" y="{y + 32}" text-anchor="middle" '
                    f'fill="{ink_on(fills[index])}">{count}</text>'
                )
            x += width
        y += ROW_HEIGHT
    y += 6
    for index, name in enumerate(names):
        column, line = index % 2, index // 2
        lx = MARGIN + column * (full // 2)
        ly = y + line * 26
        parts.append(
            f'<rect x="{lx}" y="{ly}" width="16" height="16" fill="{fills[index]}" '
            f'stroke="{INK}" stroke-width="1"/>'
            f'<text x="{lx + 22}" y="{ly + 13}" fill="{INK}">{index + 1}. {_text(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def ranking_chart(
    chart_id: str,
    rows: Sequence[RankRow],
    *,
    lang: str,
    title: str,
) -> str:
    """The ranking, first place on top, each with its score; bars when scores are numbers."""
    t = translate
    room = WIDTH - 2 * MARGIN
    most = max((row.value or 0 for row in rows), default=0)
    # Without numeric scores (grades, for instance) there are no bars: the score sits closer.
    row_height, score_y = (VALUED_ROW_HEIGHT, 54) if most > 0 else (ROW_HEIGHT, 34)
    height = MARGIN + row_height * len(rows) + 8
    first = [row.label for row in rows if row.position == 1]
    description = t("chart.ranking.desc", lang, options=len(rows), first=", ".join(first) or "-")
    parts = _header(chart_id, height, title, description)
    y = MARGIN
    for row in rows:
        label = f"{row.position}. {row.label}"
        parts.append(
            f'<text x="{MARGIN}" y="{y + 12}" fill="{INK}" '
            f'font-weight="{700 if row.position == 1 else 400}">{_text(label)}</text>'
        )
        width = _scaled(row.value or 0, most, room) if row.value is not None else 0
        fill = f"url(#{_text(chart_id)}-hatch)" if row.position == 1 else LIGHT
        if width:
            parts.append(
                f'<rect x="{MARGIN}" y="{y + 18}" width="{width}" height="{BAR_HEIGHT}" '
                f'fill="{fill}" stroke="{INK}" stroke-width="1"/>'
            )
        if row.score is not None:
            score = t("chart.score", lang, score=row.score)
            parts.append(f'<text x="{MARGIN}" y="{y + score_y}" fill="{INK}">{_text(score)}</text>')
        y += row_height
    parts.append("</svg>")
    return "".join(parts)
