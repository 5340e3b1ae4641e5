"""Case-page drafts: what someone types into a form on a case (a note, a task, an incident, an
edit of the survivor's details...) is sealed on the server every few seconds, so a session that
times out, a tab closed by mistake or a crashed browser loses at most the last few seconds; the
form offers it back, whole, when it is opened again.

A draft belongs to one person, one case and one form; its payload is the form's fields as a JSON
object of strings (lists for multi-choice fields), sealed under the case's data key, so erasing
the case erases it too (the rows are deleted as well). Saving the form deletes the draft in the
same transaction as the change; discarding it deletes it. Only someone who may still see the
case is ever shown it: the pages that offer it back load the case through its need-to-know
scope first.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import MultiDict

from app.auth.models import User
from app.cases.models import STATUSES, Case, CaseDraft, FormSubmission
from app.cases.queries import case_scope
from app.clock import utcnow
from app.extensions import db

MAX_PAYLOAD = 100_000  # characters of JSON; the longest case form is a few kB
MAX_DRAFTS_PER_USER = 50

# The forms that keep drafts, with what the list of unsaved work calls them. A status change is
# kept per move ("status-closed"): its reason is for that move only.
FORMS = {
    "note": _l("Note"),
    "task": _l("Task"),
    "incident": _l("New incident"),
    "perpetrator": _l("Person who used violence"),
    "risk": _l("Risk assessment"),
    "consent": _l("Consent"),
    "edit": _l("Edit the survivor's details"),
}
STATUS_PREFIX = "status-"
# Fields a form carries for its own bookkeeping: a draft holding nothing else holds nothing typed.
BOOKKEEPING = {"csrf_token", "form_key", "version", "base", "to", "submit"}


class DraftError(Exception):
    """The draft could not be kept (too large, malformed, or no such form)."""


class FormSaved(DraftError):
    """That form was saved already: a draft sent late (the autosave racing the button) would
    bring back text that is stored."""


def known(form: str) -> bool:
    """Whether `form` names a form that keeps drafts."""
    if form.startswith(STATUS_PREFIX):
        return form[len(STATUS_PREFIX) :] in STATUSES
    return form in FORMS


def label(form: str) -> str:
    """What the form is called on the list of unsaved work."""
    if form.startswith(STATUS_PREFIX):
        return str(_l("Status change"))
    return str(FORMS.get(form, form))


def keep(*, case: Case, user: User, form: str, fields: dict | None) -> CaseDraft | None:
    """Create or replace the person's draft of this form on the case; fields that hold nothing
    typed (or None) delete it. Committed."""
    if not known(form):
        raise DraftError("no such form")
    if fields is not None:
        fields = _clean(fields)
    key = (fields or {}).get("form_key")
    if isinstance(key, str) and _submitted(key, case):
        raise FormSaved("form saved already")
    try:
        draft = _keep(case, user, form, fields)
        db.session.commit()
    except (IntegrityError, StaleDataError):
        # Written or deleted by the same person's other tab at the same instant: once more, as
        # things now are.
        db.session.rollback()
        draft = _keep(case, user, form, fields)
        db.session.commit()
    return draft


def _keep(case: Case, user: User, form: str, fields: dict | None) -> CaseDraft | None:
    draft = find(case=case, user=user, form=form)
    if fields is None or not _holds_typing(fields):
        if draft is not None:
            db.session.delete(draft)
        return None
    fresh = draft is None
    if draft is None:
        draft = CaseDraft(user_id=user.id, case_id=case.id, form=form)
        draft.case = case
        db.session.add(draft)
    draft.payload = json.dumps(fields, ensure_ascii=False)
    draft.updated_at = utcnow()
    if fresh:
        _trim(user)
    return draft


def _clean(fields: dict) -> dict:
    """The fields as strings and lists of strings, the CSRF token left out."""
    out: dict[str, str | list[str]] = {}
    for name, value in fields.items():
        if not isinstance(name, str) or name == "csrf_token":
            continue
        if isinstance(value, str):
            out[name] = value
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            out[name] = value
        else:
            raise DraftError("not a form's fields")
    if len(json.dumps(out, ensure_ascii=False)) > MAX_PAYLOAD:
        raise DraftError("draft too large")
    return out


def _holds_typing(fields: dict) -> bool:
    return any(
        (value.strip() if isinstance(value, str) else value)
        for name, value in fields.items()
        if name not in BOOKKEEPING
    )


def _submitted(key: str, case: Case) -> bool:
    try:
        wanted = uuid.UUID(key)
    except ValueError:
        return False
    stmt = select(FormSubmission.key).where(
        FormSubmission.key == wanted, FormSubmission.case_id == case.id
    )
    return db.session.execute(stmt).first() is not None


def find(*, case: Case, user: User, form: str) -> CaseDraft | None:
    """The person's draft of this form on the case, if any."""
    stmt = select(CaseDraft).where(
        CaseDraft.user_id == user.id, CaseDraft.case_id == case.id, CaseDraft.form == form
    )
    return db.session.execute(stmt).scalar_one_or_none()


