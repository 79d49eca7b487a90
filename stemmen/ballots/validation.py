"""Validate a submitted ballot against the rule set and what is on the ballot. Pure.

``validate_ballot(ruleset, context, submitted)`` returns a ``ValidBallot`` in a normal form (the
order the voter clicked in never matters) or raises ``BallotInvalid`` with a stable ``code``,
``details`` for clients, and a message in English and Dutch that tells the voter what to change.
Checks run in a fixed order (form, known options, duplicates, values, blanks, counts, points,
completeness, budget) so that the same ballot always gets the same refusal.

What counts as "chosen" on each format, for min_selections/max_selections and the budget: a
ticked project or option; one with more than zero points; a ranked one; one with a grade or
score (not blank). A ballot that chooses nothing is a blank vote: accepted only where the rule
set allows abstaining.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from stemmen.ballots.forms import (
    Abstain,
    Answer,
    BallotContext,
    BudgetBallotContext,
    Grades,
    Points,
    PreferendumBallot,
    Question,
    QuestionsBallotContext,
    Ranking,
    Scores,
    Selection,
    SubmittedBallot,
)
from stemmen.ballots.money import format_eur
from stemmen.errors import InvalidInput
from stemmen.rules.document import SELECTION_FORMATS, RuleSet

# Stable refusal codes: clients and translations key on them.
MALFORMED: Final = "ballot_malformed"
WRONG_FORMAT: Final = "ballot_wrong_format"
UNKNOWN_OPTION: Final = "ballot_unknown_option"
OTHER_AREA: Final = "ballot_other_area"
DUPLICATE_OPTION: Final = "ballot_duplicate_option"
TOO_FEW: Final = "ballot_too_few_selections"
TOO_MANY: Final = "ballot_too_many_selections"
OVER_BUDGET: Final = "ballot_over_budget"
NEGATIVE_POINTS: Final = "ballot_negative_points"
TOO_MANY_POINTS: Final = "ballot_too_many_points"
TOO_MANY_POINTS_FOR_OPTION: Final = "ballot_too_many_points_for_option"
GRADE_NOT_ON_SCALE: Final = "ballot_grade_not_on_scale"
SCORE_NOT_ON_SCALE: Final = "ballot_score_not_on_scale"
BLANK_NOT_ALLOWED: Final = "ballot_blank_not_allowed"
ABSTAIN_NOT_ALLOWED: Final = "ballot_abstain_not_allowed"
TIE_NOT_ALLOWED: Final = "ballot_tie_not_allowed"
RANKING_INCOMPLETE: Final = "ballot_ranking_incomplete"
UNKNOWN_QUESTION: Final = "ballot_unknown_question"
QUESTION_UNANSWERED: Final = "ballot_question_unanswered"

REFUSAL_CODES: Final = (
    MALFORMED,
    WRONG_FORMAT,
    UNKNOWN_OPTION,
    OTHER_AREA,
    DUPLICATE_OPTION,
    TOO_FEW,
    TOO_MANY,
    OVER_BUDGET,
    NEGATIVE_POINTS,
    TOO_MANY_POINTS,
    TOO_MANY_POINTS_FOR_OPTION,
    GRADE_NOT_ON_SCALE,
    SCORE_NOT_ON_SCALE,
    BLANK_NOT_ALLOWED,
    ABSTAIN_NOT_ALLOWED,
    TIE_NOT_ALLOWED,
    RANKING_INCOMPLETE,
    UNKNOWN_QUESTION,
    QUESTION_UNANSWERED,
)

# The JSON key of an answer of each format (see stemmen.ballots.forms).
ANSWER_KEYS: Final[Mapping[str, str]] = {
    "approval": "approvals",
    "knapsack": "approvals",
    "k-approval": "approvals",
    "cumulative": "points",
    "ranking": "ranking",
    "grades": "grades",
    "scores": "scores",
}
_FORM_OF_FORMAT: Final[Mapping[str, type]] = {
    "approval": Selection,
    "knapsack": Selection,
    "k-approval": Selection,
    "cumulative": Points,
    "ranking": Ranking,
    "grades": Grades,
    "scores": Scores,
}


class BallotInvalid(InvalidInput):
    """A ballot that cannot be counted, with what to change, in English and Dutch."""

    code = "ballot_invalid"

    def __init__(
        self, code: str, message_en: str, message_nl: str, details: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(message_en, code=code, details=details, message_nl=message_nl)

    @property
    def message_en(self) -> str:
        return self.message


# --------------------------------------------------------------------------- valid ballots


@dataclass(frozen=True)
class ValidAnswer:
    """One checked answer, in normal form: options in ballot order, blanks left out.

    ``question`` is None on a budget ballot. Only the field of the answer's format is filled.
    Grades are positions on the scale (0 = worst label).
    """

    question: str | None
    format: str
    abstained: bool
    approvals: tuple[str, ...] = ()
    points: tuple[tuple[str, int], ...] = ()
    ranking: tuple[tuple[str, ...], ...] = ()
    grades: tuple[tuple[str, int], ...] = ()
    scores: tuple[tuple[str, int], ...] = ()

    @property
    def chosen(self) -> tuple[str, ...]:
        """The projects or options this answer chooses, in ballot order where it has one."""
        if self.format in SELECTION_FORMATS:
            return self.approvals
        if self.format == "cumulative":
            return tuple(option for option, _ in self.points)
        if self.format == "ranking":
            return tuple(option for tier in self.ranking for option in tier)
        if self.format == "grades":
            return tuple(option for option, _ in self.grades)
        return tuple(option for option, _ in self.scores)

    def as_json(self) -> dict[str, Any]:
        """The answer as the JSON it can be submitted as again (and stored as)."""
        if self.abstained:
            return {"abstain": True}
        key = ANSWER_KEYS[self.format]
        if self.format in SELECTION_FORMATS:
            return {key: list(self.approvals)}
        if self.format == "cumulative":
            return {key: dict(self.points)}
        if self.format == "ranking":
            return {key: [list(tier) for tier in self.ranking]}
        if self.format == "grades":
            return {key: dict(self.grades)}
        return {key: dict(self.scores)}


@dataclass(frozen=True)
class ValidBallot:
    """A ballot that may be counted.

    A budget ballot has one answer (``question`` None) and ``cost_cents``, the total cost of the
    chosen projects; a preferendum ballot has one answer per question, in the order asked.
    ``abstained`` is true when every answer is blank.
    """

    format: str
    abstained: bool
    answers: tuple[ValidAnswer, ...]
    area: str | None = None
    cost_cents: int | None = None

    @property
    def answer(self) -> ValidAnswer:
        """The only answer of a budget ballot (or of a one-question poll)."""
        if len(self.answers) != 1:
            raise ValueError("this ballot answers several questions; use .answers")
        return self.answers[0]

    def as_json(self) -> dict[str, Any]:
        if self.answers and self.answers[0].question is not None:
            if self.abstained:
                return {"abstain": True}
            return {"questions": {a.question: a.as_json() for a in self.answers if a.question}}
        return self.answer.as_json()


# --------------------------------------------------------------------------- parsing JSON


def _malformed(en: str, nl: str, **details: Any) -> BallotInvalid:
    return BallotInvalid(
        MALFORMED,
        f"the ballot could not be read: {en}",
        f"het stembiljet kon niet worden gelezen: {nl}",
        details,
    )


def _is_whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class _Where:
    """Which part of a ballot a reading problem is in, in both languages."""

    en: str
    nl: str
    question: str | None = None

    @classmethod
    def of(cls, question: str | None) -> _Where:
        if question is None:
            return cls("the ballot", "het stembiljet")
        return cls(
            f'the answer to question "{question}"', f'het antwoord op vraag "{question}"', question
        )

    def details(self, **details: Any) -> dict[str, Any]:
        return details if self.question is None else {"question": self.question, **details}


def _option_id(value: object, where: _Where) -> str:
    if not isinstance(value, str) or not value:
        raise _malformed(
            f"{where.en} must name projects or options by their id, as text; found {value!r}",
            f"{where.nl} moet projecten of opties noemen met hun id, als tekst; gevonden {value!r}",
            **where.details(),
        )
    return value


def _option_map(value: object, where: _Where) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _malformed(
            f"{where.en} must map each option id to a value",
            f"{where.nl} moet elke optie-id aan een waarde koppelen",
            **where.details(),
        )
    for key in value:
        _option_id(key, where)
    return value


def parse_answer(
    ballot_format: str, raw: Any, question: str | None = None, *, projects: bool = False
) -> Answer:
    """One answer from its JSON (see stemmen.ballots.forms); refuses what cannot be read.

    ``question`` names the question answered, if any; ``projects`` says the answer is about a
    budget's projects (both only for the wording of refusals).
    """
    where = _Where.of(question)
    if not isinstance(raw, Mapping):
        raise _malformed(
            f"{where.en} must be a JSON object",
            f"{where.nl} moet een JSON-object zijn",
            **where.details(),
        )
    if raw.get("abstain") is True and len(raw) == 1:
        return Abstain()
    expected = ANSWER_KEYS[ballot_format]
    for key in sorted(raw):
        if key == expected:
            continue
        if key in ANSWER_KEYS.values():
            raise _wrong_format(ballot_format, key, None, projects=projects)
        raise _malformed(
            f'{where.en} has an unexpected field "{key}"; expected "{expected}"',
            f'{where.nl} heeft een onverwacht veld "{key}"; verwacht "{expected}"',
            **where.details(field=key),
        )
    if expected not in raw:
        raise _malformed(
            f'{where.en} has no "{expected}"',
            f'{where.nl} heeft geen "{expected}"',
            **where.details(field=expected),
        )
    value = raw[expected]
    if expected == "approvals":
        if not isinstance(value, list):
            raise _malformed(
                f'"approvals" in {where.en} must be a list of ids',
                f'"approvals" in {where.nl} moet een lijst met id\'s zijn',
                **where.details(field=expected),
            )
        return Selection(tuple(_option_id(item, where) for item in value))
    if expected == "ranking":
        return Ranking(_parse_tiers(value, where))
    mapping = _option_map(value, where)
    if expected == "grades":
        grades: list[tuple[str, int | str | None]] = []
        for option, grade in mapping.items():
            if grade is not None and not _is_whole(grade) and not isinstance(grade, str):
                raise _malformed(
                    f"the grade of {option} must be a label, a position or null; found {grade!r}",
                    f"het oordeel over {option} moet een label, een positie of null zijn; "
                    f"gevonden {grade!r}",
                    **where.details(option=option),
                )
            grades.append((option, grade))
        return Grades(tuple(grades))
    numbers: list[tuple[str, int | None]] = []
    for option, number in mapping.items():
        if (number is None and expected == "scores") or _is_whole(number):
            numbers.append((option, number))
            continue
        raise _malformed(
            f"the {expected} of {option} must be a whole number; found {number!r}",
            f"de {'punten' if expected == 'points' else 'score'} van {option} moet een geheel "
            f"getal zijn; gevonden {number!r}",
            **where.details(option=option),
        )
    if expected == "points":
        return Points(tuple((option, int(number or 0)) for option, number in numbers))
    return Scores(tuple(numbers))


def _parse_tiers(value: object, where: _Where) -> tuple[tuple[str, ...], ...]:
    if not isinstance(value, list):
        raise _malformed(
            f'"ranking" in {where.en} must be a list of places, best first',
            f'"ranking" in {where.nl} moet een lijst met plaatsen zijn, beste eerst',
            **where.details(field="ranking"),
        )
    tiers: list[tuple[str, ...]] = []
    for place in value:
        if isinstance(place, str):
            tiers.append((_option_id(place, where),))
        elif isinstance(place, list) and place:
            tiers.append(tuple(_option_id(item, where) for item in place))
        else:
            raise _malformed(
                f"each place in the ranking of {where.en} must be an id or a non-empty list of ids",
                f"elke plaats in de rangschikking van {where.nl} moet een id of een niet-lege "
                "lijst met id's zijn",
                **where.details(field="ranking"),
            )
    return tuple(tiers)


def parse_ballot(ruleset: RuleSet, raw: Any) -> SubmittedBallot:
    """A submitted ballot from the JSON a client sent, in the rule set's format."""
    ballot_format = ruleset.ballot.format
    if ruleset.is_questions and isinstance(raw, Mapping) and "questions" in raw:
        extra = sorted(set(raw) - {"questions"})
        if extra:
            raise _malformed(
                f'the ballot has an unexpected field "{extra[0]}" beside "questions"',
                f'het stembiljet heeft een onverwacht veld "{extra[0]}" naast "questions"',
                field=extra[0],
            )
        questions = raw["questions"]
        if not isinstance(questions, Mapping):
            raise _malformed(
                '"questions" must map each question id to its answer',
                '"questions" moet elke vraag-id aan het antwoord koppelen',
            )
        return PreferendumBallot(
            tuple(
                (str(question), parse_answer(ballot_format, answer, str(question)))
                for question, answer in questions.items()
            )
        )
    return parse_answer(ballot_format, raw, projects=ruleset.is_budget)


