"""Call use cases: log a call, and find earlier calls from a number without decrypting them all."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import joinedload

from app import audit
from app.auth.models import User
from app.calls.models import Call
from app.cases.models import Case
from app.classifications import codes
from app.crypto import blind
from app.extensions import db

OWNER = "call"


def log_call(
    *,
    by: User,
    caller_phone: str | None = None,
    caller_name: str | None = None,
    narrative: str | None = None,
    channel: str = "phone",
    caller_type: str = "survivor",
    reason: str = "violence_report",
    started_at: datetime | None = None,
    ended_at: datetime | None = None,
) -> Call:
    """Record a call under its own data key, index its number, and audit the creation."""
    call = Call(
        organisation_id=by.organisation_id,
        taken_by_id=by.id,
        channel=channel,
        caller_type=caller_type,
        reason=reason,
        ended_at=ended_at,
        caller_phone=caller_phone,
        caller_name=caller_name,
        narrative=narrative,
    )
    if started_at is not None:
        call.started_at = started_at
    db.session.add(call)
    if caller_phone:
        blind.set_index(owner_type=OWNER, owner_id=call.id, field="phone", values=[caller_phone])
    audit.record("create", user=by, object_type="call", object_id=call.id)
    db.session.commit()
    return call


def calls_from_number(phone: str, *, organisation_id: int) -> list[Call]:
    """Calls whose number is this one, in any spelling: blind-index candidates, each confirmed
    by opening its sealed number. Erased calls never match (their digests are gone)."""
    ids = blind.candidates(field="phone", raw=phone, owner_type=OWNER)
    if not ids:
        return []
    # Only the primary key narrows the query: a filter on the organisation could lead the
    # planner to walk that (unselective) index instead; the few candidates are checked here.
    stmt = db.select(Call).where(Call.id.in_(ids)).options(joinedload(Call.case))
    found = [
        c
        for c in db.session.execute(stmt).scalars()
        if c.organisation_id == organisation_id and not (c.case and c.case.erased_at)
    ]
    found.sort(key=lambda c: c.started_at, reverse=True)
    same = blind.matcher("phone", phone)
    return [c for c in found if same(c.caller_phone)]


def cases_of_number(phone: str, *, organisation_id: int) -> list[Case]:
    """The organisation's cases whose survivor's number is this one, in any spelling (recorded
    when someone else reported the case, say): blind-index candidates, each confirmed by
    opening its sealed number. Erased cases never match (their digests are gone)."""
    ids = blind.candidates(field="phone", raw=phone, owner_type="case")
    if not ids:
        return []
    same = blind.matcher("phone", phone)
    return [
        case
        for case in db.session.execute(db.select(Case).where(Case.id.in_(ids))).scalars()
        if case.organisation_id == organisation_id
        and case.erased_at is None
        and same(case.survivor_phone)
    ]


def flags_of_cases(case_ids: list) -> dict:
    """Each case's flags set on any of its calls, whatever number they came from (a case flagged
    "the perpetrator may call" from another caller's number), for a list's cases in one
    statement: what contact_flags shows on a case page, without the risk flag."""
    found: dict = {}
    if not case_ids:
        return found
    stmt = db.select(Call.case_id, Call.flags).where(Call.case_id.in_(case_ids), Call.flags != "")
    for case_id, marks in db.session.execute(stmt):
        found.setdefault(case_id, {}).update(dict.fromkeys(codes(marks)))
    return {case_id: list(marks) for case_id, marks in found.items()}


def contact_flags(case: Case) -> list[str]:
    """The flags to heed before contacting the survivor, wherever a contact is offered: those
    set on any of the case's calls (the perpetrator may answer, an abusive caller...) and a
    high or severe risk."""
    return with_risk(flags_of_cases([case.id]).get(case.id, []), case.risk_level)


def with_risk(flags: list[str], risk_level: str | None) -> list[str]:
    """The flags, with "high risk" for a high or severe risk level (once: it is also a flag an
    operator may set on a call)."""
    if risk_level in ("high", "severe") and "high_risk" not in flags:
        return [*flags, "high_risk"]
    return flags
