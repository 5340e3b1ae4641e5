"""Reads of calls for pages: codes and times only, never the sealed number, name or narrative."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Row, func, select

from app.auth.models import User
from app.calls.models import Call
from app.cases.models import Case
from app.extensions import db

RECENT_LIMIT = 100


def recent_calls(
    user: User, *, now: datetime, days: int = 7, limit: int = RECENT_LIMIT
) -> tuple[list[Row], int]:
    """The calls the user took in the last `days` days, newest first, with the number and child
    flag of the case each one is linked to; and how many there were in all."""
    since = now - timedelta(days=days)
    mine = (
        Call.taken_by_id == user.id,
        Call.organisation_id == user.organisation_id,
        Call.started_at >= since,
    )
    stmt = (
        select(
            Call.id,
            Call.started_at,
            Call.ended_at,
            Call.channel,
            Call.reason,
            Call.flags,
            Call.case_id,
            Case.number.label("case_number"),
            Case.is_child,
        )
        .outerjoin(Case, Case.id == Call.case_id)
        .where(*mine)
        .order_by(Call.started_at.desc())
        .limit(limit)
    )
    rows = list(db.session.execute(stmt).all())
    if len(rows) < limit:
        return rows, len(rows)
    return rows, db.session.execute(select(func.count(Call.id)).where(*mine)).scalar_one()
