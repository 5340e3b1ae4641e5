"""Loading the official list of units from the `vietnam-provinces` package into the place table."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import vietnam_provinces
from sqlalchemy import select
from vietnam_provinces import Province, Ward

from app import audit
from app.extensions import db
from app.places import queries
from app.places.models import Place

# The package's division types, stored as ASCII codes.
KINDS = {
    "tỉnh": "tinh",
    "thành phố trung ương": "thanh_pho_trung_uong",
    "xã": "xa",
    "phường": "phuong",
    "đặc khu": "dac_khu",
}
FIELDS = ("name", "kind", "province_code", "codename")


@dataclass(frozen=True)
class LoadResult:
    """How many units a load added, changed and found as they were."""

    added: int
    updated: int
    unchanged: int


def official_units() -> Iterator[dict]:
    """Every province, then every commune-level unit, with the official zero-padded codes."""
    for province in Province.iter_all():
        yield {
            "code": f"{int(province.code):02d}",
            "name": province.name,
            "kind": KINDS[province.division_type.value],
            "province_code": None,
            "codename": province.codename,
        }
    for ward in Ward.iter_all():
        yield {
            "code": f"{int(ward.code):05d}",
            "name": ward.name,
            "kind": KINDS[ward.division_type.value],
            "province_code": f"{int(ward.province_code):02d}",
            "codename": ward.codename,
        }


def load_places() -> LoadResult:
    """Add missing units and bring changed ones up to date; running it again changes nothing.

    Units the package no longer lists are kept: stored cases may still carry their codes.
    """
    stored = {place.code: place for place in db.session.execute(select(Place)).scalars()}
    added = updated = unchanged = 0
    for unit in official_units():
        place = stored.get(unit["code"])
        if place is None:
            db.session.add(Place(**unit))
            added += 1
        elif any(getattr(place, name) != unit[name] for name in FIELDS):
            for name in FIELDS:
                setattr(place, name, unit[name])
            updated += 1
        else:
            unchanged += 1
    if added or updated:
        audit.record(
            "import",
            object_type="place",
            detail=f"vietnam-provinces {vietnam_provinces.__version__}: "
            f"{added} added, {updated} updated",
        )
    db.session.commit()
    queries.forget_cached()
    return LoadResult(added=added, updated=updated, unchanged=unchanged)
