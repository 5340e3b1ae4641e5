"""Copies kept apart (app/calls/draft_views.py): a closing page's last copy of an intake that
reached the server behind another page's newer copy, and held something that copy lacked, is
kept as an unsaved intake of its own. It names the intake it was kept from (`kept_from`, a
hidden input its page sends with every autosave). It is saved as a call of its own only once
that intake is neither among the user's unsaved intakes nor saved: either way the same call
would be logged twice. Nor is it once any other copy of the same line (the copies kept apart
from one intake, and theirs) was saved as a call. What it adds goes into that intake (or that
call's case), and the copy is discarded. See docs/intake.md, "Nothing lost"."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import or_, select

from app.auth.models import User
from app.calls import drafts
from app.calls.models import Call, IntakeDraft
from app.extensions import db
from app.form_fields import as_uuid


@dataclass(frozen=True)
class KeptCopy:
    """What a page is, as a copy kept apart: the intake it was kept from (None for a copy kept
    before copies named it), that intake's call if this user saved it, whether that intake is
    still among this user's unsaved intakes, the intake its line of copies began with (`group`,
    stored on the call it is saved as), and the call this user saved from another copy of
    that line, if any."""

    parent: uuid.UUID | None
    saved_call: uuid.UUID | None
    parent_unsaved: bool
    group: uuid.UUID | None = None
    line_call: uuid.UUID | None = None
    # Not a copy: the intake copies were kept apart from, one of them saved since as a call.
    origin: bool = False
    # Kept from the intake's own page sent again after its call was saved, holding more
    # (intake_post._kept_if_more), not from a reload's race.
    resent: bool = False

    def refusal(self) -> str | None:
        """Why the copy may not be saved as a call of its own now, or None."""
        if self.origin:
            return _(
                "Not saved: a copy kept apart from this intake was saved already as a call, and "
                "saving this intake too would log that call twice. Open that call (linked at "
                "the top), add what this page adds to its case as a note, then leave this page."
            )
        if self.saved_call is not None:
            return _(
                "Not saved: this copy was kept apart from a call you have saved since, and "
                "saving it too would log that call twice. Open that call (linked at the top), "
                "add what this copy adds to its case as a note, then discard this copy."
            )
        if self.parent_unsaved:
            return _(
                "Not saved: the intake this copy was kept apart from is still among your "
                "unsaved intakes. Finish the call there (linked at the top), with what this "
                "copy adds, then discard this copy: saving both would log the call twice."
            )
        if self.line_call is not None:
            return _(
                "Not saved: another copy of the same intake was saved already as a call, and "
                "saving this one too would log that call twice. Open that call (linked at the "
                "top), add what this copy adds to its case as a note, then discard this copy."
            )
        return None


def kept_copy(
    kept_from: uuid.UUID | None,
    *,
    user: User,
    intake_key: uuid.UUID | None,
    opened: bool,
    kept_group: uuid.UUID | None = None,
    resent: bool = False,
) -> KeptCopy | None:
    """The page as a copy kept apart, or None when it is not one (nor once it is saved: sent
    again, it goes to its call). `opened`: a draft opened now, whose row may still carry the
    mark of a copy kept before copies named their intake. `kept_group`: the intake its line
    began with, as its page says (a copy kept before lines were named: its kept_from)."""
    if kept_from is None:
        if opened and intake_key is not None and _marked(user, intake_key):
            return KeptCopy(None, None, False)
        return None
    if intake_key is not None and drafts.form_saved(intake_key):
        return None
    found = drafts.saved_call(kept_from)
    # Only the user's own call is named: a made-up key tells nothing of anyone else's.
    saved = found.id if found is not None and found.taken_by_id == user.id else None
    unsaved = saved is None and found is None and drafts.has_draft(user=user, intake_key=kept_from)
    group = kept_group or kept_from
    line_call = None if saved or unsaved else _line_call(user, group)
    return KeptCopy(kept_from, saved, unsaved, group, line_call, resent=resent)


def line_of(key: uuid.UUID, *copies: dict) -> str:
    """The intake a line of copies began with, for a copy kept apart from the intake `key`:
    the one its page or that intake names (both copies, themselves, of `key`'s form), else
    `key` itself."""
    for fields in copies:
        for name in ("kept_group", "kept_from"):  # kept_from alone: a copy of before lines
            found = as_uuid(fields.get(name))
            if found is not None:
                return str(found)
    return str(key)


def _line_call(user: User, group: uuid.UUID) -> uuid.UUID | None:
    """The user's call saved from this line of copies: from the intake it began with, or from
    any copy of it (the copy's own call is not looked for: kept_copy returned before)."""
    stmt = select(Call.id).where(
        Call.taken_by_id == user.id, or_(Call.intake_key == group, Call.intake_group == group)
    )
    return db.session.execute(stmt.limit(1)).scalar_one_or_none()


def _marked(user: User, intake_key: uuid.UUID) -> bool:
    """Whether the user's draft of this form was kept apart and not typed into since (a copy
    kept before copies named the intake they came from: its page still says what it is)."""
    stmt = select(IntakeDraft.page).where(
        IntakeDraft.user_id == user.id, IntakeDraft.intake_key == intake_key
    )
    return db.session.execute(stmt).scalar_one_or_none() == drafts.KEPT_APART
