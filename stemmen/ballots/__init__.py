"""Ballots: forms and validation against a rule set (pure).

Only the pure modules are re-exported here: the casting service and its routes live in their
own modules and are imported by the app, never by ``import stemmen.ballots``.
"""

from stemmen.ballots.forms import (
    Abstain,
    Answer,
    BallotContext,
    BallotProject,
    BudgetBallotContext,
    Grades,
    Points,
    PreferendumBallot,
    Question,
    QuestionOption,
    QuestionsBallotContext,
    Ranking,
    Scores,
    Selection,
    SubmittedBallot,
)
from stemmen.ballots.money import format_eur
from stemmen.ballots.validation import (
    BallotInvalid,
    ValidAnswer,
    ValidBallot,
    parse_answer,
    parse_ballot,
    validate_ballot,
)

__all__ = [
    "Abstain",
    "Answer",
    "BallotContext",
    "BallotInvalid",
    "BallotProject",
    "BudgetBallotContext",
    "Grades",
    "Points",
    "PreferendumBallot",
    "Question",
    "QuestionOption",
    "QuestionsBallotContext",
    "Ranking",
    "Scores",
    "Selection",
    "SubmittedBallot",
    "ValidAnswer",
    "ValidBallot",
    "format_eur",
    "parse_answer",
    "parse_ballot",
    "validate_ballot",
]
