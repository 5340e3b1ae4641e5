"""Copies kept apart (app/calls/draft_views.py): a closing page's last copy of an intake that
reached the server behind another page's newer copy, and held something that copy lacked, is
kept as an unsaved intake of its own. It names the intake it was kept from (`kept_from`, a
hidden input its page sends with every autosave). It is saved as a call of its own only once
that intake is neither among the user's unsaved intakes nor saved: either way the same call
would be logged twice. What it adds goes into that intake (or that call's case), and the copy is
discarded. See docs/intake.md, "Nothing lost"."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from app.auth.models import User
from app.calls import drafts
from app.calls.models import IntakeDraft
from app.extensions import db


@dataclass(frozen=True)
class KeptCopy:
    """What a page is, as a copy kept apart: the intake it was kept from (None for a copy kept
    before copies named it), that intake's call if this user saved it, and whether it is
    still among this user's unsaved intakes."""

    parent: uuid.UUID | None
    saved_call: uuid.UUID | None
    parent_unsaved: bool

    def refusal(self) -> str | None:
        """Why the copy may not be saved as a call of its own now, or None."""
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
        return None


def kept_copy(
    kept_from: uuid.UUID | None, *, user: User, intake_key: uuid.UUID | None, opened: bool
) -> KeptCopy | None:
    """The page as a copy kept apart, or None when it is not one. `opened`: a draft opened
    now, whose row may still carry the mark of a copy kept before copies named their intake."""
    if kept_from is None:
        if opened and intake_key is not None and _marked(user, intake_key):
            return KeptCopy(None, None, False)
        return None
    found = drafts.saved_call(kept_from)
    # Only the user's own call is named: a made-up key tells nothing of anyone else's.
    saved = found.id if found is not None and found.taken_by_id == user.id else None
    unsaved = saved is None and found is None and drafts.has_draft(user=user, intake_key=kept_from)
    return KeptCopy(kept_from, saved, unsaved)


def _marked(user: User, intake_key: uuid.UUID) -> bool:
    """Whether the user's draft of this form was kept apart and not typed into since (a copy
    kept before copies named the intake they came from: its page still says what it is)."""
    stmt = select(IntakeDraft.page).where(
        IntakeDraft.user_id == user.id, IntakeDraft.intake_key == intake_key
    )
    return db.session.execute(stmt).scalar_one_or_none() == drafts.KEPT_APART
