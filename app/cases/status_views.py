"""Moving a case to another status: open -> in support -> pending closure -> closed (approved by
a supervisor other than the one who asked) -> reopened with a reason. The page shows what the
move ends (the case's open tasks); a case changed since the page was opened is shown again
before anything is changed, and a move this person may not make is refused and audited."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from app.auth.access import roles_required
from app.auth.labels import CASE_STATUS_LABELS
from app.cases import bp, drafts, services
from app.cases.forms import NoteForm, StatusForm
from app.cases.models import FormSubmission
from app.cases.services import TRANSITIONS, CaseError, SelfApproval
from app.cases.views import (
    CASE_ROLES,
    back_to_case,
    case_page,
    load_case,
    looked_at,
    moves_open,
    still_in_scope,
)
from app.extensions import db


def _role_could(to: str) -> bool:
    """Whether this user's role may make a move to that status from some status: a move a
    colleague's change closed off, not one this person could never make (refused, audited)."""
    return any(current_user.role in moves.get(to, ()) for moves in TRANSITIONS.values())


def _made_already(case, form: StatusForm):
    """A move to the status the case already has. Sent twice (a double click, the back
    button: this form's sending is recorded), the first sending made it. Made first by a
    colleague, the reason typed here is not dropped: the case page shows it in its note box,
    to add as a note or clear."""
    sent = drafts.sent_key(drafts.page_asked(form.form_key.data), request.form)
    reason = (form.reason.data or "").strip()
    if not reason or sent is None or db.session.get(FormSubmission, sent) is not None:
        return back_to_case(case, _("The case already has that status; nothing was changed."))
    flash(
        _(
            "A colleague made this change first: the case is already “%(status)s”. Your "
            "reason was not saved; it is in the note box below, to add as a note or clear.",
            status=CASE_STATUS_LABELS.get(case.status, case.status),
        ),
        "error",
    )
    return _case_page_keeping(case, form, status=409)


def _case_page_keeping(case, form: StatusForm, *, status: int):
    """The case page with a reason typed for a move not made in its note box (to add as a
    note or clear; to copy, on a closed case): a status form's text is never dropped. Kept as
    the person's note draft under the form's key, so closing the page loses nothing either."""
    reason = (form.reason.data or "").strip()
    page = drafts.page_asked(form.form_key.data)
    if reason and page is not None and case.erased_at is None:
        kept = drafts.keep_reason_as_note(case=case, user=current_user, page=page, reason=reason)
        return case_page(case, status=status, note_page=kept)
    note = None
    if reason:
        note = NoteForm(formdata=None)
        note.body.data = reason
    return case_page(case, note_form=note, status=status)


def _no_longer_open(case, form: StatusForm):
    """A move a colleague's change closed off while its page was open (the closure approved
    while a supervisor typed why to return it): said, and the reason typed is not dropped:
    the case page shows it in its note box (to copy, on a closed case). An erased case keeps
    nothing (its key is gone): that is said."""
    if case.erased_at is not None:
        flash(_("The case was erased meanwhile; nothing was changed."), "error")
        return redirect(url_for("cases.show", case_id=case.id))
    flash(
        _(
            "This change can no longer be made: the case is now “%(status)s”.",
            status=CASE_STATUS_LABELS.get(case.status, case.status),
        ),
        "error",
    )
    if not (form.reason.data or "").strip():
        return redirect(url_for("cases.show", case_id=case.id))
    flash(_("Your reason was not saved; it is in the note box below."), "error")
    return _case_page_keeping(case, form, status=409)


def _asked_by_me(case) -> bool:
    """Whether this user asked for the closure pending on the case."""
    return services.closure_requester(case) == current_user.id


def _refuse_self_approval(case, form: StatusForm):
    """Approving a closure this user asked for (another supervisor approves it): refused (403)
    and audited, on the case page, which does not offer it; a reason typed is kept in its note
    box. The page was reached by an address (a bookmark, the list of unsent text)."""
    db.session.rollback()
    services.audit_case("denied", case, current_user, detail="closure self-approval")
    db.session.commit()
    flash(_("A closure must be approved by someone other than who asked for it."), "error")
    return _case_page_keeping(case, form, status=403)


@dataclass
class StatusAsk:
    """A status page's form and what became of it: the reason restored from an unsent draft,
    whether the case changed under the page (never answered as a refusal); or the response
    that ends it (a refusal among them)."""

    form: StatusForm
    restored: object = None
    moved_on: bool = False
    response: Response | None = None


@bp.route("/<uuid:case_id>/status", methods=["GET", "POST"])
@roles_required(*CASE_ROLES)
def change_status(case_id: uuid.UUID):
    """Move the case to another status (a reason is asked where one is needed)."""
    case = load_case(case_id)
    ask = _opened(case) if request.method == "GET" else _posted(case)
    if ask.response is not None:
        return ask.response
    return _status_page(case, ask)