# --------------------------------------------------------------------------- checking


@dataclass(frozen=True)
class _Item:
    id: str
    name: str
    cost_cents: int | None
    area: str | None


class _Frame:
    """What one answer is checked against: its options and how to speak about them."""

    def __init__(
        self,
        items: Sequence[_Item],
        *,
        budget: BudgetBallotContext | None = None,
        question: Question | None = None,
    ) -> None:
        self.items = tuple(items)
        self.position = {item.id: index for index, item in enumerate(self.items)}
        self.budget = budget
        self.question = question
        # The voter's own projects: a context may carry other areas' projects to refuse by name.
        self.home_items = tuple(
            item for item in self.items if budget is None or item.area == budget.area
        )
        self.singular_en, self.plural_en = (
            ("project", "projects") if budget else ("option", "options")
        )
        self.singular_nl, self.plural_nl = (
            ("project", "projecten") if budget else ("optie", "opties")
        )
        # Dutch "elk project" (het-woord) but "elke optie" (de-woord).
        self.each_nl = "elk project" if budget else "elke optie"
        if question is not None:
            self.prefix_en = f'question "{question.title}": '
            self.prefix_nl = f'vraag "{question.title}": '
        else:
            self.prefix_en = self.prefix_nl = ""

    def refuse(self, code: str, en: str, nl: str, **details: Any) -> BallotInvalid:
        if self.question is not None:
            details = {"question": self.question.id, **details}
        return BallotInvalid(code, self.prefix_en + en, self.prefix_nl + nl, details)

    def name(self, option: str) -> str:
        index = self.position.get(option)
        return f'"{self.items[index].name}"' if index is not None else f'"{option}"'

    def count_en(self, count: int) -> str:
        return f"{count} {self.singular_en if count == 1 else self.plural_en}"

    def count_nl(self, count: int) -> str:
        return f"{count} {self.singular_nl if count == 1 else self.plural_nl}"

    def in_order(self, options: Sequence[str]) -> tuple[str, ...]:
        return tuple(sorted(options, key=self.position.__getitem__))


