"""Sending a copy: a case-page form reloaded within the minute comes back as a copy of the draft
it left (drafts.restore), as the page it was typed on may still be open. Sending the copy is
sending that page's text: recorded as sent from it too, so the first page sending the same text
adds nothing, and its draft goes if it still holds what was copied (left by the reload), so it
is never offered back to be sent a second time. Text typed on the first page since stays."""

from __future__ import annotations

import json
import uuid

from app.auth.models import User
from app.cases.draft_fields import copy_sources, sent_key
from app.cases.drafts import _find, page_asked
from app.cases.models import Case, FormSubmission
from app.extensions import db


def copy_sent(form, posted) -> list[tuple[uuid.UUID, uuid.UUID, uuid.UUID]]:
    """For a copy sent: each page it was copied from, the key of that page's text when copied,
    and the key the text sent is recorded under as from that page; empty for any other form."""
    page = page_asked(form.form_key.data)
    return [
        (source, copied, sent_key(source, posted))
        for source, copied in copy_sources(form.copy_of.data)
        if page is not None and source != page
    ]


def sent_keys(copies) -> list[uuid.UUID]:
    """The keys a copy's sending is recorded under as from its sources."""
    return [sent for _source, _copied, sent in copies]


def sent_from_sources(*, case: Case, user: User, form: str, copies) -> None:
    """A copy's text is sent (copies: copy_sent's): recorded as sent from each page it was
    copied from, and each such page's draft goes if it holds what was copied or what was sent.
    Not committed."""
    for source, copied, sent in copies:
        with db.session.no_autoflush:
            if db.session.get(FormSubmission, sent) is None:
                db.session.add(FormSubmission(key=sent, user_id=user.id, case_id=case.id))
        _drop_if_holding(case, user, form, source, (copied, sent))


def drop_unchanged_sources(*, case: Case, user: User, form: str, mark: str | None) -> None:
    """A copy's text thrown away (the conflict screen's "drop mine"): the drafts it was copied
    from go too if they still hold what was copied (a page typing there since keeps its own).
    Not committed."""
    for source, copied in copy_sources(mark):
        _drop_if_holding(case, user, form, source, (copied,))


def _drop_if_holding(case, user, form, source, keys) -> None:
    with db.session.no_autoflush:
        draft = _find(case, user, form, source)
    if draft is None or draft.payload is None:
        return
    fields = json.loads(draft.payload)
    if isinstance(fields, dict) and sent_key(source, fields) in keys:
        db.session.delete(draft)
