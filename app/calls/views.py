"""The intake page and what it talks to while a call goes on: the repeat-caller panel (drafts:
draft_views.py; a call's own page and one's list of calls: call_views.py)."""

from __future__ import annotations

import json
import uuid

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from app import audit
from app.auth.access import refuse_object, refuse_role, roles_required
from app.calls import bp, drafts
from app.calls.forms import IntakeForm
from app.calls.intake import find_saved
from app.calls.intake_post import Posted, after_save, post
from app.calls.kept_copies import kept_copy
from app.calls.models import Call
from app.calls.repeat import repeat_caller_panel
from app.calls.services import contact_flags
from app.cases.models import Case
from app.cases.recipients import recipient_choices
from app.cases.scope import case_scope
from app.cases.services import audit_case
from app.classifications import EMERGENCY_ACTIONS, RISK_LEVELS, SHORT_REASONS
from app.clock import utcnow
from app.crypto.datakeys import new_id
from app.extensions import db
from app.form_fields import as_uuid, local_text
from app.places.form_choices import fill_place_choices

INTAKE_ROLES = ("operator", "supervisor")
CALL_ROLES = ("operator", "case_manager", "supervisor")


def _linked_case(case_id: str | None) -> Case | None:
    """The case a call is being added to, if the user may see it."""
    try:
        wanted = uuid.UUID(case_id) if case_id else None
    except ValueError:
        return None
    if wanted is None:
        return None
    stmt = case_scope(current_user)(select(Case).where(Case.id == wanted))
    return db.session.execute(stmt).scalar_one_or_none()


def _new_form() -> tuple[IntakeForm, dict, int]:
    """A fresh intake, a restored draft (?draft=key), or a new call on a case (?case=id); the
    draft's fields, for the inputs that are not form fields (emergency action times, the
    checklist's "gone through" tick); and the draft's revision (0: none)."""
    key = as_uuid(request.args.get("draft", ""))
    opened = drafts.open_draft(user=current_user, intake_key=key) if key else None
    if opened is not None:
        fields, revision = opened
        form = IntakeForm(formdata=MultiDict(_as_pairs(fields)))
        form.intake_key.data = str(key)
        form.owner.data = str(current_user.id)  # the user's own draft
        return form, fields, revision
    if key is not None and drafts.held_by_another(user=current_user, intake_key=key):
        refuse_object("intake_draft", key)  # someone else's: audited, 404 as for none
    form = IntakeForm(formdata=None)
    form.owner.data = str(current_user.id)
    # Time-ordered, as record ids are: a new key lands at the end of the call table's index
    # of keys, which stays in memory, where a random one would land on any of its pages.
    form.intake_key.data = str(new_id())
    form.started_at.data = utcnow().replace(second=0, microsecond=0)
    wanted = request.args.get("case")
    case = _linked_case(wanted)
    if wanted and case is None:  # a stale or altered link: audited, 404
        if as_uuid(wanted) is None:
            abort(404)
        refuse_object("case", as_uuid(wanted))
    if case is not None:
        form.case_id.data = str(case.id)
        form.case_number.data = case.number
        form.reason.data = "follow_up"
    return form, {}, 0


def _saved_already(key: str):
    """The intake named by ?draft= was saved already (the address the autosave left, opened
    again after the save: a reload, the back button, a save whose answer never came): where
    that save went, saying so, rather than a blank form that would take the call twice. A
    draft of it left by a late autosave goes."""
    intake_key = as_uuid(key)
    if intake_key is None:
        return None
    saved = find_saved(intake_key, current_user)
    if saved is None:
        other = drafts.saved_call(intake_key)
        if other is not None and other.taken_by_id != current_user.id:
            refuse_object("call", other.id)  # someone else's call: audited, 404 as for none
        return None
    drafts.discard_draft(user=current_user, intake_key=intake_key)
    return after_save(saved)


def _as_pairs(fields: dict) -> list[tuple[str, str]]:
    """A draft's JSON fields as form pairs (lists become repeated keys)."""
    pairs = []
    for name, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append((str(name), str(item)))
    return pairs


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*INTAKE_ROLES)
def new():
    """The intake: log any call; a violence report opens or updates a case."""
    if request.method == "GET":
        done = _saved_already(request.args.get("draft", ""))
        if done is not None:
            return done
        form, typed, revision = _new_form()
    else:
        form, typed = IntakeForm(), request.form
        # The draft revision the page showed: shown again with it, so a copy another page
        # wrote since is still taken in by the page (and not written over by its autosave).
        revision = _posted_revision()
    # A copy kept apart says so on its page, and is not saved while the intake it was kept
    # from is unsaved or once that is saved (app/calls/kept_copies.py).
    copy = kept_copy(
        as_uuid(_one(typed.get("kept_from"))),
        user=current_user,
        intake_key=as_uuid(form.intake_key.data),
        opened=request.method == "GET" and bool(revision),
        kept_group=as_uuid(_one(typed.get("kept_group"))),
        resent=_one(typed.get("kept_resent")) == "1",
    )
    fill_place_choices(form)
    if request.method == "GET":
        return _intake_page(form, typed, revision, Posted(copy=copy))
    if not own_page(form.owner.data):
        # Another account's page, left open when its session ended: not saved under this
        # one. That person's call is in their own unsaved intakes (the autosaved draft).
        audit.record(
            "denied", user=current_user, object_type="call", detail="another account's page"
        )
        db.session.commit()
        flash(
            _(
                "That page was opened under another account, whose session had ended. Nothing "
                "was saved under yours, and the page was cleared: that person finds the call "
                "among their unsaved intakes when they sign in again."
            ),
            "error",
        )
        return redirect(url_for("calls.new"))
    posted = post(form, revision, copy)
    if posted.response is not None:
        return posted.response
    return _intake_page(form, typed, revision, posted)