_ASK_EN: Final[Mapping[str, str]] = {
    "approval": "tick the {plural} you support",
    "knapsack": "tick the {plural} you want, within the budget",
    "k-approval": "tick the {plural} you support",
    "cumulative": "give points to {plural}",
    "ranking": "put {plural} in order of preference",
    "grades": "give {plural} a grade",
    "scores": "give {plural} a score",
}
_ASK_NL: Final[Mapping[str, str]] = {
    "approval": "de {plural} aan te kruisen die u steunt",
    "knapsack": "de {plural} aan te kruisen die u wilt, binnen het budget",
    "k-approval": "de {plural} aan te kruisen die u steunt",
    "cumulative": "punten te geven aan {plural}",
    "ranking": "{plural} op volgorde van voorkeur te zetten",
    "grades": "{plural} een oordeel te geven",
    "scores": "{plural} een score te geven",
}


def _wrong_format(
    ballot_format: str, given: str, frame: _Frame | None, *, projects: bool = False
) -> BallotInvalid:
    plural_en = frame.plural_en if frame else ("projects" if projects else "options")
    plural_nl = frame.plural_nl if frame else ("projecten" if projects else "opties")
    en = f"this ballot asks you to {_ASK_EN[ballot_format].format(plural=plural_en)}"
    nl = f"dit stembiljet vraagt u {_ASK_NL[ballot_format].format(plural=plural_nl)}"
    details = {"format": ballot_format, "given": given}
    if frame is None:
        return BallotInvalid(WRONG_FORMAT, en, nl, details)
    return frame.refuse(WRONG_FORMAT, en, nl, **details)


