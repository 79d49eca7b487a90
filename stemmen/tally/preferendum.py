"""Cast-vote records: one question's mixed ballots, and multi-question preferenda.

A question's ballots may mix rankings, grades and approvals (a paper form and an online form
may differ). Each method reads one shape; ``QuestionBallots.profile(kind)`` converts what can
be converted without inventing an opinion and counts the rest as unusable:

- for a ranked method: rankings as cast; grades ranked by grade (blanks unranked); approvals
  as approved options tied on top (the rest unranked);
- for a grade method: grades as cast; an approval counts as the top grade of the scale and a
  non-approval as the lowest; rankings are unusable;
- for approval: approvals only; grades and rankings are unusable.

A preferendum is one ballot answering several questions; every question is tallied under its
own method, with turnout, per-question participation and the quorum reported.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from types import MappingProxyType
from typing import cast

import numpy as np

from stemmen.tally.errors import TallyError
from stemmen.tally.methods import METHODS, BallotKind, tally
from stemmen.tally.profiles import (
    BLANK,
    ApprovalProfile,
    GradeProfile,
    Profile,
    RankedProfile,
    Ranking,
    Scale,
)
from stemmen.tally.result import Tally, json_number


@dataclass(frozen=True)
class QuestionBallots:
    """The ballots of one question, by shape, each with its count."""

    options: tuple[str, ...]
    scale: Scale | None = None
    rankings: tuple[tuple[int, Ranking], ...] = ()
    grades: tuple[tuple[int, Mapping[str, object]], ...] = ()
    approvals: tuple[tuple[int, tuple[str, ...]], ...] = ()

    @property
    def num_ballots(self) -> int:
        return (
            sum(c for c, _ in self.rankings)
            + sum(c for c, _ in self.grades)
            + sum(c for c, _ in self.approvals)
        )

    def _grade_profile(self) -> GradeProfile | None:
        if not self.grades:
            return None
        if self.scale is None:
            raise TallyError("no-scale", "grade ballots need a scale")
        return GradeProfile.from_grades(self.options, self.scale, self.grades)

    def _approval_profile(self) -> ApprovalProfile | None:
        if not self.approvals:
            return None
        return ApprovalProfile.from_sets(self.options, self.approvals)

    def profile(self, kind: BallotKind) -> tuple[Profile, int]:
        """The profile a method of this kind reads, and how many ballots it cannot use."""
        m = len(self.options)
        grades = self._grade_profile()
        approvals = self._approval_profile()
        if kind == "ranked":
            parts = [RankedProfile.from_rankings(self.options, self.rankings)]
            if grades is not None:
                parts.append(grades.to_ranked())
            if approvals is not None:
                parts.append(approvals.to_ranked())
            positions = np.concatenate([p.positions for p in parts]).reshape(-1, m)
            positions = np.where(positions == m, -1, positions)
            counts = np.concatenate([p.counts for p in parts])
            return RankedProfile.from_positions(self.options, positions, counts), 0
        if kind == "grades":
            scale = self.scale or Scale.numeric(0, 1)
            rows = [grades.grades] if grades is not None else []
            counts_list = [grades.counts] if grades is not None else []
            if approvals is not None:
                top = len(scale.labels) - 1
                rows.append(np.where(approvals.approved, top, 0))
                counts_list.append(approvals.counts)
            unusable = sum(c for c, _ in self.rankings)
            matrix = np.concatenate(rows).reshape(-1, m) if rows else np.zeros((0, m), np.int64)
            counts = np.concatenate(counts_list) if counts_list else np.zeros(0, np.int64)
            return GradeProfile.from_indices(self.options, scale, matrix, counts), unusable
        unusable = sum(c for c, _ in self.rankings) + sum(c for c, _ in self.grades)
        if approvals is None:
            return ApprovalProfile.from_matrix(self.options, np.zeros((0, m), np.int64)), unusable
        return approvals, unusable


def supporters(profile: Profile) -> dict[str, int]:
    """Voters who expressed something about each option: ranked, graded or approved it."""
    if isinstance(profile, RankedProfile):
        mask = profile.positions != profile.unranked
    elif isinstance(profile, GradeProfile):
        mask = profile.grades != BLANK
    else:
        mask = profile.approved
    sums = profile.counts @ mask.astype(np.int64)
    return {o: int(v) for o, v in zip(profile.options, sums, strict=True)}


@dataclass(frozen=True)
class TallyOptions:
    """How a question is tallied, as its rule set states it."""

    method: str
    tie_break: tuple[str, ...] = ()
    unranked_below_ranked: bool = True
    schulze_variant: str = "margins"
    ranked_pairs_strength: str = "margins"
    blank: str = "abstain"

    def run(self, profile: Profile) -> Tally:
        return tally(
            profile,
            self.method,
            tie_break=list(self.tie_break) or None,
            unranked_below_ranked=self.unranked_below_ranked,
            schulze_variant=self.schulze_variant,
            ranked_pairs_strength=self.ranked_pairs_strength,
            blank=self.blank,
        )


def tally_question(ballots: QuestionBallots, options: TallyOptions) -> Tally:
    """Tally one question's mixed ballots; unusable ballots are counted in ``counts``."""
    if options.method not in METHODS:
        raise TallyError("unknown-method", f"unknown method {options.method!r}")
    profile, unusable = ballots.profile(METHODS[options.method].reads)
    result = options.run(profile)
    return replace(result, counts=MappingProxyType({**result.counts, "unusable_ballots": unusable}))


