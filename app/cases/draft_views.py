"""Case-page drafts over the wire: the autosave of a form on a case page, throwing a draft away,
and the list of unsent text offered after signing in. Each loads the case through its
need-to-know scope first, so nobody keeps or sees a draft on a case they may not see."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from flask import abort, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.access import refuse_role, roles_required
from app.cases import bp, corrections, draft_copies, drafts
from app.cases.views import CASE_ROLES, load_case
from app.clock import utcnow
from app.extensions import db
from app.form_fields import local_text

# Where each form lives, to go back to it (a status change: its page for that move).
PAGES = {
    "note": ("cases.show", "add-note"),
    "task": ("cases.show", "tasks"),
    "incident": ("cases.add_incident", None),
    "perpetrator": ("cases.add_perpetrator", None),
    "risk": ("cases.reassess", None),
    "consent": ("cases.consent", None),
    "edit": ("cases.edit", None),
}


def form_url(case_id: uuid.UUID, form: str, page: uuid.UUID | None = None) -> str:
    """The page of the form this draft is of (`page`: that draft brought back)."""
    asked = {"draft": str(page)} if page is not None else {}
    move = drafts.status_move(form)
    if move is not None:
        return url_for("cases.change_status", case_id=case_id, to=move[1], **asked)
    if (edit := drafts.part_edit(form)) is not None:
        kind, part_id = edit
        if kind == "call":  # a call's correction, on its own page
            return url_for("calls.correct", call_id=part_id, **asked)
        return url_for(f"cases.correct_{kind}", case_id=case_id, part_id=part_id, **asked)
    endpoint, anchor = PAGES[form]
    return url_for(endpoint, case_id=case_id, _anchor=anchor, **asked)


@bp.route("/<uuid:case_id>/drafts/<form>", methods=["POST"])
def keep_draft(case_id: uuid.UUID, form: str):
    """Autosave: a case-page form's fields, sealed server-side (JSON in, JSON out): `page`, the
    key the page gave the form, and `fields`; fields of null, or holding nothing typed, delete
    the page's draft."""
    if not current_user.is_authenticated:
        return jsonify(error="signed_out"), 401
    if not current_user.has_role(*CASE_ROLES):
        refuse_role()
    case = load_case(case_id)  # not this person's to see: 404, audited
    if not drafts.known(form):
        abort(404)
    # JSON from the autosave timer; a form post from navigator.sendBeacon as the page closes.
    # A body nested past what Python reads is no page's: refused, as any bad body is.
    try:
        body = request.get_json(silent=True) if request.is_json else _beacon_body()
    except RecursionError:
        body = None
    if not isinstance(body, dict) or "fields" not in body:
        return jsonify(error="bad_fields"), 400
    fields, page = body["fields"], drafts.page_asked(str(body.get("page") or ""))
    if page is None or (fields is not None and not isinstance(fields, dict)):
        return jsonify(error="bad_fields"), 400
    if not _may_keep(case, form):
        # A call on the case this person may not correct (an operator, a colleague's call):
        # refused as a part not on the case is, audited.
        corrections.refuse_part(case, *drafts.part_edit(form), current_user)
        db.session.commit()
        return jsonify(error="bad_fields"), 413
    try:
        kept = drafts.keep(case=case, user=current_user, form=form, page=page, fields=fields)
    except drafts.FormSaved:
        return jsonify(error="already_saved"), 409
    except drafts.CaseMovedOn:
        return jsonify(error="closed"), 409
    except drafts.DraftError:
        if (edit := drafts.part_edit(form)) is not None:
            if corrections.find_part(case, *edit) is None:
                # A correction's draft naming a part not on this case: refused as the
                # correction's page refuses it, audited (the answer the same as for any
                # form it cannot keep, so nothing is told of the part).
                db.session.rollback()
                corrections.refuse_part(case, *edit, current_user)
                db.session.commit()
        return jsonify(error="bad_fields"), 413
    return jsonify(saved_at=local_text(utcnow()) if kept is not None else "")


