"""The province and commune choices of a form (the intake, the case's edit page, the search),
the attributes of the box that finds a place in them as it is typed (places.js), and the rule
that a commune must be one of the chosen province's. From memory, not the database."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice, ValidationError

from app.places import names
from app.places.queries import (
    commune_choices,
    directory,
    is_commune_of,
    is_province,
    province_choices,
)


def check_commune(field, province_code: str | None) -> None:
    """Refuse a commune (or a code) that is not one of the chosen province's."""
    if field.data and not is_commune_of(field.data, province_code):
        raise ValidationError(_l("Choose a commune or ward of the province or city chosen."))


def fill_place_choices(form) -> None:
    """A form's province and commune choices: every province, and the communes of the province
    chosen (the page script refills them when it changes). From memory, not the database."""
    form.province_code.choices = province_options()
    form.commune_code.choices = commune_options(form.province_code.data)


def province_options() -> list[SelectChoice]:
    """The provinces in alphabet order, a blank option first, a city by its name first; each
    carries the names it is also known by, for places.js (data-former: the provinces merged
    into it on 1 July 2025; data-also: a city's short names)."""
    return _place_options(
        ("provinces",), province_choices, label=names.choice_label, marks=_other_names
    )


def commune_options(province_code: str | None) -> list[SelectChoice]:
    """A province's communes in alphabet order, a blank option first; no province, or text
    that names none: only the blank option."""
    if not is_province(province_code):
        return [SelectChoice("", "")]
    return _place_options(("communes", province_code), commune_choices, province_code)


def find_box(label, empty=None) -> dict:
    """A place select's attributes for places.js, which puts a box before it that finds a
    place as it is typed (accents, "Xã", "Phường" or "Thành phố" need not be typed): the box's
    label, what it says of what it found, and (`empty`) what it says while the list holds
    nothing to find."""
    found = {
        "data-find": label,
        "data-find-chosen": _l("Chosen: {name}."),
        "data-find-more": _l("Chosen: {name} ({n} of {count}; ↑ ↓ for the others)."),
        "data-find-none": _l(
            "No place matches “{typed}”: check the spelling or choose from the list."
        ),
    }
    return found | ({"data-find-empty": empty} if empty else {})


def province_find_box(communes_id: str) -> dict:
    """find_box for a province list whose commune list (by its id) follows it: that list's box
    and choice are emptied when the province changes; and how a province found by a former
    name is said."""
    return find_box(_l("Find a province or city")) | {
        "data-find-resets": communes_id,
        "data-find-former": _l("{name} — formerly {former}"),
    }


def commune_find_box(empty=None) -> dict:
    """find_box for a commune list; `empty`: what its box says while no province's communes
    are in it (the intake and the edit page load them as the province is chosen)."""
    return find_box(_l("Find a commune or ward"), empty or _l("Choose a province first"))


def _other_names(code: str) -> dict:
    """A province option's data-former and data-also: the other names it is found by."""
    others = {
        "data-former": [name for name, to in names.FORMER_PROVINCES.items() if to == code],
        "data-also": [name for name, to in names.SHORT_NAMES.items() if to == code],
    }
    return {mark: "|".join(found) for mark, found in others.items() if found}


def _place_options(key: tuple, units, *args, label=str, marks=None) -> list[SelectChoice]:
    """A place select's options, a blank one first, made once per list and kept beside the
    list in memory (it does not change while the app runs, and no form changes a list it is
    given); only lists of known places are kept, so what a request sends cannot grow it."""
    kept = directory().options
    options = kept.get(key)
    if options is None:
        options = [SelectChoice("", "")] + [
            SelectChoice(c, label(n), render_kw=marks(c) if marks else {}) for c, n in units(*args)
        ]
        kept[key] = options
    return options
