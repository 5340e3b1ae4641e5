"""Key management: fingerprints checked at start, status, KEK rotation, blind-index rebuild.

Rotation and rebuild work in batches, each committed, so they are safe to interrupt and re-run:
a re-run finds what is left (data keys under an older KEK, digests under an older index key) and
finishes it before anything new is started.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import bindparam, func, inspect, select, update

from app.clock import utcnow
from app.crypto.blind import BlindIndex, indexed_fields, set_index
from app.crypto.datakeys import KEY_HOLDERS, KeyDestroyedError
from app.crypto.fingerprints import KekRecord, record_fingerprints
from app.crypto.keyring import KeyFileError, Keyring, load_keyring, save_keyring
from app.extensions import db

BATCH = 5000
Progress = Callable[[int], None]


def check_fingerprints(ring: Keyring) -> None:
    """Refuse a key file that does not belong to this database (read-only; at start)."""
    if not inspect(db.engine).has_table("kek_record"):
        return
    rows = db.session.execute(
        select(KekRecord.kek_id, KekRecord.fingerprint, KekRecord.retired_at)
    ).all()
    if not rows:
        return
    recorded = {kid: fp for kid, fp, _ in rows}
    theirs = ring.fingerprints()
    clash = [kid for kid, fp in theirs.items() if kid in recorded and recorded[kid] != fp]
    if clash or not set(theirs) & set(recorded):
        raise KeyFileError(
            f"The key file {ring.source} does not belong to this database: restore the key file "
            "that was made with it from your key backup."
        )
    missing = sorted(kid for kid, _, retired in rows if retired is None and kid not in theirs)
    if missing:
        raise KeyFileError(
            f"The key file {ring.source} lacks the key(s) {', '.join(missing)} that records "
            "still need: restore the newest key file from your key backup."
        )


@dataclass(frozen=True)
class KeyStatus:
    """What `flask keys status` prints."""

    active_kek: str
    keks: dict[str, int]
    fingerprints: dict[str, str]
    active_index: str
    index_keys: dict[str, int]
    destroyed: int


def _count_by_kek(model) -> dict[str, int]:
    return dict(
        db.session.execute(
            select(model.key_kek_id, func.count())
            .where(model.key_wrapped.is_not(None))
            .group_by(model.key_kek_id)
        ).all()
    )


def status(ring: Keyring) -> KeyStatus:
    """Key ids, the active ones, and how many data keys / digests each one serves."""
    wrapped: dict[str, int] = {}
    destroyed = 0
    for model in KEY_HOLDERS:
        for kid, count in _count_by_kek(model).items():
            wrapped[kid] = wrapped.get(kid, 0) + count
        destroyed += db.session.execute(
            select(func.count()).select_from(model).where(model.key_destroyed_at.is_not(None))
        ).scalar_one()
    digests = dict(
        db.session.execute(
            select(BlindIndex.index_key_id, func.count()).group_by(BlindIndex.index_key_id)
        ).all()
    )
    return KeyStatus(
        active_kek=ring.active_kek_id,
        keks={kid: wrapped.get(kid, 0) for kid in sorted({*ring.keks, *wrapped})},
        fingerprints=ring.fingerprints(),
        active_index=ring.active_index_id,
        index_keys={kid: digests.get(kid, 0) for kid in sorted({*ring.index_keys, *digests})},
        destroyed=destroyed,
    )


def _stale(model, ring: Keyring):
    return (model.key_wrapped.is_not(None)) & (model.key_kek_id != ring.active_kek_id)


def _pending_data_keys(ring: Keyring) -> int:
    return sum(
        db.session.execute(
            select(func.count()).select_from(model).where(_stale(model, ring))
        ).scalar_one()
        for model in KEY_HOLDERS
    )


def _refuse_environment_keys() -> None:
    if os.environ.get("KEYS_JSON"):
        raise KeyFileError(
            "The keys come from KEYS_JSON: rotate with the key file itself, then put its new "
            "content in KEYS_JSON on every worker."
        )


def _rewrap_all(ring: Keyring, advance: Progress) -> None:
    """Re-wrap, in committed batches, every data key not under the active KEK. Each update
    applies only if the wrapped key is still the one read, so an erasure (or any other change)
    committed meanwhile is never undone."""
    for model in KEY_HOLDERS:
        table = model.__table__
        stmt = (
            update(table)
            .where(table.c.id == bindparam("b_id"), table.c.key_wrapped == bindparam("b_old"))
            .values(key_kek_id=bindparam("b_kek"), key_wrapped=bindparam("b_new"))
        )
        while batch := db.session.execute(
            select(table.c.id, table.c.key_id, table.c.key_kek_id, table.c.key_wrapped)
            .where(_stale(model, ring))
            .limit(BATCH)
        ).all():
            db.session.connection().execute(stmt, [rewrapped(ring, *row) for row in batch])
            db.session.commit()
            advance(len(batch))


def rotate(path: str, *, start: Callable[[int], Progress]) -> tuple[Keyring, set[str]]:
    """New active KEK (unless a rotation is unfinished) and every data key re-wrapped under it
    in committed batches. Old KEKs stay in the file: workers still running may have wrapped new
    keys with them; `retire` removes them once the workers have been restarted."""
    _refuse_environment_keys()
    ring = load_keyring(path)
    if _pending_data_keys(ring) == 0:
        ring = ring.with_new_kek()
        save_keyring(ring, path)
    current_app.extensions["diemtua.keyring"] = ring
    record_fingerprints(ring)
    db.session.commit()
    _rewrap_all(ring, start(_pending_data_keys(ring)))
    return ring, set()


def retire(path: str, *, start: Callable[[int], Progress]) -> tuple[Keyring, set[str]]:
    """After a rotation or a rebuild and a restart of every worker: re-wrap the stragglers and
    rebuild the digests left under old index keys, then remove from the file every KEK that no
    data key uses any more and every old index key."""
    _refuse_environment_keys()
    ring = load_keyring(path)
    current_app.extensions["diemtua.keyring"] = ring
    advance = start(_pending_data_keys(ring) + _stale_digest_owners(ring))
    _rewrap_all(ring, advance)
    _rebuild_digests(ring, advance)
    ring, keks = _retire_keks(ring, path)
    ring, index_keys = _retire_index_keys(ring, path)
    return ring, keks | index_keys


def rewrapped(ring: Keyring, row_id, key_id, kek_id: str, wrapped: bytes) -> dict:
    """The update of one row: its data key wrapped under the ring's active KEK."""
    raw = ring.unwrap(kek_id, wrapped, data_key_id=key_id.int)
    new_kek, new_wrapped = ring.wrap(raw, data_key_id=key_id.int)
    return {"b_id": row_id, "b_old": wrapped, "b_kek": new_kek, "b_new": new_wrapped}