def _check_known(frame: _Frame, options: Sequence[str]) -> None:
    seen: set[str] = set()
    for option in options:
        if option not in frame.position:
            if frame.budget is not None:
                where_en = f"the ballot of {frame.budget.area_name}"
                where_nl = f"het stembiljet van {frame.budget.area_name}"
                raise frame.refuse(
                    UNKNOWN_OPTION,
                    f'there is no project "{option}" on {where_en}; choose from the projects shown',
                    f'er staat geen project "{option}" op {where_nl}; kies uit de getoonde '
                    "projecten",
                    option=option,
                )
            raise frame.refuse(
                UNKNOWN_OPTION,
                f'there is no option "{option}"; choose from the options shown',
                f'er is geen optie "{option}"; kies uit de getoonde opties',
                option=option,
            )
        item = frame.items[frame.position[option]]
        if frame.budget is not None and item.area != frame.budget.area:
            home = frame.budget.area_name
            raise frame.refuse(
                OTHER_AREA,
                f'"{item.name}" is on the ballot of {item.area}, not of {home}; vote only for '
                f"projects of {home}",
                f'"{item.name}" staat op het stembiljet van {item.area}, niet van {home}; stem '
                f"alleen op projecten van {home}",
                option=option,
                area=item.area,
            )
        if option in seen:
            raise frame.refuse(
                DUPLICATE_OPTION,
                f"{frame.name(option)} appears more than once on your ballot; choose each "
                f"{frame.singular_en} once",
                f"{frame.name(option)} staat meer dan eens op uw stembiljet; kies "
                f"{frame.each_nl} één keer",
                option=option,
            )
        seen.add(option)


