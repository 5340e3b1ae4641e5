"""Role home pages: each role's work queues first, then its reference cards; partners' page.

Queue rows hold codes, dates and staff names only (app.cases.queries), so a home page decrypts
nothing and is not a read of case content; a bounded number of statements fills each page."""

from __future__ import annotations

from flask import render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.routing import BuildError

from app.audit import SIGN_IN_ACTIONS, AuditEntry
from app.auditlog.people import people as people_of
from app.auth import mfa
from app.auth.access import roles_required
from app.auth.models import User
from app.calls.queries import recent_calls
from app.cases import queries
from app.clock import first_day, utcnow
from app.extensions import db
from app.home import bp

RECENT_DAYS = 14  # the operator's "cases I opened" list
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


def unsent_work() -> dict[str, int]:
    """What the person left unsaved (intakes) or unsent (text on case pages), to be offered."""
    from app.calls import drafts as intake_drafts
    from app.cases import drafts as case_drafts

    intakes = current_user.role in ("operator", "supervisor")
    return {
        "intakes": intake_drafts.count_open(current_user) if intakes else 0,
        "cases": case_drafts.count_open(current_user),
    }


def intake_url() -> str:
    """The new-call form's address (the intake may be deployed apart from this page)."""
    try:
        return url_for("calls.new")
    except BuildError:
        return "/calls/new"


@bp.route("/operator")
@roles_required("operator")
def operator():
    """The operator's desk: tasks due, recent calls and cases, then emergency numbers and
    deadlines."""
    now = utcnow()
    calls, calls_total = recent_calls(current_user, now=now)
    return render_template(
        "home/operator.html",
        now=now,
        intake_url=intake_url(),
        tasks=queries.due_tasks(current_user),
        calls=calls,
        calls_total=calls_total,
        cases=queries.cases_opened_recently(current_user, now=now, days=RECENT_DAYS),
        # "See them all": the search for cases opened since the first day of that list.
        recent_since=first_day(now, RECENT_DAYS).strftime("%d/%m/%Y"),
        recovery_left=mfa.remaining_recovery_codes(current_user),
        unsent=unsent_work(),
    )


@bp.route("/case-manager")
@roles_required("case_manager")
def case_manager():
    """The case manager's overview: their cases and tasks, then support services and deadlines."""
    now = utcnow()
    return render_template(
        "home/case_manager.html",
        now=now,
        cases=queries.my_cases(current_user, now=now),
        tasks=queries.due_tasks(current_user),
        unsent=unsent_work(),
    )


@bp.route("/supervisor")
@roles_required("supervisor")
def supervisor():
    """The supervisor's overview: child deadlines, overdue tasks, unassigned cases, closures
    to approve and workload first; then the organisation's accounts and sign-in activity."""
    now = utcnow()
    queues = {
        "child": queries.child_deadlines(current_user),
        "overdue": queries.overdue_tasks(current_user, now=now),
        "unassigned": queries.unassigned_cases(current_user, now=now),
        "closing": queries.pending_closure(current_user, now=now),
        "tasks": queries.due_tasks(current_user),
        "managers": queries.workload(current_user, now=now),
    }
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
        now=now,
        **queues,
        staff=staff,
        events=recent,
        event=event,
        watched=WATCHED_EVENTS,
        people=people_of(recent, current_user),
        unsent=unsent_work(),
    )


@bp.route("/partner")
@roles_required("partner")
def partner():
    """The partner organisation's page: who they are here, and what they may see."""
    return render_template("home/partner.html", org=current_user.organisation)
