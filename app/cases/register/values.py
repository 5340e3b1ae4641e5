"""Cells read into values: text, dates (date cells, dd/mm/yyyy, ISO), times, ages, lists."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time

from app.clock import local_today
from app.places.names import words

LIST_SEPARATORS = re.compile(r"[;,\n|]+")
DMY = re.compile(
    r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})"
    r"(?:[ T,]+(\d{1,2})(?:[:hH](\d{2})?)?(?::\d{2})?)?$"  # a time, seconds left out
)
ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::\d{2}(?:\.\d+)?)?)?$")
CLOCK = re.compile(r"^(\d{1,2})(?:[:hH](\d{2})?)?(?::\d{2})?$")
AGE = re.compile(r"^(\d{1,3})(?:\.0+)?\s*(?:tuổi|t|years?|yrs?|y)?\.?$", re.IGNORECASE)


def cell_text(value) -> str:
    """A cell as text: numbers without '.0', dates as dd/mm/yyyy, lists joined by '; '."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        shown = value.strftime("%d/%m/%Y")
        return f"{shown} {value:%H:%M}" if value.time() != time(0) else shown
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, list | tuple):
        return "; ".join(t for t in (cell_text(v) for v in value) if t)
    text = unicodedata.normalize("NFC", str(value))
    return " ".join(text.split()) if "\n" not in text else text.strip()


def split_list(value) -> list[str]:
    """The items of a list cell: separated by ';', ',', '|' or new lines (or a JSON list)."""
    if isinstance(value, list | tuple):
        return [cell_text(v) for v in value if cell_text(v)]
    return [item.strip() for item in LIST_SEPARATORS.split(cell_text(value)) if item.strip()]


def read_date(value) -> tuple[date, time | None] | None:
    """A date (and a time if one is given) from a date cell or dd/mm/yyyy or ISO text."""
    if isinstance(value, datetime):
        return value.date(), (value.time() if value.time() != time(0) else None)
    if isinstance(value, date):
        return value, None
    text = cell_text(value)
    match = DMY.match(text)
    if match:
        day, month, year, hour, minute = match.groups()
        if len(year) == 2:  # "85" is 1985 and "19" is 2019: no date lies in the future (of
            # Vietnam's calendar: on 1 January there, "27" is this year while UTC is still in 2026)
            year = int(year) + (2000 if int(year) <= local_today().year % 100 else 1900)
        parts = int(year), int(month), int(day)
    else:
        match = ISO.match(text)
        if not match:
            return None
        year, month, day, hour, minute = match.groups()
        parts = int(year), int(month), int(day)
    try:
        found = date(*parts)
        at = time(int(hour), int(minute or 0)) if hour is not None else None
    except ValueError:
        return None
    return found, at


def read_clock(value) -> time | None:
    """A time of day from a time cell or "14:30", "14h30", "14h"."""
    if isinstance(value, time):
        return value
    if isinstance(value, datetime):
        return value.time()
    match = CLOCK.match(cell_text(value))
    if not match:
        return None
    try:
        return time(int(match.group(1)), int(match.group(2) or 0))
    except ValueError:
        return None


def read_age(value) -> int | None:
    """Whole years from 35, 35.0, "35", "35 tuổi"; None when it is not an age."""
    match = AGE.match(cell_text(value))
    return int(match.group(1)) if match else None


# What registers write for "none" in a phone, date or age column (compared without accents).
NOTHING = {"", "-", "--", "x", "n a", "na", "none", "null", "khong", "khong co", "khong ro"}


def is_nothing(text: str) -> bool:
    """Whether a cell's text says there is no value ("-", "không có", "n/a"...)."""
    return words(text, accents=False) in NOTHING
