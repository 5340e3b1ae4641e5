"""Intake drafts over the wire: the autosave, the fresh token a page left open asks for, the
list of unsaved intakes offered back after signing in, and discarding one."""

from __future__ import annotations

import json
import uuid

from flask import flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from app.auth.access import refuse_role, roles_required
from app.calls import bp, drafts
from app.calls.views import INTAKE_ROLES, own_page
from app.clock import utcnow
from app.form_fields import local_text


@bp.route("/drafts", methods=["POST"])
def save_draft():
    """Autosave: the intake form's fields, sealed server-side (JSON in, JSON out)."""
    if not current_user.is_authenticated:
        return jsonify(error="signed_out"), 401
    if not current_user.has_role(*INTAKE_ROLES):
        refuse_role()
    # JSON from the autosave timer; a form post from navigator.sendBeacon as the page closes.
    body = request.get_json(silent=True) if request.is_json else _beacon_body()
    body = body or {}
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
    try:
        drafts.save_draft(user=current_user, intake_key=key, fields=fields)
    except drafts.FormSaved:
        return jsonify(error="already_saved"), 409
    except drafts.DraftError:
        return jsonify(error="too_large"), 413
    # save_draft drops a link to a case erased meanwhile: the page is told to drop it too.
    case_erased = linked != (fields.get("case_id"), fields.get("case_number"))
    return jsonify(saved_at=local_text(utcnow()), case_erased=case_erased)


def _beacon_body() -> dict | None:
    """The form-encoded body a closing page sends: intake_key, and fields as a JSON string."""
    try:
        return {
            "intake_key": request.form.get("intake_key", ""),
            "fields": json.loads(request.form.get("fields", "")),
        }
    except ValueError:
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
    return render_template("calls/drafts.html", drafts=rows, on_cases=on_cases)


@bp.route("/drafts/<uuid:intake_key>/discard", methods=["POST"])
@roles_required(*INTAKE_ROLES)
def discard_draft(intake_key: uuid.UUID):
    """Throw an unsaved intake away."""
    drafts.discard_draft(user=current_user, intake_key=intake_key)
    flash(_("The unsaved intake was discarded."), "success")
    return redirect(url_for("calls.draft_list"))
