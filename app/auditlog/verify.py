"""The audit chain's check (`flask audit verify`): every entry in place, linked to the one
before it, and carrying the keyed hash of its own fields (app/audit.py writes them)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import select

from app.audit import GENESIS, HASHED, AuditEntry, AuditHead, chain_hash
from app.crypto.datakeys import keyring
from app.extensions import db


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of a chain check: how many entries, and the first broken one if any."""

    checked: int
    broken_at: int | None = None
    problem: str | None = None
    head_hash: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the whole chain holds."""
        return self.broken_at is None


def _batches(size: int, *, up_to: int) -> Iterator[list[tuple]]:
    columns = [AuditEntry.__table__.c[name] for name in HASHED] + [AuditEntry.__table__.c.hash]
    last = 0
    while True:
        stmt = (select(*columns).where(AuditEntry.id > last, AuditEntry.id <= up_to)
                .order_by(AuditEntry.id).limit(size))  # fmt: skip
        rows = db.session.connection().execute(stmt).all()
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def verify(
    *, batch_size: int = 20_000, progress: Callable[[int], None] | None = None
) -> VerifyResult:
    """Check the chain up to the head read at the start (entries added meanwhile are left for
    the next run), in id order; name the first entry that breaks it."""
    head = db.session.execute(
        select(AuditHead.seq, AuditHead.last_hash).where(AuditHead.id == 1)
    ).one()
    expected_prev, expected_id, checked = GENESIS, 1, 0
    mac = keyring().audit_mac
    for rows in _batches(batch_size, up_to=head.seq):
        for row in rows:
            entry_id, prev_hash, stored = row[0], row[-2], row[-1]
            if entry_id != expected_id:
                return VerifyResult(checked, expected_id, "missing")
            if prev_hash != expected_prev:
                return VerifyResult(checked, entry_id, "unlinked")
            if chain_hash(row[:-1], mac) != stored:
                return VerifyResult(checked, entry_id, "changed")
            expected_prev, expected_id, checked = stored, entry_id + 1, checked + 1
        if progress:
            progress(len(rows))
    if checked != head.seq or expected_prev != head.last_hash:
        return VerifyResult(checked, checked + 1, "tail")
    return VerifyResult(checked, head_hash=head.last_hash)
