"""Role and object checks that every blueprint reuses.

`roles_required` guards a view by role; `get_visible_or_404` loads an object only when a scope
function says this user may see it, answering 404 otherwise so nobody learns what exists.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask import abort
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


def roles_required(*roles: str) -> Callable:
    """Allow a view to signed-in users holding one of the roles; others get 403."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


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
