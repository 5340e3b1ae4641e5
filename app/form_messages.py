"""WTForms' own messages ("Not a valid integer value.", "This field is required.") in the user's
language. WTForms ships no Vietnamese catalog and Flask-WTF looks only in WTForms' catalogs, so a
mistyped age reached a Vietnamese operator in English. The messages are listed here so that
`make i18n` extracts them into our catalogs, and every request hands WTForms our translations.
"""

from __future__ import annotations

from flask import request
from flask_babel import get_translations, lazy_ngettext
from flask_babel import lazy_gettext as _l

# Every message WTForms 3 writes for the fields and validators it offers (its wtforms.pot), but
# the ones only a programming mistake shows ("Choices cannot be None.").
MESSAGES = (
    _l("Field must be equal to %(other_name)s."),
    lazy_ngettext(
        "Field must be at least %(min)d character long.",
        "Field must be at least %(min)d characters long.",
        1,
    ),
    lazy_ngettext(
        "Field cannot be longer than %(max)d character.",
        "Field cannot be longer than %(max)d characters.",
        1,
    ),
    lazy_ngettext(
        "Field must be exactly %(max)d character long.",
        "Field must be exactly %(max)d characters long.",
        1,
    ),
    _l("Field must be between %(min)d and %(max)d characters long."),
    _l("Number must be at least %(min)s."),
    _l("Number must be at most %(max)s."),
    _l("Number must be between %(min)s and %(max)s."),
    _l("Date must be at least %(min)s."),
    _l("Date must be at most %(max)s."),
    _l("Date must be between %(min)s and %(max)s."),
    _l("This field is required."),
    _l("Invalid input."),
    _l("Invalid email address."),
    _l("Invalid IP address."),
    _l("Invalid Mac address."),
    _l("Invalid URL."),
    _l("Invalid UUID."),
    _l("Invalid value, must be one of: %(values)s."),
    _l("Invalid value, can't be any of: %(values)s."),
    _l("This field cannot be edited."),
    _l("This field is disabled and cannot have a value."),
    _l("Invalid Choice: could not coerce."),
    _l("Not a valid choice."),
    _l("Invalid choice(s): one or more data inputs could not be coerced."),
    lazy_ngettext(
        "'%(value)s' is not a valid choice for this field.",
        "'%(value)s' are not valid choices for this field.",
        1,
    ),
    _l("Not a valid datetime value."),
    _l("Not a valid date value."),
    _l("Not a valid time value."),
    _l("Not a valid week value."),
    _l("Not a valid integer value."),
    _l("Not a valid decimal value."),
    _l("Not a valid float value."),
)


class _OurCatalog:
    """What Flask-WTF asks of a translations object, answered from the app's catalogs."""

    def ugettext(self, string: str) -> str:
        return get_translations().ugettext(string)

    def ungettext(self, singular: str, plural: str, n: int) -> str:
        return get_translations().ungettext(singular, plural, n)


CATALOG = _OurCatalog()


def use_our_catalog() -> None:
    """Before each request: Flask-WTF takes `request.wtforms_translations` when it is set."""
    request.wtforms_translations = CATALOG
