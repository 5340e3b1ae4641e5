"""Reads of the place list: provinces, their communes, names for codes, typed names to codes.

The list is reference data that seldom changes, so names and the typed-name index are read once
per process into memory. `load_places` forgets them in its own process; every other process (the
running app's workers, when `flask places load` ran beside them) sees the load's audit entry, looked
for at most once a minute, and reads the list again.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select

from app.extensions import db
from app.places import names
from app.places.models import Place

PROVINCES = ""  # the scope key of the province list in the typed-name index
FOUND_KEPT = 20_000  # typed names remembered with what they found
CHECK_EVERY = 60.0  # seconds between two looks for a load made by another process


@dataclass
class Directory:
    """Every unit's name, kind and province, and the keys typed names are looked up by."""

    names: dict[str, str] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    parents: dict[str, str | None] = field(default_factory=dict)
    keys: dict[tuple[str, bool, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    children: dict[str, list[tuple[str, str]]] = field(default_factory=lambda: defaultdict(list))
    # Option lists made from `children` by forms (app.places.form_choices._place_options).
    options: dict[tuple, list] = field(default_factory=dict)
    # What find_place gave for a typed name in a scope (up to FOUND_KEPT of them).
    found: dict[tuple[str, str], str | None] = field(default_factory=dict)

    def add_key(self, scope: str, text: str, code: str) -> None:
        """Let `text` find `code` within a scope (a province's code, or PROVINCES)."""
        for accents in (True, False):
            self.keys[scope, accents, names.match_key(text, accents=accents)].add(code)


_directory: Directory | None = None
_loaded_by: int | None = None  # the latest load's audit entry when the copy was read
_checked_at = 0.0
_lock = threading.Lock()


def directory() -> Directory:
    """The in-memory copy of the list, read on first use (not kept while the table is empty) and
    again after a load made by another process (looked for at most every CHECK_EVERY seconds)."""
    global _directory, _loaded_by, _checked_at
    with _lock:
        now = _clock()
        if _directory is not None and now - _checked_at >= CHECK_EVERY:
            _checked_at = now
            if _latest_load() != _loaded_by:
                _directory = None
        if _directory is None:
            loaded_by = _latest_load()
            built = _build_directory()
            if built.names:
                _directory, _loaded_by, _checked_at = built, loaded_by, now
            return built
        return _directory


def _clock() -> float:
    """Seconds on this process's steady clock (a test moves it on)."""
    return time.monotonic()


def _latest_load() -> int | None:
    """The audit entry of the latest load that changed the list (`load_places` writes one)."""
    from app.audit import AuditEntry  # the audit log builds on more than the places

    stmt = select(func.max(AuditEntry.id)).where(
        AuditEntry.object_type == "place", AuditEntry.action == "import"
    )
    return db.session.execute(stmt).scalar()


def forget_cached() -> None:
    """Drop the in-memory copy, so the next read sees the table as it is now."""
    global _directory
    with _lock:
        _directory = None


def _build_directory() -> Directory:
    found = Directory()
    rows = db.session.execute(select(Place.code, Place.name, Place.kind, Place.province_code))
    for code, name, kind, province_code in rows:
        found.names[code], found.kinds[code], found.parents[code] = name, kind, province_code
        scope = province_code or PROVINCES
        found.add_key(scope, name, code)
        found.add_key(scope, names.proper_name(name), code)
    for name, code in (names.FORMER_PROVINCES | names.SHORT_NAMES).items():
        if code in found.names:
            found.add_key(PROVINCES, name, code)
    for code, parent in sorted(found.parents.items()):
        found.children[parent or PROVINCES].append((code, found.names[code]))
    for units in found.children.values():  # by name: an operator looks for a name, not a code
        units.sort(key=lambda unit: names.sort_key(unit[1]))
    return found


def province_choices() -> list[tuple[str, str]]:
    """(code, name) of the provinces in alphabet order, from memory: forms ask every time."""
    return directory().children.get(PROVINCES, [])


def commune_choices(province_code: str | None) -> list[tuple[str, str]]:
    """(code, name) of a province's communes in alphabet order, from memory."""
    if not province_code or province_code == PROVINCES:
        return []
    return directory().children.get(province_code, [])


def provinces() -> list[Place]:
    """The 34 provinces and centrally run cities, in Vietnamese alphabet order."""
    rows = db.session.execute(select(Place).where(Place.province_code.is_(None))).scalars()
    return sorted(rows, key=lambda place: names.sort_key(place.name))


def communes_of(province_code: str) -> list[Place]:
    """The communes, wards and special zones of a province, in alphabet order of their names."""
    rows = db.session.execute(select(Place).where(Place.province_code == province_code)).scalars()
    return sorted(rows, key=lambda place: names.sort_key(place.name))


def place_name(code: str | None) -> str | None:
    """The official name of a unit ("Phường Ba Đình"), or None for an unknown or empty code."""
    return directory().names.get(code) if code else None


def is_province(code: str | None) -> bool:
    """Whether the code is one of the 34 provinces and cities."""
    known = directory()
    return bool(code) and code in known.names and known.parents[code] is None


def is_commune_of(commune_code: str | None, province_code: str | None) -> bool:
    """Whether the commune-level unit lies in that province."""
    parent = directory().parents.get(commune_code) if commune_code else None
    return parent is not None and parent == province_code


def find_place(text: str | None, province_code: str | None = None) -> str | None:
    """The code of a typed name: a province (or a former province's name) when no province is
    given, else a commune of that province. Case, accents, punctuation and prefixes ("TP",
    "Tỉnh", "P.", "Xã"...) do not matter; None when nothing, or more than one unit, matches."""
    if not text or not text.strip():
        return None
    known = directory()
    scope = province_code or PROVINCES
    if (text, scope) in known.found:  # a register names the same places row after row
        return known.found[text, scope]
    code = _find(known, text, scope)
    if len(known.found) < FOUND_KEPT:
        known.found[text, scope] = code
    return code


def _find(known: Directory, text: str, scope: str) -> str | None:
    """find_place's search of the typed-name index. Among communes, a name read after a
    province's prefix ("Thành phố Thủ Đức", "TP Nam Định") is no commune's: a city of a
    province before 1 July 2025, of many wards then, not the one ward given its name."""
    for accents in (True, False):
        matches: dict[str, set[str | None]] = defaultdict(set)
        for key, kind in names.readings(text, accents=accents):
            if scope != PROVINCES and kind in names.PROVINCE_KINDS:
                continue
            for code in known.keys.get((scope, accents, key), ()):
                matches[code].add(kind)
        if len(matches) > 1:  # a prefix typed may settle it: "Phường X" rather than "Xã X"
            named = {c for c, kinds in matches.items() if known.kinds.get(c) in kinds}
            matches = {c: matches[c] for c in named} if len(named) == 1 else matches
        if len(matches) == 1:
            return next(iter(matches))
        if matches:
            return None
    return None
