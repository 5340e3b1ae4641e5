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
from app.calls.intake_orm import write_orm
from app.calls.models import Call, IntakeDraft
from app.calls.planning import (
    SERIOUS_DANGER,
)
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
    plain rows; a call added to an existing case goes through the unit of work
    (app/calls/intake_orm.py), and so does every call with unit_of_work=True (the importer's
    row-by-row mode, the reference that tests/cases/test_import_bulk.py compares the batch
    writer with).
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
    except BaseException as failed:
        # A rule refused the save (or anything else failed) part-way: nothing of it stays, and
        # no row it locked stays locked while the page with the error is made.
        db.session.rollback()
        # A form sent again after its first save (a reload, the back button, a retry) meets
        # rules that now refuse it (its case closed or erased since): it was saved, and is
        # that save, never "not saved, open a new case".
        if _a_rule(failed) and (earlier := _saved_before(data.intake_key, by)) is not None:
            _forget_draft(data.intake_key, by)
            return earlier
        raise
    return saved


def _a_rule(error: BaseException) -> bool:
    """Whether a save was refused by a rule of the intake or of the case."""
    from app.cases.services import CaseError  # cases builds on calls

    return isinstance(error, IntakeError | CaseError)


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
        # A page another account saved, sent again under this one (a shared computer): refused,
        # and filed in the log of the call's organisation, whose call it is.
        audit.record(
            "denied",
            user=by,
            object_type="call",
            object_id=found.id,
            organisation_id=found.organisation_id,
            detail="form another account saved",
        )
        db.session.commit()
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
    return write_orm(data, by)


def _saved(written) -> Saved:
    return Saved(
        call_id=written.call_id,
        case_id=written.case_id,
        created=True,
        case_number=written.case_number,
        started_at=written.started_at,
    )
