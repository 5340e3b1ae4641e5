"""A register row's province and commune, by name or code, matched against the official list in
force since 1 July 2025 (docs/places.md); what cannot be matched goes into the sealed address."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.cases.register.cells import Cells
from app.places import queries as places


def read_places(cells: Cells) -> tuple[str | None, str | None, list[str]]:
    """Province and commune codes from names or codes; what cannot be matched goes into the
    sealed address (district and commune names changed on 1 July 2025)."""
    leftovers: list[str] = []
    province_text, commune_text = cells.text("province"), cells.text("commune")
    province = _province_code(province_text) if province_text else None
    commune = _commune_code(commune_text, province) if commune_text else None
    if commune_text and commune is None:
        leftovers.append(commune_text)
        cells.note(  # the province is not named: where someone lives is about them
            _l(
                "column '%(column)s': '%(value)s' is not a commune or ward of the province in "
                "column '%(province)s' since 1 July 2025; the province is kept and the text was "
                "put in the address.",
                column=cells.heading("commune"),
                value=cells.show("commune"),
                province=cells.heading("province"),
            )
            if province
            else _l(
                "column '%(column)s': '%(value)s' cannot be matched without a province; "
                "it was put in the address.",
                column=cells.heading("commune"),
                value=cells.show("commune"),
            )
        )
    if province_text and province is None:
        leftovers.append(province_text)
        cells.note(
            _l(
                "column '%(column)s': '%(value)s' is not a province or city we know; "
                "it was put in the address.",
                column=cells.heading("province"),
                value=cells.show("province"),
            )
        )
    if commune and province is None:
        province = places.directory().parents.get(commune)
    return province, commune, leftovers


def _province_code(text: str) -> str | None:
    if text.isdigit():
        code = f"{int(text):02d}"
        return code if places.is_province(code) else None
    return places.find_place(text)


def _commune_code(text: str, province: str | None) -> str | None:
    if text.isdigit():
        code = f"{int(text):05d}"
        parent = places.directory().parents.get(code)
        return code if parent and province in (None, parent) else None
    return places.find_place(text, province) if province else None
