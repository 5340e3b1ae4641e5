"""A posted intake: checked, then saved unless something stands in the way (another page's
newer copy of its draft, a copy kept apart that would log the call twice, details the save
would drop); what became of it, for the intake page (app/calls/views.py) to show again."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from flask import Response, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.calls import drafts
from app.calls.answers import to_intake
from app.calls.forms import IntakeForm
from app.calls.intake import IntakeError, IntakeKeyTaken, LinkRefused, find_saved, save_intake
from app.calls.kept_copies import KeptCopy, line_of
from app.calls.models import Call
from app.cases.draft_fields import sent_key
from app.cases.services import CaseError
from app.extensions import db
from app.form_fields import as_uuid


@dataclass
class Posted:
    """What became of a posted intake that is shown again: the copy kept apart it is (if it
    is one) and why it may not be saved, whether survivor details were typed on a call joining
    a case (kept in sight), the page's status; or the response that ends the request (the
    save's redirect)."""

    copy: KeptCopy | None = None
    refusal: str | None = None
    join_refused: bool = False
    status: int = 200  # the page again, everything typed kept
    response: Response | None = None


def post(form: IntakeForm, revision: int | None, copy: KeptCopy | None) -> Posted:
    """Check a posted intake and save it, unless something stands in the way."""
    posted = Posted(copy=copy)
    intake = to_intake(form, request.form) if form.validate() else None
    if intake is None:
        # Sent again after its first save, it may no longer pass (a consent's organisation
        # closed since, say): it was saved, and is that save (looked up on this path only).
        # Holding more than that save (and a mistake in what was added): what it holds is
        # kept, as for one that passes.
        key = as_uuid(form.intake_key.data)
        earlier = find_saved(key, current_user) if key is not None else None
        if earlier is not None:
            kept = _kept_if_more(key, sent_digest(key), earlier)
            posted.response = after_save(earlier, kept=kept)
        return posted
    intake.sent_key = sent_digest(intake.intake_key)
    check = drafts.check_save(
        user=current_user,
        intake_key=intake.intake_key,
        revision=revision,
        page=request.form.get("draft_page", "")[:40],
    )
    if check.overtaken:
        # A reload's race: the closing page's last copy reached the server after this page
        # was drawn from the one before. Saving now would drop it; the page takes it in first.
        flash(
            _(
                "Not saved yet: what was typed just before this page was reloaded reached the "
                "server after the page opened. It is being added to the form; check the fields "
                "named at the top, then save again."
            ),
            "error",
        )
        return posted
    if posted.copy is not None:
        posted.refusal = posted.copy.refusal()
    elif check.line_call is not None:
        # The intake a copy kept apart came from, saved after that copy was (its page left
        # open as it was discarded): the same call, logged twice (app/calls/kept_copies.py).
        posted.copy = KeptCopy(None, None, False, line_call=check.line_call, origin=True)
        posted.refusal = posted.copy.refusal()
    if posted.refusal:  # a copy kept apart: saving it would log the call twice
        flash(posted.refusal, "error")
        posted.status = 409
    elif not _drops_details(form, intake, posted):
        if posted.copy is not None:
            intake.intake_group = posted.copy.group  # its line's: no other copy saved after
        _save(form, intake, posted)
    return posted


def _drops_details(form: IntakeForm, intake, posted: Posted) -> bool:
    """Whether saving would drop what was typed about the survivor or the case: said on the
    field, with everything kept, never dropped unsaid."""
    if intake.drops_case_details():
        # A reason that opens no case (changed by a stray key, say).
        form.reason.errors.append(
            _(
                "This reason opens no case, so what was typed about the survivor and the case "
                "would not be saved. Choose 'Violence report' (or give the case number of a "
                "follow-up), or clear those details."
            )
        )
        return True
    if intake.drops_survivor_details():
        posted.join_refused = True
        # A call joining a case does not change the case's survivor: what was typed about
        # them here is shown (the section stays open) and said, never dropped unsaid.
        form.case_number.errors.append(
            _(
                "This call is added to an existing case, which keeps its own survivor details: "
                "what is typed under Survivor below would not be saved. Clear those fields, or "
                "empty the case number to open a new case. To change the case's details or its "
                "safe-contact instructions, edit the case after saving the call."
            )
        )
        return True
    return False


