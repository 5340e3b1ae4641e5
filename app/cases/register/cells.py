"""The cells of one row, read into values; each problem is named in plain words with its column
and value, as a lazy string shown in the importing person's language."""

from __future__ import annotations

import re
from datetime import date, time

from flask_babel import lazy_gettext as _l

from app.cases.ages import MAX_AGE
from app.cases.register.columns import COLUMNS, column_of
from app.cases.register.phones import shortened, with_its_zero
from app.cases.register.values import (
    cell_text,
    day_count,
    is_nothing,
    read_age,
    read_clock,
    read_date,
    split_list,
)
from app.cases.register.vocabularies import FORM_WORDS, VOCABULARIES, Vocabulary
from app.clock import YEARS
from app.crypto.blind import holds_several_numbers
from app.form_fields import TEXT_LENGTH, printable
from app.places.names import words

PHONE_LIMIT = 40  # characters, as the intake's number fields
OLD_ID_LENGTH = 100  # an old register's row id ("HN-2023-0123"); longer is another column's text
# Columns about the person, sealed when stored: a problem names their cell by row and column
# and shows its value only by its shape (9 a digit, x a letter), so the report the command
# prints (often kept in a terminal log, a cron mail or a ticket) holds no personal data.
PERSONAL = frozenset(
    {
        "caller_phone",
        "phone",
        "age",
        "birth_date",
        "ethnicity",
        "disability",
        "province",
        "commune",
        "perpetrator_age",
    }
)


# Columns of dates and times: a value shaped as a date or a time is shown as written
# ("31/02/2024", "15/13/2024 25:30"), anything else by its shape (a phone number typed there:
# "0912 345 678", "0912.34.5678" has more digits than a date's 8).
WHEN_COLUMNS = frozenset({"date", "time", "incident_date", "closed_on"})
DATE_SHAPE = re.compile(
    r"^(\d{1,4}[/.\-]\d{1,2}[/.\-]\d{1,4})(?:[ T]+\d{1,2}(?:[:hH]\d{0,2}){0,2})?$"
)
TIME_SHAPE = re.compile(r"^\d{1,2}(?:[:hH]\d{0,2}){0,2}$")
# Where a coded column's value splits into parts: each part is shown when it is a value of the
# column's list, else by its shape ("chồng (Trần Văn Bình)" gives "chồng (xxxx xxx xxxx)").
PARTS = re.compile(r"(\s*[(),;|/\n]+\s*|\s+-\s+)")


def _known_or_shape(part: str, vocabulary: Vocabulary) -> str:
    """A part of a coded cell as a message shows it: as written when it is a value of the
    list (or a separator) or every word of it is ("nam nữ"); else its first word as written if
    that is a value of the list ("chị xxx") and every other word by its shape. A value word
    later in a part is shaped too: words such as "Nam" are given names as well ("Trần Văn
    Nam" gives "xxxx xxx xxx")."""
    if not part or PARTS.fullmatch(part) or vocabulary.match(part):
        return part
    words_ = part.split(" ")
    if all(vocabulary.match(w) for w in words_ if w):
        return part
    first = words_[0] if vocabulary.match(words_[0]) else shape(words_[0])
    return " ".join([first, *map(shape, words_[1:])])


def _dated(text: str) -> bool:
    """Whether a text is shaped as a date (at most 8 digits, a time after it) or a time."""
    found = DATE_SHAPE.match(text)
    if found:
        return sum(ch.isdigit() for ch in found[1]) <= 8
    return TIME_SHAPE.match(text) is not None


def shape(text: str) -> str:
    """A value with every digit written 9 and every letter x: "0912 345 678 (chị Mai)" gives
    "9999 999 999 (xxx xxx)", enough to see what is wrong with it, nothing of who it is."""
    return "".join("9" if ch.isdigit() else "x" if ch.isalpha() else ch for ch in text)


class Choices:
    """ "A, B, C or D": the labels of a list, in the language in force when shown."""

    def __init__(self, vocabulary: Vocabulary):
        self.labels = list(vocabulary.labels.values())

    def __str__(self) -> str:
        shown = [str(label) for label in self.labels]
        return str(_l("%(items)s or %(last)s", items=", ".join(shown[:-1]), last=shown[-1]))