def _may_keep(case, form: str) -> bool:
    """Whether this person may keep a draft of the form: a call's correction only if they may
    correct that call (app/calls/corrections.permitted); any other form, as the case allows."""
    from app.calls.corrections import permitted  # the calls package builds on this one

    edit = drafts.part_edit(form)
    if edit is None or edit[0] != "call":
        return True
    call = corrections.find_part(case, *edit)
    return call is None or permitted(call, current_user)  # none: refused below, as any part


def _beacon_body() -> dict | None:
    """The form-encoded body a closing page sends: the page's key, the fields as JSON text."""
    try:
        return {"page": request.form.get("page"), "fields": json.loads(request.form["fields"])}
    except (KeyError, ValueError):
        return None


@bp.route("/<uuid:case_id>/drafts/<form>/newer")
def newer_draft(case_id: uuid.UUID, form: str):
    """A page opened by a reload asks, a moment after it opens, whether the closing page's last
    copy (sent as the reload began, under that page's key) is newer than what the page shows:
    the draft it brought back (`shown`, written `at`), or none. Then it opens again, to bring
    it back. Compared with the draft shown, not a clock: a copy written as the page was drawn
    is never missed. Nothing sealed is read or told."""
    g.passive_request = True  # asking does not count as activity
    if not current_user.is_authenticated:
        return jsonify(error="signed_out"), 401
    if not current_user.has_role(*CASE_ROLES):
        refuse_role()
    case = load_case(case_id)  # not this person's to see: 404, audited
    page = drafts.page_asked(request.args.get("page"))
    if not drafts.known(form) or page is None:
        abort(404)
    shown_at = None
    if drafts.page_asked(request.args.get("shown")) == page:
        shown_at = _moment(request.args.get("at"))
        if shown_at is None:
            abort(404)
    landed = drafts.newer_than_shown(
        case=case, user=current_user, form=form, page=page, shown_at=shown_at
    )
    return jsonify(newer=landed)


def _moment(text: str | None) -> datetime | None:
    """A moment as the page names it (ISO 8601, with its offset), or None."""
    try:
        moment = datetime.fromisoformat(text or "")
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


@bp.route("/<uuid:case_id>/drafts/<form>/discard", methods=["POST"])
@roles_required(*CASE_ROLES)
def discard_draft(case_id: uuid.UUID, form: str):
    """Throw away what was typed into a form and not sent; back to where it was asked from."""
    case = load_case(case_id)
    if not drafts.known(form):
        abort(404)
    # From the list or a notice: `page`; from the conflict screen, the edit page's own key (and
    # the drafts it was a copy of, if they still hold what was copied).
    named = [request.form.get(name) for name in ("page", "form_key")]
    pages = {page for page in map(drafts.page_asked, named) if page is not None}
    mark = request.form.get("copy_of")
    if mark:
        draft_copies.drop_unchanged_sources(case=case, user=current_user, form=form, mark=mark)
    for page in pages or [None]:  # none named: every draft of the form on the case
        drafts.discard(case=case, user=current_user, form=form, page=page)
    flash(_("What you had typed was discarded."), "success")
    if request.form.get("back") == "list":
        return redirect(url_for("cases.draft_list"))
    if request.form.get("back") == "case" or case.is_closed:
        return redirect(url_for("cases.show", case_id=case.id))
    return redirect(form_url(case.id, form))


@bp.route("/drafts")
@roles_required(*CASE_ROLES)
def draft_list():
    """Text typed on case pages and not sent, offered back after a session ended."""
    rows = drafts.open_drafts(current_user)
    return render_template(
        "cases/drafts.html",
        drafts=rows,
        label=drafts.label,
        recorded=drafts.parts_recorded(rows),
        named=drafts.PART_EDITS_NAMED,
        part_edit=drafts.part_edit,
        form_url=form_url,
        can_open=_can_open,
    )


def _can_open(draft) -> bool:
    """Whether the draft's form can be opened: a closed case takes none but a move (reopening)
    and shows a note or a task left unsent to copy."""
    return (
        not draft.case.is_closed or draft.form in ("note", "task") or drafts.status_move(draft.form)
    )
