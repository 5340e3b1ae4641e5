"""A call's own page, and the list of every call a person took: codes and times in lists, the
number, name and narrative on the call's page only, each look audited."""

from __future__ import annotations

import uuid

from flask import redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from app import audit
from app.auth.access import refuse_object, roles_required
from app.auth.models import User
from app.calls import bp, corrections
from app.calls.models import Call
from app.calls.queries import calls_taken
from app.calls.services import contact_flags
from app.calls.views import CALL_ROLES, INTAKE_ROLES
from app.cases.models import Case
from app.cases.scope import case_scope
from app.classifications import codes
from app.extensions import db


def load_call(call_id: uuid.UUID) -> Call:
    """A call of the user's organisation they may see: one they took (as one whose role takes
    calls), one of a case they may see, or any for a supervisor; otherwise audited and 404.
    (Someone moved to another organisation no longer sees the calls they took at the old one;
    an operator made case manager sees those of the cases assigned to them, as any case
    manager does.)"""
    call = db.session.get(Call, call_id)
    allowed = False
    if call is not None and call.organisation_id == current_user.organisation_id:
        if current_user.role == "supervisor":
            allowed = True
        elif call.taken_by_id == current_user.id and current_user.role in INTAKE_ROLES:
            allowed = True
        elif call.case_id is not None:
            stmt = case_scope(current_user)(select(Case.id).where(Case.id == call.case_id))
            allowed = db.session.execute(stmt).first() is not None
    if not allowed:
        refuse_object("call", call_id)
    return call


def audit_call(call: Call, action: str, detail: str | None) -> None:
    """One audit entry about the call by the person signed in, filed under its organisation
    (and its case, if it has one), in the caller's transaction."""
    audit.record(
        action,
        user=current_user,
        object_type="call",
        object_id=call.id,
        case_id=call.case_id,
        organisation_id=call.organisation_id,
        detail=detail,
    )


@bp.route("/mine")
@roles_required(*INTAKE_ROLES)
def mine():
    """Every call the user took, newest first, 50 a page: times and codes only, each call's page
    a click away (the home page lists the last 7 days')."""
    page = calls_taken(current_user, page=request.args.get("page", 1, type=int))
    if not page.rows and page.has_prev:  # past the end of a list counted only so far
        return redirect(url_for("calls.mine"))
    return render_template("calls/mine.html", page=page)


@bp.route("/<uuid:call_id>")
@roles_required(*CALL_ROLES)
def show(call_id: uuid.UUID):
    """One call: what was said and done; each look is audited."""
    call = load_call(call_id)
    # Where the caller's number is shown, so are the case's safe-contact instructions (when
    # this user may see the case): nobody calls back without them.
    safe_case = None
    if call.case_id is not None:
        stmt = case_scope(current_user)(select(Case).where(Case.id == call.case_id))
        safe_case = db.session.execute(stmt).scalar_one_or_none()
        if safe_case is not None and safe_case.erased_at is not None:
            safe_case = None
    audit_call(call, "view", "with the case's safe contact" if safe_case is not None else None)
    db.session.commit()
    flags = contact_flags(safe_case) if safe_case is not None else codes(call.flags)
    corrected = corrections.last_correction(call)
    return render_template(
        "calls/show.html",
        call=call,
        safe_case=safe_case,
        flags=flags,
        correctable=corrections.may_correct(call, current_user),
        corrected=corrected,
        corrected_by=db.session.get(User, corrected.user_id)
        if corrected and corrected.user_id
        else None,
    )