def _grade_position(frame: _Frame, labels: Sequence[str], option: str, grade: int | str) -> int:
    if isinstance(grade, str) and grade in labels:
        return labels.index(grade)
    if _is_whole(grade) and 0 <= int(grade) < len(labels):
        return int(grade)
    choices = ", ".join(labels)
    raise frame.refuse(
        GRADE_NOT_ON_SCALE,
        f"{grade!r} for {frame.name(option)} is not a grade on this scale; use one of: {choices} "
        f"(or its position, 0 to {len(labels) - 1})",
        f"{grade!r} voor {frame.name(option)} is geen oordeel op deze schaal; gebruik een van: "
        f"{choices} (of de positie, 0 tot en met {len(labels) - 1})",
        option=option,
        grade=grade,
    )


def _check_answer(ruleset: RuleSet, frame: _Frame, answer: Answer) -> ValidAnswer:
    rules = ruleset.ballot
    kind = rules.format
    question = frame.question.id if frame.question else None
    if isinstance(answer, Abstain):
        return _abstain(ruleset, frame)
    if not isinstance(answer, _FORM_OF_FORMAT[kind]):
        raise _wrong_format(kind, type(answer).__name__, frame)

    valid: ValidAnswer
    if isinstance(answer, Selection):
        _check_known(frame, answer.options)
        valid = ValidAnswer(question, kind, False, approvals=frame.in_order(answer.options))
    elif isinstance(answer, Points):
        _check_known(frame, [option for option, _ in answer.points])
        for option, points in answer.points:
            if points < 0:
                raise frame.refuse(
                    NEGATIVE_POINTS,
                    f"you gave {frame.name(option)} {points} points; points cannot be negative",
                    f"u gaf {frame.name(option)} {points} punten; punten kunnen niet negatief zijn",
                    option=option,
                    points=points,
                )
            cap = rules.max_points_per_option
            if cap is not None and points > cap:
                raise frame.refuse(
                    TOO_MANY_POINTS_FOR_OPTION,
                    f"you gave {frame.name(option)} {points} points; one {frame.singular_en} may "
                    f"get at most {cap}",
                    f"u gaf {frame.name(option)} {points} punten; één {frame.singular_nl} mag er "
                    f"hoogstens {cap} krijgen",
                    option=option,
                    points=points,
                    max_points_per_option=cap,
                )
        given = {option: points for option, points in answer.points if points > 0}
        valid = ValidAnswer(
            question,
            kind,
            False,
            points=tuple((option, given[option]) for option in frame.in_order(list(given))),
        )
    elif isinstance(answer, Ranking):
        _check_known(frame, [option for tier in answer.tiers for option in tier])
        if not rules.ranking_ties_allowed:
            for tier in answer.tiers:
                if len(tier) > 1:
                    names = " and ".join(frame.name(option) for option in tier)
                    names_nl = " en ".join(frame.name(option) for option in tier)
                    raise frame.refuse(
                        TIE_NOT_ALLOWED,
                        f"{names} share a place in your ranking; give each {frame.singular_en} "
                        "its own place",
                        f"{names_nl} delen een plaats in uw rangschikking; geef "
                        f"{frame.each_nl} een eigen plaats",
                        options=list(tier),
                    )
        valid = ValidAnswer(
            question, kind, False, ranking=tuple(frame.in_order(tier) for tier in answer.tiers)
        )
    elif isinstance(answer, Grades):
        _check_known(frame, [option for option, _ in answer.grades])
        scale = rules.scale
        assert scale is not None  # the rule set's cross-field checks require a scale for grades
        graded = {
            option: _grade_position(frame, scale.labels, option, grade)
            for option, grade in answer.grades
            if grade is not None
        }
        _check_blanks(frame, scale.blank_allowed, graded, "a grade", "een oordeel")
        valid = ValidAnswer(
            question,
            kind,
            False,
            grades=tuple((option, graded[option]) for option in frame.in_order(list(graded))),
        )
    else:
        _check_known(frame, [option for option, _ in answer.scores])
        scale = rules.scale
        assert scale is not None
        scored: dict[str, int] = {}
        for option, score in answer.scores:
            if score is None:
                continue
            if not scale.min <= score <= scale.max:
                raise frame.refuse(
                    SCORE_NOT_ON_SCALE,
                    f"the score {score} for {frame.name(option)} is not on the scale; use a "
                    f"whole number from {scale.min} to {scale.max}",
                    f"de score {score} voor {frame.name(option)} staat niet op de schaal; "
                    f"gebruik een geheel getal van {scale.min} tot en met {scale.max}",
                    option=option,
                    score=score,
                    min=scale.min,
                    max=scale.max,
                )
            scored[option] = score
        _check_blanks(frame, scale.blank_allowed, scored, "a score", "een score")
        valid = ValidAnswer(
            question,
            kind,
            False,
            scores=tuple((option, scored[option]) for option in frame.in_order(list(scored))),
        )

    chosen = valid.chosen
    if not chosen:
        return _abstain(ruleset, frame)
    _check_count(ruleset, frame, len(chosen))
    if isinstance(answer, Points) and rules.max_points is not None:
        total = sum(points for _, points in valid.points)
        if total > rules.max_points:
            raise frame.refuse(
                TOO_MANY_POINTS,
                f"you gave {total} points in all; you have {rules.max_points} to give",
                f"u gaf in totaal {total} punten; u hebt er {rules.max_points} te geven",
                points=total,
                max_points=rules.max_points,
            )
    if isinstance(answer, Ranking) and rules.ranking_complete:
        missing = [item.id for item in frame.home_items if item.id not in set(chosen)]
        if missing:
            names = ", ".join(frame.name(option) for option in missing)
            raise frame.refuse(
                RANKING_INCOMPLETE,
                f"your ranking leaves out {names}; rank every {frame.singular_en}",
                f"uw rangschikking laat {names} weg; rangschik alle {frame.plural_nl}",
                missing=missing,
            )
    return valid


