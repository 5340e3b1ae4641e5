"""Catalog checks and upkeep: which strings a catalog lacks, and filling the English catalog.

Usage: python -m app.i18n fill-en   (English msgstr = msgid, after `make i18n` updated the catalogs)
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def read_catalog(path: Path, locale: str | None = None) -> Catalog:
    """Read a .po or .pot file."""
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def missing_messages(template: Catalog, catalog: Catalog) -> list[str]:
    """Message ids of the template that the catalog lacks, leaves empty, or marks fuzzy."""
    missing = []
    for message in template:
        if not message.id:
            continue
        found = catalog.get(message.id, message.context)
        strings = found.string if found else None
        if isinstance(strings, tuple):
            empty = not all(strings)
        else:
            empty = not strings
        if found is None or empty or found.fuzzy:
            key = message.id[0] if isinstance(message.id, tuple) else message.id
            missing.append(key)
    return missing


def fill_english() -> int:
    """Set every English msgstr to its msgid; returns how many were filled."""
    path = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
    catalog = read_catalog(path, "en")
    filled = 0
    for message in catalog:
        empty = not all(message.string) if message.pluralizable else not message.string
        if message.id and (empty or message.fuzzy):
            message.string = message.id
            message.flags.discard("fuzzy")
            filled += 1
    with path.open("wb") as handle:
        write_po(handle, catalog, width=100)
    return filled


if __name__ == "__main__":
    if sys.argv[1:] == ["fill-en"]:
        print(f"filled {fill_english()} English message(s)")
    else:
        sys.exit(__doc__)
