"""Intake drafts: what an operator has typed so far, sealed server-side every few seconds, so an
expired session, a dropped network or a crashed browser loses nothing of a call.

A draft belongs to one user and one intake form (its `intake_key`); the payload is the form's
fields as a JSON object of strings (lists for multi-choice fields), sealed under the draft's own
data key. Saving the intake deletes the draft in the same transaction; discarding destroys it.

Each write counts (`revision`) and names the page that made it (`page`, a random key of each
page load). A page's autosave names the revision it shows: one written meanwhile by another page
(the closing page's last copy, reaching the server after the reloaded page was drawn from the
copy before it) is not overwritten; the page is given that copy to take in (`DraftNewer`).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

from sqlalchemy import and_, bindparam, delete, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app.auth.models import User
from app.calls.draft_erasure import forget_erased_case
from app.calls.models import Call, IntakeDraft
from app.clock import utcnow
from app.extensions import db
from app.form_fields import as_uuid

MAX_PAYLOAD = 200_000  # characters of JSON; a whole intake is a few kB
MAX_DRAFTS_PER_USER = 50  # as for case-page drafts (docs/intake.md)
# The `page` of a copy kept apart: a closing page's last copy that nobody was left to take in
# (see draft_views.save_draft), listed and opened with a word on what it is.
KEPT_APART = "kept-apart"


class DraftError(Exception):
    """A draft could not be kept (too large, or not this user's)."""


class FormSaved(DraftError):
    """The form was saved already, or a copy kept apart from it was: a draft sent late (the
    autosave timer racing the submit, a page left open on an intake discarded meanwhile) would
    bring back a draft of a call that is stored."""


class DraftNewer(DraftError):
    """Another page wrote the draft after the revision this page shows: its copy, to be taken
    in by the page rather than overwritten."""

    def __init__(self, revision: int, fields: dict):
        super().__init__("a newer copy of the draft")
        self.revision = revision
        self.fields = fields


def save_draft(
    *,
    user: User,
    intake_key: uuid.UUID,
    fields: dict,
    revision: int | None = None,
    page: str | None = None,
    seq: int | None = None,
    again: bool = True,
) -> IntakeDraft:
    """Create or replace the user's draft of this intake form. A link to a case erased
    meanwhile is dropped from the fields first (see `forget_erased_case`).

    `revision` is the draft's revision the page shows (0: none yet) and `page` the page's key:
    a draft written since by another page raises DraftNewer. Without a revision (the phone
    system's pre-filled intake) the draft is written whatever it holds. `seq` numbers a page's
    own copies: one overtaken on the way by its later copy (the closing page's beacon landing
    before the autosave sent just ahead of it) is not written over that one."""
    if _saved_or_copied(user, intake_key):
        raise FormSaved("form saved already")
    sent = dict(fields)  # a second try looks again, and audits again what it tells
    # The case named locked first (on PostgreSQL), as an erasure takes it before the drafts:
    # one erasing it now is waited for, then its erasure seen.
    forget_erased_case(fields, user=user, lock=True)
    payload = json.dumps(fields, ensure_ascii=False)
    if len(payload) > MAX_PAYLOAD:
        raise DraftError("draft too large")
    page = page[:40] if page else None
    try:
        draft = _find(user, intake_key)
        now = utcnow()  # before the first write: what happens meanwhile is met by that write
        if draft is None:
            draft = IntakeDraft(user_id=user.id, intake_key=intake_key, revision=1)
            db.session.add(draft)
            _trim(user, draft)
        else:
            if revision is not None and revision != draft.revision and page != draft.page:
                raise DraftNewer(draft.revision, json.loads(draft.payload or "{}"))
            if _older_copy(draft, page, seq):
                db.session.commit()  # the audit entry of an erased case told of, if any
                return draft  # nothing else written: the page's later copy stays
            _claim_next(draft)
        draft.payload = payload
        draft.kept_from = as_uuid(fields.get("kept_from"))
        draft.page = page
        draft.page_seq = seq if page else None
        draft.updated_at = now
        db.session.flush()
        # The case named looked at again, the draft written (on SQLite the write lock now
        # held): an erasure committed since the look above, its sweep of drafts done before
        # this one was there, is seen now.
        if forget_erased_case(fields, user=user, lock=True):
            draft.payload = json.dumps(fields, ensure_ascii=False)
        db.session.commit()
    except (StaleDataError, IntegrityError):
        # Deleted or written between our read and our write (the form saved in another tab,
        # the draft discarded, its case erased, another page's copy landing), or made at the
        # same instant (the closing page's beacon and the timer's first autosave): tried once
        # more as things now are.
        db.session.rollback()
        if not again:
            raise
        draft = save_draft(
            user=user,
            intake_key=intake_key,
            fields=sent,
            revision=revision,
            page=page,
            seq=seq,
            again=False,
        )
        fields.clear()
        fields.update(sent)  # as the second try kept them (a link to a case erased meanwhile)
        return draft
    except DraftNewer:
        db.session.rollback()
        raise
    return draft


def form_saved(intake_key: uuid.UUID) -> bool:
    """Whether a call was saved with this intake form (its drafts are then of no use)."""
    return saved_call(intake_key) is not None


def saved_call(intake_key: uuid.UUID):
    """The id, author (taken_by_id) and organisation of the call saved with this intake form,
    or None."""
    stmt = select(Call.id, Call.taken_by_id, Call.organisation_id).where(
        Call.intake_key == intake_key
    )
    return db.session.execute(stmt).first()


@dataclass(frozen=True)
class SaveCheck:
    """What stands in the way of saving a page (`check_save`): another page's newer copy of
    its draft to take in first, or a call this user saved from a copy kept apart from this
    very form (app/calls/kept_copies.py): saving the form too would log that call twice."""

    overtaken: bool = False
    line_call: uuid.UUID | None = None


def check_save(*, user: User, intake_key: uuid.UUID, revision: int | None, page: str) -> SaveCheck:
    """Whether another page wrote the user's draft of this form after the revision a page
    shows, so saving that page now would drop the newer copy; and the user's call saved from a
    copy kept apart from this form. One statement. Only a page whose script keeps count (it
    sends its page key) can take a copy in, or have had copies kept apart: one without is never
    held back, nor a page that saved no draft (revision 0), nor a form saved already (sent
    again, it goes to its call)."""
    if not revision or not page:
        return SaveCheck()
    found = db.session.connection().execute(_CHECK, {"user": user.id, "intake_key": intake_key})
    draft_revision, draft_page, line_call = found.one()
    if draft_revision is None:  # no draft: nothing newer to take in
        return SaveCheck(line_call=line_call)
    if draft_revision == revision or draft_page == page:
        return SaveCheck(line_call=line_call)
    return SaveCheck(overtaken=not form_saved(intake_key), line_call=line_call)


_DRAFT, _CALL = IntakeDraft.__table__, Call.__table__
_MINE = (_DRAFT.c.user_id == bindparam("user"), _DRAFT.c.intake_key == bindparam("intake_key"))
# check_save's statement, built once: every save from the page runs it, and building it afresh
# (three subqueries through the ORM) cost more than the database's work on it.
_CHECK = select(
    select(_DRAFT.c.revision).where(*_MINE).scalar_subquery(),
    select(_DRAFT.c.page).where(*_MINE).scalar_subquery(),
    select(_CALL.c.id)  # the user's call saved from a copy kept apart (its line's first)
    .where(
        _CALL.c.intake_group == bindparam("intake_key"), _CALL.c.taken_by_id == bindparam("user")
    )
    .limit(1)
    .scalar_subquery(),
)


def _saved_or_copied(user: User, intake_key: uuid.UUID) -> bool:
    """Whether a call was saved with this form, or by this user from a copy kept apart from
    it: a draft of it now would bring back, as unsaved, a call that is stored."""
    stmt = select(Call.id).where(
        or_(
            Call.intake_key == intake_key,
            and_(Call.intake_group == intake_key, Call.taken_by_id == user.id),
        )
    )
    return db.session.execute(stmt.limit(1)).first() is not None


# A page's own keys, not what was said in the call.
_PAGE_KEYS = frozenset(
    {"csrf_token", "intake_key", "owner", "kept_from", "kept_group", "kept_resent"}
)


def adds_to(fields: dict, kept: dict) -> bool:
    """Whether a copy holds anything the kept draft does not: a field typed in it (not blank,
    not an empty list) whose value differs from the draft's."""
    for name, value in fields.items():
        if name in _PAGE_KEYS or value in ("", [], None):
            continue
        if kept.get(name) != value:
            return True
    return False


def _older_copy(draft: IntakeDraft, page: str | None, seq: int | None) -> bool:
    """Whether this copy is the page's own, overtaken by its later one already written."""
    return (
        page is not None
        and page == draft.page
        and seq is not None
        and draft.page_seq is not None
        and seq < draft.page_seq
    )


def _claim_next(draft: IntakeDraft) -> None:
    """Take the draft's next revision, or raise StaleDataError when a write that read the same
    one took it first (two copies landing at once: neither replaces the other unseen)."""
    taken = db.session.execute(
        update(IntakeDraft)
        .where(IntakeDraft.id == draft.id, IntakeDraft.revision == draft.revision)
        .values(revision=draft.revision + 1)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:
        raise StaleDataError("the draft was written meanwhile")
    draft.revision += 1


def load_draft(*, user: User, intake_key: uuid.UUID) -> dict | None:
    """The fields of the user's draft of this intake form, or None."""
    opened = open_draft(user=user, intake_key=intake_key)
    return opened[0] if opened is not None else None


def open_draft(*, user: User, intake_key: uuid.UUID) -> tuple[dict, int] | None:
    """The fields of the user's draft of this intake form and its revision (read together:
    the page names the revision of the text it shows), or None."""
    draft = _find(user, intake_key)
    if draft is None or draft.payload is None:
        return None
    return json.loads(draft.payload), draft.revision


def held_by_another(*, user: User, intake_key: uuid.UUID) -> bool:
    """Whether someone other than the user has a draft of this intake form."""
    stmt = select(IntakeDraft.id).where(
        IntakeDraft.intake_key == intake_key, IntakeDraft.user_id != user.id
    )
    return db.session.execute(stmt).first() is not None


def copy_of(*, user: User, intake_key: uuid.UUID) -> dict | None:
    """The user's draft of this form as a page takes it in: fields, revision and the page that
    wrote it; None when there is none."""
    draft = _find(user, intake_key)
    if draft is None or draft.payload is None:
        return None
    return {"revision": draft.revision, "page": draft.page, "fields": json.loads(draft.payload)}


def revision_of(*, user: User, intake_key: uuid.UUID | None) -> int:
    """The revision of the user's draft of this intake form; 0 when there is none."""
    if intake_key is None:
        return 0
    stmt = select(IntakeDraft.revision).where(
        IntakeDraft.user_id == user.id, IntakeDraft.intake_key == intake_key
    )
    return db.session.execute(stmt).scalar_one_or_none() or 0


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


def _find(user: User, intake_key: uuid.UUID) -> IntakeDraft | None:
    stmt = select(IntakeDraft).where(
        IntakeDraft.user_id == user.id, IntakeDraft.intake_key == intake_key
    )
    return db.session.execute(stmt).scalar_one_or_none()


def _trim(user: User, new: IntakeDraft) -> None:
    """Keep at most MAX_DRAFTS_PER_USER drafts, `new` among them: the oldest go first. A late
    copy of a form saved since (an autosave landing as the form was saved) is no unsaved
    intake: it goes first, and does not count (it would push out one that is)."""
    saved = select(Call.id).where(Call.intake_key == IntakeDraft.intake_key)
    db.session.execute(
        delete(IntakeDraft)
        .where(IntakeDraft.user_id == user.id, exists(saved))
        .execution_options(synchronize_session="fetch")
    )
    every = select(IntakeDraft).where(IntakeDraft.user_id == user.id)
    newest_first = db.session.execute(every.order_by(IntakeDraft.updated_at.desc())).scalars()
    others = [draft for draft in newest_first if draft is not new]
    for old in others[MAX_DRAFTS_PER_USER - 1 :]:
        db.session.delete(old)
