"""The sign-in event log: who did what to which account, never a password or personal detail."""

from __future__ import annotations

from flask import current_app, g, has_request_context, request

from app.auth.models import AuthEvent, User
from app.extensions import db

EVENTS = (
    "login_success",
    "login_failure",
    "login_throttled",
    "lockout",
    "logout",
    "session_expired",
    "mfa_enrolled",
    "mfa_disabled",
    "mfa_failure",
    "mfa_reset",
    "recovery_code_used",
    "recovery_codes_regenerated",
    "password_changed",
    "password_reset",
    "sessions_revoked",
    "user_created",
    "user_updated",
    "user_disabled",
    "user_enabled",
    "organisation_created",
    "organisation_updated",
)


# Logged as warnings, so monitoring can alert on them; the log line names ids, never emails.
WARNING_EVENTS = {"lockout", "login_throttled", "mfa_failure", "mfa_reset", "password_reset"}


def record(
    event: str, *, user: User | None = None, actor: User | None = None, detail: str | None = None
) -> AuthEvent:
    """Add an event to the current transaction; the caller's use case commits it."""
    if event not in EVENTS:
        raise ValueError(f"unknown auth event {event!r}")
    entry = AuthEvent(
        event=event,
        user_id=user.id if user else None,
        actor_id=actor.id if actor else None,
        organisation_id=user.organisation_id
        if user
        else (actor.organisation_id if actor else None),
        ip=request.remote_addr if has_request_context() else None,
        request_id=g.get("request_id") if has_request_context() else None,
        detail=detail,
    )
    db.session.add(entry)
    level = "warning" if event in WARNING_EVENTS else "info"
    getattr(current_app.logger, level)(
        "auth event %s user=%s actor=%s detail=%s",
        event,
        entry.user_id or "-",
        entry.actor_id or "-",
        detail or "-",
    )
    return entry