def _check_blanks(
    frame: _Frame, blank_allowed: bool, filled: Mapping[str, int], what_en: str, what_nl: str
) -> None:
    if blank_allowed:
        return
    for item in frame.home_items:
        if item.id not in filled:
            raise frame.refuse(
                BLANK_NOT_ALLOWED,
                f"you left {frame.name(item.id)} blank; give every {frame.singular_en} {what_en}",
                f"u liet {frame.name(item.id)} open; geef {frame.each_nl} {what_nl}",
                option=item.id,
            )


def _check_count(ruleset: RuleSet, frame: _Frame, count: int) -> None:
    low, high = ruleset.ballot.min_selections, ruleset.ballot.max_selections
    if count < low:
        raise frame.refuse(
            TOO_FEW,
            f"you chose {frame.count_en(count)}; choose at least {low}",
            f"u koos {frame.count_nl(count)}; kies er minstens {low}",
            count=count,
            min_selections=low,
        )
    if high is not None and count > high:
        raise frame.refuse(
            TOO_MANY,
            f"you chose {frame.count_en(count)}; you may choose at most {high}",
            f"u koos {frame.count_nl(count)}; u mag er hoogstens {high} kiezen",
            count=count,
            max_selections=high,
        )


def _abstain(ruleset: RuleSet, frame: _Frame) -> ValidAnswer:
    question = frame.question.id if frame.question else None
    if ruleset.ballot.allow_abstain:
        return ValidAnswer(question, ruleset.ballot.format, True)
    if ruleset.ballot.min_selections > 0:
        _check_count(ruleset, frame, 0)
    raise frame.refuse(
        ABSTAIN_NOT_ALLOWED,
        f"a blank vote is not allowed here; choose at least one {frame.singular_en}",
        f"blanco stemmen is hier niet toegestaan; kies minstens één {frame.singular_nl}",
    )


