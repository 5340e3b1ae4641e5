"""Case use cases: open, move through its statuses, assign, and erase for good. Edits of the
survivor's details (with optimistic locking) are in edits.py; notes, incidents, perpetrators,
risk and tasks in casework.py."""

from __future__ import annotations

import uuid
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete

from app import audit
from app.auth.models import User
from app.calls.draft_erasure import drop_drafts_on
from app.calls.models import Call
from app.cases import drafts as case_drafts
from app.cases.ages import survivor_age
from app.cases.models import Case, CaseEvent, FormSubmission, Task
from app.cases.numbers import next_case_number
from app.classifications import CLOSING_DUTIES, ERASE_REASONS, age_band
from app.clock import local_day, utcnow
from app.crypto import blind
from app.extensions import db
from app.sqlite import forget_old_pages

OWNER = "case"
# The survivor details a person may edit on the case page (codes and sealed values alike).
EDITABLE = (
    "survivor_name",
    "survivor_phone",
    "survivor_address",
    "survivor_birth_date",
    "survivor_age",
    "survivor_sex",
    "disability",
    "ethnicity",
    "province_code",
    "commune_code",
    "safe_contact",
    "summary",
    "services_wanted",
)
# status -> {new status: roles allowed to make the move}
TRANSITIONS = {
    "open": {
        "in_support": ("case_manager", "supervisor"),
        "pending_closure": ("case_manager", "supervisor"),
    },
    "in_support": {"pending_closure": ("case_manager", "supervisor")},
    "reopened": {
        "in_support": ("case_manager", "supervisor"),
        "pending_closure": ("case_manager", "supervisor"),
    },
    "pending_closure": {"closed": ("supervisor",), "in_support": ("supervisor",)},
    "closed": {"reopened": ("supervisor", "case_manager")},
}
NEEDS_REASON = {("pending_closure", "in_support"), ("closed", "reopened")}


class CaseError(Exception):
    """A case rule refused the request; the message is shown to the user."""


class SelfApproval(CaseError):
    """A closure approved by whoever asked for it: refused, and audited as denied (four eyes)."""


class ReasonNeeded(CaseError):
    """A move that needs a reason (a return to support, a reopening) sent without one."""


class DutiesOpen(CaseError):
    """A closure asked for or approved while a duty of law on the case is open."""


CLOSING = ("pending_closure", "closed")


def duties_open(case: Case) -> list[Task]:
    """The case's open duties of law (CLOSING_DUTIES), soonest due first: while any is open,
    the case's closure is neither asked for nor approved."""
    open_ = [t for t in case.tasks if t.done_at is None and t.kind in CLOSING_DUTIES]
    return sorted(open_, key=lambda t: t.due_at)


def link_call(call: Call, case: Case) -> None:
    """Move a call under its case: its values are resealed with the case's key and its own key
    destroyed. Its number stays findable through the call's own blind-index digest."""
    call.reseal(lambda: setattr(call, "case", case))
    call.destroy_key()


def start_case(*, by: User, as_of: date | None = None, **survivor) -> Case:
    """A new case in the session (not committed): number, key, derived child flag and band.

    `survivor` takes the EDITABLE names; survivor_birth_date may be a date, survivor_age an int.
    `as_of`: the date of the call that tells of the case (an age from a birth date is the age
    then: an old register's 2019 call about a 13-year-old is a child's case); today by default.
    """
    now = utcnow()
    birth = survivor.pop("survivor_birth_date", None)
    age = survivor.pop("survivor_age", None)
    years = survivor_age(age, birth, as_of)
    services = survivor.pop("services_wanted", None) or []
    band = age_band(years) if years is not None else survivor.pop("survivor_age_band", "unknown")
    survivor.pop("survivor_age_band", None)
    case = Case(
        number=next_case_number(by.organisation, local_day(now).year),  # the year in Vietnam
        organisation_id=by.organisation_id,
        opened_by_id=by.id,
        opened_at=now,
        updated_at=now,
        survivor_age_band=band,
        is_child=band == "under_16",
        services_wanted=" ".join(services),
        survivor_birth_date=birth.isoformat() if birth else None,
        survivor_age=str(age) if age is not None else None,
        **survivor,
    )
    db.session.add(case)
    if case.survivor_phone:
        blind.set_index(
            owner_type=OWNER,
            owner_id=case.id,
            field="phone",
            values=[case.survivor_phone],
            new_owner=True,
        )
    return case


