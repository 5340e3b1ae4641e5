"""Role and object checks that every blueprint reuses.

`roles_required` guards a view by role; `get_visible_or_404` loads an object only when a scope
function says this user may see it, answering 404 otherwise so nobody learns what exists.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import NoReturn, TypeVar

from flask import abort, request
from flask_login import current_user, login_required
from sqlalchemy import Select, select

from app.extensions import db

T = TypeVar("T")

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
}


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
    object_type = object_id = None
    for name, value in (request.view_args or {}).items():
        if name in ADDRESSED:
            object_type, object_id = ADDRESSED[name], value
            break
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


def refuse_object(object_type: str, object_id) -> NoReturn:
    """An object (a case, or a call or task of one) this user may not see, or that does not
    exist: the attempt goes to the audit log of the organisation whose record it is, with its
    case, and the answer is 404, as for anything not there."""
    from app import audit

    case_id, organisation_id = _owner_of(object_type, object_id)
    audit.record(
        "denied",
        user=current_user,
        object_type=object_type,
        object_id=object_id,
        case_id=case_id,
        organisation_id=organisation_id,
    )
    db.session.commit()
    abort(404)


def _owner_of(object_type: str | None, object_id) -> tuple[object, int | None]:
    """The case and organisation a refused address points at (a case, or a call or task of
    one), so the attempt is in the log of the organisation whose record it was, with the case,
    as a refusal of the object itself is; (None, None) for anything else, or nothing found."""
    from app.calls.models import Call
    from app.cases.models import Case, Task

    model = {"case": Case, "call": Call, "task": Task}.get(object_type or "")
    if model is None:
        return None, None
    case_column = model.id if model is Case else model.case_id
    found = db.session.execute(
        select(case_column, model.organisation_id).where(model.id == object_id)
    ).first()
    db.session.rollback()  # nothing of the refused request stays open
    return (found[0], found[1]) if found is not None else (None, None)


def get_visible_or_404(model: type[T], object_id: int, scope: Callable[[Select], Select]) -> T:
    """Load one object through a scope that filters what the current user may see."""
    stmt = scope(select(model).where(model.id == object_id))  # type: ignore[attr-defined]
    obj = db.session.execute(stmt).scalar_one_or_none()
    if obj is None:
        abort(404)
    return obj


def same_organisation(obj_org_id: int | None) -> bool:
    """Whether an object belongs to the current user's organisation."""
    return obj_org_id is not None and obj_org_id == current_user.organisation_id
