"""The access and change log: one append-only, hash-chained table.

Every entry records who (user, role, organisation), what (action, object, case), when (UTC), from
where (IP, request id) and, optionally, a stated reason; never sensitive content. Each entry's hash
(an HMAC under the key file's audit key, so it cannot be recomputed without the keys) covers the
previous entry's hash and its own fields, so changing, deleting or reordering a row breaks the
chain from that row on; `flask audit verify` (app/auditlog/verify.py) names the first broken
entry. Appending locks the one-row chain head first, so concurrent writers form a single chain on
SQLite and PostgreSQL alike. On PostgreSQL a trigger refuses UPDATE, DELETE and TRUNCATE (see
migrations).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import lru_cache

from flask import g, has_request_context, request
from sqlalchemy import (
    BigInteger,
    Index,
    Row,
    String,
    Table,
    Uuid,
    bindparam,
    text,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import TextClause

from app.bulk_insert import Statement, write_together, writes_together
from app.clock import UTCDateTime, utcnow
from app.crypto.datakeys import keyring
from app.extensions import db

GENESIS = "0" * 64
SIGN_IN_ACTIONS = (
    "login_success", "login_failure", "login_throttled", "lockout", "logout", "session_expired",
    "mfa_enrolled", "mfa_disabled", "mfa_failure", "mfa_reset", "recovery_code_used",
    "recovery_codes_regenerated", "password_changed", "password_reset", "sessions_revoked",
    "user_created", "user_updated", "user_disabled", "user_enabled",
)  # fmt: skip
ACTIONS = (
    "view", "create", "update", "export", "erase", "denied", "break_glass", *SIGN_IN_ACTIONS,
    "organisation_created", "organisation_updated", "keys_rotated", "keys_retired",
    "keys_reindexed", "assign", "status", "search", "import", "line_created", "line_revoked",
    "screen_pop",
)  # fmt: skip


DETAIL_LENGTH = 200  # what an entry's detail keeps (a longer one is cut)
ACCOUNT_CHANGES = "action = 'user_updated'"  # ix_audit_entry_account_changes's entries


class AuditEntry(db.Model):
    """One entry of the chain; its id is its position in the chain."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(db.Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    user_id: Mapped[int | None] = mapped_column()
    role: Mapped[str | None] = mapped_column(String(20))
    organisation_id: Mapped[int | None] = mapped_column()
    action: Mapped[str] = mapped_column(String(32))
    object_type: Mapped[str | None] = mapped_column(String(24))
    object_id: Mapped[str | None] = mapped_column(String(40))
    case_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    detail: Mapped[str | None] = mapped_column(String(DETAIL_LENGTH))
    reason: Mapped[str | None] = mapped_column(String(200))
    request_id: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(45))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_audit_entry_org_at", "organisation_id", "at"),
        Index("ix_audit_entry_case_id", "case_id"),
        Index("ix_audit_entry_user_id", "user_id"),
        Index("ix_audit_entry_object", "object_type", "object_id"),
        # Accounts an organisation's log says were changed (moved out, too): the log's people.
        Index(
            "ix_audit_entry_account_changes",
            "organisation_id",
            sqlite_where=text(ACCOUNT_CHANGES),
            postgresql_where=text(ACCOUNT_CHANGES),
        ),
    )


