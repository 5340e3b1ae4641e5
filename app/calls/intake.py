"""Saving an intake: the call and, for a violence report, the case with everything said in the
call, in one transaction, once per intake form however often it is submitted.

The form (its answers read by calls/answers.py), the importer (cases/import_run.py) and the
tests all build an `Intake` and call `save_intake`, so every path writes the same encrypted
records and audit entries.
"""

from __future__ import annotations

import uuid

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app import audit
from app.auth.models import User
from app.calls.drafts import saved_call
from app.calls.intake_data import (  # the names callers import from here
    CopyLineTaken,
    Intake,
    IntakeError,
    IntakeKeyTaken,
    LinkRefused,
    Saved,
    Survivor,
)
from app.calls.joins import case_for
from app.calls.models import Call, EmergencyAction, IntakeDraft
from app.calls.planning import (
    NO_CONTACT_REFUSED,
    NO_CONTACT_UNASKED,
    SERIOUS_DANGER,
    CaseTasks,
    police_consent,
    tasks_for_call,
)
from app.cases.casework import (
    a_child_at_risk,
    build_assessment,
    build_consents,
    build_incident,
    build_note,
    build_perpetrator,
    danger_told,
    restore_child_tasks,
)
from app.cases.models import Case
from app.cases.services import audit_case, open_task, record_event
from app.clock import utcnow
from app.crypto import blind
from app.extensions import db
from app.telephony.models import PhoneLine

WRITE_ATTEMPTS = 3  # a case written by colleagues between a save's read and its write
__all__ = [
    "SERIOUS_DANGER",
    "CopyLineTaken",
    "Intake",
    "IntakeError",
    "IntakeKeyTaken",
    "LinkRefused",
    "Saved",
    "Survivor",
]


def save_intake(
    *,
    data: Intake,
    by: User,
    commit: bool = True,
    unit_of_work: bool = False,
) -> Saved:
    """Save the call (and the case) in one transaction; a repeated submit returns the first.

    A new call, with a new case or none, is written by the batch writer (app/cases/bulk.py) as
    plain rows; a call added to an existing case goes through the unit of work (_write_orm),
    and so does every call with unit_of_work=True (the importer's row-by-row mode, the reference
    that tests/cases/test_import_bulk.py compares the batch writer with).
    With commit=False the caller owns the transaction (the importer commits
    rows in batches): nothing is committed or rolled back here, a form saved before is looked up
    first, and a duplicate key raises IntegrityError.
    """
    if data.line_id is not None and not _own_line(data.line_id, by):
        data.line_id = None  # a line of another organisation, or none: not the call's
    if not commit:
        if data.intake_key is not None:
            earlier = find_saved(data.intake_key, by)
            if earlier is not None:
                return earlier
        return _write(data, by, unit_of_work)
    # A form saved before is found by its key's unique index: the write fails, is rolled back
    # whole (case number included) and the first save is returned. Not looked up first: that
    # would cost every save a query for what only a repeated submit needs.
    try:
        saved = _write_committed(data, by, unit_of_work)
    except IntegrityError:
        # Two submits of one form raced; the other one won and holds the records.
        db.session.rollback()
        earlier = _saved_before(data.intake_key, by)
        if earlier is None and data.intake_group is not None and _line_taken(data.intake_group):
            raise CopyLineTaken(
                _l(
                    "Not saved: another copy of the same intake was saved as a call at the same "
                    "moment, and saving this one too would log that call twice. Find it among "
                    "your calls, add what this copy adds to its case as a note, then discard "
                    "this copy."
                )
            ) from None
        if earlier is None:
            raise
        _forget_draft(data.intake_key, by)
        return earlier
    except LinkRefused as refused:  # nothing of the save stays; the attempt is audited
        db.session.rollback()
        # A form saved before is that save, not a new attempt: on a shared computer, a page
        # one account saved and left open, sent again by the next person, must be cleared.
        earlier = _saved_before(data.intake_key, by)
        if earlier is not None:
            _forget_draft(data.intake_key, by)
            return earlier
        audit.record(
            "denied",
            user=by,
            object_type="case",
            object_id=refused.case_id,
            case_id=refused.case_id,
            organisation_id=refused.organisation_id,
            detail="call added to a case",
        )
        db.session.commit()
        raise
    except BaseException:
        # A rule refused the save (or anything else failed) part-way: nothing of it stays, and
        # no row it locked stays locked while the page with the error is made.
        db.session.rollback()
        raise
    return saved


