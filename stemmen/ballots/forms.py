"""Ballot forms: what is on a ballot (its context) and what a voter submits. Pure data.

The context is built by the service from the round: for a budget, the projects on the ballot of
one area and that area's budget; for a preferendum or poll, the questions with their options
(the scale comes from the rule set). The submitted forms mirror the JSON a client sends:

=============================  ==================================================
rule-set ``ballot.format``     JSON of one answer
=============================  ==================================================
approval, knapsack, k-approval ``{"approvals": ["p1", "p4"]}``
cumulative                     ``{"points": {"p1": 3, "p4": 2}}``
ranking                        ``{"ranking": [["a"], ["b", "c"], ["d"]]}`` (tiers; a
                               bare ``"a"`` is a tier of one)
grades                         ``{"grades": {"a": "eens", "b": 0, "c": null}}`` (a label
                               or its position on the scale, 0 = worst; null = blank)
scores                         ``{"scores": {"a": 5, "b": null}}``
any (when abstaining allowed)  ``{"abstain": true}``
=============================  ==================================================

A preferendum ballot answers several questions: ``{"questions": {"q1": {...}, "q2": {...}}}``,
each answer in the form above (or ``{"abstain": true}`` for the whole ballot).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias


@dataclass(frozen=True)
class BallotProject:
    """A project on a budget ballot, with its final cost in cents."""

    id: str
    title: str
    cost_cents: int
    area: str
    category: str | None = None


@dataclass(frozen=True)
class BudgetBallotContext:
    """The ballot of one area of a budget round."""

    area: str
    area_name: str
    budget_cents: int
    projects: tuple[BallotProject, ...]

    def project(self, project_id: str) -> BallotProject | None:
        for project in self.projects:
            if project.id == project_id:
                return project
        return None


@dataclass(frozen=True)
class QuestionOption:
    id: str
    label: str


@dataclass(frozen=True)
class Question:
    id: str
    title: str
    options: tuple[QuestionOption, ...]
    method: str | None = None

    def option(self, option_id: str) -> QuestionOption | None:
        for option in self.options:
            if option.id == option_id:
                return option
        return None


@dataclass(frozen=True)
class QuestionsBallotContext:
    """The questions of a preferendum or poll round, in the order they are asked."""

    questions: tuple[Question, ...]

    def question(self, question_id: str) -> Question | None:
        for question in self.questions:
            if question.id == question_id:
                return question
        return None


BallotContext: TypeAlias = BudgetBallotContext | QuestionsBallotContext


# --------------------------------------------------------------------------- submitted answers


@dataclass(frozen=True)
class Abstain:
    """A blank vote: the voter takes part but chooses nothing."""


@dataclass(frozen=True)
class Selection:
    """approval, knapsack and k-approval: the ticked projects or options."""

    options: tuple[str, ...]


@dataclass(frozen=True)
class Points:
    """cumulative: points per project or option."""

    points: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Ranking:
    """ranking: tiers from most to least preferred; options in one tier share a place."""

    tiers: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Grades:
    """grades: per option a label, its position on the scale (0 = worst), or None for blank."""

    grades: tuple[tuple[str, int | str | None], ...]


@dataclass(frozen=True)
class Scores:
    """scores: per option a number on the scale, or None for blank."""

    scores: tuple[tuple[str, int | None], ...]


Answer: TypeAlias = Abstain | Selection | Points | Ranking | Grades | Scores


@dataclass(frozen=True)
class PreferendumBallot:
    """One answer per question; a question left out is abstained on."""

    answers: tuple[tuple[str, Answer], ...]


SubmittedBallot: TypeAlias = Answer | PreferendumBallot
