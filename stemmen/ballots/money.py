"""Money in euro cents, written for people in English and Dutch.

``format_eur(1240000, "en") == "EUR 12,400"`` and ``format_eur(1240000, "nl") == "€ 12.400"``;
cents are shown only when there are any (``EUR 12.50``, ``€ 12,50``).
"""

from __future__ import annotations

from typing import Final, Literal

Language = Literal["en", "nl"]
LANGUAGES: Final = ("en", "nl")


def format_eur(cents: int, lang: str = "en") -> str:
    """An amount of euro cents as a person writes it in ``lang`` ("en" or "nl")."""
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise TypeError(f"money is whole cents, not {type(cents).__name__}")
    if lang not in LANGUAGES:
        raise ValueError(f"no money format for language {lang!r}; use one of {LANGUAGES}")
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(cents), 100)
    grouped = f"{euros:,}"
    if lang == "en":
        amount = grouped if rest == 0 else f"{grouped}.{rest:02d}"
        return f"EUR {sign}{amount}"
    grouped = grouped.replace(",", ".")
    amount = grouped if rest == 0 else f"{grouped},{rest:02d}"
    return f"€ {sign}{amount}"
