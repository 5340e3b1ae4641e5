"""Reads of calls for pages: codes and times only, never the sealed number, name or narrative."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Row, Select, func, select

from app.auth.models import User
from app.calls.models import Call
from app.cases.models import Case
from app.extensions import db

RECENT_LIMIT = 100
PAGE_SIZE = 50


def _call_rows(*conditions) -> Select:
    """Call list columns, newest first: times and codes, and the number and child flag of the
    case each call is linked to."""
    return (
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
        .where(*conditions)
        .order_by(Call.started_at.desc(), Call.id.desc())
    )


def _taken_by(user: User) -> tuple:
    """The calls the user took at their present organisation (ix_call_taken_by_at)."""
    return (Call.taken_by_id == user.id, Call.organisation_id == user.organisation_id)


def recent_calls(
    user: User, *, now: datetime, days: int = 7, limit: int = RECENT_LIMIT
) -> tuple[list[Row], int]:
    """The calls the user took in the last `days` days, newest first, with the number and child
    flag of the case each one is linked to; and how many there were in all."""
    mine = (*_taken_by(user), Call.started_at >= now - timedelta(days=days))
    rows = list(db.session.execute(_call_rows(*mine).limit(limit)).all())
    if len(rows) < limit:
        return rows, len(rows)
    return rows, db.session.execute(select(func.count(Call.id)).where(*mine)).scalar_one()


def calls_taken(user: User, *, page: int, size: int = PAGE_SIZE) -> tuple[list[Row], int, int]:
    """One page of all the calls the user took, newest first: the rows, how many calls there
    are in all, and the page's number (a page past the end gives the last)."""
    total = db.session.execute(select(func.count(Call.id)).where(*_taken_by(user))).scalar_one()
    number = min(max(page, 1), max(1, -(-total // size)))
    stmt = _call_rows(*_taken_by(user)).limit(size).offset((number - 1) * size)
    return list(db.session.execute(stmt).all()), total, number
