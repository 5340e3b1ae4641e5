"""The record of the key-encryption keys (KEKs) a database has data keys wrapped under: each
KEK's fingerprint, never the key, written before the first data key wrapped under it is
committed, so `flask keys` can tell a key file that cannot open this database's records
(app/crypto/management.py)."""

from __future__ import annotations

from datetime import datetime

from flask import current_app, has_app_context
from sqlalchemy import String, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.clock import UTCDateTime, utcnow
from app.crypto.keyring import Keyring
from app.extensions import db


class KekRecord(db.Model):
    """The fingerprint of each KEK ever used with this database (never the key itself)."""

    __tablename__ = "kek_record"

    kek_id: Mapped[str] = mapped_column(String(8), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(40))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


RECORDED = "diemtua.fingerprints_recorded"  # app.extensions: the active KEK known recorded
PENDING = "diemtua.fingerprints_pending"  # session.info: recorded by this open transaction
UNWRITTEN = "diemtua.fingerprints_unwritten"  # session.info: its records, written at commit


def record_fingerprints(ring: Keyring) -> None:
    """Remember every KEK of the file, in the caller's transaction: the records are written as
    it commits (_write_records), after every lock it takes, so the transaction never waits
    for another's record while holding a lock that one needs (recorded when the first data
    key was made, a save that took the case counter first and one that took it after could
    deadlock on PostgreSQL). Several workers of a new installation may record the same KEK at
    once: a record another transaction wrote first is left as it is."""
    known = set(db.session.execute(select(KekRecord.kek_id)).scalars())
    missing = [
        {"kek_id": kid, "fingerprint": fingerprint}
        for kid, fingerprint in ring.fingerprints().items()
        if kid not in known
    ]
    info = db.session().info
    if missing:
        info[UNWRITTEN] = missing
    info[PENDING] = ring.active_kek_id  # known recorded once this transaction commits


def keep_fingerprints() -> Keyring:
    """The keyring, its KEKs remembered (in the caller's transaction) if not yet done by this
    app: done before a first data key is made, so a database never holds a key wrapped under
    a KEK it has no record of."""
    from app.crypto.datakeys import keyring  # data keys are made under what is recorded here

    ring = keyring()
    active = ring.active_kek_id
    if current_app.extensions.get(RECORDED) != active and db.session().info.get(PENDING) != active:
        record_fingerprints(ring)
    return ring


@event.listens_for(Session, "before_commit")
def _write_records(session) -> None:
    """The KEK records of the committing transaction, written last (INSERT … ON CONFLICT DO
    NOTHING)."""
    rows = session.info.pop(UNWRITTEN, None)
    if not rows:
        return
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[
        session.connection().dialect.name
    ]
    now = utcnow()
    session.execute(
        insert(KekRecord)
        .values([{**row, "added_at": now} for row in rows])
        .on_conflict_do_nothing(index_elements=["kek_id"])
    )


@event.listens_for(Session, "after_commit")
def _recorded(session) -> None:
    """The KEKs recorded in the transaction just committed are on record for good."""
    active = session.info.pop(PENDING, None)
    if active is not None and has_app_context():
        current_app.extensions[RECORDED] = active


@event.listens_for(Session, "after_soft_rollback")
def _not_recorded(session, previous_transaction) -> None:
    """Rolled back: what the transaction recorded is gone, and is recorded again next time
    (a savepoint rolled back inside it leaves the transaction's records to be written)."""
    if previous_transaction.parent is not None:
        return
    session.info.pop(PENDING, None)
    session.info.pop(UNWRITTEN, None)