class AuditHead(db.Model):
    """The single row holding the chain's last position and hash; locked by each append."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(db.Integer, "sqlite"))
    last_hash: Mapped[str] = mapped_column(String(64))


HASHED = (
    "id",
    "at",
    "user_id",
    "role",
    "organisation_id",
    "action",
    "object_type",
    "object_id",
    "case_id",
    "detail",
    "reason",
    "request_id",
    "ip",
    "prev_hash",
)


def canonical(values) -> bytes:
    """The fields of HASHED in a form where no two entries coincide: each value is written
    with its length (None as '-'), so text can never slide from one field into another."""
    (entry_id, at, user_id, role, organisation_id, action, object_type, object_id, case_id,
     detail, reason, request_id, ip, prev_hash) = values  # fmt: skip
    texts = (
        str(entry_id), at.isoformat(), None if user_id is None else str(user_id), role,
        None if organisation_id is None else str(organisation_id), action, object_type,
        object_id, case_id.hex if case_id else None, detail, reason, request_id, ip, prev_hash,
    )  # fmt: skip
    return "|".join(["-" if t is None else f"{len(t)}:{t}" for t in texts]).encode()


def chain_hash(values, mac=None) -> str:
    """The keyed hash (HMAC under the audit key) an entry with these fields must carry."""
    return (mac or keyring().audit_mac)(canonical(values))


def entry_hash(entry: AuditEntry) -> str:
    """The hash an entry must carry."""
    return chain_hash([getattr(entry, name) for name in HASHED])


def record(
    action: str,
    *,
    user=None,
    object_type: str | None = None,
    object_id: object = None,
    case_id: uuid.UUID | None = None,
    organisation_id: int | None = None,
    detail: str | None = None,
    reason: str | None = None,
) -> AuditEntry:
    """Append an entry in the caller's transaction, which commits it with the change it records.

    `user` is who acted (None for the system or an unknown visitor).
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    head = _locked_head()
    entry = AuditEntry(
        id=head.seq,
        at=utcnow(),
        user_id=user.id if user else None,
        role=user.role if user else None,
        organisation_id=organisation_id
        if organisation_id is not None
        else (user.organisation_id if user else None),
        action=action,
        object_type=object_type,
        object_id=str(object_id) if object_id is not None else None,
        case_id=case_id,
        detail=(detail or None) and detail[:DETAIL_LENGTH],
        reason=(reason or None) and reason[:200],
        request_id=g.get("request_id") if has_request_context() else None,
        ip=request.remote_addr if has_request_context() else None,
        prev_hash=head.last_hash,
    )
    entry.hash = entry_hash(entry)
    head.last_hash = entry.hash
    db.session.add(entry)
    db.session.flush([entry, head])  # written at once, so a savepoint rolled back later cannot
    return entry  # leave the head behind the entries


def _locked_head(count: int = 1) -> AuditHead:
    """The chain head, with the next position taken. The first entry of a transaction locks the
    head row (UPDATE); later entries of the same transaction already hold that lock, so they
    move the head on in memory and the commit writes it once (an import or an intake adds
    several entries per transaction). Each entry is flushed with the head, so the head in memory
    is always what the database holds."""
    head = _held_head()
    if head is not None:
        head.seq += count
        return head
    session = db.session()
    # One statement takes the position, locks the row and reads the head back.
    head = db.session.execute(
        update(AuditHead)
        .where(AuditHead.id == 1)
        .values(seq=AuditHead.seq + count)
        .returning(AuditHead)
        .execution_options(populate_existing=True, synchronize_session=False)
    ).scalar_one()
    session.info["diemtua.audit_head"] = (session.get_transaction(), head)
    return head


def _held_head() -> AuditHead | None:
    """The head `_locked_head` locked in the current transaction, if it did."""
    session = db.session()
    transaction = session.get_transaction()
    held = session.info.get("diemtua.audit_head")
    if held is not None and transaction is not None and held[0] is transaction:
        return held[1]
    return None


_HEAD = AuditHead.__table__
_HEAD_UPDATE = "UPDATE audit_head SET last_hash = {} WHERE id = 1"
_HEAD_MOVE = (  # built once: building a statement costs more than running it
    update(_HEAD).where(_HEAD.c.id == 1).values(seq=_HEAD.c.seq + bindparam("count"))
    .returning(_HEAD.c.seq, _HEAD.c.last_hash)
)  # fmt: skip


def head_held() -> bool:
    """Whether this transaction has locked the head through `record` already."""
    return _held_head() is not None


def take_places_after(first_sql: str, params: dict, count: int) -> tuple[Row, tuple[int, str]]:
    """PostgreSQL only: run `first_sql` (a data-modifying statement with RETURNING and named
    parameters, e.g. taking case numbers), then lock the head and move it on by `count`, in
    one statement: one round trip where two went. The head's UPDATE waits on the first part's
    rows, so the locks are taken in the order every writer takes them (its own rows, then the
    head). Returns the first part's row and the places for record_many(taken=...)."""
    row = db.session.connection().execute(_after(first_sql), {**params, "audit_count": count})
    row = row.one()
    return row, (row.audit_seq, row.audit_last_hash)


