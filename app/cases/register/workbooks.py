"""Reading a workbook (Excel's .xlsx, .xlsm and 97-2003 .xls, LibreOffice's .ods) as one
register: every sheet it shows that has a row of headings, in order (a hotline may keep a sheet
a month), with calamine, a Rust reader about ten times faster than openpyxl. Hidden sheets
(the lists of a template's drop-downs) are not read; a sheet it shows holding rows but no
headings (instructions, a summary) is named in a warning as not read."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

from flask_babel import lazy_gettext as _l

from app.cases.register.sheets import too_far
from app.cases.register.tables import (
    HEADER_SEARCH_ROWS,
    RegisterError,
    dateless_refusal,
    find_headings,
    heading_row,
    holds_anything,
    letters,
    no_headings,
    rows_below,
)


def workbook_rows(path: Path, notes: list) -> Iterator[tuple[int, dict]]:
    """The rows of the sheets the workbook shows, each numbered by its sheet (when it shows
    more than one) and its row; what is not read is said in `notes`."""
    from python_calamine import CalamineError, CalamineWorkbook, SheetVisibleEnum

    _refuse_far_reach(path)
    try:
        book = CalamineWorkbook.from_path(str(path))
        shown = [
            (index, sheet)
            for index, sheet in enumerate(book.sheets_metadata)
            if sheet.visible == SheetVisibleEnum.Visible
        ]
    except (CalamineError, OSError, ValueError, IndexError) as exc:
        raise RegisterError(_l("The file cannot be opened as an Excel workbook.")) from exc
    try:
        yield from _shown_sheets(book, shown, notes)
    finally:
        book.close()


def _shown_sheets(book, shown: list, notes: list) -> Iterator[tuple[int, dict]]:
    """The rows below the headings of each sheet shown that has them; the file refused when
    none has."""
    from python_calamine import SheetTypeEnum

    several = len(shown) > 1
    read, dateless = 0, None
    for position, (index, meta) in enumerate(shown, start=1):
        if meta.typ != SheetTypeEnum.WorkSheet:  # a chart: no cells
            continue
        sheet = position if several else 0
        cells = _sheet_cells(book, index)
        rows = enumerate(cells, start=1)
        try:
            found = find_headings(rows)
            if found.names is None:
                dateless = dateless or (found.dateless and (sheet, found.dateless))
                if several and (found.dateless or holds_anything(cells)):
                    notes.append(_not_read(position, found.dateless))
                continue
            read += 1
            yield from rows_below(rows, found.names, sheet=sheet)
        except RegisterError as exc:
            raise _on_sheet(sheet, exc.args[0]) from exc
    if not read and dateless:
        raise _on_sheet(dateless[0], dateless_refusal(dateless[1]))
    if not read:
        raise RegisterError(no_headings(sheets=len(shown)))


def _on_sheet(sheet: int, message) -> RegisterError:
    """A refusal about a table, naming its sheet in a workbook of several."""
    if sheet:
        message = _l("Sheet %(sheet)d: %(problem)s", sheet=sheet, problem=message)
    return RegisterError(message)


def _not_read(sheet: int, dateless: int | None):
    """The warning for a sheet shown but not read, and why."""
    if dateless:
        return _l(
            "Sheet %(sheet)d was not read: its row %(row)d names columns but not the date of "
            "the call ('ngày tiếp nhận'); add that column if the sheet is part of the register.",
            sheet=sheet,
            row=dateless,
        )
    return _l(
        "Sheet %(sheet)d was not read: it holds rows, but none of its first %(n)d rows names "
        "the columns (see docs/import.md); if it is part of the register, give it a row of "
        "headings.",
        sheet=sheet,
        n=HEADER_SEARCH_ROWS,
    )


def _sheet_cells(book, index: int) -> list[list]:
    """A sheet's rows from A1, each cell as openpyxl gives an .xlsx cell: None for an empty
    cell, a whole number as an int, a date as a datetime at midnight."""
    from python_calamine import CalamineError

    try:
        sheet = book.get_sheet_by_index(index)
        rows = sheet.to_python(skip_empty_area=False)  # from A1, so row numbers are Excel's
    except (CalamineError, OSError, ValueError, IndexError) as exc:
        raise RegisterError(_l("The file cannot be opened as an Excel workbook.")) from exc
    try:
        merged = sheet.merged_cell_ranges or ()
    except (CalamineError, ValueError):  # a format that keeps none
        merged = ()
    for number, cells in enumerate(rows):  # in place: one sheet's rows in memory, not two
        rows[number] = [_cell(value) for value in cells]
    _fill_down(rows, merged)
    return rows


def _fill_down(rows: list[list], merged) -> None:
    """A cell merged down over rows of the table (the date of a day's calls, say) counts for
    each of them, as Excel shows it; Excel keeps its value in the top cell only. One merged
    across columns stays in its first column: copied, one value would count in two columns.
    Headings merged down over two rows (a form's habit) stay as they are: copied, the row
    below would hold a second row of headings."""
    heading = next(
        (n for n, cells in enumerate(rows[:HEADER_SEARCH_ROWS]) if heading_row(cells) is True),
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
    if not far:
        return
    sheet, row, column = far
    cell = f"{letters(column - 1)}{row}"
    if not sheet:
        raise RegisterError(
            _l(
                "A hidden sheet of the workbook reaches as far as cell %(cell)s, too far for "
                "the import to read: show it (right-click a sheet's tab, Unhide), then delete "
                "it or the rows and columns past its table, and save the file.",
                cell=cell,
            )
        )
    raise RegisterError(
        _l(
            "Sheet %(sheet)d of the workbook reaches as far as cell %(cell)s, too far for "
            "the import to read: if nothing belongs there, delete the rows and columns past "
            "your table (Ctrl+End goes to the last cell in use) and save the file; a "
            "register that large must be split into smaller files (see docs/import.md).",
            sheet=sheet,
            cell=cell,
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
