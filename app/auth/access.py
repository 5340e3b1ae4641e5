"""Role and object checks that every blueprint reuses.

`roles_required` guards a view by role (403, audited); `refuse_object` answers a case, call or
task this user may not see as if it did not exist (404, audited in the log of the organisation
whose record it is). Which objects a user may see is decided where each is loaded
(app/cases/views.py `load_case`, app/calls/call_views.py `load_call`, the queue views).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from typing import NoReturn

from flask import abort, has_request_context, request
from flask_login import current_user, login_required
from sqlalchemy import null, select

from app.extensions import db

HOME_ENDPOINTS = {
    "operator": "home.operator",
    "case_manager": "home.case_manager",
    "supervisor": "home.supervisor",
    "admin": "admin.users",
    "partner": "home.partner",
}


# The objects pages name in their address, as the audit log names them (labels.OBJECT_LABELS).
ADDRESSED = {
    "case_id": "case",
    "call_id": "call",
    "task_id": "task",
    "line_id": "phone_line",
    "user_id": "account",
    "org_id": "organisation",
    "intake_key": "intake_draft",
}
# Pages that name their object in the query instead: the intake of a new call on a case
# (`/calls/new?case=<id>`) and an unsaved intake offered back (`?draft=<key>`).
QUERY_ADDRESSED = {"calls.new": {"case": "case", "draft": "intake_draft"}}


def roles_required(*roles: str) -> Callable:
    """Allow a view to signed-in users holding one of the roles; others get 403."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.has_role(*roles):
                refuse_role()
            return view(*args, **kwargs)

        return wrapped

    return decorator


def refuse_role() -> NoReturn:
    """Answer 403 to a signed-in user whose role the page does not serve, and write the attempt
    to the audit log: the page (its endpoint) and the object named in its address, if any
    (a case, a call, a task...). Nothing else the request did is kept."""
    from app import audit  # the audit log's models import this module's neighbours

    db.session.rollback()
    object_type, object_id = _addressed()
    case_id, organisation_id = _owner_of(object_type, object_id)
    audit.record(
        "denied",
        user=current_user,
        object_type=object_type,
        object_id=object_id,
        case_id=case_id,
        organisation_id=organisation_id,
        detail=f"role: {request.endpoint}",
    )
    db.session.commit()
    abort(403)


def _addressed() -> tuple[str | None, object]:
    """The object a refused request names in its address: in its path, or for the pages of
    QUERY_ADDRESSED in its query (an id that is not one names nothing)."""
    for name, value in (request.view_args or {}).items():
        if name in ADDRESSED:
            return ADDRESSED[name], value
    for name, object_type in QUERY_ADDRESSED.get(request.endpoint or "", {}).items():
        try:
            return object_type, uuid.UUID(request.args.get(name) or "")
        except ValueError:
            continue
    return None, None


def refuse_object(object_type: str, object_id) -> NoReturn:
    """An object (a case, or a call or task of one) this user may not see, or that does not
    exist: the attempt goes to the audit log of the organisation whose record it is, with its
    case and the page asked for (its endpoint: a look, a note sent, an autosave after a
    hand-over are told apart), and the answer is 404, as for anything not there."""
    from app import audit

    case_id, organisation_id = _owner_of(object_type, object_id)
    audit.record(
        "denied",
        user=current_user,
        object_type=object_type,
        object_id=object_id,
        case_id=case_id,
        organisation_id=organisation_id,
        detail=f"page: {request.endpoint}" if has_request_context() else None,
    )
    db.session.commit()
    abort(404)


def _owner_of(object_type: str | None, object_id) -> tuple[object, int | None]:
    """The case and organisation a refused address points at (a case, or a call or task of
    one; a phone line, an account or an organisation: its organisation only), so the attempt is
    in the log of the organisation whose record it was, with the case, as a refusal of the
    object itself is; (None, None) for anything else, or nothing found."""
    from app.auth.models import Organisation, User
    from app.calls.models import Call, IntakeDraft
    from app.cases.models import Case, Task
    from app.telephony.models import PhoneLine

    if object_type == "intake_draft":  # someone's unsaved intake: its author's organisation
        author = db.session.execute(
            select(User.organisation_id)
            .join(IntakeDraft, IntakeDraft.user_id == User.id)
            .where(IntakeDraft.intake_key == object_id)
        ).first()
        db.session.rollback()
        return None, author[0] if author is not None else None
    if object_type in ("account", "organisation"):  # an account's or an organisation's own
        column = User.organisation_id if object_type == "account" else Organisation.id
        model = User if object_type == "account" else Organisation
        owner = db.session.execute(select(column).where(model.id == object_id)).first()
        db.session.rollback()
        return None, owner[0] if owner is not None else None
    model = {"case": Case, "call": Call, "task": Task, "phone_line": PhoneLine}.get(
        object_type or ""
    )
    if model is None:
        return None, None
    case_column = model.id if model is Case else null() if model is PhoneLine else model.case_id
    found = db.session.execute(
        select(case_column, model.organisation_id).where(model.id == object_id)
    ).first()
    db.session.rollback()  # nothing of the refused request stays open
    return (found[0], found[1]) if found is not None else (None, None)
