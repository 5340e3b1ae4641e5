"""The rules an admin change is checked against, apart from the use cases (services.py): what
a refusal carries, the edit-conflict fingerprint, work still held by an account, case numbers
already issued under a code, and the unique-index race."""

from __future__ import annotations

import hashlib
import json

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.auth.models import Organisation, User
from app.extensions import db


class AdminError(Exception):
    """An administration rule refused the change; the message is shown to the admin. `rule`
    names a refusal of what the account may be made or have done to it (one's own role, work
    it still holds...), which is written to the audit log; a value to correct has none."""

    def __init__(self, message, *, field: str | None = None, rule: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field
        self.rule = rule


class EditConflict(AdminError):
    """Another admin saved the record after this form was opened: nothing is saved, and the
    admin sees what is stored now next to what they typed."""

    def __init__(self, message, *, saved: dict, seen: str):
        super().__init__(message)
        self.saved, self.seen = saved, seen


# The language is left out: the user changes it themself (the footer, the sign-in page).
USER_FIELDS = ("full_name", "email", "role", "organisation_id")


ORG_FIELDS = ("name", "code", "kind", "province_code", "phone", "active")


def edited_state(record, fields: tuple[str, ...]) -> str:
    """A fingerprint of the fields an edit form changes, as stored: the form carries the one it
    was opened with, and a save made meanwhile by someone else changes it. (Not a version
    column: a sign-in, which changes the account too, must not count as an edit.)"""
    values = json.dumps([getattr(record, name) for name in fields], default=str)
    return hashlib.sha256(values.encode()).hexdigest()[:32]


def check_unchanged(record, fields: tuple[str, ...], seen: str | None, message) -> None:
    """Lock the record's row (PostgreSQL; SQLite has one writer at a time) and refuse the edit
    when it no longer holds what the form was opened with."""
    if seen is None:
        return
    model = type(record)
    db.session.execute(
        select(model).where(model.id == record.id).with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()  # fmt: skip
    now = edited_state(record, fields)
    if now != seen:
        saved = {name: getattr(record, name) for name in fields}
        raise EditConflict(message, saved=saved, seen=now)


def held_work(user: User) -> tuple[int, int]:
    """The active cases assigned to the account, and its open tasks."""
    from app.cases.models import ACTIVE_STATUSES, Case, Task

    cases = db.session.execute(
        select(func.count(Case.id)).where(
            Case.assigned_to_id == user.id, Case.status.in_(ACTIVE_STATUSES)
        )
    ).scalar_one()
    tasks = db.session.execute(
        select(func.count(Task.id)).where(Task.assigned_to_id == user.id, Task.done_at.is_(None))
    ).scalar_one()
    return cases, tasks


def commit_unique(recheck) -> None:
    """Commit; when a unique index refuses it (another admin saved the same email, name or code
    a moment earlier), roll back and say which field, as the check before the write would."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        recheck()  # raises the field's AdminError when the value is now taken
        raise


def not_oneself(by: User | None, user: User) -> None:
    """A reset ends the account's sessions: done to oneself, it would sign the admin out
    before the new password is shown. One's own password and codes are changed on one's own
    account page, which asks for the current password."""
    if by is not None and by.id == user.id:
        raise AdminError(
            _l("Change your own password and one-time codes on your account page, not here."),
            rule="own_password_or_codes",
        )


def numbers_issued(org: Organisation) -> bool:
    """Whether case numbers carry the organisation's code already (a counter row, or a case)."""
    from app.cases.models import Case, CaseCounter

    counter = select(CaseCounter.organisation_id).where(CaseCounter.organisation_id == org.id)
    case = select(Case.id).where(Case.organisation_id == org.id)
    return (
        db.session.execute(counter.limit(1)).first() is not None
        or db.session.execute(case.limit(1)).first() is not None
    )


INTAKE_ROLES = ("operator", "supervisor")  # who takes calls, and finds their unsaved intakes


def unsaved_intakes(user: User) -> int:
    """The account's unsaved intakes: calls not yet logged, which only it can save."""
    from app.calls.drafts import count_open

    return count_open(user) if user.role in INTAKE_ROLES else 0


def check_intakes_kept(user: User, *, role: str, moved: bool) -> None:
    """Refuse a change that would leave the account's unsaved intakes out of its reach (a role
    that takes no calls), or file them at another hotline (a move): each is a call not yet
    logged. Saved or discarded first; an account that cannot (gone) is disabled instead,
    which keeps them. (An account whose role takes no calls cannot reach any it kept from an
    earlier one: moved, it leaves them behind, drop_leftover_intakes.)"""
    if user.role not in INTAKE_ROLES or not (moved or role not in INTAKE_ROLES):
        return
    if count := unsaved_intakes(user):
        raise AdminError(
            lazy_ngettext(
                "This account still has %(num)d unsaved intake (a call not yet logged). Ask "
                "them to save or discard it first; an account that cannot be asked can be "
                "disabled instead, which keeps it.",
                "This account still has %(num)d unsaved intakes (calls not yet logged). Ask "
                "them to save or discard them first; an account that cannot be asked can be "
                "disabled instead, which keeps them.",
                count,
            ),
            field="organisation_id" if moved else "role",
            rule="unsaved_intakes",
        )


def drop_leftover_intakes(user: User) -> int:
    """Delete the unsaved intakes an account whose role takes no calls kept from an earlier
    role (before such a change was refused): moved, it would file them at the new hotline, and
    it cannot reach them to save them where they were taken. Not committed; how many."""
    from app.calls.models import IntakeDraft

    drafts = db.session.execute(select(IntakeDraft).where(IntakeDraft.user_id == user.id))
    dropped = 0
    for draft in drafts.scalars():
        db.session.delete(draft)  # its data key goes with the row
        dropped += 1
    return dropped


def last_supervisor_cases(user: User) -> int:
    """The active cases of the account's organisation when it is its last active supervisor
    (only a supervisor assigns them, approves closures and sees the 12-hour checks); 0
    otherwise."""
    from app.cases.models import ACTIVE_STATUSES, Case

    if user.role != "supervisor" or not user.active:
        return 0
    others = select(func.count(User.id)).where(
        User.organisation_id == user.organisation_id,
        User.role == "supervisor",
        User.active.is_(True),
        User.id != user.id,
    )
    if db.session.execute(others).scalar_one():
        return 0
    cases = select(func.count(Case.id)).where(
        Case.organisation_id == user.organisation_id, Case.status.in_(ACTIVE_STATUSES)
    )
    return db.session.execute(cases).scalar_one()


def check_not_last_supervisor(user: User, *, role: str, moved: bool) -> None:
    """Refuse making the last active supervisor of a hotline with active cases something else,
    or moving them away: nobody would be left to assign its cases or see its deadlines."""
    if role == "supervisor" and not moved:
        return
    if cases := last_supervisor_cases(user):
        raise AdminError(
            lazy_ngettext(
                "This is the last active supervisor of its organisation, which has %(num)d "
                "active case: make another account its supervisor first.",
                "This is the last active supervisor of its organisation, which has %(num)d "
                "active cases: make another account its supervisor first.",
                cases,
            ),
            field="organisation_id" if moved else "role",
            rule="last_supervisor",
        )