def _write_committed(data: Intake, by: User, unit_of_work: bool) -> Saved:
    """Write and commit. A call joining a case a colleague wrote meanwhile (a note, a task
    done, another call: SQLite locks no row when the case is read) finds the case's version
    moved: the write is rolled back and made again on the case as it is now, so a closure or
    an erasure made meanwhile refuses it as any save would."""
    for _attempt in range(WRITE_ATTEMPTS - 1):
        try:
            saved = _write(data, by, unit_of_work)
            db.session.commit()
            return saved
        except StaleDataError:
            db.session.rollback()
    saved = _write(data, by, unit_of_work)  # the last try: what fails is the caller's to handle
    db.session.commit()
    return saved


def _saved_before(intake_key: uuid.UUID | None, by: User) -> Saved | None:
    """What an earlier submit of this form saved, if any; IntakeKeyTaken when another account
    saved it (nothing of that call is handed back)."""
    found = saved_call(intake_key) if intake_key is not None else None
    if found is None:
        return None
    if found.taken_by_id != by.id:
        raise IntakeKeyTaken(
            _l("Another account had already saved that form; nothing was saved again.")
        ) from None
    return _earlier(found.id)


def _line_taken(group: uuid.UUID) -> bool:
    """Whether a call was saved from this line of copies kept apart (its unique index)."""
    return db.session.execute(select(Call.id).where(Call.intake_group == group)).first() is not None


def _forget_draft(intake_key: uuid.UUID, by: User) -> None:
    """A form found saved before: a draft of it an autosave wrote as the first save went
    through is deleted (it would be offered back at every sign-in as an unsaved intake)."""
    db.session.execute(
        delete(IntakeDraft).where(
            IntakeDraft.user_id == by.id, IntakeDraft.intake_key == intake_key
        )
    )
    db.session.commit()


def _own_line(line_id: int, by: User) -> bool:
    """Whether the phone line a screen pop named (a hidden field of the intake) is one of the
    user's organisation."""
    stmt = select(PhoneLine.id).where(
        PhoneLine.id == line_id, PhoneLine.organisation_id == by.organisation_id
    )
    return db.session.execute(stmt).first() is not None


def find_saved(intake_key: uuid.UUID, by: User) -> Saved | None:
    """The call an earlier submit of this form created, if any (only its own author's)."""
    found = saved_call(intake_key)
    if found is None or found.taken_by_id != by.id:
        return None
    return _earlier(found.id)


def _earlier(call_id: uuid.UUID) -> Saved:
    call = db.session.get(Call, call_id)
    return Saved.of(call, call.case, created=False)


def _write(data: Intake, by: User, unit_of_work: bool) -> Saved:
    from app.cases import bulk  # the batch writer builds on this module's Intake

    if not unit_of_work and bulk.can_write(data):
        return _saved(bulk.write_batch([data], by=by)[0])
    return _write_orm(data, by)


def _saved(written) -> Saved:
    return Saved(
        call_id=written.call_id,
        case_id=written.case_id,
        created=True,
        case_number=written.case_number,
        started_at=written.started_at,
    )


def _write_orm(data: Intake, by: User) -> Saved:
    """The call and its case's parts through the unit of work: for a call added to an
    existing case, and the reference the batch writer is compared with."""
    case, new_case = case_for(data, by)
    call = Call(
        organisation_id=by.organisation_id,
        taken_by_id=by.id,
        channel=data.channel,
        caller_type=data.caller_type,
        reason=data.reason,
        ended_at=data.ended_at,
        danger=" ".join(data.danger),
        outcomes=" ".join(data.outcomes),
        flags=" ".join(data.flags),
        intake_key=data.intake_key,
        intake_group=data.intake_group,
        line_id=data.line_id,
        case=case,
        caller_phone=data.caller_phone,
        caller_name=data.caller_name,
        narrative=data.narrative,
    )
    call.started_at = data.started_at or utcnow()
    db.session.add(call)
    if data.caller_phone:
        blind.set_index(
            owner_type="call",
            owner_id=call.id,
            field="phone",
            values=[data.caller_phone],
            new_owner=True,
        )
    for action, at in data.emergency:
        db.session.add(
            EmergencyAction(
                call=call,
                case_id=case.id if case else None,
                action=action,
                taken_at=at,
                by_id=by.id,
            )
        )
    audit.record(
        "create", user=by, object_type="call", object_id=call.id, case_id=case.id if case else None
    )
    if case is not None:
        _record_case_parts(case, call, data, by, new_case=new_case)
    if data.intake_key is not None:
        db.session.execute(
            delete(IntakeDraft).where(
                IntakeDraft.user_id == by.id, IntakeDraft.intake_key == data.intake_key
            )
        )
    db.session.flush()  # a duplicate intake key fails here, inside the try
    return Saved.of(call, case, created=True)


