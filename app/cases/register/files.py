"""Reading a register file (XLSX, CSV or JSON lines) into rows of {heading: value}, numbered as
the file shows them, so every message points at the row a person sees in Excel (a workbook's
sheets: workbooks.py; the table of headings and rows: tables.py)."""

from __future__ import annotations

import codecs
import contextlib
import csv
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from flask_babel import lazy_gettext as _l

from app.cases.register.columns import column_of
from app.cases.register.date_order import DateOrder
from app.cases.register.tables import (
    HEADER_SEARCH_ROWS,
    RegisterError,
    dateless_refusal,
    find_headings,
    known_names,
    no_headings,
    refuse_repeated,
    rows_below,
)
from app.cases.register.workbooks import workbook_rows

__all__ = ["RegisterError", "read_rows", "unknown_columns"]

# Excel (2007 and later, with or without macros; 97-2003) and LibreOffice Calc.
SPREADSHEETS = (".xlsx", ".xlsm", ".xls", ".ods")
CSV_CELL_LIMIT = 1 << 24  # characters: far beyond any cell the row check accepts
# A letter lost when the file was saved: Excel's plain "CSV" on Windows set to English writes
# Windows-1252, where each letter it lacks ("ễ", "ư", "đ") becomes "?": "Nguy?n Th? H??ng".
# A question mark between two letters; one in a link ("?id=") is a single word.
LOST_LETTER = re.compile(r"[^\W\d_]\?+[^\W\d_]")
LOST_LETTER_LINES = 2 * HEADER_SEARCH_ROWS  # the headings and the first rows below them


def read_rows(path: str | Path, notes: list | None = None) -> Iterator[tuple[int, dict]]:
    """(row number as the file shows it, {heading: value}) for every row that holds something:
    a row of a template numbered ahead (a number in "STT", nothing in a column the format
    reads) is no row of the register. What the reading finds to say of the file as a whole (a
    sheet not read, dates of two kinds in a column) is added to `notes`, emptied first."""
    path = Path(path)
    notes = [] if notes is None else notes
    notes.clear()
    suffix = path.suffix.lower()
    if suffix in SPREADSHEETS:
        rows = workbook_rows(path, notes)
    elif suffix in (".csv", ".tsv", ".txt"):
        rows = _table(_csv_cells(path))  # _table closes the file, whatever stops it
    elif suffix in (".jsonl", ".ndjson", ".json"):
        rows = _json_lines(path)
    else:
        raise RegisterError(_l("Give a .xlsx, .xls, .ods, .csv or .jsonl (JSON lines) file."))
    return DateOrder(notes).watch(rows)


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
    text = head.decode(encoding, errors="ignore")
    _refuse_lost_letters(text)
    delimiter = _separator(text)
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


def _refuse_lost_letters(text: str) -> None:
    """Refuse a CSV whose first lines show letters lost when it was saved ("Nguy?n", "ti?p"):
    imported, every name and note would keep its question marks, and the headings would not
    be found."""
    lines = text.split("\n", LOST_LETTER_LINES)[:LOST_LETTER_LINES]
    if any(ch.isalpha() and ord(ch) > 0xFF for line in lines for ch in line):
        # A letter Windows-1252 lacks ("ư", "đ", "ạ") is there: the file lost none of them,
        # and a "?" between letters is typed ("đi đâu?Sao về muộn").
        return
    lost = sum(len(LOST_LETTER.findall(line)) for line in lines)
    if lost >= 2:
        raise RegisterError(
            _l(
                "This file lost its Vietnamese letters when it was saved (they show as '?'): "
                "open the register in Excel and save it again as CSV UTF-8 (File, Save As, "
                "then 'CSV UTF-8 (Comma delimited)'), or save it as .xlsx, and import that "
                "file."
            )
        )


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
        if any(known_names(row) >= 2 for row in rows):
            return mark
    return max(",;\t", key=lines[0].count)


def _table(rows: Iterable) -> Iterator[tuple[int, dict]]:
    """Find the heading row (the first naming the date and another column of the format, with
    no value no heading is), then yield the rows below."""
    with contextlib.closing(rows) if hasattr(rows, "close") else contextlib.nullcontext():
        numbered = enumerate(rows, start=1)
        found = find_headings(numbered)
        if found.names is None and found.dateless is not None:
            raise RegisterError(dateless_refusal(found.dateless))
        if found.names is None:
            raise RegisterError(no_headings(csv=True))
        yield from rows_below(numbered, found.names)


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
            refuse_repeated([str(k) for k in row])
            yield number, {str(k): v for k, v in row.items() if v not in (None, "", [])}


def unknown_columns(headings: Iterable[str]) -> list[str]:
    """Headings that name no column of the format (their values are not imported)."""
    return [h for h in headings if not column_of(h)]
