"""Small exact helpers shared by the proportional rules (Equal Shares, Phragmén)."""

from __future__ import annotations

from fractions import Fraction


def decimal_text(value: Fraction | int, places: int = 6) -> str:
    """A fraction as a decimal string rounded half up to ``places`` digits, for people to read.

    Only explanations use it; every decision compares the exact fraction.
    """
    fraction = Fraction(value)
    sign = "-" if fraction < 0 else ""
    numerator, denominator = abs(fraction.numerator), fraction.denominator
    whole, rest = divmod(numerator * 10**places, denominator)
    if 2 * rest >= denominator:
        whole += 1
    if places == 0:
        return f"{sign}{whole}"
    integer, rest = divmod(whole, 10**places)
    digits = f"{rest:0{places}d}".rstrip("0")
    return f"{sign}{integer}.{digits}" if digits else f"{sign}{integer}"


def money_text(minor: Fraction | int, unit: int) -> str:
    """Minor units as currency units: exact when whole, else to 1/10 of a minor unit."""
    amount = Fraction(minor, unit)
    if amount.denominator == 1:
        return str(amount.numerator)
    if (amount * unit).denominator == 1:
        places = len(str(unit)) - 1
        return decimal_text(amount, places) if unit == 10**places else str(amount)
    return decimal_text(amount, len(str(unit)) + 1)
