"""Names to show beside audit entries (the audit log, the admin's and supervisor's pages)."""

from __future__ import annotations

from sqlalchemy import select

from app.audit import AuditEntry
from app.auth.models import User
from app.extensions import db


def people(entries: list[AuditEntry]) -> dict[int, str]:
    """Names of the users who acted in, or are the subject of, a list of entries."""
    ids = {e.user_id for e in entries if e.user_id}
    ids |= {int(e.object_id) for e in entries if e.object_type == "account" and e.object_id}
    if not ids:
        return {}
    rows = db.session.execute(select(User.id, User.full_name).where(User.id.in_(ids)))
    return dict(rows.all())
