"""Data keys and sealed model fields.

Every case (and every call without a case, every account with a one-time-code seed) holds its own
random AES-256 data key, stored wrapped by the active KEK in the row's own `key_*` columns
(`KeyHolder`), so reading a case needs no join and writing one no extra row. A model declares its
sensitive attributes with `SealedField`; reading one opens it, assigning one seals it, and only the
sealed bytes (in a `SealedBytes` column named `<field>_sealed`) reach the database. Each value is
bound by its associated data to its table, column, row id and data key, so a value copied
elsewhere will not open. A destroyed data key (erasure) makes every value under it unreadable.
"""

from __future__ import annotations

import os
import time
import uuid
from datetime import datetime

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app
from sqlalchemy import LargeBinary, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator
from uuid6 import uuid7

from app.clock import UTCDateTime, utcnow
from app.crypto.fingerprints import keep_fingerprints
from app.crypto.keyring import (
    NONCE_BYTES,
    SEALED_MAGIC,
    Keyring,
    load_keyring,
    open_bytes,
    seal_bytes,
)

MIN_SEALED_LENGTH = 1 + NONCE_BYTES + 16


class KeyDestroyedError(RuntimeError):
    """The record's data key was destroyed: the record was erased and cannot be read."""


def new_id() -> uuid.UUID:
    """A time-ordered random id (UUIDv7), known before the row is written."""
    return uuid7()


def keyring() -> Keyring:
    """The keys of the running app, read again (checked at most once a second) when the key
    file has changed, so every worker follows a rotation or an index rebuild done elsewhere."""
    extensions = current_app.extensions
    ring = extensions["diemtua.keyring"]
    if ring.source == "KEYS_JSON":
        return ring
    now = time.monotonic()
    if now - extensions.get("diemtua.keyring_checked", 0.0) < 1.0:
        return ring
    extensions["diemtua.keyring_checked"] = now
    try:
        stamp = os.stat(ring.source).st_mtime_ns
    except OSError:
        return ring  # /healthz reports a missing key file; the keys in memory still work
    if stamp != extensions.setdefault("diemtua.keyring_stamp", stamp):
        ring = load_keyring(ring.source)
        extensions["diemtua.keyring"] = ring
        extensions["diemtua.keyring_stamp"] = stamp
    return ring


def _keyring_knowing(kek_id: str) -> Keyring:
    """The app's keys, read again from the file at once when a data key needs an unknown KEK."""
    ring = keyring()
    if kek_id not in ring.keks and ring.source != "KEYS_JSON":
        ring = load_keyring(ring.source)
        current_app.extensions["diemtua.keyring"] = ring
    return ring


class SealedBytes(TypeDecorator):
    """A column that accepts only sealed values, so nothing can be stored in clear by mistake."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value, dialect):
        """Refuse anything that is not the output of the sealing code."""
        if value is None:
            return None
        if (
            not isinstance(value, bytes | bytearray)
            or value[:1] != SEALED_MAGIC
            or len(value) < MIN_SEALED_LENGTH
        ):
            raise TypeError("refusing to store an unsealed value in a sealed column")
        return bytes(value)


KEY_HOLDERS: list[type] = []


def _to_seal(name: str, value) -> bool:
    """Whether a value given for a sealed field is sealed (text) or stored as None (None or
    ""); anything else is refused. SealedField and RowKey.seal both ask here."""
    if value is None or value == "":
        return False
    if not isinstance(value, str):
        raise TypeError(f"{name} takes text")
    return True


class RowKey:
    """A fresh data key: what a KeyHolder row stores of it (`columns`) and the cipher that seals
    under it. KeyHolder.new_key makes one for a model object; the batch writer's rows
    (app/model_rows.py), built without model objects, are sealed with `seal`, which binds
    each value exactly as SealedField does."""

    __slots__ = ("id", "kek_id", "wrapped", "aead", "used")

    def __init__(self):
        ring = keep_fingerprints()
        raw = os.urandom(32)
        self.id = new_id()
        self.kek_id, self.wrapped = ring.wrap(raw, data_key_id=self.id.int)
        self.aead = AESGCM(raw)
        self.used = False  # a row gets its key when a first value is sealed, as with new_key

    def columns(self) -> dict:
        """The key columns of the row that holds this key."""
        return {
            "key_id": self.id,
            "key_kek_id": self.kek_id,
            "key_wrapped": self.wrapped,
            "key_destroyed_at": None,
        }

    def seal(self, table: str, name: str, row_id: object, value: str | None) -> bytes | None:
        """`value` sealed for field `name` of row `row_id` of `table`, as assigning it to the
        SealedField would store it (None and "" are stored as None)."""
        if not _to_seal(name, value):
            return None
        self.used = True
        return seal_bytes(self.aead, value.encode(), associated_data(table, name, row_id, self.id))


class KeyHolder:
    """Mixin for a row that owns a data key, kept wrapped by a KEK in the row's own columns."""

    key_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    key_kek_id: Mapped[str | None] = mapped_column(String(8))
    key_wrapped: Mapped[bytes | None] = mapped_column(LargeBinary)
    key_destroyed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "__tablename__" in cls.__dict__:
            KEY_HOLDERS.append(cls)

    def new_key(self) -> None:
        """Give the row a fresh data key, wrapped under the active KEK."""
        key = RowKey()
        self.key_id, self.key_kek_id, self.key_wrapped = key.id, key.kek_id, key.wrapped
        self.__dict__["_aead"] = ((self.key_kek_id, self.key_wrapped), key.aead)

    def aead(self) -> AESGCM:
        """The unwrapped cipher (made on first use), cached while the wrapped key is unchanged."""
        if self.key_destroyed_at is not None:
            raise KeyDestroyedError(
                f"the data key of {self.__tablename__} {self.id} was "
                "destroyed; the record was erased"
            )
        if self.key_wrapped is None:
            self.new_key()
        cached = self.__dict__.get("_aead")
        if cached is not None and cached[0] == (self.key_kek_id, self.key_wrapped):
            return cached[1]
        ring = _keyring_knowing(self.key_kek_id)
        raw = ring.unwrap(self.key_kek_id, self.key_wrapped, data_key_id=self.key_id.int)
        self.__dict__["_aead"] = ((self.key_kek_id, self.key_wrapped), AESGCM(raw))
        return self.__dict__["_aead"][1]

    def destroy_key(self) -> None:
        """Forget the key for good: everything sealed under it can no longer be opened."""
        if self.key_wrapped is None and self.key_destroyed_at is not None:
            return
        self.key_kek_id = None
        self.key_wrapped = None
        self.key_destroyed_at = utcnow()
        self.__dict__.pop("_aead", None)