def _opened(case) -> StatusAsk:
    """The page asking for a move named in its address (?to=)."""
    to = request.args.get("to", "")
    ask = StatusAsk(StatusForm())
    if not to:  # the page without a move named (an address cut short): the case itself
        ask.response = redirect(url_for("cases.show", case_id=case.id))
        return ask
    if to == "closed" and to in moves_open(case) and _asked_by_me(case):
        ask.response = _refuse_self_approval(case, ask.form)
        return ask
    if to in moves_open(case):
        # A reason typed and not sent comes back, with the version it was typed on.
        ask.form, ask.restored = drafts.fill(
            StatusForm,
            case=case,
            user=current_user,
            name=drafts.status_form(case.status, to),
            page=drafts.page_asked(request.args.get("draft")),
        )
    ask.form.to.data = to
    if ask.restored is None:
        ask.form.version.data = str(case.version)
    if to not in moves_open(case) and _role_could(to):
        # A move no longer open from where the case is now (a colleague moved it since the
        # link or the unsent text's list was shown): the case as it is, not a refusal.
        flash(
            _(
                "This change can no longer be made: the case is now “%(status)s”.",
                status=CASE_STATUS_LABELS.get(case.status, case.status),
            ),
            "error",
        )
        ask.response = redirect(url_for("cases.show", case_id=case.id))
    elif to in moves_open(case):  # the page shows the case's open tasks: a look
        looked_at(case, "status form")
    return ask


def _posted(case) -> StatusAsk:
    """A move sent: made, or the page shown again saying why not."""
    ask = StatusAsk(StatusForm())
    form = ask.form
    if form.to.data == case.status and _role_could(form.to.data):
        ask.response = _made_already(case, form)
        return ask
    if not form.validate():
        return ask
    # A form without the version its page was made at (not one this app draws) cannot say
    # what the person saw: shown again as the case is now, never applied blind.
    if form.version.data != str(case.version):
        if form.to.data not in moves_open(case) and _role_could(form.to.data):
            ask.response = _no_longer_open(case, form)  # a colleague's move closed it off
            return ask
        # Changed since the page was made (a task added, a reassessment): what the move would
        # end is shown again as it is now, the reason kept, and nothing is changed yet.
        ask.moved_on = True
        form.version.data = str(case.version)
        flash(
            _(
                "This case changed since the page was opened. It is shown as it is now, with "
                "its open tasks: check it, then confirm again."
            ),
            "error",
        )
        return ask
    _move(case, ask)
    return ask


def _move(case, ask: StatusAsk) -> None:
    """Make the move; a rule's refusal or a colleague's change at the same instant is said."""
    form = ask.form
    try:
        services.change_status(
            case=case,
            to=form.to.data,
            by=current_user,
            reason=form.reason.data,
            sent=drafts.sent_key(drafts.page_asked(form.form_key.data), request.form),
            page=drafts.page_asked(form.form_key.data),
        )
    except SelfApproval:
        ask.response = _refuse_self_approval(case, form)
    except services.DutiesOpen:  # the page, drawn again, lists them and offers no confirm
        db.session.rollback()
    except services.ReasonNeeded as error:  # said at the box, which the keyboard goes to
        db.session.rollback()
        form.reason.errors = [str(error)]
    except CaseError as error:  # a rule said no (a reason missing, a move not allowed)
        flash(str(error), "error")
    except StaleDataError:
        # Changed by someone else at the same instant (a second click, a colleague).
        db.session.rollback()
        still_in_scope(case)  # that change may have handed the case to someone else
        if case.status == form.to.data:  # reloaded: theirs was the same change
            # This page's own second sending, or a colleague's same move: then the reason typed
            # here is kept in the note box, as for a move found made before saving.
            ask.response = _made_already(case, form)
            return
        if form.to.data not in moves_open(case) and _role_could(form.to.data):
            ask.response = _no_longer_open(case, form)  # theirs was another move
            return
        ask.moved_on = True
        form.version.data = str(case.version)
        flash(
            _(
                "Someone else changed this case at the same moment. Its status is shown "
                "as it is now: check it, then try again."
            ),
            "error",
        )
    else:
        said = _(
            "Case %(number)s is now: %(status)s.",
            number=case.number,
            status=CASE_STATUS_LABELS[case.status],
        )
        ask.response = back_to_case(case, said)


def _status_page(case, ask: StatusAsk):
    """The page asking for the move (again), unless the move is not this person's to make."""
    form = ask.form
    if form.to.data not in moves_open(case) and ask.moved_on and _role_could(form.to.data):
        # The move is no longer open (a colleague approved or returned the case meanwhile):
        # the case page shows where it stands, with the message said above.
        return redirect(url_for("cases.show", case_id=case.id))
    if form.to.data not in moves_open(case):
        # A move this person may not make on this case (or no such status): refused, audited.
        db.session.rollback()
        services.audit_case("denied", case, current_user, detail="status change")
        db.session.commit()
        abort(404)
    if request.method == "POST":  # shown again (changed meanwhile): a look
        looked_at(case, "status form")
    needs_reason = (case.status, form.to.data) in services.NEEDS_REASON
    closing = form.to.data in services.CLOSING
    return render_template(
        "cases/status.html",
        case=case,
        form=form,
        needs_reason=needs_reason,
        duties=services.duties_open(case) if closing else [],
        draft=drafts.status_form(case.status, form.to.data),
        restored=ask.restored,
    )
