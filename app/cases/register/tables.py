"""The table of a register: its row of headings, found among the first rows, and the rows
below it as {heading: value}, numbered as the file (or the sheet) shows them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from itertools import zip_longest

from flask_babel import lazy_gettext as _l

from app.cases.register.cells import DATE_SHAPE
from app.cases.register.columns import column_of
from app.cases.register.positions import numbered
from app.cases.register.values import excel_day, read_date
from app.cases.register.vocabularies import VOCABULARIES
from app.form_fields import printable

HEADER_SEARCH_ROWS = 10  # a register may have a title above its headings


class RegisterError(Exception):
    """The file cannot be read as a register at all; the message says why."""


@dataclass
class Headings:
    """What the first rows of a table hold: its headings (None when no row names them) and
    the first row naming columns but not the date of the call (None when none does)."""

    names: list[str] | None
    dateless: int | None


def find_headings(rows: Iterator[tuple[int, list]]) -> Headings:
    """Read rows (numbered from 1) up to the row of headings, the first naming the date and
    another column of the format with no value no heading is; or up to HEADER_SEARCH_ROWS."""
    dateless = None  # a row naming columns but not the date: the message if none does
    for number, cells in rows:
        texts = _texts(cells)
        found = heading_row(cells, texts)
        if found is None and dateless is None:
            dateless = number
        if found:
            names = [t or _unnamed(index) for index, t in enumerate(texts)]
            refuse_repeated(names)
            return Headings(names, dateless)
        if number >= HEADER_SEARCH_ROWS:
            break
    return Headings(None, dateless)


def rows_below(
    rows: Iterator[tuple[int, list]], headings: list[str], *, sheet: int = 0
) -> Iterator[tuple[int, dict]]:
    """The rows below the headings that hold something, each numbered with its sheet."""
    headings = list(headings)
    read = {h for h in headings if column_of(h)}  # columns past them: unnamed
    first_below = True
    for number, cells in rows:
        if first_below and _more_headings(_texts(cells), headings):
            raise RegisterError(
                _l(
                    "Rows %(first)d and %(second)d both hold column names (a heading merged "
                    "over the names below it?): keep one row of headings, one name a column.",
                    first=number - 1,
                    second=number,
                )
            )
        first_below = False
        if len(cells) > len(headings):  # values past the last heading: named, not cut off
            headings += [_unnamed(index) for index in range(len(headings), len(cells))]
        row = {h: v for h, v in zip(headings, cells, strict=False) if v not in (None, "")}
        if any(_filled(v) for h, v in row.items() if h in read) or _said(row):
            yield numbered(sheet, number), row


def dateless_refusal(row: int):
    """The refusal of a table whose headings name columns but not the date."""
    return _l(
        "Row %(row)d names columns but not the date of the call ('ngày tiếp nhận'), "
        "which every row needs: add that column (see docs/import.md).",
        row=row,
    )


def no_headings(*, csv: bool = False, sheets: int = 1):
    """The refusal of a file in which no row of headings was found: of a CSV, with the hint
    that its letters may have been lost; of a workbook of several sheets, saying each was
    looked at."""
    if sheets > 1:
        return _l(
            "No row of headings was found in the first %(n)d rows of any of the %(sheets)d "
            "sheets the workbook shows (hidden sheets are not read): the sheets of the "
            "register need a row with column names such as 'ngày tiếp nhận' and 'giới tính' "
            "(see docs/import.md).",
            n=HEADER_SEARCH_ROWS,
            sheets=sheets,
        )
    if csv:
        return _l(
            "No row of headings was found in the first %(n)d rows: the file needs a row with "
            "column names such as 'ngày tiếp nhận' and 'giới tính' (see docs/import.md). If "
            "its column names are there but their Vietnamese letters show wrongly, open the "
            "file in Excel and save it again as CSV UTF-8.",
            n=HEADER_SEARCH_ROWS,
        )
    return _l(
        "No row of headings was found in the first %(n)d rows: the file needs a row with "
        "column names such as 'ngày tiếp nhận' and 'giới tính' (see docs/import.md).",
        n=HEADER_SEARCH_ROWS,
    )


def holds_anything(rows: list[list]) -> bool:
    """Whether rows hold any value, text of spaces aside."""
    return any(v is not None and _filled(v) and v != "" for cells in rows for v in cells)


def heading_row(cells: list, texts: list[str] | None = None) -> bool | None:
    """Whether a row is the row of headings: it names two columns of the format, the date of the
    call among them (the one column every row needs), and holds no value no heading is. None:
    a row of headings but for the date's. A first row of data under headings the format does
    not know may hold two values that name columns ("Điện thoại", "Rượu bia"); unless one of
    them names the date too, it is not taken for the headings, so its other cells (a survivor's
    name) are never reported as unknown column names."""
    texts = _texts(cells) if texts is None else texts
    named = [name for name in map(column_of, filter(None, texts)) if name]
    if len(named) < 2 or _holds_data(cells, texts):
        return False
    return True if "date" in named else None


def _texts(cells: list) -> list[str]:
    """A row's cells as text, spaces made single."""
    return ["" if v is None else " ".join(str(v).split()) for v in cells]