class Cells:
    """The row's cells by column name, read into values; the problems found on the way."""

    def __init__(self, row: dict):
        self.row = row
        self.cells: dict[str, tuple[str, object]] = {}
        self.texts: dict[str, str] = {}
        for heading, value in row.items():
            name = column_of(heading)
            if name and name not in self.cells:
                text = cell_text(value)
                if text:
                    self.cells[name], self.texts[name] = (heading, value), text
        self.errors: list = []
        self.warnings: list = []

    def has(self, *names: str) -> bool:
        """Whether any of these columns holds something."""
        return any(name in self.cells for name in names)

    def heading(self, name: str) -> str:
        """The column as the file names it (its cell empty too), else by both its standard
        names (a file without it)."""
        if name in self.cells:
            return printable(self.cells[name][0])
        named = (heading for heading in self.row if column_of(heading) == name)
        return printable(next(named, None) or f"{name} / {COLUMNS[name][0]}")

    def raw(self, name: str):
        """The cell as read, or None."""
        return self.cells[name][1] if name in self.cells else None

    def show(self, name: str, text: str | None = None) -> str:
        """The cell (or a part of it) as a message shows it, cut short, and nothing in it about
        anyone: in a column about the person, by its shape only; in a coded column, each part
        or word that is a value of its list as written and any other (a name, a number) by its
        shape ("chồng (Trần Văn Bình)" gives "chồng (xxxx xxx xxxx)"); a date or time shaped as
        one as written; anything else by its shape."""
        text = self.texts.get(name, "") if text is None else text
        if name in VOCABULARIES and name not in PERSONAL:
            vocabulary = VOCABULARIES[name]
            text = "".join(_known_or_shape(part, vocabulary) for part in PARTS.split(text))
        elif not (name in WHEN_COLUMNS and _dated(text)):
            text = shape(text)
        text = printable(text)
        return text if len(text) <= 60 else text[:57] + "..."

    def problem(self, message) -> None:
        """An error: the row is not imported."""
        self.errors.append(message)

    def note(self, message) -> None:
        """A warning: the row is imported, and this says what was done."""
        self.warnings.append(message)

    def text(self, name: str, limit: int = TEXT_LENGTH) -> str | None:
        """Free text (sealed when stored), as long as the case's forms take it (`limit`): a
        longer one would be refused by the case's edit page over text no one typed there."""
        if name not in self.cells:
            return None
        text = self.texts[name]
        if len(text) > limit:
            self.too_long(self.heading(name), limit)
            return None
        return text

    def too_long(self, column: str, limit: int) -> None:
        self.problem(
            _l(
                "column '%(column)s' holds more than %(n)d characters; shorten it.",
                column=column,
                n=limit,
            )
        )

    def phone(self, name: str) -> str | None:
        """A phone number as written; "không có", "-" and the like mean none."""
        if name not in self.cells or is_nothing(self.texts[name]):
            return None
        text = self.text(name) or ""
        if shortened(text):
            self.problem(
                _l(
                    "column '%(column)s': Excel shortened this number (written as 9.1E+08, "
                    "say), so its last digits are lost; format the column as text, type the "
                    "numbers again and save the file.",
                    column=self.heading(name),
                )
            )
            return None
        digits = sum(ch.isdigit() for ch in text)
        if digits < 3 or len(text) > PHONE_LIMIT or any(ch.isalpha() for ch in text):
            self.problem(
                _l(
                    "column '%(column)s': '%(value)s' is not a phone number.",
                    column=self.heading(name),
                    value=self.show(name),
                )
            )
            return None
        if holds_several_numbers(text):
            self.problem(
                _l(
                    "column '%(column)s': '%(value)s' holds more than one phone number; keep "
                    "one there and write the others in the safe-contact column.",
                    column=self.heading(name),
                    value=self.show(name),
                )
            )
            return None
        restored = with_its_zero(self.raw(name), text)
        if restored:
            self.note(
                _l(
                    "column '%(column)s': the phone number had lost its first 0, as Excel "
                    "drops it from a number; it is kept with its 0. Format the column as text "
                    "to keep the 0 in the file.",
                    column=self.heading(name),
                )
            )
        return restored or text

    def code(self, name: str) -> str | None:
        """The code a cell names (by code, label or common word), or None with an error; a
        cell saying nothing ("-", "không có") that is no value of the list is empty."""
        if name not in self.cells:
            return None
        vocabulary = VOCABULARIES[name]
        found = vocabulary.match(self.texts[name])
        if found is None and not is_nothing(self.texts[name]):
            self._unknown(name, self.show(name), vocabulary)
        return found

    def codes(self, name: str) -> list[str]:
        """The codes of a list cell ("a; b", "đánh đập, chửi bới"), each checked."""
        vocabulary, found = VOCABULARIES[name], []
        for item in split_list(self.raw(name)) if name in self.cells else []:
            code = vocabulary.match(item)
            if code is None and is_nothing(item):
                continue  # "-", "không có": an item saying nothing
            if code is None and name == "acts" and words(item, accents=False) in FORM_WORDS:
                self.problem(
                    _l(
                        "column '%(column)s': '%(value)s' is a form of violence, not an act; "
                        "name the acts (see docs/import.md).",
                        column=self.heading(name),
                        value=item,  # one of FORM_WORDS: nothing about anyone
                    )
                )
            elif code is None:
                self._unknown(name, self.show(name, item), vocabulary)
            elif code not in found:
                found.append(code)
        return found

    def _unknown(self, name: str, value: str, vocabulary: Vocabulary) -> None:
        hint = (
            _l("use %(choices)s", choices=Choices(vocabulary))
            if vocabulary.suggest
            else _l("see the list in docs/import.md")
        )
        self.problem(
            _l(
                "column '%(column)s': '%(value)s' is not %(what)s we know; %(hint)s",
                column=self.heading(name),
                value=value,
                what=vocabulary.what,
                hint=hint,
            )
        )

    def day(self, name: str) -> tuple[date, time | None] | None:
        """A date (and a time if given); None with an error when it is not one."""
        if name not in self.cells or is_nothing(self.texts[name]):
            return None
        raw = self.raw(name)
        found = read_date(raw)
        if found is None and name != "birth_date" and (found := day_count(raw)) is not None:
            # A date cell formatted "General" shows Excel's count of days: read as Excel
            # reads it, and said with the date.
            said = found[0].strftime("%d/%m/%Y")
            self.note(
                _l(
                    "column '%(column)s': the number %(value)s is read as the date Excel counts "
                    "with it%(date)s; format the column as dates to see them.",
                    column=self.heading(name),
                    value=self.texts[name],
                    date=f" ({said})",
                )
            )
        if found is None:
            self.problem(
                _l(
                    "column '%(column)s': '%(value)s' is not a date; "
                    "write it as dd/mm/yyyy, such as 15/03/2024.",
                    column=self.heading(name),
                    value=self.show(name),
                )
            )
        elif found[0].year not in YEARS:  # 15/03/1024 for 2024: refused, as the intake does
            self.problem(
                _l(
                    "column '%(column)s': the year of '%(value)s' is not between 1900 and "
                    "2100; write the date as dd/mm/yyyy, such as 15/03/2024.",
                    column=self.heading(name),
                    value=self.show(name),
                )
            )
            return None
        return found

    def clock(self, name: str) -> time | None:
        """A time of day, or None with an error when it is not one ("-", "không rõ": none)."""
        if name not in self.cells or is_nothing(self.texts[name]):
            return None
        found = read_clock(self.raw(name))
        if found is None:
            self.problem(
                _l(
                    "column '%(column)s': '%(value)s' is not a time of day; write it as 14:30.",
                    column=self.heading(name),
                    value=self.show(name),
                )
            )
        return found

    def age(self, name: str) -> int | None:
        """Whole years, 0 to 120."""
        if name not in self.cells or is_nothing(self.texts[name]):
            return None
        years = read_age(self.raw(name))
        if years is None or years > MAX_AGE:
            self.problem(
                _l(
                    "column '%(column)s': '%(value)s' is not an age in years; "
                    "write a whole number such as 35.",
                    column=self.heading(name),
                    value=self.show(name),
                )
            )
            return None
        return years

    def old_id(self) -> str | None:
        """The row's id in the old register; "-", "không có" and the like mean none."""
        if "external_id" not in self.cells or is_nothing(self.texts["external_id"]):
            return None
        return self.text("external_id", limit=OLD_ID_LENGTH)