def _save(form: IntakeForm, intake, posted: Posted) -> None:
    """Save the intake: the redirect after it, or the word on why it was not saved."""
    try:
        saved = save_intake(
            data=intake,
            by=current_user._get_current_object(),  # the account, not the request's proxy
        )
    except IntakeKeyTaken:
        # What the page holds is that account's call: it is neither shown again nor kept
        # under this account (need-to-know), not even the draft this page autosaved.
        drafts.discard_draft(user=current_user, intake_key=as_uuid(form.intake_key.data))
        flash(
            _(
                "Another account had already saved that form: the page was left open after "
                "that account's session ended. Nothing was saved again, and the page was "
                "cleared, as it held that account's call. Take the next call here."
            ),
            "error",
        )
        posted.response = redirect(url_for("calls.new"))
    except (IntakeError, CaseError) as error:
        flash(str(error), "error")
        if isinstance(error, LinkRefused):
            posted.status = 404  # a case not this person's to add to: refused, audited
    else:
        kept = _kept_if_more(intake.intake_key, intake.sent_key, saved)
        posted.response = after_save(saved, kept=kept)


# The page's own marks, not what it holds: sent again from the same page they may differ.
PAGE_STATE = frozenset(
    {
        "intake_key",
        "owner",
        "kept_from",
        "kept_group",
        "kept_resent",
        "draft_revision",
        "draft_page",
    }
)


def sent_digest(intake_key) -> object:
    """What the posted intake holds, as a keyed digest under its form's key (drafts.sent_key:
    nothing of the text), stored on the call it is saved as."""
    fields = {name: request.form.getlist(name) for name in request.form if name not in PAGE_STATE}
    return sent_key(intake_key, fields)


def _kept_if_more(intake_key, digest, saved) -> bool:
    """A form found saved before, sent again holding something else (typed after a save whose
    answer was lost, then sent again): what it holds is kept as an unsaved intake apart, named
    after the call it was saved as, to add what it adds to the case (app/calls/kept_copies.py),
    never dropped under "already saved". A double click holds the same: nothing kept; the same
    more sent twice is one copy (its key made of the form's key and what it holds)."""
    if saved.created or digest is None or intake_key is None:
        return False
    stored = db.session.execute(select(Call.sent_key).where(Call.id == saved.call_id)).scalar()
    if stored is None or stored == digest:  # saved before digests: taken as the same
        return False
    fields = {
        name: values[0] if len(values) == 1 else values
        for name, values in request.form.lists()
        if name not in PAGE_STATE and name != "csrf_token"
    }
    fields["kept_group"] = line_of(intake_key, {"kept_group": request.form.get("kept_group")})
    fields["kept_from"] = str(intake_key)
    fields["kept_resent"] = "1"  # its page says why it was kept (calls/new.html)
    try:
        drafts.save_draft(
            user=current_user,
            intake_key=uuid.uuid5(intake_key, str(digest)),
            fields=fields,
            page=drafts.KEPT_APART,
        )
    except drafts.DraftError:  # past a draft's size: the page's own check keeps it below
        db.session.rollback()
        return False
    return True


def after_save(saved, *, kept: bool = False):
    """Where the operator goes next: the case, or a fresh intake for the next call. That page
    says what was saved (saved_notice), told by the call's id in its address: the save is the
    request's only write, with no session row written after its commit."""
    marks = {"saved": str(saved.call_id)}
    if not saved.created:
        marks["again"] = "1"
    if kept:  # sent again holding more: what it adds kept as an unsaved intake
        marks["kept"] = "1"
    if saved.case_id is not None:
        return redirect(url_for("cases.show", case_id=saved.case_id, **marks))
    return redirect(url_for("calls.new", **marks))
