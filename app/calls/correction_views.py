"""Correcting a saved call (app/calls/corrections.py): the form filled with the call's values,
saved once however often it is sent (a second sending changes nothing the first did not), a
colleague's correction made after the page was drawn kept beside this person's, or, when both
changed a field, the call as it now is shown above everything typed, to send again. Each look
and each change is audited; a call of a closed case is read-only."""

from __future__ import annotations

import uuid

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from app.auth.access import roles_required
from app.auth.models import User
from app.calls import bp, corrections
from app.calls.call_views import audit_call, load_call
from app.calls.corrections import CallChanged, CallData, SentBefore
from app.calls.forms import CallCorrectionForm
from app.calls.views import CALL_ROLES
from app.cases import draft_copies, drafts
from app.cases.corrections import refill_fields
from app.cases.draft_fields import sent_key
from app.cases.services import CaseError
from app.extensions import db

WRITE_ATTEMPTS = 3  # a call on a case: the case written by someone else at the same instant


@bp.route("/<uuid:call_id>/edit", methods=["GET", "POST"])
@roles_required(*CALL_ROLES)
def correct(call_id: uuid.UUID):
    """Correct a call's details after it was saved."""
    call = load_call(call_id)  # not this person's to see: 404, audited
    if not corrections.permitted(call, current_user):  # an operator, another's call
        audit_call(call, "denied", "correction form")
        db.session.commit()
        abort(403)
    if request.method == "GET" and corrections.read_only(call):
        # Closed while the form was open: its sending is refused by the service instead,
        # the form shown again with everything typed.
        flash(_("The case of this call is closed: its calls can no longer be corrected."), "error")
        return redirect(url_for("calls.show", call_id=call.id))
    name = _draft_name(call)
    restored = None
    if request.method == "GET" and name is not None:  # what was typed and not sent, back
        asked = drafts.page_asked(request.args.get("draft"))  # from the list of unsent text
        form, restored = drafts.fill(
            CallCorrectionForm, case=call.case, user=current_user, name=name, page=asked,
            data=corrections.form_values(call),
        )  # fmt: skip
    elif request.method == "GET":
        form = CallCorrectionForm(formdata=None, data=corrections.form_values(call))
    else:
        form = CallCorrectionForm(formdata=request.form)
    form.reason.choices = [
        ch for ch in form.reason.choices if ch.value in corrections.reasons_for(call)
    ]
    if request.method == "GET":
        if restored is None or not form.seen.data:  # a draft keeps the one it was typed on
            form.seen.data = corrections.fingerprint(call)
        if not form.form_key.data:
            form.form_key.data = str(uuid.uuid4())
        audit_call(call, "view", "correction form")
        db.session.commit()
        return _page(call, form, name=name, restored=restored)
    if form.validate_on_submit():
        data = CallData(
            channel=form.channel.data,
            caller_type=form.caller_type.data,
            reason=form.reason.data,
            caller_phone=form.caller_phone.data,
            caller_name=form.caller_name.data,
            narrative=form.narrative.data,
            outcomes=list(form.outcomes.data or []),
            flags=list(form.flags.data or []),
        )
        page = drafts.page_asked(form.form_key.data)
        sent = sent_key(page, request.form)
        try:
            changed = _write(call, data, form.seen.data or None, sent, name, form)
        except SentBefore:
            if name is not None:  # a draft of it left by a late autosave goes now
                drafts.drop(case=call.case, user=current_user, form=name, page=page)
                db.session.commit()
            flash(_("This form had already been saved; nothing was saved twice."), "success")
            return redirect(url_for("calls.show", call_id=call.id))
        except CallChanged as met:
            # Theirs shown above the form; what this person changed kept, each field both
            # changed marked, the others as the colleague left them: sent again, saved.
            db.session.rollback()
            now = load_call(call_id)
            refill_fields(
                form,
                corrections.form_values(now),
                {name: name for name in corrections.NAMES},
                keep=met.mine,
                marked=met.both,
                unknown=met.unknown,
            )
            form.seen.data = corrections.fingerprint(now)
            audit_call(now, "view", "correction conflict")  # theirs shown: a look
            db.session.commit()
            return _page(now, form, changed=met, name=name), 409
        except CaseError as error:  # the case closed meanwhile: the form stays, all typed
            db.session.rollback()
            flash(str(error), "error")
            return _page(call, form, name=name)
        if changed:
            flash(_("Correction saved."), "success")
        else:
            flash(_("Nothing was different from what was recorded; nothing changed."), "success")
        return redirect(url_for("calls.show", call_id=call.id))
    return _page(call, form, name=name)


def _draft_name(call) -> str | None:
    """The name of the correction's draft: a call on a case keeps one, as the case's other
    forms do (app/cases/drafts.py, under the case's key: erased with it); a call with no case
    keeps none (its correction holds a few words: a short call's reason, a number)."""
    if call.case_id is None or corrections.read_only(call):
        return None
    return drafts.part_form("call", call.id)


def _write(call, data: CallData, seen: str | None, sent, name: str | None, form) -> list[str]:
    """corrections.correct, made again (on the call as it now is) when someone else wrote to
    the call's case at the same instant; the form's draft (and those a copy brought back was
    copied from) deleted with the correction."""
    copies = draft_copies.copy_sent(form, request.form) if name is not None else []
    page = drafts.page_asked(form.form_key.data)
    for attempt in range(WRITE_ATTEMPTS):
        if attempt:
            call = load_call(call.id)  # still this person's to see, or 404

        def drafts_gone(call=call):
            if name is None or call.case is None:
                return
            draft_copies.sent_from_sources(
                case=call.case, user=current_user, form=name, copies=copies
            )
            drafts.drop(case=call.case, user=current_user, form=name, page=page)

        try:
            return corrections.correct(
                call=call,
                by=current_user,
                data=data,
                seen=seen,
                sent=sent,
                copied=draft_copies.sent_keys(copies),
                with_write=drafts_gone,
            )
        except StaleDataError:
            db.session.rollback()
    raise CaseError(_("The case is being changed by others right now: send the form again."))


def _page(call, form, changed: CallChanged | None = None, *, name=None, restored=None):
    by = changed.by if changed is not None and isinstance(changed.by, User) else None
    return render_template(
        "calls/correct.html",
        call=call,
        form=form,
        changed=changed,
        corrected_by=by,
        draft=name,
        restored=restored,
    )
