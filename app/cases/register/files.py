"""Reading a register file (XLSX, CSV or JSON lines) into rows of {heading: value}, numbered as
the file shows them, so every message points at the row a person sees in Excel."""

from __future__ import annotations

import codecs
import contextlib
import csv
import json
import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from itertools import zip_longest
from pathlib import Path

from flask_babel import lazy_gettext as _l

from app.cases.register.cells import DATE_SHAPE, excel_day
from app.cases.register.columns import column_of
from app.cases.register.sheets import too_far
from app.cases.register.values import read_date
from app.cases.register.vocabularies import VOCABULARIES
from app.form_fields import printable

HEADER_SEARCH_ROWS = 10  # a register may have a title above its headings
# Excel (2007 and later, with or without macros; 97-2003) and LibreOffice Calc.
SPREADSHEETS = (".xlsx", ".xlsm", ".xls", ".ods")
CSV_CELL_LIMIT = 1 << 24  # characters: far beyond any cell the row check accepts


class RegisterError(Exception):
    """The file cannot be read as a register at all; the message says why."""


def read_rows(path: str | Path) -> Iterator[tuple[int, dict]]:
    """(row number as the file shows it, {heading: value}) for every row that holds something:
    a row of a template numbered ahead (a number in "STT", nothing in a column the format
    reads) is no row of the register."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in SPREADSHEETS:
        return _table(_sheet_cells(path))
    if suffix in (".csv", ".tsv", ".txt"):
        return _table(_csv_cells(path))  # _table closes the file, whatever stops it
    if suffix in (".jsonl", ".ndjson", ".json"):
        return _json_lines(path)
    raise RegisterError(_l("Give a .xlsx, .xls, .ods, .csv or .jsonl (JSON lines) file."))


def _sheet_cells(path: Path) -> Iterator[list]:
    """The first sheet's rows from A1, read with calamine (a Rust reader of Excel's .xlsx and
    97-2003 .xls and of LibreOffice's .ods, about ten times faster than openpyxl), each cell as
    openpyxl gives an .xlsx cell: None for an empty cell, a whole number as an int, a date as a
    datetime at midnight."""
    from python_calamine import CalamineError, CalamineWorkbook

    _refuse_far_reach(path)
    try:
        book = CalamineWorkbook.from_path(str(path))
        sheet = book.get_sheet_by_index(0)
        rows = sheet.to_python(skip_empty_area=False)  # from A1, so row numbers are Excel's
    except (CalamineError, OSError, ValueError, IndexError) as exc:
        raise RegisterError(_l("The file cannot be opened as an Excel workbook.")) from exc
    try:
        merged = sheet.merged_cell_ranges or ()
    except (CalamineError, ValueError):  # a format that keeps none
        merged = ()
    _fill_down(rows, merged)
    try:
        for cells in rows:
            yield [_cell(value) for value in cells]
    finally:
        book.close()


def _fill_down(rows: list[list], merged) -> None:
    """A cell merged down over rows of the table (the date of a day's calls, say) counts for
    each of them, as Excel shows it; Excel keeps its value in the top cell only. One merged
    across columns stays in its first column: copied, one value would count in two columns.
    Headings merged down over two rows (a form's habit) stay as they are: copied, the row
    below would hold a second row of headings."""
    heading = next(
        (n for n, cells in enumerate(rows[:HEADER_SEARCH_ROWS]) if _headings(cells) is True),
        len(rows),
    )
    for (top, column), (bottom, right) in merged:
        if column != right or top <= heading or top >= len(rows) or column >= len(rows[top]):
            continue
        value = rows[top][column]
        for row in rows[top + 1 : bottom + 1]:
            if column < len(row) and row[column] in ("", None):
                row[column] = value


def _refuse_far_reach(path: Path) -> None:
    """Refuse, before calamine reads it, a sheet reaching so far (a stray value in row
    1,048,576, say) that reading it would take gigabytes (see sheets.py)."""
    far = too_far(path)
    if far:
        sheet, row, column = far
        raise RegisterError(
            _l(
                "Sheet %(sheet)d of the workbook reaches as far as cell %(cell)s, too far for "
                "the import to read: if nothing belongs there, delete the rows and columns past "
                "your table (Ctrl+End goes to the last cell in use) and save the file; a "
                "register that large must be split into smaller files (see docs/import.md).",
                sheet=sheet,
                cell=f"{_letters(column - 1)}{row}",
            )
        )


def _cell(value):
    if value == "":
        return None
    kind = type(value)
    if kind is float and value.is_integer():
        return int(value)
    if kind is date:
        return datetime(value.year, value.month, value.day)
    return value


def _csv_cells(path: Path) -> Iterator[list]:
    # A cell longer than the module's default limit (131,072 characters) is the row's problem,
    # reported by the row's check ("holds more than 20,000 characters"), not the file's.
    csv.field_size_limit(max(csv.field_size_limit(), CSV_CELL_LIMIT))
    with path.open("rb") as raw:
        head = raw.read(1 << 20)
    encoding = "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"  # Excel's "Unicode Text" (.txt, tab-separated): accents kept
    else:
        try:
            codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
        except UnicodeDecodeError:
            encoding = "cp1258"  # Excel's "CSV" on Vietnamese Windows
    delimiter = _separator(head.decode(encoding, errors="ignore"))
    with path.open(encoding=encoding, newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        try:
            yield from reader
        except UnicodeDecodeError as exc:
            raise RegisterError(_l("The CSV file cannot be read: save it as CSV UTF-8.")) from exc
        except csv.Error as exc:
            raise RegisterError(
                _l(
                    "The CSV file cannot be read at line %(line)d: open it in a spreadsheet "
                    "and save it again as CSV UTF-8.",
                    line=reader.line_num,
                )
            ) from exc


def _separator(text: str) -> str:
    """The separator that splits a row of the first lines into known headings (a title line
    may come first, and a data line hold more commas than the headings hold semicolons); else
    the one the first line uses most."""
    lines = text.split("\n", HEADER_SEARCH_ROWS)[:HEADER_SEARCH_ROWS]
    for mark in ",;\t":
        try:
            rows = list(csv.reader(lines, delimiter=mark))
        except csv.Error:
            continue
        if any(_known(row) >= 2 for row in rows):
            return mark
    return max(",;\t", key=lines[0].count)


def _table(rows: Iterable) -> Iterator[tuple[int, dict]]:
    """Find the heading row (the first naming the date and another column of the format, with
    no value no heading is), then yield the rows below."""
    with contextlib.closing(rows) if hasattr(rows, "close") else contextlib.nullcontext():
        yield from _rows_below_headings(rows)


def _rows_below_headings(rows: Iterable) -> Iterator[tuple[int, dict]]:
    headings: list[str] | None = None
    first_below = True
    dateless = None  # a row naming columns but not the date: the message if none does
    for number, cells in enumerate(rows, start=1):
        texts = _texts(cells)
        if headings is None:
            found = _headings(cells, texts)
            if found is None and dateless is None:
                dateless = number
            if found:
                headings = [t or _unnamed(index) for index, t in enumerate(texts)]
                _refuse_repeated(headings)
                read = {h for h in headings if column_of(h)}  # columns past them: unnamed
            elif number >= HEADER_SEARCH_ROWS:
                break
            continue
        if first_below and _more_headings(texts, headings):
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
            yield number, row
    if headings is None and dateless is not None:
        raise RegisterError(
            _l(
                "Row %(row)d names columns but not the date of the call ('ngày tiếp nhận'), "
                "which every row needs: add that column (see docs/import.md).",
                row=dateless,
            )
        )
    if headings is None:
        raise RegisterError(
            _l(
                "No row of headings was found in the first %(n)d rows: the file needs a row "
                "with column names such as 'ngày tiếp nhận' and 'giới tính' (see docs/import.md).",
                n=HEADER_SEARCH_ROWS,
            )
        )


def _headings(cells: list, texts: list[str] | None = None) -> bool | None:
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


def _known(texts: list[str]) -> int:
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
    return f"[{_letters(index)}, {index + 1}]"


def _letters(index: int) -> str:
    """The letters Excel names a column by, from its index from 0 (0 is A, 39 is AN)."""
    letters, rest = "", index + 1
    while rest:
        rest, letter = divmod(rest - 1, 26)
        letters = chr(ord("A") + letter) + letters
    return letters


def _refuse_repeated(headings: list[str]) -> None:
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


def _json_lines(path: Path) -> Iterator[tuple[int, dict]]:
    try:
        yield from _json_objects(path)
    except UnicodeDecodeError as exc:
        raise RegisterError(_l("The JSON lines file cannot be read: save it as UTF-8.")) from exc


def _json_objects(path: Path) -> Iterator[tuple[int, dict]]:
    with path.open(encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                # NaN and Infinity (what pandas and Python's json write for an empty cell)
                # are empty cells.
                row = json.loads(line, parse_constant=lambda _: None)
            except ValueError:
                row = None
            if not isinstance(row, dict):
                raise RegisterError(_l("Line %(n)d is not a JSON object.", n=number))
            _refuse_repeated([str(k) for k in row])
            yield number, {str(k): v for k, v in row.items() if v not in (None, "", [])}


def unknown_columns(headings: Iterable[str]) -> list[str]:
    """Headings that name no column of the format (their values are not imported)."""
    return [h for h in headings if not column_of(h)]
