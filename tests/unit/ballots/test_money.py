"""Money is written the way people read it, in English and in Dutch."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stemmen.ballots import format_eur


@pytest.mark.parametrize(
    ("cents", "english", "dutch"),
    [
        (0, "EUR 0", "€ 0"),
        (5, "EUR 0.05", "€ 0,05"),
        (1050, "EUR 10.50", "€ 10,50"),
        (100000, "EUR 1,000", "€ 1.000"),
        (1240000, "EUR 12,400", "€ 12.400"),
        (240000, "EUR 2,400", "€ 2.400"),
        (1000000, "EUR 10,000", "€ 10.000"),
        (123456789, "EUR 1,234,567.89", "€ 1.234.567,89"),
        (-250, "EUR -2.50", "€ -2,50"),
    ],
)
def test_known_amounts(cents: int, english: str, dutch: str) -> None:
    assert format_eur(cents, "en") == english
    assert format_eur(cents, "nl") == dutch


def test_english_is_the_default() -> None:
    assert format_eur(1240000) == "EUR 12,400"


@pytest.mark.parametrize("amount", [12.5, "1200", True, None])
def test_money_is_whole_cents_only(amount: object) -> None:
    with pytest.raises(TypeError):
        format_eur(amount, "en")  # type: ignore[arg-type]


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="de"):
        format_eur(100, "de")


@settings(max_examples=200, deadline=None)
@given(st.integers(-(10**12), 10**12))
def test_both_languages_write_the_same_amount(cents: int) -> None:
    english = format_eur(cents, "en").removeprefix("EUR ").replace(",", "")
    dutch = format_eur(cents, "nl").removeprefix("€ ").replace(".", "").replace(",", ".")
    assert english == dutch
    whole = english.lstrip("-").split(".")
    assert int(whole[0]) * 100 + (int(whole[1]) if len(whole) > 1 else 0) == abs(cents)