def _filled(value) -> bool:
    """Whether a cell holds something: a value, or text that is not only spaces."""
    return not isinstance(value, str) or bool(value.strip())


def _said(row: dict) -> bool:
    """Whether a row holds something other than numbers in the columns the import does not
    read: a note there, with nothing in the columns it reads, is the row's error to see (a
    date missing), while a template's row numbered ahead ("STT" alone) is no row at all."""
    return any(
        _filled(value) and not (isinstance(value, int | float) or str(value).strip().isdigit())
        for value in row.values()
    )


# A phone number: nine digits or more (a mobile without its 0), with spaces, dots, dashes, a
# plus. A span of years ("2023-2024", eight) or an age band may name a column.
PHONE_LIKE = re.compile(r"^\+?[\d\s.()-]*$")


def _holds_data(cells: list, texts: list[str]) -> bool:
    """Whether a row holds a value no heading is: a date as the import reads one (a date cell,
    a workbook's day count, "01/03/2026 14h30", "2026-03-01 14:30:00.000") or a phone number.
    Such a row is never taken for the headings, though two of its values name columns (a first
    row of data whose channel is "Điện thoại" and risk "Rượu bia", under headings the format
    does not know): its other cells, a survivor's name among them, would be reported as
    unknown column names. A year, a number or an age band may be a heading."""
    if any(isinstance(v, date) or excel_day(v) is not None for v in cells):  # datetime too
        return True
    for text in texts:
        if read_date(text) is not None or DATE_SHAPE.match(text):
            return True
        if PHONE_LIKE.match(text) and sum(ch.isdigit() for ch in text) >= 9:
            return True
    return False


def known_names(texts: list[str]) -> int:
    """How many cells of a row name a column of the format."""
    return sum(1 for text in texts if text and column_of(text))


def _more_headings(texts: list[str], headings: list[str]) -> bool:
    """Whether the row below the headings names columns too: most of its filled cells, two at
    least. A value its own column accepts is no name, though it names another column ("Phone"
    under 'channel', "counselling" under 'reason', "Closed" under 'status'), else an ordinary
    first row of data would be refused as a second row of headings."""
    filled = named = 0
    for text, heading in zip_longest(texts, headings, fillvalue=""):
        if not text:
            continue
        filled += 1
        values = VOCABULARIES.get(column_of(heading) or "") if heading else None
        if column_of(text) and not (values and values.match(text)):
            named += 1
    return named >= 2 and 2 * named >= filled


def _unnamed(index: int) -> str:
    """A column without a heading, by its letter as Excel shows it and its number ("[G, 7]",
    which names no column, as "[XA]" would: "xã"): its values are reported as those of an
    unknown column, not dropped unsaid."""
    return f"[{letters(index)}, {index + 1}]"


def letters(index: int) -> str:
    """The letters Excel names a column by, from its index from 0 (0 is A, 39 is AN)."""
    letters, rest = "", index + 1
    while rest:
        rest, letter = divmod(rest - 1, 26)
        letters = chr(ord("A") + letter) + letters
    return letters


def refuse_repeated(headings: list[str]) -> None:
    seen: dict[str, str] = {}
    for heading in headings:
        name = column_of(heading) if heading else None
        if name and name in seen:
            raise RegisterError(
                _l(
                    "The columns '%(first)s' and '%(second)s' hold the same thing; keep one.",
                    first=printable(seen[name]),
                    second=printable(heading),
                )
            )
        if name:
            seen[name] = heading
