"""Shapes only: the admin's line form, and the body a phone system sends to announce a call."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length

from app.auth.forms import REQUIRED
from app.clock import utcnow
from app.form_fields import one_line


class LineForm(FlaskForm):
    """A new phone line: its name as the admins and operators know it."""

    name = StringField(
        _l("Name of the line"),
        validators=[DataRequired(REQUIRED), Length(max=80), one_line],
        render_kw={"autocomplete": "off"},
    )
    submit = SubmitField(_l("Create the line and its token"))


# What PBXs send when the caller's number is withheld or unknown (Asterisk: "anonymous" or empty).
WITHHELD = frozenset(
    {"", "anonymous", "withheld", "private", "restricted", "unknown", "unavailable"}
)
# A number may open with a bracket, as a landline is written with its area code: "(024) 3822
# 1234", "(+84) 24 3822 1234" (phonenumbers reads both, and normalise_phone files them as
# +842438221234).
NUMBER_SHAPE = re.compile(r"^(?:\+|\(\+?|\+\()?[0-9][0-9 ().\-]{1,30}$")
CLOCK_SKEW = timedelta(minutes=5)
OLDEST_CALL = timedelta(hours=24)


class PayloadError(Exception):
    """The announcement is not usable; `code` is stable for machines, `message` for people.
    Neither ever repeats the values sent."""

    def __init__(self, code: str, message):
        super().__init__(code)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Announcement:
    """An incoming call as the phone system describes it; caller None when withheld."""

    caller: str | None
    started_at: datetime | None
    # "started_at_ignored" (the phone system's clock is off), "caller_unrecognised" (a number
    # outside Vietnam's plan), or both, comma-separated
    warning: str | None = None


def read_announcement(values: Mapping) -> Announcement:
    """Check the fields of a JSON object or form body: caller, optional line and started_at.

    A well-formed start time outside the last 24 hours (or ahead of the server's clock) is not
    refused: the pop is made with the server's time and a warning, so a phone system whose
    clock drifted still hands its calls over (a refusal would go unseen, as dialplans ignore
    the answer, and the operators would get no links at all)."""
    _check_line_label(values.get("line"))
    caller, unrecognised = _caller(values.get("caller"))
    started_at = _started_at(values.get("started_at"))
    warnings = ["caller_unrecognised"] if unrecognised else []
    now = utcnow()
    if started_at is not None and not now - OLDEST_CALL <= started_at <= now + CLOCK_SKEW:
        started_at = None
        warnings.insert(0, "started_at_ignored")
    return Announcement(caller=caller, started_at=started_at, warning=",".join(warnings) or None)


def _caller(raw: object) -> tuple[str | None, bool]:
    """The number as sent (None when withheld), and whether it is not a number of Vietnam's
    plan: a number of 7 to 15 digits without a country code (a foreign caller's whose trunk
    drops the "+", a range newer than the phonenumbers data) is still handed over, as a bad
    start time is, rather than refused unseen; one with a country code must be valid."""
    if raw is None:
        raise PayloadError(
            "caller_missing", _l("Send the caller's number, or 'anonymous' when it is withheld.")
        )
    if not isinstance(raw, str):
        raise PayloadError("caller_invalid", _l("The caller's number must be text."))
    caller = " ".join(raw.split())
    if caller.lower() in WITHHELD:
        return None, False
    if NUMBER_SHAPE.match(caller) is None:
        raise PayloadError("caller_invalid", _l("The caller's number is not a phone number."))
    try:
        parsed = phonenumbers.parse(caller, "VN")
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is not None and phonenumbers.is_valid_number(parsed):
        return caller, False
    digits = sum(ch.isdigit() for ch in caller)
    if not caller.lstrip("(").startswith(("+", "00")) and 7 <= digits <= 15:
        return caller, True
    raise PayloadError("caller_invalid", _l("The caller's number is not a phone number."))


def _started_at(raw: object) -> datetime | None:
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str) or len(raw) > 40:
        raise PayloadError("started_at_invalid", _l("started_at must be an ISO 8601 time."))
    try:
        when = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise PayloadError(
            "started_at_invalid", _l("started_at must be an ISO 8601 time.")
        ) from None
    if when.tzinfo is None:
        raise PayloadError(
            "started_at_invalid",
            _l("started_at needs a UTC offset, e.g. 2026-03-01T09:30:00+07:00."),
        )
    return when


def _check_line_label(raw: object) -> None:
    """The PBX's own label for the trunk or queue: accepted for dialplans that send it, checked
    for shape, never stored (the token already says which line this is, and free text from
    outside could carry anything)."""
    if raw is not None and (not isinstance(raw, str) or len(raw) > 80):
        raise PayloadError("line_invalid", _l("line must be text of at most 80 characters."))
