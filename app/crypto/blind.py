"""Blind indexes: exact lookups (phone numbers, identity numbers) without storing the values.

For each indexed value we store HMAC-SHA256(field key, normalised value), cut to BLIND_INDEX_BITS
bits, where the field key is derived (HKDF) from the active index key. Short digests collide on
purpose: a lookup returns a few candidates, and the caller confirms each by opening its sealed
value. See docs/security.md for the trade-off between false matches and what the index reveals.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable

import phonenumbers
from flask import current_app
from sqlalchemy import Index, LargeBinary, String, Uuid, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from app.crypto.datakeys import keyring
from app.extensions import db

DEFAULT_REGION = "VN"
# Numbers are looked for in a text this long at most (a phone field holds 40 characters): the
# matcher's time grows with the text, and a longer one is refused by its field's length anyway.
MATCH_LIMIT = 80


def normalise_phone(raw: str) -> str | None:
    """E.164 for anything phonenumbers can parse (Vietnam by default), else the digits alone.

    Not cached across requests: a process-wide cache would keep every number it saw (searched
    for, or of a case since erased) in memory for the worker's life; `matcher` memoises within
    one lookup instead."""
    text = (raw or "").strip()
    if not text:
        return None
    try:
        number = phonenumbers.parse(text, DEFAULT_REGION)
        if phonenumbers.is_possible_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        pass
    # A number with words around it ("0912 345 678 (chị gái)", "sđt 0912.345.678") is that
    # number, so it finds the same caller as the number typed alone.
    found = _numbers_in(text) if len(text) <= MATCH_LIMIT else []
    if len(found) == 1:
        return phonenumbers.format_number(found[0], phonenumbers.PhoneNumberFormat.E164)
    digits = "".join(ch for ch in text if ch.isdigit())
    return f"digits:{digits}" if digits else None


def _numbers_in(text: str) -> list:
    return [
        match.number
        for match in phonenumbers.PhoneNumberMatcher(
            text, DEFAULT_REGION, leniency=phonenumbers.Leniency.POSSIBLE
        )
    ]


# The most digits one number has (E.164, its country code included).
MAX_DIGITS = 15


def holds_several_numbers(raw: str | None) -> bool:
    """Whether a text holds two phone numbers or more ("0912 345 678 / 0987 654 321"): its
    digest would match neither, so forms and the import take one number a field. Two numbers
    written with only spaces between them ("0912 345 678 0987 654 321") are no number the
    matcher finds: more digits than any one number has, and read as no number, say the same."""
    text = raw or ""
    if len(text) > MATCH_LIMIT:
        return False
    if len(_numbers_in(text)) > 1:
        return True
    digits = sum(ch.isdigit() for ch in text)
    return digits > MAX_DIGITS and (normalise_phone(text) or "").startswith("digits:")


def normalise_identity(raw: str) -> str | None:
    """Identity numbers: letters and digits only, upper case."""
    value = "".join(ch for ch in (raw or "") if ch.isalnum()).upper()
    return value or None


NORMALISERS = {"phone": normalise_phone, "identity": normalise_identity}
_INDEXED: dict[str, tuple[type, list[tuple[str, str]]]] = {}


def register(owner_type: str, model: type, attribute: str, field: str) -> None:
    """Declare that `model.attribute` is indexed as `field` (so a rebuild can recompute it)."""
    entry = _INDEXED.setdefault(owner_type, (model, []))
    if (attribute, field) not in entry[1]:
        entry[1].append((attribute, field))


def indexed_fields() -> dict[str, tuple[type, list[tuple[str, str]]]]:
    """Every indexed owner type with its model and (attribute, field) pairs."""
    return dict(_INDEXED)


class BlindIndex(db.Model):
    """One indexed value of one row: a truncated keyed digest, never the value."""

    __tablename__ = "blind_index"

    id: Mapped[int] = mapped_column(primary_key=True)
    field: Mapped[str] = mapped_column(String(24))
    index_key_id: Mapped[str] = mapped_column(String(8))
    digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    owner_type: Mapped[str] = mapped_column(String(24))
    owner_id: Mapped[uuid.UUID] = mapped_column(Uuid)

    __table_args__ = (
        Index("ix_blind_index_lookup", "field", "digest", "index_key_id"),
        Index("ix_blind_index_owner", "owner_type", "owner_id"),
    )


def _bits() -> int:
    """The configured digest length, in whole bytes (8 to 256 bits)."""
    return min(256, max(8, int(current_app.config["BLIND_INDEX_BITS"]) // 8 * 8))


def digest_for(field: str, raw: str, *, index_id: str | None = None) -> bytes | None:
    """The digest of a raw value under the active (or a named) index key."""
    value = NORMALISERS[field](raw)
    if value is None:
        return None
    return normal_digest(field, value, index_id=index_id)


def normal_digest(field: str, value: str, *, index_id: str | None = None) -> bytes:
    """The digest of a value already normalised (by NORMALISERS[field]), as digest_for gives
    for the raw value: the import normalises its rows' numbers while checking them, off the
    save's path."""
    return keyring().index_digest(field, value, bits=_bits(), index_id=index_id)


def set_index(
    *,
    owner_type: str,
    owner_id: uuid.UUID,
    field: str,
    values: Iterable[str],
    new_owner: bool = False,
) -> None:
    """Replace a row's digests for one field, in the caller's transaction. `new_owner` says the
    row is being created now, so it has no digests to delete (saving a statement and a flush)."""
    if not new_owner:
        db.session.execute(
            delete(BlindIndex).where(
                BlindIndex.owner_type == owner_type,
                BlindIndex.owner_id == owner_id,
                BlindIndex.field == field,
            )
        )
    ring = keyring()
    for raw in dict.fromkeys(values):
        digest = digest_for(field, raw)
        if digest is not None:
            db.session.add(
                BlindIndex(
                    field=field,
                    index_key_id=ring.active_index_id,
                    digest=digest,
                    owner_type=owner_type,
                    owner_id=owner_id,
                )
            )


def candidates(*, field: str, raw: str, owner_type: str) -> list[uuid.UUID]:
    """Ids of rows whose digest matches, under every index key still in the file.

    Candidates may include false matches; callers confirm by opening the sealed value.
    """
    ring = keyring()
    wanted = [(kid, digest_for(field, raw, index_id=kid)) for kid in ring.index_keys]
    conditions = [
        (BlindIndex.index_key_id == kid) & (BlindIndex.digest == d)
        for kid, d in wanted
        if d is not None
    ]
    if not conditions:
        return []
    stmt = select(BlindIndex.owner_id).where(
        BlindIndex.field == field, BlindIndex.owner_type == owner_type, db.or_(*conditions)
    )
    return list(dict.fromkeys(db.session.execute(stmt).scalars()))


def matcher(field: str, raw: str | None) -> Callable[[str | None], bool]:
    """A test of whether a raw value normalises to the same thing as `raw` (confirming
    blind-index candidates): `raw` is normalised once, each distinct candidate spelling once,
    and the memo is dropped with the lookup."""
    normalise = NORMALISERS[field]
    target = normalise(raw) if raw is not None else None
    seen: dict[str, bool] = {}

    def same(value: str | None) -> bool:
        if value is None or target is None:
            return False
        if value not in seen:
            seen[value] = normalise(value) == target
        return seen[value]

    return same


def remove_index(*, owner_type: str, owner_id: uuid.UUID) -> int:
    """Delete every digest of a row (erasure), in the caller's transaction."""
    return db.session.execute(
        delete(BlindIndex).where(
            BlindIndex.owner_type == owner_type, BlindIndex.owner_id == owner_id
        )
    ).rowcount
