"""Where a row is in its file. A row of a workbook of several sheets is numbered by its sheet
and its row, in one whole number, so the import's numbers stay ordered and cheap to pass
between its two processes: sheet 2, row 14 is 2 * SHEET_ROWS + 14. A CSV, a JSON-lines file
and a workbook of one sheet have sheet 0: their rows are numbered as the file shows them.

A sheet is named by its place among the sheets the workbook shows (hidden ones are not
counted), never by its name: a tab may be named after a person, and the report ends up in
terminal logs and tickets."""

from __future__ import annotations

from flask_babel import gettext as _

SHEET_ROWS = 1 << 21  # more rows than a sheet holds (Excel and LibreOffice: 1,048,576)


def numbered(sheet: int, row: int) -> int:
    """The number of a row of a sheet (0: the file has no sheets to tell apart)."""
    return sheet * SHEET_ROWS + row


def place(number: int) -> tuple[int, int]:
    """(sheet, row) of a row's number."""
    return divmod(number, SHEET_ROWS)


class RowAt:
    """ "row 14", or "sheet 2, row 14" in a workbook of several sheets, in the language in
    force when shown (`start`: at the head of a line, "Row 14", "Sheet 2, row 14")."""

    def __init__(self, number: int, *, start: bool = False):
        self.sheet, self.row = place(number)
        self.start = start

    def __str__(self) -> str:
        if self.sheet and self.start:
            return _("Sheet %(sheet)d, row %(row)d", sheet=self.sheet, row=self.row)
        if self.sheet:
            return _("sheet %(sheet)d, row %(row)d", sheet=self.sheet, row=self.row)
        return _("Row %(row)d", row=self.row) if self.start else _("row %(row)d", row=self.row)