def _intake_page(form: IntakeForm, typed, revision: int | None, posted: Posted):
    """The intake page: a new one, a draft restored, or a posted one again with all typed."""
    linked = _linked_case(form.case_id.data)
    if linked is not None and linked.erased_at is None:
        # The case's safe-contact instructions and flags are on the page (a follow-up call may
        # be a call back): a look at the case, audited as the case page's is.
        audit_case("view", linked, current_user, detail="safe contact on a new call")
        db.session.commit()
    form.consent_recipient.choices = recipient_choices(
        current_user.organisation_id, chosen=form.consent_recipient.data
    )
    if as_uuid(form.intake_key.data) is None:  # a post without its page's key (none drew it)
        form.intake_key.data = str(new_id())
    if revision is None:
        revision = drafts.revision_of(user=current_user, intake_key=as_uuid(form.intake_key.data))
    return render_template(
        "calls/new.html",
        form=form,
        draft_revision=revision,
        kept=posted.copy,
        kept_refused=bool(posted.refusal),
        notice=saved_notice() if request.method == "GET" else None,
        linked=linked,
        join_refused=posted.join_refused,
        linked_flags=contact_flags(linked) if linked is not None else [],
        short_reasons=SHORT_REASONS,
        risk_levels_json=json.dumps(
            {k: str(v) for k, v in RISK_LEVELS.items()}, ensure_ascii=False
        ),
        # Every time typed is shown again, an unticked action's too (refused, with its box).
        emergency_times={
            code: _one(typed.get(f"emergency_time_{code}")) for code in EMERGENCY_ACTIONS
        },
        risk_checked=bool(_one(typed.get("risk_checked"))),
        # Who ticked it, the page (with a first answer) or the operator: a draft brought back
        # still takes the page's tick away with the last answer.
        risk_checked_by=_set_by(typed, "risk_checked_by"),
        # Who chose the caller, the page (for a call where no one said) or the operator.
        caller_set=_set_by(typed, "caller_set"),
    ), posted.status


CALLER_SET = ("page", "operator")


def _set_by(typed, name: str) -> str:
    """Who set a choice the page may make for the operator ("Who is calling", the checklist's
    "gone through"), as the page (or its draft) said: "page", "operator" or ""."""
    said = _one(typed.get(name))
    return said if said in CALLER_SET else ""


def _posted_revision() -> int | None:
    """The draft revision a posted intake page showed, or None: not said (a page without the
    script, or from before revisions), when the draft's revision as it is now is shown."""
    value = request.form.get("draft_revision", "")
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None


def _one(value) -> str:
    """A single value of a posted form or of a draft (where a repeated name is a list)."""
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value or "")


def own_page(owner: str | None) -> bool:
    """Whether an intake page (or its draft) was opened under the signed-in account. A page
    without the mark (made before it existed) is taken as the user's own."""
    return not owner or owner == str(current_user.id)


def saved_notice(case: Case | None = None) -> str | None:
    """The "saved" message of the page a save went to (?saved=<call id>, and again=1 for a form
    saved before): said only for a call this user took and, on a case page, only for a call of
    that case, so a made-up address tells nothing."""
    call_id = as_uuid(request.args.get("saved"))
    if call_id is None:
        return None
    call = db.session.execute(
        select(Call.taken_by_id, Call.case_id, Call.started_at).where(Call.id == call_id)
    ).first()
    if call is None or call.taken_by_id != current_user.id:
        return None
    if case is not None and call.case_id != case.id:
        return None
    if request.args.get("again") and request.args.get("kept") and call.case_id is not None:
        return _(
            "This call had already been saved, so nothing was saved twice. What the page held "
            "beyond that save is kept among your unsaved intakes: open it there to add what it "
            "adds to the case, then discard it."
        )
    if request.args.get("again") and request.args.get("kept"):
        return _(
            "This call had already been saved, so nothing was saved twice. What the page held "
            "beyond that save is kept among your unsaved intakes: open it there to see what it "
            "adds, then discard it."
        )
    if request.args.get("again"):
        return _("This call had already been saved; nothing was saved twice.")
    if case is not None:
        return _("Call saved to case %(number)s.", number=case.number)
    return _("Call logged at %(time)s.", time=local_text(call.started_at))


@bp.route("/lookup", methods=["POST"])
def lookup():
    """The repeat-caller panel for a number sent in the body (never in a URL)."""
    if not current_user.is_authenticated:
        return jsonify(error="signed_out"), 401
    if not current_user.has_role(*INTAKE_ROLES):
        refuse_role()
    phone = (request.form.get("phone") or "").strip()
    if len(phone) < 6 or len(phone) > 40:
        return render_template("calls/_panel.html", panel=None)
    panel = repeat_caller_panel(phone=phone, by=current_user._get_current_object())
    # The views it records are committed before anything is shown, and the cases read for it
    # stay as read (not expired, so not read again to draw the panel a moment later).
    session = db.session()
    usual, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = usual
    return render_template("calls/_panel.html", panel=panel)
