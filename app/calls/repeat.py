"""The repeat-caller panel: what the hotline already knows about a number, found through the
blind index without decrypting every call, shown to the operator as soon as the number is known."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from app import audit
from app.auth.models import User
from app.calls.services import calls_from_number, cases_of_number, flags_of_cases, with_risk
from app.cases.models import Case
from app.cases.scope import case_scope
from app.classifications import codes
from app.extensions import db


@dataclass
class KnownCase:
    """A case linked to earlier calls from the number, as the panel shows it."""

    case: Case
    visible: bool  # whether this user may open the case page
    calls: int = 0  # earlier calls from the number on it (none: the survivor's number is it)
    flags: list[str] = field(default_factory=list)  # set on any of its calls, from any number


@dataclass
class Panel:
    """Everything the panel shows about a number."""

    calls: int = 0
    last_call_at: datetime | None = None
    first_call_at: datetime | None = None
    reasons: Counter = field(default_factory=Counter)
    flags: list[str] = field(default_factory=list)
    cases: list[KnownCase] = field(default_factory=list)


def repeat_caller_panel(*, phone: str, by: User) -> Panel:
    """Earlier calls from this number in the user's organisation, their cases, the cases whose
    survivor's number it is, flags and the cases' safe-contact instructions; showing those
    instructions is audited as a case view, in the caller's transaction: the caller commits
    it before showing the panel."""
    calls = calls_from_number(phone, organisation_id=by.organisation_id)
    panel = Panel(calls=len(calls))
    if calls:
        panel.last_call_at, panel.first_call_at = calls[0].started_at, calls[-1].started_at
    panel.reasons = Counter(c.reason for c in calls)
    flags = Counter(f for c in calls for f in codes(c.flags))
    by_case: dict = {}
    for call in calls:
        if call.case is not None and call.case.erased_at is None:
            by_case.setdefault(call.case.id, KnownCase(case=call.case, visible=False)).calls += 1
    for case in cases_of_number(phone, organisation_id=by.organisation_id):
        by_case.setdefault(case.id, KnownCase(case=case, visible=False))
    if by_case:
        stmt = case_scope(by)(select(Case.id).where(Case.id.in_(list(by_case))))
        visible = set(db.session.execute(stmt).scalars())
        case_flags = flags_of_cases(list(by_case))
        views = []
        for known in by_case.values():
            known.visible = known.case.id in visible
            known.flags = with_risk(case_flags.get(known.case.id, []), known.case.risk_level)
            if known.case.risk_level in ("high", "severe"):
                flags["high_risk"] += 1
            views.append(
                {
                    "action": "view",
                    "user": by,
                    "object_type": "case",
                    "object_id": known.case.id,
                    "case_id": known.case.id,
                    "organisation_id": known.case.organisation_id,
                    "detail": "repeat-caller panel",
                }
            )
        audit.record_many(views)  # committed by the caller before the panel is shown
    elif calls:
        # Earlier calls and their flags shown, no case: the look is audited all the same (by
        # how many calls it showed, never the number), as the phone search's is.
        audit.record(
            "search",
            user=by,
            object_type="call",
            detail=f"repeat-caller panel calls={len(calls)}",
        )
    panel.flags = [f for f, _n in flags.most_common()]
    panel.cases = sorted(by_case.values(), key=lambda k: k.case.opened_at, reverse=True)
    return panel
