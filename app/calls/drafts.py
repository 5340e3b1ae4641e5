"""Intake drafts: what an operator has typed so far, sealed server-side every few seconds, so an
expired session, a dropped network or a crashed browser loses nothing of a call.

A draft belongs to one user and one intake form (its `intake_key`); the payload is the form's
fields as a JSON object of strings (lists for multi-choice fields), sealed under the draft's own
data key. Saving the intake deletes the draft in the same transaction; discarding destroys it.
"""

from __future__ import annotations

import json
import uuid

from sqlalchemy import exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app.auth.models import User
from app.calls.models import Call, IntakeDraft
from app.clock import utcnow
from app.extensions import db

MAX_PAYLOAD = 200_000  # characters of JSON; a whole intake is a few kB
MAX_DRAFTS_PER_USER = 50  # as for case-page drafts (docs/intake.md)


class DraftError(Exception):
    """A draft could not be kept (too large, or not this user's)."""


class FormSaved(DraftError):
    """The form was saved already: a draft sent late (the autosave timer racing the submit)
    would bring back a draft of a call that is stored."""


def save_draft(
    *, user: User, intake_key: uuid.UUID, fields: dict, again: bool = True
) -> IntakeDraft:
    """Create or replace the user's draft of this intake form. A link to a case erased
    meanwhile is dropped from the fields first (see `forget_erased_case`)."""
    forget_erased_case(fields, user=user)
    payload = json.dumps(fields, ensure_ascii=False)
    if len(payload) > MAX_PAYLOAD:
        raise DraftError("draft too large")
    if db.session.execute(select(Call.id).where(Call.intake_key == intake_key)).first():
        raise FormSaved("form saved already")
    try:
        draft = _find(user, intake_key)
        if draft is None:
            draft = IntakeDraft(user_id=user.id, intake_key=intake_key)
            db.session.add(draft)
            _trim(user, draft)
        draft.payload = payload
        draft.updated_at = utcnow()
        db.session.commit()
    except (StaleDataError, IntegrityError):
        # Deleted between our read and our write (the form saved in another tab, the draft
        # discarded, its case erased), or made at the same instant (the closing page's beacon
        # and the timer's first autosave): written once more as things now are.
        db.session.rollback()
        if not again:
            raise
        return save_draft(user=user, intake_key=intake_key, fields=fields, again=False)
    return draft


def forget_erased_case(fields: dict, *, user: User) -> bool:
    """Drop the intake's link to its case when that case, of the user's organisation, has been
    erased, and say so.

    Erasure deletes the drafts naming the case (`drop_drafts_on`), but a page left open on it
    would put the link back with its next autosave. What was typed is the new call's and is
    kept; only the link goes, so the call is saved on its own if the operator goes on. Another
    hotline's case is never looked at: the answer would tell whether it exists (the intake's
    save refuses such a link anyway)."""
    from app.cases.models import Case  # cases builds on calls
    from app.cases.search_form import normalise_case_number

    case_id, typed = fields.get("case_id"), fields.get("case_number")
    named = []
    if isinstance(case_id, str) and case_id.strip():
        try:
            named.append(Case.id == uuid.UUID(case_id.strip()))
        except ValueError:
            pass
    number = normalise_case_number(typed) if isinstance(typed, str) and typed.strip() else None
    if number:
        named.append(Case.number == number)
    if not named:
        return False
    erased = select(Case.id, Case.number).where(
        Case.erased_at.is_not(None), Case.organisation_id == user.organisation_id, or_(*named)
    )
    gone = db.session.execute(erased).all()
    if not gone:
        return False
    for row in gone:
        if fields.get("case_id") == str(row.id):
            fields["case_id"] = ""
        if number == row.number:
            fields["case_number"] = ""
    return True


def load_draft(*, user: User, intake_key: uuid.UUID) -> dict | None:
    """The fields of the user's draft of this intake form, or None."""
    draft = _find(user, intake_key)
    if draft is None or draft.payload is None:
        return None
    return json.loads(draft.payload)


def has_draft(*, user: User, intake_key: uuid.UUID) -> bool:
    """Whether the user has an unsaved intake of this key."""
    return _find(user, intake_key) is not None


def _unsaved(user: User) -> tuple:
    """The user's drafts whose form no call was saved with: a draft an autosave wrote just as
    the form was saved (deleted at the next resubmit or visit of its address) is never
    offered back as unsaved."""
    saved = select(Call.id).where(Call.intake_key == IntakeDraft.intake_key)
    return (IntakeDraft.user_id == user.id, ~exists(saved))


def open_drafts(user: User) -> list[IntakeDraft]:
    """The user's unsaved intakes, newest first (offered back after signing in)."""
    stmt = select(IntakeDraft).where(*_unsaved(user)).order_by(IntakeDraft.updated_at.desc())
    return list(db.session.execute(stmt).scalars())


def count_open(user: User) -> int:
    """How many unsaved intakes the user has (nothing sealed read)."""
    stmt = select(func.count(IntakeDraft.id)).where(*_unsaved(user))
    return db.session.execute(stmt).scalar_one()


def discard_draft(*, user: User, intake_key: uuid.UUID) -> None:
    """Throw a draft away: its key is destroyed with the row."""
    draft = _find(user, intake_key)
    if draft is not None:
        db.session.delete(draft)
        db.session.commit()


def drop_drafts_on(case_id: uuid.UUID, number: str) -> int:
    """Delete every unsaved intake of a new call on this case, whoever started it (erasure: a
    draft is sealed under its own key, so it would outlive the case's). The case is named only
    inside the sealed payload, so each draft is opened; there are few (MAX_DRAFTS_PER_USER a
    person, deleted when saved). A draft names it by id (opened from the case page) or by number
    (the repeat-caller panel's "add to this case", or typed). Not committed."""
    from app.cases.search_form import normalise_case_number  # cases builds on calls

    wanted, dropped = str(case_id), 0
    for draft in db.session.execute(select(IntakeDraft)).scalars():
        try:
            fields = json.loads(draft.payload or "{}")
        except ValueError:
            continue
        if not isinstance(fields, dict):
            continue
        typed = fields.get("case_number")
        named = normalise_case_number(typed) == number if isinstance(typed, str) else False
        if fields.get("case_id") == wanted or named:
            db.session.delete(draft)
            dropped += 1
    return dropped


def _find(user: User, intake_key: uuid.UUID) -> IntakeDraft | None:
    stmt = select(IntakeDraft).where(
        IntakeDraft.user_id == user.id, IntakeDraft.intake_key == intake_key
    )
    return db.session.execute(stmt).scalar_one_or_none()


def _trim(user: User, new: IntakeDraft) -> None:
    """Keep at most MAX_DRAFTS_PER_USER drafts, `new` among them: the oldest go first."""
    every = select(IntakeDraft).where(IntakeDraft.user_id == user.id)
    newest_first = db.session.execute(every.order_by(IntakeDraft.updated_at.desc())).scalars()
    others = [draft for draft in newest_first if draft is not new]
    for old in others[MAX_DRAFTS_PER_USER - 1 :]:
        db.session.delete(old)