class Restored:
    """A draft offered back: its fields (as a form's data) and when they were last typed."""

    def __init__(self, draft: CaseDraft):
        fields = json.loads(draft.payload or "{}")
        self.form = draft.form
        self.updated_at: datetime = draft.updated_at
        self.fields: dict = fields if isinstance(fields, dict) else {}

    def formdata(self) -> MultiDict:
        data = MultiDict()
        for name, value in self.fields.items():
            for one in value if isinstance(value, list) else [value]:
                data.add(name, one)
        return data


def restore(*, case: Case, user: User, form: str) -> Restored | None:
    """The person's unsent text of this form on the case, to fill the form with, or None."""
    draft = find(case=case, user=user, form=form)
    return Restored(draft) if draft is not None and draft.payload is not None else None


def drop(*, case: Case, user: User, form: str) -> None:
    """Delete the person's draft of this form (its form is being saved). Not committed: it goes
    with the change, or stays if the change is refused. Nothing is written before the change
    itself is (no flush here: on SQLite that would take the write lock early)."""
    with db.session.no_autoflush:
        draft = find(case=case, user=user, form=form)
    if draft is not None:
        db.session.delete(draft)


def drop_all_on(case_id: uuid.UUID) -> None:
    """Delete everyone's drafts on the case (erasure). Not committed."""
    db.session.execute(delete(CaseDraft).where(CaseDraft.case_id == case_id))


def drop_all_of(user: User) -> int:
    """Delete the person's drafts on every case (the account removed). Not committed."""
    result = db.session.execute(delete(CaseDraft).where(CaseDraft.user_id == user.id))
    return result.rowcount or 0


def open_drafts(user: User) -> list[CaseDraft]:
    """The person's unsent case-page text on the cases they may still see, newest first (a case
    reassigned away, or erased, is not offered; nothing is opened to list them)."""
    stmt = case_scope(user)(
        select(CaseDraft)
        .join(Case, Case.id == CaseDraft.case_id)
        .where(CaseDraft.user_id == user.id, Case.erased_at.is_(None))
        .order_by(CaseDraft.updated_at.desc())
        .options(contains_eager(CaseDraft.case))
    )
    return list(db.session.execute(stmt).scalars())


def _trim(user: User) -> None:
    """Keep at most MAX_DRAFTS_PER_USER drafts, the one being written included (flushed by
    the query): the oldest go first."""
    stmt = (
        select(CaseDraft)
        .where(CaseDraft.user_id == user.id)
        .order_by(CaseDraft.updated_at.desc())
        .offset(MAX_DRAFTS_PER_USER)
    )
    for old in db.session.execute(stmt).scalars():
        db.session.delete(old)


def fill(form_cls, *, case: Case, user: User, name: str, **kwargs):
    """A form opened (not sent): filled from the person's draft of it when there is one. Gives
    the form and the draft offered back (None when there was none)."""
    restored = None if case.erased_at else restore(case=case, user=user, form=name)
    if restored is None:
        return form_cls(**kwargs), None
    return form_cls(**{**kwargs, "formdata": restored.formdata()}), restored
