"""Form fields the intake and the case pages share: times and dates typed the way Vietnam
writes them (dd/mm/yyyy, hh:mm in Asia/Ho_Chi_Minh, given back in UTC), code lists whose answers
are checked against a set of codes, and the quick binding of a large form's fields."""

from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import datetime

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    Field,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, StopValidation, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget, TextInput

from app.auth.forms import REQUIRED
from app.clock import LOCAL, YEARS, local_to_utc
from app.crypto.blind import holds_several_numbers

# How long a survivor's name, an address and a free text may be, on every form that takes them
# (the intake, the case's edit page) and in a register imported.
NAME_LENGTH = 200
ADDRESS_LENGTH = 300
TEXT_LENGTH = 20_000
DATE_FORMAT = "%d/%m/%Y"
TIME_FORMAT = "%d/%m/%Y %H:%M"
BAD_DATE = _l("Write the date as dd/mm/yyyy, for example 05/03/2026.")
BAD_TIME = _l("Write the time as dd/mm/yyyy hh:mm, for example 05/03/2026 14:30.")
BAD_YEAR = _l(
    "Write a year between %(first)d and %(last)d.", first=YEARS.start, last=YEARS.stop - 1
)
ONE_NUMBER = _l(
    "Write one number here; put any other number (a relative's, a second phone) in the "
    "safe-contact instructions or the notes."
)


def choices(labels: dict, blank: str | None = None) -> list[SelectChoice]:
    """Select options from a code-to-label mapping, with an optional empty first option."""
    first = [SelectChoice("", blank)] if blank is not None else []
    return first + [SelectChoice(code, label) for code, label in labels.items()]


def as_uuid(value) -> uuid.UUID | None:
    """A UUID from text (a form's or a draft's value), or None when blank, not text or not
    one."""
    try:
        return uuid.UUID(value) if isinstance(value, str) and value else None
    except ValueError:
        return None


ROW_ID = re.compile(r"[0-9]{1,9}")
LAST_PAGE = 100_000


def as_row_id(value) -> int | None:
    """An id as a page gives it (ASCII digits, at most nine: any integer column holds it), or
    None for anything else: a crafted value ("²" is a digit to Python; a 20-digit number no
    integer column holds, which the database refuses with a server error)."""
    return int(value) if isinstance(value, str) and ROW_ID.fullmatch(value) else None


def as_page(value) -> int:
    """A page number asked for in an address, 1 to LAST_PAGE (a crafted 20-digit one is the
    last); ValueError for what is not a number (request.args.get then gives its default)."""
    if not (isinstance(value, str) and value.isascii() and value.isdigit()):
        raise ValueError(value)
    digits = value.lstrip("0") or "0"  # read at most seven: anything longer is past the last
    return max(1, min(int(digits[:7]), LAST_PAGE))


def local_text(moment: datetime | None) -> str:
    """A UTC time as the form shows it: dd/mm/yyyy hh:mm in Vietnam's time."""
    return moment.astimezone(LOCAL).strftime(TIME_FORMAT) if moment else ""


class Readable:
    """After Optional(): what was typed and could not be read (an age in words) keeps its own
    message alone; a range check after it would add a second one about a value never read."""

    field_flags: dict = {}

    def __call__(self, form, field) -> None:
        if field.process_errors:
            raise StopValidation()


class TypedRequired(DataRequired):
    """DataRequired for a field that reads what was typed (a time): something typed that cannot
    be read keeps its own message, how to write it, rather than "This field is required"."""

    def __call__(self, form, field) -> None:
        Readable()(form, field)  # the reading's message stands, alone
        super().__call__(form, field)


class LocalDateTimeField(Field):
    """A time typed as dd/mm/yyyy hh:mm in Vietnam's time, given back in UTC."""

    widget = StringField.widget

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return local_text(self.data)

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip()
        if not text:
            self.data = None
            return
        self.data = None
        try:
            naive = datetime.strptime(" ".join(text.split()), TIME_FORMAT)
        except ValueError:
            raise ValueError(BAD_TIME) from None
        if naive.year not in YEARS:
            raise ValueError(BAD_YEAR)
        self.data = local_to_utc(naive)


def _codes(field) -> set:
    """The codes a choice field offers."""
    if field.choices is None:
        raise TypeError(f"{field.name}: choices cannot be None")  # a programming mistake
    return {field.coerce(c.value if isinstance(c, SelectChoice) else c[0]) for c in field.choices}


class CodeSelectField(SelectField):
    """A select whose answer is checked against the set of its codes, where WTForms makes an
    option object for every choice on every check (a tenth of the intake's save); the same
    rule and messages."""

    def pre_validate(self, form):
        if self.process_errors or not self.validate_choice:
            return
        if self.data not in _codes(self):
            raise ValidationError(
                self.invalid_choice_message or self.gettext("Not a valid choice.")
            )


