"""Intake drafts over the wire: the autosave, the fresh token a page left open asks for, the
list of unsaved intakes offered back after signing in, and discarding one."""

from __future__ import annotations

import json
import uuid

from flask import abort, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy.orm.exc import ObjectDeletedError

from app.auth.access import refuse_object, refuse_role, roles_required
from app.calls import bp, drafts
from app.calls.kept_copies import line_of
from app.calls.views import INTAKE_ROLES, own_page
from app.clock import utcnow
from app.crypto.datakeys import new_id
from app.extensions import db
from app.form_fields import local_text
from app.request_values import without_nul


@bp.route("/drafts", methods=["POST"])
def save_draft():
    """Autosave: the intake form's fields, sealed server-side (JSON in, JSON out)."""
    if not current_user.is_authenticated:
        return jsonify(error="signed_out"), 401
    if not current_user.has_role(*INTAKE_ROLES):
        refuse_role()
    # JSON from the autosave timer; a form post from navigator.sendBeacon as the page closes.
    # Anything else (not an object, nested past what Python reads) is no page's: refused.
    try:
        body = request.get_json(silent=True) if request.is_json else _beacon_body()
        body = without_nul(body)
    except RecursionError:
        body = None
    if not isinstance(body, dict):
        return jsonify(error="bad_body"), 400
    try:
        key = uuid.UUID(str(body.get("intake_key", "")))
    except ValueError:
        return jsonify(error="bad_key"), 400
    fields = body.get("fields")
    if not isinstance(fields, dict):
        return jsonify(error="bad_fields"), 400
    fields.pop("csrf_token", None)
    if not own_page(str(fields.get("owner") or "")):
        return jsonify(error="other_account"), 409
    linked = (fields.get("case_id"), fields.get("case_number"))
    page = body.get("page") if isinstance(body.get("page"), str) else None
    try:
        draft = drafts.save_draft(
            user=current_user,
            intake_key=key,
            fields=fields,
            revision=_revision(body.get("revision")),
            page=page,
            seq=_revision(body.get("seq")),
        )
    except drafts.FormSaved:
        return jsonify(error="already_saved"), 409
    except drafts.DraftNewer as newer:
        if not request.is_json:
            # A closing page's last copy, behind another page's (two reloads in quick
            # succession, or a copy held up on the way): nobody is left to take it in, so one
            # with anything the draft lacks is kept as an unsaved intake of its own, offered
            # back with the others, rather than lost or written over.
            fields.pop("intake_key", None)
            # It names the intake it was kept from, and the one its line of copies began with:
            # saving it is refused while that intake is unsaved or once a call of that line is
            # saved, which would log the call twice (app/calls/kept_copies.py).
            fields["kept_group"] = line_of(key, fields, newer.fields)
            fields["kept_from"] = str(key)
            if drafts.adds_to(fields, newer.fields):
                try:
                    drafts.save_draft(
                        user=current_user,
                        intake_key=new_id(),
                        fields=fields,
                        page=drafts.KEPT_APART,
                    )
                except drafts.DraftError:  # the names added took it past the limit
                    return jsonify(error="too_large"), 413
            return jsonify(error="draft_newer"), 409
        # Another page's copy landed after the one this page shows (a reload's race): it is
        # given to the page to take in, not overwritten.
        return jsonify(error="draft_newer", revision=newer.revision, fields=newer.fields), 409
    except drafts.DraftError:
        return jsonify(error="too_large"), 413
    try:
        revision = draft.revision
    except ObjectDeletedError:
        # Gone the moment after it was written: the intake saved (it deletes its draft), or
        # discarded in another tab (the page's next autosave writes it again).
        db.session.rollback()
        if drafts.form_saved(key):
            return jsonify(error="already_saved"), 409
        return jsonify(error="gone"), 409
    # save_draft drops a link to a case erased meanwhile: the page is told to drop it too.
    case_erased = linked != (fields.get("case_id"), fields.get("case_number"))
    return jsonify(saved_at=local_text(utcnow()), case_erased=case_erased, revision=revision)


def _revision(value) -> int | None:
    """The draft revision a page says it shows (a number, 0 for none yet), or None: not said
    (a page of before revisions), so the draft is written whatever it holds."""
    if isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: JSON's Infinity, 1e400
        return None
    return number if 0 <= number < 2**31 else None  # a column of 32 bits


@bp.route("/drafts/<uuid:intake_key>")
def newer_draft(intake_key: uuid.UUID):
    """A page drawn from a draft asks, a moment after it opens, whether a newer copy landed
    meanwhile (the closing page's last copy, sent as a reload began): 204 when the revision it
    names is the latest, the newer copy otherwise, 404 when there is no draft."""
    g.passive_request = True  # asking does not count as activity
    if not current_user.is_authenticated:
        return jsonify(error="signed_out"), 401
    if not current_user.has_role(*INTAKE_ROLES):
        refuse_role()
    revision = drafts.revision_of(user=current_user, intake_key=intake_key)
    if not revision:
        if drafts.held_by_another(user=current_user, intake_key=intake_key):
            refuse_object("intake_draft", intake_key)  # someone else's: audited, 404 as for none
        saved = drafts.saved_call(intake_key)
        if saved is not None and saved.taken_by_id != current_user.id:
            refuse_object("call", saved.id)  # someone else's call: audited, 404 as for none
        if saved is not None:
            return jsonify(error="already_saved"), 409
        abort(404)  # answered as a refusal is: nothing tells the two apart
    if _revision(request.args.get("revision")) == revision:
        return "", 204  # read first: a draft is opened only when the page lacks its copy
    newer = drafts.copy_of(user=current_user, intake_key=intake_key)
    if newer is None:  # discarded or saved just now
        abort(404)
    return jsonify(newer)


def _beacon_body() -> dict | None:
    """The form-encoded body a closing page sends: intake_key, the draft revision it shows,
    its page key and copy count, and fields as a JSON string."""
    try:
        return {
            "intake_key": request.form.get("intake_key", ""),
            "revision": request.form.get("revision"),
            "page": request.form.get("page"),
            "seq": request.form.get("seq"),
            "fields": json.loads(request.form.get("fields", "")),
        }
    except (ValueError, RecursionError):
        return None


@bp.route("/token")
def fresh_token():
    """A CSRF token for the current session, so an intake page left open while its session
    ended can go on saving once the person has signed in again in another tab."""
    g.passive_request = True  # asking does not count as activity
    if not current_user.is_authenticated:
        return jsonify(error="signed_out"), 401
    return jsonify(csrf=generate_csrf(), user=str(current_user.id))


@bp.route("/drafts")
@roles_required(*INTAKE_ROLES)
def draft_list():
    """Unsaved intakes, offered back after a session ended or a browser closed mid-call."""
    from app.cases import drafts as case_drafts  # cases builds on calls

    rows = drafts.open_drafts(current_user)
    on_cases = len(case_drafts.open_drafts(current_user))
    return render_template(
        "calls/drafts.html", drafts=rows, on_cases=on_cases, kept_apart=drafts.KEPT_APART
    )


@bp.route("/drafts/<uuid:intake_key>/discard", methods=["POST"])
@roles_required(*INTAKE_ROLES)
def discard_draft(intake_key: uuid.UUID):
    """Throw an unsaved intake away (one of this person's: asking for someone else's by its
    address is refused and audited, as opening it is)."""
    if drafts.held_by_another(user=current_user, intake_key=intake_key):
        refuse_object("intake_draft", intake_key)
    drafts.discard_draft(user=current_user, intake_key=intake_key)
    flash(_("The unsaved intake was discarded."), "success")
    return redirect(url_for("calls.draft_list"))
