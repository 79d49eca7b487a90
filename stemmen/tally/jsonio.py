"""The JSON cast-vote record (docs/tally-json.md): one question, or a multi-question preferendum."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any, cast

from stemmen.tally.errors import TallyError
from stemmen.tally.preferendum import (
    Preferendum,
    Question,
    QuestionBallots,
    Quorum,
    TallyOptions,
)
from stemmen.tally.profiles import Ranking, Scale


def load_json(source: str | Path) -> Any:
    try:
        return json.loads(Path(source).read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as error:
        raise TallyError("bad-json", f"{source}: {error}") from error


def is_preferendum(document: object) -> bool:
    return isinstance(document, Mapping) and "questions" in document


def parse_scale(raw: object) -> Scale | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise TallyError("bad-scale", "scale must be an object")
    if "labels" in raw:
        values = raw.get("values")
        return Scale.labelled([str(label) for label in raw["labels"]], values)
    if "min" in raw and "max" in raw:
        low, high = raw["min"], raw["max"]
        if not isinstance(low, int) or not isinstance(high, int):
            raise TallyError("bad-scale", "scale min and max must be integers")
        return Scale.numeric(low, high)
    raise TallyError("bad-scale", 'scale needs "min" and "max", or "labels"')


def _count(ballot: Mapping[str, Any]) -> int:
    count = ballot.get("count", 1)
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise TallyError("bad-count", f"count must be a positive integer, not {count!r}")
    return count


def parse_answer(answer: Mapping[str, Any]) -> tuple[str, object] | None:
    """One answer: exactly one of ranking, grades, approvals; None for an empty answer."""
    kinds = [k for k in ("ranking", "grades", "approvals") if k in answer]
    if len(kinds) != 1:
        raise TallyError(
            "bad-ballot", "a ballot has exactly one of 'ranking', 'grades', 'approvals'"
        )
    kind = kinds[0]
    payload = answer[kind]
    if kind == "ranking":
        if not isinstance(payload, list):
            raise TallyError("bad-ballot", "ranking must be a list of tiers")
        # A bare option id is a tier of one.
        tiers = [[str(o) for o in t] if isinstance(t, list) else [str(t)] for t in payload]
        return (kind, tiers) if any(tiers) else None
    if kind == "grades":
        if not isinstance(payload, Mapping):
            raise TallyError("bad-ballot", "grades must map options to grades")
        graded = {str(o): g for o, g in payload.items() if g is not None}
        return (kind, graded) if graded else None
    if not isinstance(payload, list):
        raise TallyError("bad-ballot", "approvals must be a list of options")
    return (kind, [str(o) for o in payload])


def parse_question_ballots(document: Mapping[str, Any]) -> QuestionBallots:
    """The single-question record: ``{"options", "ballots", "scale"?}``.

    Identical answers are merged while reading (their counts added), so a record of a million
    ballots with a few thousand distinct answers builds a profile of a few thousand rows.
    """
    options = tuple(str(o) for o in document.get("options", ()))
    scale = parse_scale(document.get("scale"))
    merged: dict[tuple[str, object], list[Any]] = {}
    for ballot in document.get("ballots", ()):
        if not isinstance(ballot, Mapping):
            raise TallyError("bad-ballot", "each ballot must be an object")
        count = _count(ballot)
        answer = parse_answer(ballot)
        if answer is None:
            continue
        key = _answer_key(answer)
        entry = merged.get(key)
        if entry is None:
            merged[key] = [count, answer[1]]
        else:
            entry[0] += count
    rankings: list[tuple[int, Ranking]] = []
    grades: list[tuple[int, Mapping[str, object]]] = []
    approvals: list[tuple[int, tuple[str, ...]]] = []
    for (kind, _), (count, payload) in merged.items():
        if kind == "ranking":
            rankings.append((count, payload))
        elif kind == "grades":
            grades.append((count, payload))
        else:
            approvals.append((count, tuple(payload)))
    return QuestionBallots(options, scale, tuple(rankings), tuple(grades), tuple(approvals))


def _answer_key(answer: tuple[str, object]) -> tuple[str, object]:
    """A hashable form of an answer: equal keys mean the same ballot."""
    kind, payload = answer
    if kind == "ranking":
        return kind, tuple(tuple(tier) for tier in cast("list[list[str]]", payload))
    if kind == "grades":
        items = cast("dict[str, object]", payload).items()
        return kind, tuple(sorted(((o, repr(g)) for o, g in items)))
    return kind, tuple(sorted(set(cast("list[str]", payload))))


def parse_share(raw: object) -> Fraction:
    """A share as an exact fraction: ``"30%"``, ``"3/10"`` or an integer percentage string."""
    if isinstance(raw, str):
        text = raw.strip()
        if text.endswith("%"):
            return Fraction(text[:-1]) / 100
        return Fraction(text)
    if isinstance(raw, int) and not isinstance(raw, bool):
        return Fraction(raw)
    raise TallyError("bad-quorum", f"a share is a string like '30%' or '3/10', not {raw!r}")


def parse_quorum(raw: object) -> Quorum:
    if raw is None:
        return Quorum()
    if not isinstance(raw, Mapping):
        raise TallyError("bad-quorum", "quorum must be an object")
    share = raw.get("min_turnout_share")
    return Quorum(
        min_turnout=raw.get("min_turnout"),
        min_turnout_share=parse_share(share) if share is not None else None,
        min_graders=raw.get("min_graders"),
    )


def tally_options_from(raw: Mapping[str, Any], method: str | None = None) -> TallyOptions:
    chosen = method or raw.get("method")
    if not chosen:
        raise TallyError("no-method", "no method given for the question")
    tie_break = raw.get("tie_break") or ()
    return TallyOptions(
        method=str(chosen),
        tie_break=tuple(str(s) for s in tie_break),
        unranked_below_ranked=bool(raw.get("unranked_below_ranked", True)),
        schulze_variant=str(raw.get("schulze_variant", "margins")),
        ranked_pairs_strength=str(raw.get("ranked_pairs_strength", "margins")),
        blank=str(raw.get("blank", "abstain")),
    )


def parse_preferendum(document: Mapping[str, Any]) -> Preferendum:
    """The multi-question record: ``{"questions": [...], "ballots": [...], ...}``."""
    questions = []
    ids = set()
    for raw in document["questions"]:
        qid = str(raw["id"])
        if qid in ids:
            raise TallyError("duplicate-question", f"question id {qid!r} appears twice")
        ids.add(qid)
        questions.append(
            Question(
                id=qid,
                options=tuple(str(o) for o in raw["options"]),
                tally_options=tally_options_from(raw),
                scale=parse_scale(raw.get("scale")),
                min_graders=raw.get("min_graders"),
            )
        )
    ballots = []
    for ballot in document.get("ballots", ()):
        count = _count(ballot)
        answers: dict[str, tuple[str, object]] = {}
        for qid, answer in (ballot.get("answers") or {}).items():
            if qid not in ids:
                raise TallyError("unknown-question", f"ballot answers unknown question {qid!r}")
            parsed = parse_answer(answer)
            if parsed is not None:
                answers[str(qid)] = parsed
        ballots.append((count, answers))
    electorate = document.get("electorate")
    return Preferendum(
        tuple(questions), tuple(ballots), electorate, parse_quorum(document.get("quorum"))
    )


def question_to_json(ballots: QuestionBallots) -> dict[str, object]:
    """Write a question's ballots back as a single-question record."""
    document: dict[str, object] = {"options": list(ballots.options)}
    if ballots.scale is not None:
        document["scale"] = ballots.scale.to_json()
    rows: list[dict[str, object]] = []
    rows.extend({"count": c, "ranking": [list(tier) for tier in r]} for c, r in ballots.rankings)
    rows.extend({"count": c, "grades": dict(g)} for c, g in ballots.grades)
    rows.extend({"count": c, "approvals": list(a)} for c, a in ballots.approvals)
    document["ballots"] = rows
    return document


def options_of(document: Mapping[str, Any]) -> Sequence[str]:
    return [str(o) for o in document.get("options", ())]
