"""Cells read into values: text, dates (date cells, dd/mm/yyyy, ISO), times, ages, lists."""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime, time, timedelta

from app.clock import local_today
from app.places.names import words

LIST_SEPARATORS = re.compile(r"[;,\n|]+")
DMY = re.compile(
    r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})"
    r"(?:[ T,]+(\d{1,2})(?:[:hH](\d{2})?)?(?::(\d{2}))?)?$"  # a time, seconds left out
)
ISO = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?$"
)
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


def read_date(value, *, midnight: bool = False) -> tuple[date, time | None] | None:
    """A date (and a time if one is given) from a date cell or dd/mm/yyyy or ISO text. A time
    of 00:00 written after the date ("2024-03-15 00:00:00", as pandas and a column formatted
    with its time write a date) is no time, as a date cell at midnight is: the same row
    saved as CSV is the same row (`midnight`: kept as a time, as imports before 8 December
    2026 read it, for the row's earlier key)."""
    if isinstance(value, datetime):
        return value.date(), (value.time() if value.time() != time(0) else None)
    if isinstance(value, date):
        return value, None
    text = cell_text(value)
    match = DMY.match(text) or ISO.match(text)
    if not match:
        return None
    if match.re is DMY:
        day, month, year, hour, minute, second = match.groups()
        fraction = None
        if len(year) == 2:  # "85" is 1985 and "19" is 2019: no date lies in the future (of
            # Vietnam's calendar: on 1 January there, "27" is this year while UTC is still in 2026)
            year = int(year) + (2000 if int(year) <= local_today().year % 100 else 1900)
    else:
        year, month, day, hour, minute, second, fraction = match.groups()
    try:
        found = date(int(year), int(month), int(day))
        at = time(int(hour), int(minute or 0)) if hour is not None else None
    except ValueError:
        return None
    if at == time(0) and not midnight and not int(second or 0) and not int(fraction or 0):
        at = None
    return found, at


# Excel's count of days for 01/01/1990 and 31/12/2100: a whole number between them in a date
# column of a workbook is a date cell formatted "General" (Excel counts from 30/12/1899 past
# its 29/02/1900, a day that never was). Smaller numbers are not read so: a year typed as a
# number (2012) would be a day of 1905. A date of birth is never read from a count.
EXCEL_DAYS = range(32874, 73416)
EXCEL_EPOCH = date(1899, 12, 30)


def excel_day(value) -> tuple[date, time | None] | None:
    """A workbook's number read as Excel reads a date (its fraction, the time of day)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    days = int(value)
    if days not in EXCEL_DAYS:
        return None
    minutes = round((value - days) * 24 * 60)
    at = time(minutes // 60, minutes % 60) if 0 < minutes < 24 * 60 else None
    return EXCEL_EPOCH + timedelta(days=days), at


DAY_COUNT_TEXT = re.compile(r"^\d{5}(?:\.\d+)?$")  # "45366", "45366.5": a CSV's


def day_count(value) -> tuple[date, time | None] | None:
    """excel_day of a number cell, or of the number as a CSV writes it: a date column
    formatted "General", saved as CSV, holds Excel's counts of days."""
    if isinstance(value, str) and DAY_COUNT_TEXT.match(value.strip()):
        value = float(value)
    return excel_day(value)


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
