"""Reads for the phone-line pages, limited to the admin's own organisation."""

from __future__ import annotations

from flask import abort
from sqlalchemy import select

from app import audit
from app.auth.models import User
from app.extensions import db
from app.telephony.models import PhoneLine


def organisation_lines(user: User) -> list[PhoneLine]:
    """The lines of the user's organisation: live ones first, then revoked, each by name."""
    stmt = (
        select(PhoneLine)
        .where(PhoneLine.organisation_id == user.organisation_id)
        .order_by(PhoneLine.revoked_at.is_not(None), PhoneLine.name, PhoneLine.id)
    )
    return list(db.session.execute(stmt).scalars())


def line_or_404(user: User, line_id: int) -> PhoneLine:
    """One line of the user's organisation; any other is answered 404 and the attempt audited
    under the line's organisation."""
    line = db.session.get(PhoneLine, line_id)
    if line is None or line.organisation_id != user.organisation_id:
        audit.record(
            "denied",
            user=user,
            object_type="phone_line",
            object_id=line_id,
            organisation_id=line.organisation_id if line else None,
        )
        db.session.commit()
        abort(404)
    return line