def _record_case_parts(case: Case, call: Call, data: Intake, by: User, *, new_case: bool) -> None:
    """The incident, perpetrator, risk, consent, counselling and tasks told in this call."""
    parts = [f"call:{call.id}"]
    if data.tells_of_a_child(new_case=new_case) and case.survivor_age_band == "unknown":
        # First, so what follows is recorded as a child's (an incident's child helpline
        # category, a consent given by the child).
        case.is_child = True
    if data.incident is not None and data.incident.tells(child=case.is_child):
        parts.append(f"incident:{build_incident(case, data.incident, by=by).id}")
    if data.perpetrator is not None:
        parts.append(f"perpetrator:{build_perpetrator(case, data.perpetrator, by=by).id}")
    level = None
    if data.risk_answers is not None:
        assessment = build_assessment(
            case, data.risk_answers, by=by, raised_to=data.risk_raised_to, reason=data.risk_reason
        )
        level = assessment.level
        parts.append(f"risk:{assessment.id}")
    if data.consents:
        parts.extend(f"consent:{c.id}" for c in build_consents(case, data.consents, by=by))
    if not new_case and "no_contact_request" in dict(data.emergency):
        # The survivor's consent, given in this call or earlier on the case (forms.py checks
        # a call opening a case).
        answer = police_consent(case.consents)
        if answer is not True:
            raise IntakeError(NO_CONTACT_REFUSED if answer is False else NO_CONTACT_UNASKED)
    if data.counselling:
        parts.append(f"note:{build_note(case, data.counselling, by=by, kind='counselling').id}")
    if not new_case and data.services_wanted:
        # Services the survivor asks for in a later call are added to the case's list.
        wanted = case.services_wanted.split()
        added = [code for code in data.services_wanted if code not in wanted]
        if added:
            case.services_wanted = " ".join(wanted + added)
            record_event(case, by=by, kind="edit", new="services_wanted")
            parts.append("services_wanted:" + "+".join(added))
    if data.follow_up_at is not None:
        open_task(case, kind="follow_up_call", due=data.follow_up_at, by=by)
    # The clocks run from the call's start (a long call, or one written up afterwards, does
    # not move a deadline later), never from a time still to come.
    _plan_tasks(
        case, data, by=by, level=level, new_case=new_case, now=data.clock_start(call.started_at)
    )
    if level in ("high", "severe") and "high_risk" not in data.flags:
        call.flags = " ".join([*data.flags, "high_risk"])
    if not new_case:
        case.updated_at = utcnow()
    audit_case("create" if new_case else "update", case, by, detail=" ".join(parts))


def _plan_tasks(case: Case, data: Intake, *, by: User, level, new_case: bool, now) -> None:
    """planning.tasks_for_call on the case; a commune notification this call records is the
    case's open one done (a call joining a case)."""
    told_before = frozenset() if new_case else frozenset(danger_told(case))
    if case.is_child or a_child_at_risk([*data.danger, *told_before]):
        restore_child_tasks(case)
    notified = dict(data.emergency).get("commune_chair")
    for task in case.tasks:  # a new case's list is in memory: no statement
        if notified and task.kind == "notify_commune" and task.done_at is None:
            task.done_at, task.done_by_id = notified, by.id
    held = CaseTasks.of((t.kind, t.done_at) for t in case.tasks)
    planned = tasks_for_call(
        danger=data.danger,
        emergency=data.emergency,
        assessed=data.risk_answers is not None,
        level=level,
        child=case.is_child,
        new_case=new_case,
        held=held,
        now=now,
        told_before=told_before,
    )
    for plan in planned:
        task = open_task(case, kind=plan.kind, due=plan.due, by=by)
        if plan.done_at is not None:  # done in this call (the commune chair notified)
            task.done_at, task.done_by_id = plan.done_at, by.id
