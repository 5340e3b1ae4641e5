"""Names to show beside audit entries (the audit log, the admin's and supervisor's pages)."""

from __future__ import annotations

from sqlalchemy import select, text

from app.audit import ACCOUNT_CHANGES, AuditEntry
from app.auth.models import User
from app.extensions import db
from app.form_fields import as_row_id


def people(entries: list[AuditEntry], viewer: User | None = None) -> dict[int, str]:
    """Names of the users who acted in, or are the subject of, a list of entries. For a
    `viewer` other than an admin, an account that is the subject of an entry is named only in
    an entry of the viewer's organisation's own log (one moved away since is still named
    there): an entry of no organisation, or of another, does not tell whose account an id
    typed by anyone is."""
    own = viewer is None or viewer.role == "admin"
    ids = {e.user_id for e in entries if e.user_id}
    subjects = (
        as_row_id(e.object_id)
        for e in entries
        if e.object_type == "account" and (own or e.organisation_id == viewer.organisation_id)
    )
    ids |= {account for account in subjects if account is not None}
    if not ids:
        return {}
    rows = db.session.execute(select(User.id, User.full_name).where(User.id.in_(ids)))
    return dict(rows.all())


def changed_accounts(organisation_id: int | None) -> set[int]:
    """The accounts the organisation's log says were changed while theirs: its staff, and
    those moved out of it since (the move is written in the log they leave too)."""
    changed = db.session.execute(
        select(AuditEntry.object_id).where(
            AuditEntry.organisation_id == organisation_id,
            text(ACCOUNT_CHANGES),  # as the partial index says it, so it is used
            AuditEntry.object_type == "account",
        )
    ).scalars()
    return {account for account in map(as_row_id, changed) if account is not None}
