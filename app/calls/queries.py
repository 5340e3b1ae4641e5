"""Reads of calls for pages: codes and times only, never the sealed number, name or narrative."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, Select, func, select

from app.auth.models import User
from app.calls.models import Call
from app.cases.models import Case
from app.clock import first_day, local_midnight
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
        # The index's order (ix_call_taken_by_at), which also orders calls of the same minute
        # the same way each time (SQLite by row, PostgreSQL by the row's place: both keep
        # equal keys in that order), so pages neither repeat nor skip a call. A second sort
        # key would make the database sort the person's calls instead of walking the index
        # (0.3 ms became 11 ms at 1,000,000 cases).
        .order_by(Call.started_at.desc())
    )


def _taken_by(user: User) -> tuple:
    """The calls the user took at their present organisation (ix_call_taken_by_at)."""
    return (Call.taken_by_id == user.id, Call.organisation_id == user.organisation_id)


def recent_calls(
    user: User, *, now: datetime, days: int = 7, limit: int = RECENT_LIMIT
) -> tuple[list[Row], int]:
    """The calls the user took in the last `days` days, newest first, with the number and child
    flag of the case each one is linked to; and how many there were in all. Days in Vietnam,
    from the start of the first, as the desk's list of cases opened counts them."""
    mine = (*_taken_by(user), Call.started_at >= local_midnight(first_day(now, days)))
    rows = list(db.session.execute(_call_rows(*mine).limit(limit)).all())
    if len(rows) < limit:
        return rows, len(rows)
    return rows, db.session.execute(select(func.count(Call.id)).where(*mine)).scalar_one()


COUNT_CAP = 1000  # "more than 1,000": an exact count of years of calls reads every one of them


@dataclass
class CallPage:
    """One page of a person's calls: the rows, the page's number, whether an older page
    follows, and how many calls there are (up to COUNT_CAP; `capped` past it)."""

    rows: list[Row]
    number: int
    has_next: bool
    total: int
    capped: bool
    size: int = PAGE_SIZE

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def pages(self) -> int | None:
        """How many pages there are, when the count is exact."""
        return None if self.capped else max(1, -(-self.total // self.size))


def calls_taken(user: User, *, page: int, size: int = PAGE_SIZE) -> CallPage:
    """One page of all the calls the user took, newest first (a page past the end gives the
    last). Walked along ix_call_taken_by_at; counted only up to COUNT_CAP."""
    mine = _taken_by(user)
    counted = select(Call.id).where(*mine).limit(COUNT_CAP + 1).subquery()
    total = db.session.execute(select(func.count()).select_from(counted)).scalar_one()
    capped = total > COUNT_CAP
    number = max(1, min(page, 100_000))
    if not capped:
        number = min(number, max(1, -(-total // size)))
    stmt = _call_rows(*mine).limit(size + 1).offset((number - 1) * size)
    rows = list(db.session.execute(stmt).all())
    return CallPage(rows[:size], number, len(rows) > size, min(total, COUNT_CAP), capped, size)