@lru_cache(maxsize=16)
def _after(first_sql: str) -> TextClause:
    """take_places_after's statement, built once per first part."""
    return text(
        f"WITH first AS ({first_sql}), "  # noqa: S608 - SQL of our own; every value bound
        "head AS (UPDATE audit_head SET seq = seq + :audit_count "
        "WHERE id = 1 AND EXISTS (SELECT FROM first) RETURNING seq, last_hash) "
        "SELECT first.*, head.seq AS audit_seq, head.last_hash AS audit_last_hash "
        "FROM first, head"
    )


def record_many(
    items: list[dict],
    *,
    along: list[tuple[Table, list[dict]]] = (),
    then: list[Statement] = (),
    taken: tuple[int, str] | None = None,
) -> list[dict]:
    """Append several entries at once in the caller's transaction (a batch of an import): the
    head is locked and moved on by len(items) in one statement, the entries are chained in
    memory with the same canonical hash as `record`, and written, with the head's new hash, in
    one go (bulk_insert.write_together) together with the rows `along` (the records the entries
    are about, written first) and the statements `then`. Each item takes `record`'s keyword
    arguments, `action` included. `taken`: the places take_places_after took for these
    entries (the head is then locked already). Returns the entries written, in chain order."""
    if not items:
        write_together(list(along), then)
        return []
    for item in items:
        if item["action"] not in ACTIONS:
            raise ValueError(f"unknown audit action {item['action']!r}")
    count = len(items)
    held = _held_head() if taken is None else None
    dialect = db.session.connection().dialect
    if (
        held is None
        and along
        and not writes_together(dialect, [len(r) for _, r in along] + [count])
    ):
        # Written in several statements (SQLite, or an import's batch): the records go in
        # first, so the head, which every audited action waits for, is locked only after them.
        write_together(list(along))
        along = []
    if taken is not None:
        last, prev = taken
    elif held is not None:  # `record` locked the head earlier in this transaction
        held.seq += count
        last, prev = held.seq, held.last_hash
    else:  # one Core statement takes the positions, locks the row and reads it back
        last, prev = db.session.connection().execute(_HEAD_MOVE, {"count": count}).one()
    in_request = has_request_context()
    request_id = g.get("request_id") if in_request else None
    ip = request.remote_addr if in_request else None
    mac = keyring().audit_mac
    rows, now = [], utcnow()  # timed after the lock, as `record` is
    for position, item in enumerate(items, start=last - count + 1):
        user, object_id = item.get("user"), item.get("object_id")
        detail, reason = item.get("detail"), item.get("reason")
        organisation_id = item.get("organisation_id")
        row = {
            "id": position,
            "at": now,
            "user_id": user.id if user else None,
            "role": user.role if user else None,
            "organisation_id": organisation_id
            if organisation_id is not None
            else (user.organisation_id if user else None),
            "action": item["action"],
            "object_type": item.get("object_type"),
            "object_id": str(object_id) if object_id is not None else None,
            "case_id": item.get("case_id"),
            "detail": (detail or None) and detail[:DETAIL_LENGTH],
            "reason": (reason or None) and reason[:200],
            "request_id": request_id,
            "ip": ip,
            "prev_hash": prev,
        }
        row["hash"] = prev = chain_hash([row[name] for name in HASHED], mac)
        rows.append(row)
    parts = [*along, (AuditEntry.__table__, rows)]
    if held is not None:
        write_together(parts, then)
        held.last_hash = prev
        db.session.flush([held])
    else:
        write_together(parts, [*then, _head_moved_to(prev)])
    return rows


def _head_moved_to(last_hash: str) -> Statement:
    """The head's UPDATE giving it the chain's new last hash."""
    return Statement(_HEAD_UPDATE, ((_HEAD.c.last_hash, last_hash),))
