"""What a page form says, turned into what the services take: euros typed by people, and the
ballot widgets (checkboxes, radio groups, selects) turned into the ballot JSON of
``stemmen.ballots.forms``. Pure: no web framework, no database. Whether a ballot is valid is
decided by the ballot service alone; this only translates the widgets faithfully."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from stemmen.errors import DomainError

APPROVAL_FORMATS = ("approval", "knapsack", "k-approval")
_AMOUNTS = tuple(
    re.compile(pattern)
    for pattern in (
        r"(?P<whole>\d+)(?:[.,](?P<cents>\d{1,2}))?",
        r"(?P<whole>\d{1,3}(?:\.\d{3})+)(?:,(?P<cents>\d{1,2}))?",
        r"(?P<whole>\d{1,3}(?:,\d{3})+)(?:\.(?P<cents>\d{1,2}))?",
    )
)

# A form as the pages receive it: every field name with all the values sent for it.
FormValues = Mapping[str, Sequence[str]]


def parse_euros(text: str) -> int | None:
    """Cents from an amount typed in Dutch or English style, or None when it is not one.

    ``1250``, ``1.250`` or ``1,250`` (thousands), ``1250,50``, ``1.250,50``, ``1,250.50``,
    ``€ 1.250,50``. Groups of three after a separator are thousands; one or two digits after
    the last separator are cents.
    """
    cleaned = re.sub(r"\s|€|EUR", "", text)
    for pattern in _AMOUNTS:
        match = pattern.fullmatch(cleaned)
        if match:
            whole, cents = match.group("whole"), match.group("cents") or ""
            return int(re.sub(r"\D", "", whole)) * 100 + (int(cents.ljust(2, "0")) if cents else 0)
    return None


def error_text(error: DomainError, lang: str) -> str:
    """A refusal in the visitor's language (services give English and, mostly, Dutch)."""
    text = error.message_nl if lang == "nl" and error.message_nl else error.message
    # Services write refusals to follow a colon in logs; on a page they open a sentence.
    return text[:1].upper() + text[1:]


def _number_or_text(value: str) -> int | str:
    value = value.strip()
    if re.fullmatch(r"-?\d+", value):
        return int(value)
    return value


def _first(form: FormValues, name: str) -> str | None:
    values = form.get(name) or ()
    return values[0] if values else None


def answer_from_form(
    ballot_format: str, prefix: str, option_ids: Sequence[str], form: FormValues
) -> dict[str, Any]:
    """One answer (a budget ballot, or one question) from the widgets named ``prefix...``."""
    if ballot_format in APPROVAL_FORMATS:
        chosen = list(form.get(f"{prefix}choice") or ())
        return {"approvals": [option for option in option_ids if option in chosen]}
    if ballot_format == "ranking":
        places: dict[int, list[str]] = {}
        unreadable: list[str] = []
        for option in option_ids:
            value = (_first(form, f"{prefix}rank:{option}") or "").strip()
            if not value:
                continue
            if value.isdigit():
                places.setdefault(int(value), []).append(option)
            else:
                unreadable.append(option)
        ranking: list[Any] = [places[place] for place in sorted(places)]
        # An unreadable place is passed on as it is, so the validator names it.
        ranking.extend(unreadable)
        return {"ranking": ranking}
    field, key = {
        "grades": ("grade", "grades"),
        "scores": ("score", "scores"),
        "cumulative": ("points", "points"),
    }.get(ballot_format, ("choice", ballot_format))
    values: dict[str, Any] = {}
    for option in option_ids:
        typed = _first(form, f"{prefix}{field}:{option}")
        if typed is None or typed.strip() == "":
            if ballot_format != "cumulative":
                values[option] = None
            continue
        values[option] = _number_or_text(typed)
    return {key: values}


def ballot_from_form(
    ballot_format: str,
    form: FormValues,
    *,
    projects: Sequence[str] = (),
    questions: Sequence[tuple[str, Sequence[str]]] = (),
) -> dict[str, Any]:
    """The ballot JSON from a submitted ballot form: a budget ballot when ``projects`` are
    given, else one answer per question."""
    if _first(form, "abstain") == "1":
        return {"abstain": True}
    if not questions:
        return answer_from_form(ballot_format, "", projects, form)
    return {
        "questions": {
            key: answer_from_form(ballot_format, f"q:{key}:", options, form)
            for key, options in questions
        }
    }