def associated_data(table: str, column: str, row_id: object, data_key_id: uuid.UUID) -> bytes:
    """What binds a sealed value to its place: table, column, row id and data key."""
    return f"diemtua/v1|{table}|{column}|{row_id}|{data_key_id}".encode()


def _aad(obj, name: str, key: KeyHolder) -> bytes:
    # The row and key part is the same for every field of a row: format it once per key.
    cached = obj.__dict__.get("_aad_parts")
    if cached is None or cached[0] != key.key_id:
        cached = (key.key_id, f"|{obj.id}|{key.key_id}".encode())
        obj.__dict__["_aad_parts"] = cached
    return f"diemtua/v1|{obj.__tablename__}|{name}".encode() + cached[1]


class SealedField:
    """A model attribute whose value is sealed under the row's data key.

    The model needs an `id` known before the value is set (SealedModel gives one), a
    `<name>_sealed` SealedBytes column, and a `sealing_key()` method returning the KeyHolder
    (itself, or the row it belongs to) whose data key seals it.
    """

    def __set_name__(self, owner, name: str) -> None:
        self.name = name
        self.storage = f"{name}_sealed"

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        blob = getattr(obj, self.storage)
        if blob is None:
            return None
        cache = obj.__dict__.setdefault("_opened", {})
        hit = cache.get(self.name)
        if hit is not None and hit[0] is blob:
            return hit[1]
        key = obj.sealing_key()
        value = open_bytes(key.aead(), blob, _aad(obj, self.name, key)).decode()
        cache[self.name] = (blob, value)
        return value

    def __set__(self, obj, value) -> None:
        if not _to_seal(self.name, value):
            setattr(obj, self.storage, None)
            return
        if obj.id is None:
            raise RuntimeError(f"{obj.__tablename__}.{self.name}: the row id must be known first")
        key = obj.sealing_key()
        blob = seal_bytes(key.aead(), value.encode(), _aad(obj, self.name, key))
        setattr(obj, self.storage, blob)
        obj.__dict__.setdefault("_opened", {})[self.name] = (blob, value)


def sealed_fields(cls) -> list[str]:
    """The names of a model's sealed fields."""
    return [name for name in dir(cls) if isinstance(getattr(cls, name, None), SealedField)]


class SealedModel:
    """Mixin for models with sealed fields: the id is set first, sealed values last."""

    def __init__(self, **kwargs):
        sealed = {
            k: kwargs.pop(k)
            for k in list(kwargs)
            if isinstance(getattr(type(self), k, None), SealedField)
        }
        kwargs.setdefault("id", new_id())
        super().__init__(**kwargs)
        for name, value in sealed.items():
            setattr(self, name, value)

    def sealing_key(self) -> KeyHolder:
        """The row holding the data key this row's values are sealed under."""
        raise NotImplementedError

    def reseal(self, relink) -> None:
        """Read every sealed value, call `relink` (which changes the row's data key), seal again.

        Used when a call joins a case: its values move under the case's key.
        """
        values = {name: getattr(self, name) for name in sealed_fields(type(self))}
        relink()
        self.__dict__.pop("_opened", None)
        for name, value in values.items():
            setattr(self, name, value)
