"""Phone numbers as Excel leaves them: a number cell drops the 0 a Vietnamese number begins
with (912345678), and a CSV saved from a column of numbers too wide to show writes Excel's
shortened display (9.12346E+08), whose last digits are gone."""

from __future__ import annotations

import re

import phonenumbers

from app.crypto.blind import DEFAULT_REGION

SHORTENED = re.compile(r"^[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+$")


def with_its_zero(raw, text: str) -> str | None:
    """A number cell, or digits alone, that is a valid Vietnamese number without its first 0,
    written as the country writes it, with its 0 ("0912 345 678"); None for anything else (a
    number written with its 0 or its +84, a hotline's 1900 number, a number of no one)."""
    if not (isinstance(raw, int | float) or text.isdigit()) or text.startswith("0"):
        return None
    try:
        number = phonenumbers.parse(text, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    if str(number.national_number) != text or not phonenumbers.is_valid_number(number):
        return None
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return national if national.startswith("0") else None


def shortened(text: str) -> bool:
    """Whether a cell holds a number in Excel's scientific notation ("9.12346E+08")."""
    return SHORTENED.match(text) is not None