def _check_budget(frame: _Frame, budget: BudgetBallotContext, valid: ValidAnswer) -> int:
    cost = sum(frame.items[frame.position[option]].cost_cents or 0 for option in valid.chosen)
    if cost > budget.budget_cents:
        over = cost - budget.budget_cents
        raise frame.refuse(
            OVER_BUDGET,
            f"your choice costs {format_eur(cost, 'en')}, which is {format_eur(over, 'en')} over "
            f"the {format_eur(budget.budget_cents, 'en')} budget of {budget.area_name}",
            f"uw keuze kost {format_eur(cost, 'nl')}, dat is {format_eur(over, 'nl')} meer dan "
            f"het budget van {format_eur(budget.budget_cents, 'nl')} voor {budget.area_name}",
            cost_cents=cost,
            budget_cents=budget.budget_cents,
            over_cents=over,
            area=budget.area,
        )
    return cost


def validate_ballot(
    ruleset: RuleSet, context: BallotContext, submitted: SubmittedBallot | Mapping[str, Any]
) -> ValidBallot:
    """The ballot in normal form if it may be counted; otherwise ``BallotInvalid``.

    ``submitted`` is a form from ``stemmen.ballots.forms`` or the JSON a client sent.
    ``context`` must fit the rule set: a ``BudgetBallotContext`` for budget instruments, a
    ``QuestionsBallotContext`` for preferenda and polls (a programming error otherwise).
    """
    ballot = parse_ballot(ruleset, submitted) if isinstance(submitted, Mapping) else submitted
    if ruleset.is_budget:
        if not isinstance(context, BudgetBallotContext):
            raise TypeError(f"a {ruleset.instrument} ballot needs a BudgetBallotContext")
        return _validate_budget(ruleset, context, ballot)
    if not isinstance(context, QuestionsBallotContext):
        raise TypeError(f"a {ruleset.instrument} ballot needs a QuestionsBallotContext")
    return _validate_questions(ruleset, context, ballot)