def open_case(*, by: User, call: Call | None = None, **survivor) -> Case:
    """Open a case with its own data key, optionally from a call, and audit it."""
    case = start_case(by=by, **survivor)
    if call is not None:
        if call.organisation_id != by.organisation_id or call.case_id is not None:
            raise CaseError(_l("This call cannot be linked to a new case."))
        link_call(call, case)
    audit.record(
        "create",
        user=by,
        object_type="case",
        object_id=case.id,
        case_id=case.id,
        organisation_id=case.organisation_id,
    )
    db.session.commit()
    return case


def record_event(
    case: Case, *, by: User | None, kind: str, old=None, new=None, reason=None
) -> None:
    """Put a change on the case's timeline and mark the case as changed."""
    db.session.add(
        CaseEvent(
            case=case,
            by_id=by.id if by else None,
            kind=kind,
            from_value=old,
            to_value=new,
            reason=reason,
        )
    )
    case.updated_at = utcnow()


def refuse_if_closed(case: Case) -> None:
    """Closed and erased cases are read-only."""
    if case.erased_at is not None:
        raise CaseError(_l("This case was erased: nothing can be added to it or changed."))
    if case.is_closed:
        raise CaseError(
            _l(
                "This case is closed and cannot be changed. Its case manager or a supervisor "
                "can reopen it."
            )
        )


def audit_case(
    action: str, case: Case, by: User, *, detail: str | None = None, reason=None
) -> None:
    """One audit entry about the case, filed under the case's organisation."""
    audit.record(
        action,
        user=by,
        object_type="case",
        object_id=case.id,
        case_id=case.id,
        organisation_id=case.organisation_id,
        detail=detail,
        reason=reason,
    )


def change_status(
    *,
    case: Case,
    to: str,
    by: User,
    reason: str | None = None,
    sent: uuid.UUID | None = None,
    page: uuid.UUID | None = None,
) -> None:
    """Move a case along open -> in support -> pending closure -> closed (-> reopened). `sent`:
    drafts.sent_key of the page's form as posted, recorded so a draft of it arriving late is
    refused; `page`: that form's key (its draft goes; others' reasons are kept as notes)."""
    allowed = TRANSITIONS.get(case.status, {}).get(to)
    if allowed is None or by.role not in allowed:
        raise CaseError(_l("This status change is not allowed."))
    if (case.status, to) in NEEDS_REASON and not (reason or "").strip():
        raise ReasonNeeded(_l("Give a reason for this change."))
    if to == "closed":
        asked = closure_requester(case)
        if asked is not None and asked == by.id:
            raise SelfApproval(
                _l("A closure must be approved by someone other than who asked for it.")
            )
    if to in CLOSING and duties_open(case):
        raise DutiesOpen(
            _l(
                "This case still has a duty of law open (see its tasks): the closure can be "
                "asked for and approved once it is done and marked done."
            )
        )
    old, now = case.status, utcnow()
    case.status = to
    case.closed_at = now if to == "closed" else None
    detail = f"{old}>{to}"
    if to == "closed":
        # A closed case's open tasks end with it (the approval page lists them): left open they
        # would wait unseen (queues show active cases only). Ended, not done: no one did them.
        ended = end_tasks(case, "closed", at=now)
        if ended:
            detail += f" tasks_ended={ended}"
    elif old == "closed":
        # Reopened: the tasks its closure ended come back, due as they were (a 12-hour check
        # never made is overdue, and shows so in the queues). A reopening brings back all a
        # closure ended, so those left are always the last closure's (or an import's).
        back = [t for t in case.tasks if t.ended_by == "closed"]
        for task in back:
            # To whoever holds the case now (it may have been reassigned since).
            task.done_at, task.ended_by = None, None
            task.assigned_to_id = case.assigned_to_id
        if back:
            detail += f" tasks_restored={len(back)}"
    record_event(case, by=by, kind="status", old=old, new=to, reason=reason or None)
    audit_case("status", case, by, detail=detail)
    # This move's reason is sent; others start elsewhere now (a reason in them is kept).
    case_drafts.drop_moved_on(case, sent_by=by, sent_page=page, sent_reason=reason or "")
    if sent is not None and db.session.get(FormSubmission, sent) is None:
        db.session.add(FormSubmission(key=sent, user_id=by.id, case_id=case.id))
    db.session.commit()


def end_tasks(case: Case, why: str, *, at, kinds: tuple[str, ...] | None = None) -> int:
    """End the case's open tasks (of these kinds) that no one did: `why` says what ended them
    (Task.ended_by). Not committed; gives how many."""
    ended = 0
    for task in case.tasks:
        if task.done_at is None and (kinds is None or task.kind in kinds):
            task.done_at, task.done_by_id, task.ended_by = at, None, why
            ended += 1
    return ended


