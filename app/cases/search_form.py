"""The case search forms, shape only: codes and dates by GET, a phone number by POST."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField, SubmitField, TelField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from app.auth.labels import CASE_STATUS_LABELS
from app.cases.numbers import case_number, normalise_case_number
from app.classifications import RISK_LEVELS
from app.clock import YEARS
from app.form_fields import BAD_YEAR, one_number
from app.places.form_choices import commune_find_box, province_find_box

__all__ = ["normalise_case_number"]  # read here by the search and the drafts of an erased case

DATE_FORMAT = "%d/%m/%Y"
DATE_HINT = "dd/mm/yyyy"


def parse_day(text: str | None, *also: str) -> date | None:
    """A day typed as dd/mm/yyyy (d/m/yyyy too; or in the formats `also` names), or None; a
    day outside clock.YEARS is none (its local midnight in UTC would fall off the calendar)."""
    day = _written_day(text, *also)
    return day if day is not None and day.year in YEARS else None


def _written_day(text: str | None, *also: str) -> date | None:
    """A day written in one of the formats, whatever its year, or None."""
    for pattern in (DATE_FORMAT, *also):
        try:
            return datetime.strptime((text or "").strip(), pattern).date()
        except ValueError:
            continue
    return None


NOT_A_CASE_NUMBER = _l(
    "Write a case number such as HN-2026-000123. To find a case by phone number, use the "
    "search by phone."
)


def own_code(user=None) -> str:
    """The organisation's code of `user` (by default the signed-in user): the one all-digit code
    a case number may have from them (staff see only their own organisation's cases)."""
    organisation = getattr(user or current_user, "organisation", None)
    return organisation.code if organisation is not None else ""


def a_case_number(form, field) -> None:
    """Refuse what cannot be a case number: a phone number or a name typed in this box would
    otherwise be searched for, and kept in the address. (app.js says so before it is sent.)"""
    if field.data and field.data.strip() and not case_number(field.data, own_code()):
        raise ValidationError(NOT_A_CASE_NUMBER)


def a_day(form, field) -> None:
    """Refuse text that is not a dd/mm/yyyy date, or a date of a year outside clock.YEARS
    (said as such: it was written as asked)."""
    if field.data and field.data.strip() and parse_day(field.data) is None:
        if _written_day(field.data) is not None:
            raise ValidationError(BAD_YEAR)
        raise ValidationError(_l("Enter a date as dd/mm/yyyy, for example 25/11/2025."))


def options(blank: str, labels: dict) -> list[SelectChoice]:
    """A select's options: a blank "any" first, then the codes with their labels."""
    return [SelectChoice("", blank)] + [SelectChoice(code, label) for code, label in labels.items()]


class SearchForm(FlaskForm):
    """Filters sent as query parameters; assignee and place choices are set by the view.

    Unknown choices are ignored rather than refused (a stale link still searches)."""

    class Meta:
        csrf = False  # a GET form: a token would end up in the address bar

    number = StringField(
        _l("Case number"),
        validators=[Optional(), Length(max=40), a_case_number],
        render_kw={
            "spellcheck": "false",
            "autocomplete": "off",
            "data-case-number": NOT_A_CASE_NUMBER,
        },
    )
    status = SelectField(
        _l("Status"),
        choices=[SelectChoice("", _l("Any status")), SelectChoice("active", _l("Any active"))]
        + [SelectChoice(code, label) for code, label in CASE_STATUS_LABELS.items()],
        validate_choice=False,
    )
    assignee = SelectField(_l("Assigned to"), choices=[], validate_choice=False)
    opened_from = StringField(
        _l("Opened from"),
        validators=[Optional(), a_day],
        render_kw={"placeholder": DATE_HINT, "inputmode": "numeric", "autocomplete": "off"},
    )
    opened_to = StringField(
        _l("Opened until"),
        validators=[Optional(), a_day],
        render_kw={"placeholder": DATE_HINT, "inputmode": "numeric", "autocomplete": "off"},
    )
    province = SelectField(
        _l("Province or city"),
        choices=[],
        validate_choice=False,
        render_kw=province_find_box("commune"),
    )
    commune = SelectField(
        _l("Commune or ward"),
        choices=[],
        validate_choice=False,
        render_kw=commune_find_box(_l("Choose a province and search, then pick a commune.")),
    )
    risk = SelectField(
        _l("Risk level"), choices=options(_l("Any risk level"), RISK_LEVELS), validate_choice=False
    )
    child = SelectField(
        _l("Child or adult"),
        choices=[
            SelectChoice("", _l("Children and adults")),
            SelectChoice("yes", _l("Child cases only")),
            SelectChoice("no", _l("Adult cases only")),
        ],
        validate_choice=False,
    )
    tasks = SelectField(
        _l("Open tasks"),
        choices=[
            SelectChoice("", _l("With or without")),
            SelectChoice("overdue", _l("A task overdue")),
            SelectChoice("none", _l("No open task: nothing planned")),
        ],
        validate_choice=False,
    )
    opened_by = SelectField(
        _l("Opened by"),
        choices=[SelectChoice("", _l("Anyone")), SelectChoice("me", _l("Me"))],
        validate_choice=False,
    )
    submit = SubmitField(_l("Search"))

    def __init__(self, *args, **kwargs):
        """Tell app.js the user's own code, the one all-digit code a case number may have."""
        super().__init__(*args, **kwargs)
        self.number.render_kw = {**self.number.render_kw, "data-own-code": own_code()}

    def validate_opened_to(self, field) -> None:
        """The period must not end before it starts."""
        start, end = parse_day(self.opened_from.data), parse_day(field.data)
        if start and end and end < start:
            raise ValidationError(_l("The end of the period is before its start."))


class PhoneSearchForm(FlaskForm):
    """A phone number, in any spelling; sent by POST so it never reaches an address or a log."""

    phone = TelField(
        _l("Phone number"),
        validators=[DataRequired(_l("Enter a phone number.")), Length(max=40), one_number],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    submit_phone = SubmitField(_l("Search by phone"))