def _validate_budget(
    ruleset: RuleSet, context: BudgetBallotContext, ballot: SubmittedBallot
) -> ValidBallot:
    frame = _Frame(
        [_Item(p.id, p.title, p.cost_cents, p.area) for p in context.projects], budget=context
    )
    if isinstance(ballot, PreferendumBallot):
        raise _wrong_format(ruleset.ballot.format, "questions", frame)
    answer = _check_answer(ruleset, frame, ballot)
    cost = 0
    if not answer.abstained:
        cost = sum(frame.items[frame.position[option]].cost_cents or 0 for option in answer.chosen)
        if ruleset.ballot.within_budget:
            cost = _check_budget(frame, context, answer)
    return ValidBallot(ruleset.ballot.format, answer.abstained, (answer,), context.area, cost)


def _question_frame(question: Question) -> _Frame:
    return _Frame([_Item(o.id, o.label, None, None) for o in question.options], question=question)


def _validate_questions(
    ruleset: RuleSet, context: QuestionsBallotContext, ballot: SubmittedBallot
) -> ValidBallot:
    kind = ruleset.ballot.format
    if isinstance(ballot, Abstain):
        if not ruleset.ballot.allow_abstain:
            raise BallotInvalid(
                ABSTAIN_NOT_ALLOWED,
                "a blank vote is not allowed here; answer every question",
                "blanco stemmen is hier niet toegestaan; beantwoord elke vraag",
            )
        answers = tuple(ValidAnswer(q.id, kind, True) for q in context.questions)
        return ValidBallot(kind, True, answers)
    if not isinstance(ballot, PreferendumBallot):
        if len(context.questions) != 1:
            raise _malformed(
                'this ballot has several questions: answer them under "questions"',
                'dit stembiljet heeft meerdere vragen: beantwoord ze onder "questions"',
            )
        ballot = PreferendumBallot(((context.questions[0].id, ballot),))
    given: dict[str, Answer] = {}
    for question_id, answer in ballot.answers:
        if context.question(question_id) is None:
            raise BallotInvalid(
                UNKNOWN_QUESTION,
                f'there is no question "{question_id}" on this ballot',
                f'er is geen vraag "{question_id}" op dit stembiljet',
                {"question": question_id},
            )
        if question_id in given:
            raise BallotInvalid(
                DUPLICATE_OPTION,
                f'question "{question_id}" is answered more than once; answer it once',
                f'vraag "{question_id}" is meer dan eens beantwoord; beantwoord die één keer',
                {"question": question_id},
            )
        given[question_id] = answer
    answers_list: list[ValidAnswer] = []
    for question in context.questions:
        frame = _question_frame(question)
        if question.id not in given and not ruleset.ballot.allow_abstain:
            raise BallotInvalid(
                QUESTION_UNANSWERED,
                f'you did not answer question "{question.title}"; answer every question',
                f'u hebt vraag "{question.title}" niet beantwoord; beantwoord elke vraag',
                {"question": question.id},
            )
        answers_list.append(_check_answer(ruleset, frame, given.get(question.id, Abstain())))
    answers = tuple(answers_list)
    return ValidBallot(kind, all(answer.abstained for answer in answers), answers)
