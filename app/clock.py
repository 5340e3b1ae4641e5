"""Time: stored in UTC, shown in Asia/Ho_Chi_Minh by the Babel filters."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

# Where times are shown and typed: Vietnam's one time zone (config.BABEL_DEFAULT_TIMEZONE for
# the Babel filters).
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
# The years a date or time typed may be in: wider than any call, case or date of birth, and far
# from the ends of Python's calendar (01/01/0001 00:00 in Vietnam is before its first instant
# in UTC: converting it overflowed, a server error on the page that took it).
YEARS = range(1900, 2101)


# How far the clock is set back while the demo's calls of past days are saved (as_of); zero
# everywhere else.
_SHIFT: ContextVar[timedelta] = ContextVar("clock_shift", default=timedelta(0))


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC) + _SHIFT.get()


@contextmanager
def as_of(moment: datetime) -> Iterator[None]:
    """Run as if it were `moment`: the demo saves a call of three days ago with everything it
    records (its case's parts, tasks, audit entries) dated then, not at the seeding."""
    token = _SHIFT.set(moment - datetime.now(UTC))
    try:
        yield
    finally:
        _SHIFT.reset(token)


def local_today() -> date:
    """Today's date in Vietnam (until 07:00 there, UTC's date is still yesterday's)."""
    return utcnow().astimezone(LOCAL).date()


def local_day(moment: datetime | None) -> date:
    """The date in Vietnam of a moment (today's for none)."""
    return moment.astimezone(LOCAL).date() if moment is not None else local_today()


def local_to_utc(naive: datetime) -> datetime:
    """A time typed in Vietnam's time, as UTC; ValueError for a year outside YEARS."""
    if naive.year not in YEARS:
        raise ValueError(f"year {naive.year} is outside {YEARS.start}-{YEARS.stop - 1}")
    return naive.replace(tzinfo=LOCAL).astimezone(UTC)


def local_midnight(day: date, at: time | None = None) -> datetime:
    """A day (and time of day) in Vietnam, as the UTC instant it was: the start of the day when
    no time is given."""
    return datetime.combine(day, at or time(0), tzinfo=LOCAL).astimezone(UTC)


def first_day(now: datetime, days: int) -> date:
    """The first day, in Vietnam, of a list of the last `days` days: the day a search's "opened
    from" takes to find the same cases (local days, so a list drawn at 06:00 also holds the
    whole of that first day, as the search does)."""
    return local_day(now) - timedelta(days=days)


class UTCDateTime(TypeDecorator):
    """A timestamp stored as naive UTC on every database and read back timezone-aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        """Refuse naive datetimes, so a local time can never be stored by mistake."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use app.clock.utcnow()")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        """Mark values read from the database as UTC."""
        return None if value is None else value.replace(tzinfo=UTC)