@dataclass(frozen=True)
class Quorum:
    """Minimum turnout (voters, or a share of the electorate) and minimum voters per option.

    An option fewer than ``min_graders`` voters ranked, graded or approved is left out of the
    question's tally (and listed as excluded). A turnout below the minimum leaves every
    question's result computed but marked as not meeting the quorum.
    """

    min_turnout: int | None = None
    min_turnout_share: Fraction | None = None
    min_graders: int | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "min_turnout": self.min_turnout,
            "min_turnout_share": json_number(self.min_turnout_share),
            "min_graders": self.min_graders,
        }


@dataclass(frozen=True)
class Question:
    id: str
    options: tuple[str, ...]
    tally_options: TallyOptions
    scale: Scale | None = None
    min_graders: int | None = None


@dataclass(frozen=True)
class Preferendum:
    """Questions, and ballots each answering some of them: ``(count, {question id: answer})``.

    An answer is ``("ranking", tiers)``, ``("grades", {option: grade})`` or
    ``("approvals", options)``.
    """

    questions: tuple[Question, ...]
    ballots: tuple[tuple[int, Mapping[str, tuple[str, object]]], ...]
    electorate: int | None = None
    quorum: Quorum = field(default_factory=Quorum)


@dataclass(frozen=True)
class QuestionResult:
    id: str
    method: str
    participation: int
    participation_share: Fraction | None
    supporters: Mapping[str, int]
    excluded_options: tuple[str, ...]
    tally: Tally | None

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "method": self.method,
            "participation": self.participation,
            "participation_share": json_number(self.participation_share),
            "supporters": dict(self.supporters),
            "excluded_options": list(self.excluded_options),
            "result": self.tally.to_json() if self.tally is not None else None,
        }


@dataclass(frozen=True)
class PreferendumResult:
    turnout: int
    electorate: int | None
    turnout_share: Fraction | None
    quorum: Quorum
    quorum_met: bool
    questions: tuple[QuestionResult, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "turnout": self.turnout,
            "electorate": self.electorate,
            "turnout_share": json_number(self.turnout_share),
            "quorum": self.quorum.to_json(),
            "quorum_met": self.quorum_met,
            "questions": [q.to_json() for q in self.questions],
        }


def tally_preferendum(preferendum: Preferendum) -> PreferendumResult:
    """Tally every question of a preferendum and apply its quorum."""
    turnout = sum(count for count, _ in preferendum.ballots)
    electorate = preferendum.electorate
    share = Fraction(turnout, electorate) if electorate else None
    quorum = preferendum.quorum
    met = True
    if quorum.min_turnout is not None and turnout < quorum.min_turnout:
        met = False
    if quorum.min_turnout_share is not None:
        if share is None:
            raise TallyError("no-electorate", "a turnout share quorum needs the electorate size")
        if share < quorum.min_turnout_share:
            met = False
    results = []
    for question in preferendum.questions:
        rankings: list[tuple[int, Ranking]] = []
        grades: list[tuple[int, Mapping[str, object]]] = []
        approvals: list[tuple[int, tuple[str, ...]]] = []
        for count, answers in preferendum.ballots:
            answer = answers.get(question.id)
            if answer is None:
                continue
            kind, payload = answer
            if kind == "ranking":
                rankings.append((count, payload))  # type: ignore[arg-type]
            elif kind == "grades":
                grades.append((count, payload))  # type: ignore[arg-type]
            else:
                approvals.append((count, tuple(cast("list[str]", payload))))
        ballots = QuestionBallots(
            question.options, question.scale, tuple(rankings), tuple(grades), tuple(approvals)
        )
        participation = ballots.num_ballots
        kind = METHODS[question.tally_options.method].reads
        profile, _ = ballots.profile(kind)
        support = supporters(profile)
        minimum = question.min_graders if question.min_graders is not None else quorum.min_graders
        excluded = tuple(
            o for o in question.options if minimum is not None and support[o] < minimum
        )
        kept = [o for o in question.options if o not in excluded]
        result: Tally | None = None
        if kept:
            if excluded:
                profile, _ = QuestionBallots(
                    tuple(kept),
                    question.scale,
                    tuple((c, _drop_from_ranking(r, excluded)) for c, r in rankings),
                    tuple(
                        (c, {o: g for o, g in gr.items() if o not in excluded}) for c, gr in grades
                    ),
                    tuple((c, tuple(o for o in a if o not in excluded)) for c, a in approvals),
                ).profile(kind)
            result = question.tally_options.run(profile)
        results.append(
            QuestionResult(
                question.id,
                question.tally_options.method,
                participation,
                Fraction(participation, turnout) if turnout else None,
                MappingProxyType(support),
                excluded,
                result,
            )
        )
    return PreferendumResult(turnout, electorate, share, quorum, met, tuple(results))


def _drop_from_ranking(ranking: Ranking, excluded: Sequence[str]) -> Ranking:
    tiers = [tuple(o for o in tier if o not in excluded) for tier in ranking]
    return [tier for tier in tiers if tier]
