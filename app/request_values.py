"""What a request carries in its address and form, read without NUL characters.

No browser sends a NUL (U+0000) in a field, and nothing a person types means one; but an address
or a form can be made to carry one ("?status=%00"), and PostgreSQL refuses any in a text value:
every query using it failed with a server error (a sign-in, a search, an admin's list). So the
address's parameters and the form's fields are read with NULs dropped, as a browser drops them,
and everything else typed is kept. A JSON body is read as it is; the intake's autosave reads its
own through `without_nul` (its page key is stored and its case number looked up as they come),
and the phone system's fields are checked for shape."""

from __future__ import annotations

from flask import Request
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import IntegerConverter

NUL = "\x00"


def _clean(value):
    return value.replace(NUL, "") if isinstance(value, str) else value


class ParameterValues(ImmutableMultiDict):
    """The parameters of an address or the fields of a form, NULs dropped from names and
    values (an uploaded file is left as it is)."""

    def __init__(self, mapping=None):
        if mapping is not None and not hasattr(mapping, "keys"):  # pairs, as the parsers give
            mapping = [(_clean(name), _clean(value)) for name, value in mapping]
        super().__init__(mapping)


class RowIdConverter(IntegerConverter):
    """`<int:...>` in a route: an id of up to nine digits, as the id columns hold (a longer one
    names no row: 404, where it overflowed SQLite's integer or PostgreSQL's, a server error,
    and a refusal of it was never written to the audit log)."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", 999_999_999)
        super().__init__(url_map, *args, **kwargs)


class AppRequest(Request):
    """Flask's request, reading parameters and form fields as ParameterValues."""

    parameter_storage_class = ParameterValues


def without_nul(value):
    """A JSON value with NULs dropped from every text in it, names too (RecursionError for one
    nested deeper than Python goes: the caller's to refuse)."""
    if isinstance(value, str):
        return value.replace(NUL, "")
    if isinstance(value, list):
        return [without_nul(item) for item in value]
    if isinstance(value, dict):
        return {_clean(name): without_nul(item) for name, item in value.items()}
    return value
