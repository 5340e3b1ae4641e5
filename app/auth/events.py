"""Account events (sign-ins, failures, lockouts, code and password changes, admin actions).

They go into the audit log (app.audit) as entries about an account, and into the app log as a
line naming ids only, never an email, a password or a token.
"""

from __future__ import annotations

from flask import current_app

from app import audit
from app.auth.models import User

# Done by someone to an account (an admin, or the system when no actor is named).
ADMIN_EVENTS = {
    "user_created",
    "user_updated",
    "user_disabled",
    "user_enabled",
    "password_reset",
    "mfa_reset",
}
# Logged as warnings, so monitoring can alert on them.
WARNING_EVENTS = {"lockout", "login_throttled", "mfa_failure", "mfa_reset", "password_reset"}


def record(
    event: str, *, user: User | None = None, actor: User | None = None, detail: str | None = None
) -> audit.AuditEntry:
    """Append an account event to the audit log in the caller's transaction.

    `user` is the account concerned, `actor` who acted (the user themself when not given,
    except for admin actions, where no actor means the system).
    The entry belongs to the account's organisation, so its supervisors see it.
    """
    acting = actor if actor is not None or event in ADMIN_EVENTS else user
    entry = audit.record(
        event,
        user=acting,
        object_type="account" if user else None,
        object_id=user.id if user else None,
        organisation_id=user.organisation_id if user else None,
        detail=detail,
    )
    level = "warning" if event in WARNING_EVENTS else "info"
    getattr(current_app.logger, level)(
        "auth event %s user=%s actor=%s detail=%s",
        event,
        user.id if user else "-",
        acting.id if acting else "-",
        detail or "-",
    )
    return entry