def _retire_keks(ring: Keyring, path: str) -> tuple[Keyring, set[str]]:
    used = {kid for model in KEY_HOLDERS for kid in _count_by_kek(model)}
    retired = {kid for kid in ring.keks if kid != ring.active_kek_id and kid not in used}
    if retired:
        ring = ring.without_keks(retired)
        save_keyring(ring, path)
        current_app.extensions["diemtua.keyring"] = ring
        for record in db.session.execute(
            select(KekRecord).where(KekRecord.kek_id.in_(retired))
        ).scalars():
            record.retired_at = utcnow()
        db.session.commit()
    return ring, retired


def _stale_owners(ring: Keyring, owner_type: str, limit: int) -> list:
    return list(
        db.session.execute(
            select(BlindIndex.owner_id)
            .where(
                BlindIndex.owner_type == owner_type, BlindIndex.index_key_id != ring.active_index_id
            )
            .distinct()
            .limit(limit)
        ).scalars()
    )


def reindex(path: str, *, start: Callable[[int], Progress]) -> tuple[Keyring, set[str]]:
    """New active index key (unless a rebuild is unfinished) and every digest rebuilt from the
    sealed values in committed batches. The old index keys stay in the file: workers still
    running may have written digests with them (found through them meanwhile); `retire`
    rebuilds those and removes the keys once the workers have been restarted."""
    _refuse_environment_keys()
    ring = load_keyring(path)
    if _stale_digest_owners(ring) == 0:
        ring = ring.with_new_index_key()
        save_keyring(ring, path)
    current_app.extensions["diemtua.keyring"] = ring
    _rebuild_digests(ring, start(_stale_digest_owners(ring)))
    return ring, set()


def _stale_digest_owners(ring: Keyring) -> int:
    """How many records have a digest under an index key other than the active one."""
    return db.session.execute(
        select(func.count(func.distinct(BlindIndex.owner_id))).where(
            BlindIndex.index_key_id != ring.active_index_id
        )
    ).scalar_one()


def _rebuild_digests(ring: Keyring, advance: Progress) -> None:
    """Every digest not under the active index key made again from the sealed values, in
    committed batches."""
    for owner_type, (model, fields) in indexed_fields().items():
        while ids := _stale_owners(ring, owner_type, BATCH):
            for row in db.session.execute(select(model).where(model.id.in_(ids))).scalars():
                for attribute, field in fields:
                    try:
                        value = getattr(row, attribute)
                    except KeyDestroyedError:  # erased while the rebuild ran: no digest again
                        value = None
                    set_index(
                        owner_type=owner_type,
                        owner_id=row.id,
                        field=field,
                        values=[value] if value else [],
                    )
            db.session.commit()
            advance(len(ids))


def _retire_index_keys(ring: Keyring, path: str) -> tuple[Keyring, set[str]]:
    """Remove from the file every index key but the active one that no digest uses."""
    used = set(db.session.execute(select(BlindIndex.index_key_id).distinct()).scalars())
    retired = {kid for kid in ring.index_keys if kid != ring.active_index_id and kid not in used}
    if retired:
        ring = ring.without_index_keys(retired)
        save_keyring(ring, path)
        current_app.extensions["diemtua.keyring"] = ring
    return ring, retired
