"""A survivor's age: as told, or from the date of birth on the day of the call."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l

from app.clock import local_day, local_today

MAX_AGE = 120  # the oldest age the forms and the register import take


def day_told(case) -> date:
    """The day a case's age counts on, in Vietnam: its first call's, as the intake counted it
    (a call written up the day after, about a girl who turned 16 in between, is a child's), or
    the day it was opened if that is earlier (a case imported with its own opening date)."""
    return local_day(min([case.opened_at, *(call.started_at for call in case.calls)]))


def is_child_age(age: int | None, birth_date: date | None, today: date | None = None) -> bool:
    """Under 16 (Law on Children 2016): from the date of birth when there is one (exact; an
    age told beside it may be counted by the year, one more), else the age given."""
    return (y := survivor_age(age, birth_date, today)) is not None and y < 16


def survivor_age(age: int | None, birth_date: date | None, on: date | None = None) -> int | None:
    """The age in years: from the date of birth when there is one, on the date `on` (the
    call's: an age is the age when the case was told) or today's in Vietnam; else as given."""
    if birth_date is None:
        return age
    return years_since(birth_date, on or local_today())


def age_problem(age: int | None, birth_date: date | None, on: date | None = None) -> str | None:
    """What is wrong with an age told beside a date of birth, or None: it must be the age the
    date gives on the day `on` (the call's), or one more (an age counted by the year: 2026
    less 2010). A different one is a slip in either, and would decide the child-protection
    path against the other."""
    if age is None or birth_date is None:
        return None
    years = years_since(birth_date, on or local_today())
    if age in (years, years + 1):
        return None
    return _l(
        "The age (%(age)d) does not match the date of birth (%(years)d on the day of the call): "
        "correct one of them, or leave the age empty.",
        age=age,
        years=years,
    )


def years_since(birth_date: date, today: date) -> int:
    """Whole years from a date of birth to `today`."""
    return (
        today.year
        - birth_date.year
        - ((today.month, today.day) < (birth_date.month, birth_date.day))
    )


def birth_date_problem(born: date, opened: date | None = None) -> str | None:
    """What is wrong with a date of birth, or None: one in the future (an adult would become a
    child), one after the case was `opened` (an age below nought put the case on the child
    path), or one that makes the survivor older than any age the age box takes when the case
    was opened (01/01/1025 for 1925 made a case 1,001 years old). `opened`: the day of the call
    or the case (None: today)."""
    on = local_today()
    if born > on:
        return _l("The date of birth cannot be in the future.")
    if opened is not None and born > opened:
        return _l(
            "The date of birth is after the day the case was opened (%(day)s): check the year.",
            day=opened.strftime("%d/%m/%Y"),
        )
    if years_since(born, opened or on) > MAX_AGE:  # the age when the case was told
        return _l(
            "This date of birth makes the survivor older than %(max)d: check the year.",
            max=MAX_AGE,
        )
    return None
