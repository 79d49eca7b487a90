"""Results as pictures: well-formed SVG, escaped text, text alternatives, and nothing said by
colour alone. Pure functions, so no database here."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from stemmen.web.charts import (
    GradeRow,
    ProjectBar,
    RankRow,
    budget_chart,
    grades_chart,
    ranking_chart,
)

SVG = "{http://www.w3.org/2000/svg}"
PROJECTS = [
    ProjectBar("Speeltuin", 40, 2_000_000, True),
    ProjectBar("<script>alert(1)</script>", 25, 1_200_000, False),
    ProjectBar("Bankjes & bomen", 10, 500_000, True),
]


def parsed(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_budget_chart_is_well_formed_and_explains_itself() -> None:
    root = parsed(budget_chart("c1", PROJECTS, 5_000_000, lang="nl", title="Oost"))
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "c1-title c1-desc"
    assert root.findtext(f"{SVG}title") == "Oost"
    description = root.findtext(f"{SVG}desc") or ""
    assert "3 projecten; 2 krijgen geld, samen € 25.000 van het budget van € 50.000" in description


def test_budget_chart_escapes_every_label() -> None:
    svg = budget_chart("c1", PROJECTS, 5_000_000, lang="en", title="<b>Oost</b>")
    assert "<script>" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    assert "Bankjes &amp; bomen" in svg
    assert "<b>" not in svg


def test_funded_projects_are_marked_by_pattern_and_by_words() -> None:
    svg = budget_chart("c1", PROJECTS, 5_000_000, lang="nl", title="Oost")
    assert svg.count("✓ krijgt geld") == 2
    assert svg.count(">geen geld<") == 1
    root = parsed(svg)
    hatched = [r for r in root.iter(f"{SVG}rect") if r.get("fill") == "url(#c1-hatch)"]
    # two support bars and two slices of the budget bar
    assert len(hatched) == 4


def test_budget_line_is_drawn_and_labelled() -> None:
    svg = budget_chart("c1", PROJECTS, 5_000_000, lang="en", title="Oost")
    assert "budget EUR 50,000" in svg
    assert "funded: EUR 25,000" in svg
    assert 'stroke-dasharray="6 3"' in svg


def test_support_bars_grow_with_support() -> None:
    root = parsed(budget_chart("c1", PROJECTS, 5_000_000, lang="nl", title="Oost"))
    widths = [int(r.get("width", "0")) for r in root.iter(f"{SVG}rect") if r.get("height") == "18"]
    assert widths == sorted(widths, reverse=True)


def test_an_empty_area_still_draws() -> None:
    parsed(budget_chart("c1", [], 5_000_000, lang="nl", title="Leeg"))


def test_grades_chart_stacks_each_grade_with_a_legend() -> None:
    rows = [GradeRow("Zoals nu", (1, 0, 2, 0, 1), blank=1), GradeRow("<i>", (0, 0, 0, 0, 5))]
    labels = ["zeer oneens", "oneens", "neutraal", "eens", "zeer eens"]
    svg = grades_chart("q1", rows, labels, lang="nl", title="Autoluw")
    root = parsed(svg)
    segments = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert len(segments) == 5  # 1+2+1+blank for the first option, one for the second
    assert "1. zeer oneens" in svg
    assert "6. geen mening" in svg
    assert "&lt;i&gt;" in svg
    assert "Zoals nu: neutraal 2" in svg


def test_ranking_chart_lists_places_and_scores() -> None:
    rows = [
        RankRow(1, "Waalkade", "12", 12),
        RankRow(2, "Markt", "7", 7),
        RankRow(2, "Plein", "7", 7),
    ]
    svg = ranking_chart("q2", rows, lang="en", title="Groen")
    parsed(svg)
    assert "1. Waalkade" in svg
    assert "2. Plein" in svg
    assert "score 12" in svg
    assert "first: Waalkade" in svg


def test_ranking_chart_without_numeric_scores_draws_no_bars() -> None:
    svg = ranking_chart(
        "q3", [RankRow(1, "A", "eens"), RankRow(2, "B", None)], lang="nl", title="Q"
    )
    root = parsed(svg)
    assert [r for r in root.iter(f"{SVG}rect") if r.get("height") == "18"] == []
    assert "score eens" in svg


def test_counts_on_grade_segments_meet_wcag_aa_contrast() -> None:
    from stemmen.web.charts import GRADE_FILLS, contrast, ink_on

    for fill in (*GRADE_FILLS, "#9a9a9a", "#3a3a3a", "#ffffff"):
        assert contrast(ink_on(fill), fill) >= 4.5, fill


def test_contrast_is_the_wcag_ratio() -> None:
    from stemmen.web.charts import contrast

    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert contrast("#777777", "#777777") == 1.0
