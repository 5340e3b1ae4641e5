"""Dates written month first, found before anything is written. Excel set to English (United
States) saves a CSV's dates as m/d/yyyy: read day first, 3/4/2024 (4 March) would be 3 April,
without a word, and only the rows whose day is over 12 refused. So a file holding one text date
that can only be month first (3/15/2024) is refused whole, in a dry run too. And in a workbook,
where that Excel turns 03/04/2024 typed into a date cell of 4 March but leaves 15/03/2024 as
text, a date column holding date cells and dates typed as text gets a warning."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from datetime import date

from flask_babel import lazy_gettext as _l

from app.cases.register.cells import shape
from app.cases.register.columns import column_of
from app.cases.register.positions import RowAt
from app.cases.register.tables import RegisterError
from app.cases.register.values import DMY, cell_text, read_date
from app.form_fields import printable

DATE_COLUMNS = frozenset({"date", "incident_date", "closed_on", "birth_date"})


class DateOrder:
    """Watches the date columns of the rows read: refuses the file at the first date that can
    only be month first; notes (in `notes`) a column mixing date cells and text dates."""

    def __init__(self, notes: list):
        self.notes = notes
        self.kinds: dict[str, str | None] = {}  # heading: its date column, or None
        self.cells: set[str] = set()  # columns holding a date cell
        self.texts: dict[str, int] = {}  # columns holding a text date: the first row
        self.told: set[str] = set()

    def watch(self, rows: Iterable[tuple[int, dict]]) -> Iterator[tuple[int, dict]]:
        """The rows, as they are read (the file closed, whatever stops them)."""
        kinds = self.kinds
        with contextlib.closing(rows) if hasattr(rows, "close") else contextlib.nullcontext():
            for number, row in rows:
                for heading, value in row.items():
                    name = kinds.get(heading, "")
                    if name == "":
                        name = kinds[heading] = _date_column(heading)
                    if name is not None:
                        self._look(name, heading, number, value)
                yield number, row

    def _look(self, name: str, heading: str, number: int, value) -> None:
        if isinstance(value, date):  # a datetime too
            self.cells.add(heading)
        elif isinstance(value, str):
            text = cell_text(value)
            found = DMY.match(text)
            if not found:
                return
            first, second = int(found[1]), int(found[2])
            if first <= 12 < second <= 31:
                raise RegisterError(_month_first(name, heading, number, text))
            if read_date(text) is not None:
                self.texts.setdefault(heading, number)
        else:
            return
        if heading in self.cells and heading in self.texts and heading not in self.told:
            self.told.add(heading)
            self.notes.append(_mixed(heading, self.texts[heading]))


def _date_column(heading: str) -> str | None:
    name = column_of(heading)
    return name if name in DATE_COLUMNS else None


def _month_first(name: str, heading: str, number: int, text: str):
    """The refusal of a file whose dates are month first; a date of birth by its shape."""
    return _l(
        "%(where)s, column '%(column)s': '%(value)s' can only be a date written month first "
        "(month/day/year), as Excel set to English (United States) saves dates. The file's "
        "other dates would then be read with day and month swapped, so nothing was imported: "
        "format the date columns as dd/mm/yyyy (Format Cells, Date, Vietnamese) or set "
        "Windows' region to Vietnam, save the file again, and import it.",
        where=RowAt(number, start=True),
        column=printable(heading),
        value=printable(shape(text) if name == "birth_date" else text),
    )


def _mixed(heading: str, number: int):
    """The warning for a date column of a workbook holding date cells and text dates."""
    return _l(
        "Column '%(column)s' holds both date cells and dates typed as text (%(where)s, say): "
        "Excel set to English (United States) turns 03/04/2024 typed into a date cell of "
        "4 March, and leaves 15/03/2024 as text. Check that its date cells show the dates "
        "meant (format the column as dd/mm/yyyy to see them).",
        column=printable(heading),
        where=RowAt(number),
    )
