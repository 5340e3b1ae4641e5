"""Case numbers: ORG-YEAR-000123, from a counter row per organisation and year that workers
writing at once never share (its row is locked by the UPDATE that takes the next number)."""

from __future__ import annotations

import re

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError

from app.auth.models import Organisation
from app.cases.models import CaseCounter
from app.extensions import db

# A case number as stored: the organisation's code, the year, six digits (HN-2026-000123), or
# more past 999,999 a year.
CASE_NUMBER_SHAPE = re.compile(r"^(?P<org>[A-Z0-9]{1,12})-(19|20)\d\d-\d{6,9}$")
# A case number typed as one block ("HN2026000123", "T12026000001") is cut into its parts only
# when the code holds a letter: an all-digit block is a phone number far more often (a landline
# 02033123456 would otherwise read as 0-2033-123456), and is left whole, so it is no case number.
# The letter is looked for once, ahead (not as [A-Z0-9]*?[A-Z]: quadratic on a long address value).
CASE_NUMBER = re.compile(r"^(?=\d*[A-Z])(?P<org>[A-Z0-9]+?)(?P<year>\d{4})(?P<seq>\d{6})$")


def normalise_case_number(text: str | None, own_code: str = "") -> str:
    """A case number as stored, from any casing and spacing: "hn 2026 123", "HN-2026-000123" and
    "HN2026000123" all give "HN-2026-000123". `own_code`: the code of the organisation whose
    numbers are meant (the user's, or the case's): when it is digits only, a block of digits
    beginning with it is cut as its number ("1112026000012" for code 111), as no other such
    block is (CASE_NUMBER). Not a check: see `case_number`."""
    parts = [p for p in re.split(r"[\s\-–—_./]+", (text or "").upper()) if p]
    own = own_code.upper()
    if len(parts) == 1:
        whole = CASE_NUMBER.match(parts[0])
        if whole:
            parts = [whole["org"], whole["year"], whole["seq"]]
        else:
            parts = _own_block(parts[0], own) or parts
    elif len(parts) == 2:
        parts = _two_pieces(parts[0], parts[1], own) or parts
    if len(parts) == 3 and parts[2].isdigit():
        parts[2] = parts[2].lstrip("0").zfill(6)  # "0000123" is 123, stored as 000123
    return "-".join(parts)


# A code and its year typed together ("HN2026"), the sequence apart.
CODE_YEAR = re.compile(r"^(?P<org>[A-Z0-9]+?)(?P<year>(?:19|20)\d\d)$")


def _two_pieces(first: str, second: str, own: str) -> list[str] | None:
    """A number typed in two pieces: the code, then year and sequence as one block ("HN
    2026000123"); or code and year together, then the sequence ("HN2026 123"). Cut only where
    the code holds a letter or is the user's own all-digit code, as a single block is."""
    if not second.isdigit():
        return None
    if len(second) == 10 and _a_code(first, own):
        return [first, second[:4], second[4:]]
    joined = CODE_YEAR.match(first)
    if joined and _a_code(joined["org"], own):
        return [joined["org"], joined["year"], second]
    return None


def _a_code(code: str, own: str) -> bool:
    """Whether a piece can be an organisation's code here: it holds a letter, or it is the
    user's own code (all digits: any other all-digit piece is part of a phone number)."""
    return re.search(r"[A-Z]", code) is not None or code == own


def code_of(number: str) -> str:
    """The organisation's code a stored case number begins with."""
    return number.split("-")[0]


def _own_block(block: str, code: str) -> list[str] | None:
    """An all-digit code's number typed as one block: its code, year and six-digit sequence."""
    rest = block[len(code) :]
    if code.isdigit() and block.startswith(code) and len(rest) == 10 and rest.isdigit():
        return [code, rest[:4], rest[4:]]
    return None


def case_number(typed: str | None, own_code: str = "") -> str:
    """The case number as stored, from any spelling, or "" for what cannot be one. A code of
    digits only passes only as `own_code` (the user's organisation's): every phone number is
    digits too ("098 2019 888" would read as 098-2019-000888). A search by case number is sent
    by GET, so a phone number let through here would land in an address; app.js's
    isCaseNumber applies the same rule in the browser."""
    number = normalise_case_number(typed, own_code)
    shape = CASE_NUMBER_SHAPE.match(number)
    if shape and _a_code(shape["org"], own_code.upper()):
        return number
    return ""


def next_case_number(organisation: Organisation, year: int) -> str:
    """ORG-YEAR-000123: the counter row is locked by the UPDATE, so workers never share one."""
    bump = (
        update(CaseCounter)
        .where(CaseCounter.organisation_id == organisation.id, CaseCounter.year == year)
        .values(last=CaseCounter.last + 1)
    )
    if db.session.execute(bump).rowcount == 0:
        try:
            with db.session.begin_nested():
                db.session.add(CaseCounter(organisation_id=organisation.id, year=year, last=0))
        except IntegrityError:
            pass  # another worker created it first
        db.session.execute(bump)
    last = db.session.execute(
        select(CaseCounter.last).where(
            CaseCounter.organisation_id == organisation.id, CaseCounter.year == year
        )
    ).scalar_one()
    return f"{organisation.code}-{year}-{last:06d}"


def reserve_case_numbers(organisation: Organisation, year: int, count: int) -> list[str]:
    """`count` consecutive numbers in one UPDATE of the counter (which locks its row, as
    next_case_number does), for a batch of cases opened together; the same format."""
    if count <= 0:
        return []
    params = {"for_organisation": organisation.id, "for_year": year, "count": count}
    last = db.session.connection().execute(_BUMP, params).scalar_one_or_none()
    if last is None:
        try:
            with db.session.begin_nested():
                db.session.add(CaseCounter(organisation_id=organisation.id, year=year, last=0))
        except IntegrityError:
            pass  # another worker created it first
        last = db.session.connection().execute(_BUMP, params).scalar_one()
    return case_numbers(organisation, year, last, count)


_COUNTER = CaseCounter.__table__
# Built once: a statement made afresh each time costs more to build than to run.
_BUMP = (
    update(_COUNTER)
    .where(
        _COUNTER.c.organisation_id == bindparam("for_organisation"),
        _COUNTER.c.year == bindparam("for_year"),
    )
    .values(last=_COUNTER.c.last + bindparam("count"))
    .returning(_COUNTER.c.last)
)


def case_numbers(organisation: Organisation, year: int, last: int, count: int) -> list[str]:
    """The `count` numbers up to the counter's `last`."""
    return [f"{organisation.code}-{year}-{n:06d}" for n in range(last - count + 1, last + 1)]


# reserve_case_numbers as one statement that also makes the year's counter row (PostgreSQL's
# INSERT ... ON CONFLICT, which locks the row as the UPDATE does), for a WITH part.
COUNTER_TAKEN = (
    "INSERT INTO case_counter (organisation_id, year, last) "
    "VALUES (:organisation_id, :year, :count) "
    "ON CONFLICT (organisation_id, year) DO UPDATE SET last = case_counter.last + excluded.last "
    "RETURNING last"
)