class CodeRadioField(RadioField):
    """Radio buttons checked as CodeSelectField checks a select."""

    pre_validate = CodeSelectField.pre_validate


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes for a multi-choice code list, each answer checked against the set
    of its codes (as WTForms' SelectMultipleField checks them, with the same messages)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def process_formdata(self, valuelist):
        """Each code once: a crafted post that sends one twice (three identical consents, a
        list longer than its column) counts it once, as the boxes on the page can."""
        super().process_formdata(valuelist)
        if self.data:
            self.data = list(dict.fromkeys(self.data))

    def pre_validate(self, form):
        if self.process_errors or not self.validate_choice or not self.data:
            return
        codes = _codes(self)
        unacceptable = [str(data) for data in set(self.data) if data not in codes]
        if not unacceptable:
            return
        if callable(self.invalid_choice_message):
            message = self.invalid_choice_message(len(unacceptable))
        elif self.invalid_choice_message is not None:
            message = self.invalid_choice_message
        else:
            message = self.ngettext(
                "'%(value)s' is not a valid choice for this field.",
                "'%(value)s' are not valid choices for this field.",
                len(unacceptable),
            )
        raise ValidationError(message % {"value": "', '".join(unacceptable)})


# What is typed about people is never kept by the browser's form history (in clear in the
# profile, and offered to the next person on a shared hotline computer).
NO_HISTORY = {"autocomplete": "off"}


class DayField(DateField):
    """A dd/mm/yyyy date in a year of YEARS (01/01/0001 is a slip of the keys, not a day)."""

    def process_formdata(self, valuelist):
        # Spaces around a date pasted or typed are no mistake (the time fields trim them too).
        super().process_formdata([" ".join(str(v).split()) for v in valuelist])
        if self.data is not None and self.data.year not in YEARS:
            self.data = None
            raise ValueError(BAD_YEAR)


def date_field(label) -> DayField:
    """An optional dd/mm/yyyy date."""
    return DayField(
        label,
        format=DATE_FORMAT,
        widget=TextInput(),  # typed as dd/mm/yyyy: the browser's date picker shows its own order
        validators=[Optional()],
        render_kw={"placeholder": "dd/mm/yyyy", "inputmode": "numeric"} | NO_HISTORY,
    )


def text(label, max_length=200, **kw) -> StringField:
    """An optional short text, not kept in the browser's form history."""
    render_kw = NO_HISTORY | kw.pop("render_kw", {})
    return StringField(
        label, validators=[Optional(), Length(max=max_length)], render_kw=render_kw, **kw
    )


# What would break a line of text or the way it shows: control characters (a line break, a
# terminal's escape), the direction overrides, the line and paragraph separators.
_BREAKING = frozenset("\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Invisible characters pasted text carries (zero-width space, soft hyphen, byte order mark):
# dropped from a one-line value, which looks the same without them.
_INVISIBLE = str.maketrans("", "", "\u200b\u00ad\ufeff")
ONE_LINE = _l(
    "Write this on one line: it holds a line break or a hidden control character (pasted text "
    "may); type it again."
)


def _breaks(c: str) -> bool:
    return c in _BREAKING or unicodedata.category(c) == "Cc"


def printable(text: str) -> str:
    """Text as a line of a report or listing quotes it: a character that would break the line
    or its display (a new line starting a line of its own, a terminal's escape erasing the
    lines above, a right-to-left override) shown as "?", so no value can forge or hide a line."""
    return "".join("?" if _breaks(c) else c for c in text)


def one_line_of(text: str) -> str:
    """A name or number as stored: the invisible characters pasted text carries dropped;
    ValueError when it holds a line break or a control character (a page's one-line box never
    sends one: a crafted request, or the command line)."""
    text = text.translate(_INVISIBLE)
    if any(_breaks(c) for c in text):
        raise ValueError(text)
    return text


def one_line(form, field) -> None:
    """Validator of one_line_of, with its message."""
    if field.data:
        try:
            field.data = one_line_of(field.data)
        except ValueError:
            raise ValidationError(ONE_LINE) from None


def one_number(form, field) -> None:
    """A phone field holds one number: a digest of two would find neither (a repeat caller
    missed, a search that finds nothing)."""
    if holds_several_numbers(field.data):
        raise ValidationError(ONE_NUMBER)


def phone_field(label) -> StringField:
    """An optional phone number, in any spelling, one number only."""
    return StringField(
        label,
        validators=[Optional(), Length(max=40), one_number],
        render_kw=NO_HISTORY | {"inputmode": "tel", "autocomplete": "off"},
    )


def long_text(label, rows=3, *, required: bool = False) -> TextAreaField:
    """A free text, optional unless `required` (spaces alone are then refused); sealed when
    stored."""
    first = DataRequired(REQUIRED) if required else Optional()
    return TextAreaField(
        label,
        validators=[first, Length(max=TEXT_LENGTH)],
        render_kw={"rows": rows} | NO_HISTORY,
    )


class QuickBind(FlaskForm.Meta):
    """Binds a form's declared fields by copying one bound the same way before (per field and
    language), instead of building every field afresh: most of the cost of making a 56-field
    form, each request. A copy is what binding would give: the same attributes, the new form
    as its form, and its own render_kw and choices list (the parts a request might change);
    its flags, label and validators are shared, as no request changes them (WTForms sets them
    when a field is built, and only reads them after). Fields added per form (Flask-WTF's CSRF
    token) are bound as usual."""

    _prototypes: dict = {}

    def bind_field(self, form, unbound_field, options):
        name = options.get("name")
        if getattr(type(form), name, None) is not unbound_field:  # not declared on the class
            return super().bind_field(form, unbound_field, options)
        language = form.__dict__.get("_bound_in")
        if language is None:
            language = form.__dict__["_bound_in"] = str(get_locale())
        key = (type(form), name, options.get("prefix"), language)
        prototype = self._prototypes.get(key)
        if prototype is None:
            prototype = super().bind_field(form, unbound_field, options)
            self._prototypes[key] = prototype
        field = object.__new__(type(prototype))  # Field.__new__ would give an UnboundField
        field.__dict__.update(prototype.__dict__)
        field._form, field.meta = form, form.meta
        if options.get("translations") is not None:
            field._translations = options["translations"]
        if prototype.render_kw is not None:
            field.render_kw = dict(prototype.render_kw)
        if prototype.__dict__.get("_choices") is not None:
            field._choices = list(prototype._choices)
        return field
