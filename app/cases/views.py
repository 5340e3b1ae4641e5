"""The case page: what the user may see of a case, each look written to the audit log."""

from __future__ import annotations

import uuid

from flask import abort, render_template
from flask_login import current_user
from sqlalchemy import select

from app import audit
from app.auth.access import roles_required
from app.cases import bp
from app.cases.models import Case
from app.cases.queries import case_scope
from app.extensions import db

CASE_ROLES = ("operator", "case_manager", "supervisor")


def load_case(case_id: uuid.UUID) -> Case:
    """The case if the current user may see it; otherwise the attempt is audited and 404."""
    stmt = case_scope(current_user)(select(Case).where(Case.id == case_id))
    case = db.session.execute(stmt).scalar_one_or_none()
    if case is None:
        # Filed under the case's organisation (when it exists), whose supervisors must see it.
        owner = db.session.execute(
            select(Case.organisation_id).where(Case.id == case_id)
        ).scalar_one_or_none()
        audit.record(
            "denied",
            user=current_user,
            object_type="case",
            object_id=case_id,
            case_id=case_id if owner is not None else None,
            organisation_id=owner,
        )
        db.session.commit()
        abort(404)
    return case


@bp.route("/<uuid:case_id>")
@roles_required(*CASE_ROLES)
def show(case_id: uuid.UUID):
    """One case with its calls; writes one 'view' entry naming every object shown."""
    case = load_case(case_id)
    calls = [] if case.erased_at else list(case.calls)
    shown = " ".join(f"call:{c.id}" for c in calls)
    audit.record(
        "view",
        user=current_user,
        object_type="case",
        object_id=case.id,
        case_id=case.id,
        organisation_id=case.organisation_id,
        detail=shown or None,
    )
    db.session.commit()
    return render_template("cases/show.html", case=case, calls=calls)