def closure_requester(case: Case) -> int | None:
    """Who last moved the case to pending closure."""
    for event in reversed(case.events):
        if event.kind == "status" and event.to_value == "pending_closure":
            return event.by_id
    return None


def assign_case(*, case: Case, to: User, by: User) -> None:
    """A supervisor gives the case (and its open tasks) to a case manager of the organisation."""
    if by.role != "supervisor" or by.organisation_id != case.organisation_id:
        raise CaseError(_l("Only a supervisor of the case's organisation may assign it."))
    if (
        to.role not in ("case_manager", "supervisor")
        or not to.active
        or to.organisation_id != case.organisation_id
    ):
        raise CaseError(_l("Choose an active case manager of this organisation."))
    refuse_if_closed(case)
    old = case.assigned_to_id
    if old == to.id:
        return
    case.assigned_to_id = to.id
    for task in case.tasks:
        if task.done_at is None and task.assigned_to_id in (None, old):
            task.assigned_to_id = to.id
    detail = f"user:{to.id}"
    if case.status == "open":
        # Assigned, an open case is in support: a move of status like any other, on the
        # timeline and in the audit log.
        case.status = "in_support"
        record_event(case, by=by, kind="status", old="open", new="in_support")
        audit_case("status", case, by, detail="open>in_support assign")
        detail += " open>in_support"
        case_drafts.drop_moved_on(case)
    if old is not None:
        # Handed to someone else: what the one it leaves typed on it goes (they may no longer
        # see it; a supervisor, who still may, keeps theirs).
        previous = db.session.get(User, old)
        if previous is not None and previous.role != "supervisor":
            case_drafts.drop_all_on(case.id, user_id=old)
    record_event(case, by=by, kind="assign", old=str(old) if old else None, new=str(to.id))
    audit_case("assign", case, by, detail=detail)
    db.session.commit()


def erase_case(*, case: Case, by: User, reason: str) -> None:
    """Erase a case by destroying its data key and blind-index digests.

    Its sealed values (and those of its calls and parts) can then never be opened again, by
    anyone, from the database or any backup taken afterwards; the codes and the audit trail stay.
    """
    if by.role != "supervisor" or by.organisation_id != case.organisation_id:
        raise CaseError(_l("Only a supervisor of the case's organisation may erase it."))
    if case.erased_at is not None:
        raise CaseError(_l("This case has already been erased."))
    if reason not in ERASE_REASONS:  # a code only: the audit log never holds free text
        raise CaseError(_l("Choose the reason for erasing from the list."))
    # The case row first (its version checked, and on PostgreSQL locked), then its digests, in
    # the order an edit of the phone number takes them, so the two cannot deadlock.
    case.erased_at = utcnow()
    case.status = "erased"
    db.session.flush()
    blind.remove_index(owner_type=OWNER, owner_id=case.id)
    for call in case.calls:
        blind.remove_index(owner_type="call", owner_id=call.id)
        # The keyed digest of the form it was saved from (the caller's number in it) goes
        # with the digests above: the key it is made under is not the case's, nor destroyed.
        call.sent_key = None
    # So do the records of the case's forms sent (keyed digests of what they held).
    db.session.execute(delete(FormSubmission).where(FormSubmission.case_id == case.id))
    case.destroy_key()
    drop_drafts_on(
        case.id,
        case.number,
        {str(k) for c in case.calls for k in (c.intake_key, c.intake_group) if k},
        organisation_id=case.organisation_id,
    )
    case_drafts.drop_all_on(case.id)
    end_tasks(case, "erased", at=case.erased_at)
    audit_case("erase", case, by, reason=reason)
    db.session.commit()
    forget_old_pages(db.session)  # SQLite's log still holds the key as it was: emptied


def open_task(
    case: Case,
    *,
    kind: str,
    due,
    by: User | None = None,
    note: str | None = None,
    by_hand: bool = False,
) -> Task:
    """Add a task to the case (not committed), for its case manager, or unassigned; `by_hand`:
    planned by the person (not set going by a call's answers)."""
    task = Task(
        case=case,
        organisation_id=case.organisation_id,
        kind=kind,
        due_at=due,
        created_by_id=by.id if by else None,
        assigned_to_id=case.assigned_to_id,
        note=note,
        by_hand=by_hand,
    )
    db.session.add(task)
    return task
