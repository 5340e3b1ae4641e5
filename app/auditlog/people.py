"""Names to show beside audit entries (the audit log, the admin's and supervisor's pages)."""

from __future__ import annotations

from sqlalchemy import select

from app.audit import AuditEntry
from app.auth.models import User
from app.extensions import db


def people(entries: list[AuditEntry], viewer: User | None = None) -> dict[int, str]:
    """Names of the users who acted in, or are the subject of, a list of entries. For a
    `viewer` other than an admin, an account that is the subject of an entry is named only if
    it is of the viewer's organisation: a refused address naming another organisation's
    account (filed in that organisation's log, but the id is typed by anyone) must not tell
    its name."""
    actors = {e.user_id for e in entries if e.user_id}
    subjects = {
        int(e.object_id)
        for e in entries
        if e.object_type == "account"
        and e.object_id
        and e.object_id.isascii()
        and e.object_id.isdigit()
        and len(e.object_id) <= 9
    }
    named = {}
    if actors:
        rows = db.session.execute(select(User.id, User.full_name).where(User.id.in_(actors)))
        named.update(rows.all())
    subjects -= set(named)
    if subjects:
        stmt = select(User.id, User.full_name).where(User.id.in_(subjects))
        if viewer is not None and viewer.role != "admin":
            stmt = stmt.where(User.organisation_id == viewer.organisation_id)
        named.update(db.session.execute(stmt).all())
    return named
