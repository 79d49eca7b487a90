"""Every page text exists in Dutch and English, with the same placeholders, and every text a
template or page module asks for is in the table. Pure: no database."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from stemmen.web.forms import ballot_from_form, parse_euros
from stemmen.web.i18n import LANGUAGES, MESSAGES, translate

WEB = Path(__file__).resolve().parents[2] / "stemmen" / "web"


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_key_has_dutch_and_english_with_the_same_placeholders() -> None:
    for key, entry in MESSAGES.items():
        assert set(entry) == set(LANGUAGES), key
        assert all(entry[lang].strip() for lang in LANGUAGES), key
        assert placeholders(entry["nl"]) == placeholders(entry["en"]), key


def used_keys() -> set[str]:
    keys: set[str] = set()
    for template in (WEB / "templates").glob("*.html"):
        keys |= set(re.findall(r"\bt\('([a-z_.]+)'", template.read_text(encoding="utf-8")))
    for module in WEB.glob("*.py"):
        keys |= set(re.findall(r'translate\(\s*"([a-z_.]+)"', module.read_text(encoding="utf-8")))
    return keys


def test_every_text_the_pages_ask_for_is_translated() -> None:
    # Keys built from stored values ('phase.' ~ round.phase) are checked below, value by value.
    missing = sorted(key for key in used_keys() if key not in MESSAGES and not key.endswith("."))
    assert missing == []


@pytest.mark.parametrize(
    ("prefix", "values"),
    [
        ("phase", ("draft", "submission", "review", "supports", "voting", "closed", "published")),
        ("status", ("submitted", "accepted", "rejected", "merged", "withdrawn")),
        ("receipt.status", ("counted", "pending", "superseded", "discarded")),
        ("batch", ("open", "confirmed", "rejected")),
        ("channel", ("online", "paper")),
        ("role", ("resident", "official", "auditor", "admin")),
    ],
)
def test_keys_built_from_stored_values_exist(prefix: str, values: tuple[str, ...]) -> None:
    assert [value for value in values if f"{prefix}.{value}" not in MESSAGES] == []


def test_translate_fills_in_values_in_the_chosen_language() -> None:
    assert translate("vote.place", "nl", place=2) == "plaats 2"
    assert translate("vote.place", "en", place=2) == "place 2"


@pytest.mark.parametrize(
    ("typed", "cents"),
    [
        ("12500", 1_250_000),
        ("12.500", 1_250_000),
        ("12,500", 1_250_000),
        ("1.250,50", 125_050),
        ("1,250.50", 125_050),
        ("€ 12,5", 1_250),
        ("EUR 7", 700),
        ("", None),
        ("veel", None),
        ("-5", None),
        ("1.2.3,4,5", None),
    ],
)
def test_euros_typed_by_people_become_cents(typed: str, cents: int | None) -> None:
    assert parse_euros(typed) == cents


def test_ballot_widgets_become_the_ballot_json() -> None:
    form = {"choice": ["002", "001", "999"]}
    assert ballot_from_form("knapsack", form, projects=["001", "002"]) == {
        "approvals": ["001", "002"]
    }
    ranked = {"q:k:rank:a": ["2"], "q:k:rank:b": ["1"], "q:k:rank:c": ["2"], "q:k:rank:d": [""]}
    assert ballot_from_form("ranking", ranked, questions=[("k", ["a", "b", "c", "d"])]) == {
        "questions": {"k": {"ranking": [["b"], ["a", "c"]]}}
    }
    graded = {"q:k:grade:a": ["3"], "q:k:grade:b": [""]}
    assert ballot_from_form("grades", graded, questions=[("k", ["a", "b"])]) == {
        "questions": {"k": {"grades": {"a": 3, "b": None}}}
    }
    assert ballot_from_form("approval", {"abstain": ["1"]}, projects=["001"]) == {"abstain": True}
