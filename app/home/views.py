"""Role home pages: the operator's desk, the case manager's and supervisor's overviews, partners."""

from __future__ import annotations

from flask import render_template, request
from flask_login import current_user
from sqlalchemy import select

from app import audit
from app.audit import SIGN_IN_ACTIONS, AuditEntry
from app.auth import mfa
from app.auth.access import roles_required
from app.auth.models import User
from app.extensions import db
from app.home import bp

WATCHED_EVENTS = (
    "login_failure",
    "lockout",
    "login_throttled",
    "mfa_failure",
    "password_reset",
    "mfa_reset",
    "user_disabled",
    "login_success",
    "logout",
    "session_expired",
)


@bp.route("/operator")
@roles_required("operator")
def operator():
    """The operator's desk: emergency numbers, the first questions, and legal deadlines."""
    return render_template(
        "home/operator.html", recovery_left=mfa.remaining_recovery_codes(current_user)
    )


@bp.route("/case-manager")
@roles_required("case_manager")
def case_manager():
    """The case manager's overview: basic support services and deadlines."""
    return render_template("home/case_manager.html")


@bp.route("/supervisor")
@roles_required("supervisor")
def supervisor():
    """The supervisor's overview: the organisation's accounts and their sign-in activity."""
    event = request.args.get("event", "")
    staff = (
        db.session.execute(
            select(User)
            .where(User.organisation_id == current_user.organisation_id)
            .order_by(User.active.desc(), User.full_name)
        )
        .scalars()
        .all()
    )
    stmt = (
        select(AuditEntry)
        .where(
            AuditEntry.organisation_id == current_user.organisation_id,
            AuditEntry.action.in_(SIGN_IN_ACTIONS),
        )
        .order_by(AuditEntry.id.desc())
        .limit(100)
    )
    if event in WATCHED_EVENTS:
        stmt = stmt.where(AuditEntry.action == event)
    recent = db.session.execute(stmt).scalars().all()
    return render_template(
        "home/supervisor.html",
        staff=staff,
        events=recent,
        event=event,
        watched=WATCHED_EVENTS,
        people=audit.people(recent),
    )


@bp.route("/partner")
@roles_required("partner")
def partner():
    """The partner organisation's page: who they are here, and what they may see."""
    return render_template("home/partner.html", org=current_user.organisation)
