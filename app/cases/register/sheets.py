"""How far a workbook's sheets reach, found without loading them. calamine builds a sheet as one
block of cells from A1 to its last cell holding a value, so one stray value at AN1048576 in a
5 KB .xlsx takes 1.8 GB and seconds to read (at XFD1048576, more memory than a server has): the
reader (files.py) refuses such a sheet before calamine opens the file.

The XML is the user's own, read as a stream by expat, which never fetches an external entity
and (from 2.4) bounds entity expansion."""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO
from xml.parsers.expat import ExpatError, ParserCreate

# Rows times columns from A1, about 45 bytes each once read: 100,000 rows of 50 columns (five
# times the largest register measured, docs/performance.md) in about 250 MB.
CELL_LIMIT = 5_000_000
CELL_REF = re.compile(r"^\$?([A-Z]{1,3})\$?(\d{1,7})$")
ODS_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0}"  # as expat names them
ODS_SHEET, ODS_ROW = f"{ODS_TABLE}table", f"{ODS_TABLE}table-row"
# A cell under a merged one takes its column too.
ODS_CELLS = frozenset((f"{ODS_TABLE}table-cell", f"{ODS_TABLE}covered-table-cell"))
ODS_ROWS_REPEATED = f"{ODS_TABLE}number-rows-repeated"
ODS_COLUMNS_REPEATED = f"{ODS_TABLE}number-columns-repeated"
ODS_VALUE_TYPE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0}value-type"
ODS_STYLE_NS = "urn:oasis:names:tc:opendocument:xmlns:style:1.0}"
ODS_STYLE, ODS_STYLE_NAME = f"{ODS_STYLE_NS}style", f"{ODS_STYLE_NS}name"
ODS_TABLE_PROPERTIES = f"{ODS_STYLE_NS}table-properties"  # table:display="false": hidden
ODS_DISPLAY, ODS_SHEET_STYLE = f"{ODS_TABLE}display", f"{ODS_TABLE}style-name"
HIDDEN = ("hidden", "veryHidden")  # a sheet's state in xl/workbook.xml
UNREADABLE = (zipfile.BadZipFile, KeyError, ExpatError, OSError, ValueError)


def too_far(path: Path) -> tuple[int, int, int] | None:
    """(sheet, last row, last column), all counted from 1, of a sheet calamine would read whose
    block from A1 is over CELL_LIMIT; None when none is, or when this cannot tell (calamine then
    says what is wrong with the file). A sheet is told by its place among the sheets the
    workbook shows, as files.py numbers them (0: a hidden sheet, which an .ods has read too):
    its name may be anything, a person's name too, and the message ends up in logs."""
    try:
        with zipfile.ZipFile(path) as book:
            names = book.namelist()
            if "content.xml" in names:  # LibreOffice: calamine reads every sheet on opening
                with book.open("content.xml") as xml:
                    return next(iter(_OdsSheets().walk(xml).far), None)
            if "xl/workbook.xml" in names:  # Excel 2007 and later: the sheets it shows
                return _far_sheet(book)
    except UNREADABLE:
        pass
    return None  # .xls: no cheaper reading than calamine's (docs/import.md)


def _far_sheet(book: zipfile.ZipFile) -> tuple[int, int, int] | None:
    """The first sheet the workbook shows that reaches too far: its <dimension> says so when
    small enough, else its cells are read (the dimension counts cells only formatted, which
    calamine leaves out, and some writers leave it out or write "A1")."""
    for number, part in enumerate(_shown_sheets(book), start=1):
        with book.open(part) as xml:
            far = _position(_dimension(xml).rpartition(":")[2])
        if far and far != (1, 1) and far[0] * far[1] <= CELL_LIMIT:
            continue
        with book.open(part) as xml:
            cells = _XlsxCells().walk(xml)
        if cells.row * cells.column > CELL_LIMIT:
            return number, cells.row, cells.column
    return None


def _shown_sheets(book: zipfile.ZipFile) -> list[str]:
    """The paths in the zip of the sheets the workbook shows (files.py reads those only), in
    the order of xl/workbook.xml's <sheets>, found through the workbook's relationships."""
    sheets: list[dict] = []
    targets: dict[str, str] = {}

    def sheet(name: str, attributes: dict) -> None:
        if _local(name) == "sheet" and attributes.get("state") not in HIDDEN:
            sheets.append(attributes)

    def relationship(name: str, attributes: dict) -> None:
        if _local(name) == "Relationship":
            targets[attributes.get("Id", "")] = attributes.get("Target", "")

    _walk(book.read("xl/workbook.xml"), sheet)
    _walk(book.read("xl/_rels/workbook.xml.rels"), relationship)
    parts = []
    for attributes in sheets:
        rid = next((v for k, v in attributes.items() if k.endswith("}id")), "")
        target = targets[rid]  # KeyError: not a workbook this can read
        part = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
        parts.append(posixpath.normpath(part))
    return parts


