"""What makes a register row itself, whatever file it comes in (see import_run.row_key): the
basis its intake key is a keyed hash of, and the bases earlier versions of the import gave it,
so a register imported then is still found."""

from __future__ import annotations

import json
from datetime import date

from app.cases.register.cells import WHEN_COLUMNS, Cells
from app.cases.register.values import day_count, excel_day, is_nothing, read_clock, read_date
from app.crypto.blind import normalise_phone
from app.places.names import words


def key_basis(cells: Cells, external_id: str | None, day: date | None) -> str:
    """The row's old id with the date of the call (registers number their rows again each
    year), else every cell as read, so the same row found again, in the same file or in the
    same rows saved as CSV after XLSX (a date cell and "5/3/2024", a number cell 912345678 and
    "0912 345 678"), has the same basis."""
    if external_id:
        when = day.isoformat() if day else ""
        return "id|" + " ".join(external_id.split()).casefold() + "|" + when
    return _row_basis(cells)


def earlier_key_bases(cells: Cells, external_id: str | None, now: str) -> tuple[str, ...]:
    """The bases earlier versions of the import gave a row without an old id, where they
    differ from `now` (key_basis's): until 8 December 2026 a time of 00:00 written after a
    date was a time, and a CSV's count of days no date (an error); before that, a date cell of
    Excel's count of days was keyed as the number written."""
    if external_id:
        return ()
    bases: list[str] = []
    for excel in (True, False):
        basis = _row_basis(cells, excel=excel, current=False)
        if basis != now and basis not in bases:
            bases.append(basis)
    return tuple(bases)


def _row_basis(cells: Cells, *, excel: bool = True, current: bool = True) -> str:
    read = {
        name: _as_read(cells, name, excel=excel, current=current) for name in sorted(cells.cells)
    }
    return "row|" + json.dumps(read, ensure_ascii=False, sort_keys=True)


def _as_read(cells: Cells, name: str, *, excel: bool, current: bool) -> str:
    """A cell in the form its value is read in, whatever the file wrote it as (a date cell
    formatted "General", Excel's count of days, as the date it is read as: `excel`; a CSV's
    count and a time of 00:00 after a date as read since 8 December 2026: `current`)."""
    raw, text = cells.raw(name), cells.texts[name]
    if is_nothing(text):
        return ""
    if name in WHEN_COLUMNS - {"time"} or name == "birth_date":
        found = read_date(raw, midnight=not current)
        if found is None and excel and name != "birth_date":
            found = day_count(raw) if current else excel_day(raw)
        if found is not None:
            return found[0].isoformat() + (f" {found[1]:%H:%M}" if found[1] else "")
    elif name == "time":
        found = read_clock(raw)
        if found is not None:
            return f"{found:%H:%M}"
    elif name in ("phone", "caller_phone"):
        return normalise_phone(text) or ""
    return words(text, accents=True)