class _Found(Exception):
    """Stops reading a part once what was looked for is found."""


def _dimension(xml: IO[bytes]) -> str:
    """The ref of the sheet's <dimension> ("A1:AN1048576"; "" if none), before its cells."""
    found: list[str] = []

    def start(name: str, attributes: dict) -> None:
        if _local(name) == "dimension":
            found.append(attributes.get("ref", ""))
        if _local(name) in ("dimension", "sheetData"):
            raise _Found

    try:
        _walk(xml, start)
    except _Found:
        pass
    return found[0] if found else ""


class _XlsxCells:
    """The last row and column of a sheet's cells holding a value (a <v> or an <is>); a row or
    cell without its reference (r="...") follows the one before it."""

    def __init__(self) -> None:
        self.row = self.column = 0  # the reach so far
        self._at = (0, 0)
        self._in_cell = False

    def walk(self, xml: IO[bytes]) -> _XlsxCells:
        _walk(xml, self._start, self._end)
        return self

    def _start(self, name: str, attributes: dict) -> None:
        kind, (row, column) = _local(name), self._at
        if kind == "row":
            self._at = int(attributes.get("r") or row + 1), 0
        elif kind == "c":
            self._at = _position(attributes.get("r", "")) or (row, column + 1)
            self._in_cell = True
        elif kind in ("v", "is") and self._in_cell:
            self.row, self.column = max(self.row, row), max(self.column, column)

    def _end(self, name: str) -> None:
        if _local(name) == "c":
            self._in_cell = False


class _OdsSheets:
    """The sheets of an .ods reaching too far. A run of rows or of cells alike is written once
    with how many times it repeats (LibreOffice ends a sheet with a million empty rows); a cell
    holds a value when it has a type or anything inside it. A sheet is numbered among those
    the workbook shows (0: hidden by its style). (Called for each of a million elements in a
    register of 20,000 rows, about a second: names are compared whole.)"""

    def __init__(self) -> None:
        self.far: list[tuple[int, int, int]] = []
        self._number = self._shown = 0
        self._style, self._hidden_styles = "", set()
        self._begin_sheet()

    def walk(self, xml: IO[bytes]) -> _OdsSheets:
        _walk(xml, self._start, self._end)
        return self

    def _begin_sheet(self) -> None:
        self.row = self.column = 0  # the sheet's reach so far
        self._rows, self._repeats, self._column, self._in_cell, self._held = 0, 1, 0, False, False

    def _start(self, name: str, attributes: dict) -> None:
        if self._in_cell:  # text, or anything else, inside a cell
            self._held = True
        elif name in ODS_CELLS:
            self._column += int(attributes.get(ODS_COLUMNS_REPEATED, 1))
            self._in_cell, self._held = True, ODS_VALUE_TYPE in attributes
        elif name == ODS_ROW:
            self._repeats, self._column = int(attributes.get(ODS_ROWS_REPEATED, 1)), 0
        elif name == ODS_SHEET:
            hidden = attributes.get(ODS_SHEET_STYLE) in self._hidden_styles
            self._shown += not hidden
            self._number = 0 if hidden else self._shown
            self._begin_sheet()
        elif name == ODS_STYLE:  # the styles come before the sheets
            self._style = attributes.get(ODS_STYLE_NAME, "")
        elif name == ODS_TABLE_PROPERTIES and attributes.get(ODS_DISPLAY) == "false":
            self._hidden_styles.add(self._style)

    def _end(self, name: str) -> None:
        if name in ODS_CELLS:
            if self._held:
                self.row = self._rows + self._repeats
                self.column = max(self.column, self._column)
            self._in_cell = self._held = False
        elif name == ODS_ROW:
            self._rows, self._repeats = self._rows + self._repeats, 1
        elif name == ODS_SHEET and self.row * self.column > CELL_LIMIT:
            self.far.append((self._number, self.row, self.column))


def _walk(xml: IO[bytes] | bytes, start: Callable, end: Callable | None = None) -> None:
    """Read XML as a stream, calling start(name, attributes) and end(name) for each element
    (named "namespace}name"), keeping nothing of it."""
    parser = ParserCreate(namespace_separator="}")
    parser.StartElementHandler = start
    if end is not None:
        parser.EndElementHandler = end
    if isinstance(xml, bytes):
        parser.Parse(xml, True)
    else:
        parser.ParseFile(xml)


def _position(ref: str) -> tuple[int, int] | None:
    """(row, column), 1-based, of a cell reference such as "AN1048576"."""
    match = CELL_REF.match(ref.upper())
    if not match:
        return None
    column = 0
    for letter in match.group(1):
        column = column * 26 + ord(letter) - ord("A") + 1
    return int(match.group(2)), column


def _local(name: str) -> str:
    return name.rpartition("}")[2]
