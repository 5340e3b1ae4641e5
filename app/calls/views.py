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

from app.auth.access import refuse_object, refuse_role, roles_required
from app.calls import bp, drafts
from app.calls.answers import to_intake
from app.calls.forms import IntakeForm
from app.calls.intake import IntakeError, IntakeKeyTaken, LinkRefused, find_saved, save_intake
from app.calls.kept_copies import KeptCopy, kept_copy
from app.calls.models import Call
from app.calls.repeat import repeat_caller_panel
from app.calls.services import contact_flags
from app.cases.models import Case
from app.cases.recipients import recipient_choices
from app.cases.scope import case_scope
from app.cases.services import CaseError, audit_case
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
        return None
    drafts.discard_draft(user=current_user, intake_key=intake_key)
    return _after_save(saved)


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
    )
    fill_place_choices(form)
    if request.method == "POST" and not own_page(form.owner.data):
        # Another account's page, left open when its session ended: not saved under this
        # one. That person's call is in their own unsaved intakes (the autosaved draft).
        flash(
            _(
                "That page was opened under another account, whose session had ended. Nothing "
                "was saved under yours, and the page was cleared: that person finds the call "
                "among their unsaved intakes when they sign in again."
            ),
            "error",
        )
        return redirect(url_for("calls.new"))
    join_refused = False  # survivor details typed on a call joining a case: kept in sight
    status = 200  # the page again, everything typed kept
    valid = request.method == "POST" and form.validate()
    intake = to_intake(form, request.form) if valid else None
    check = drafts.SaveCheck()
    if intake is not None:
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
        intake = None
    refusal = copy.refusal() if intake is not None and copy is not None else None
    if intake is not None and copy is None and check.line_call is not None:
        # The intake a copy kept apart came from, saved after that copy was (its page left
        # open as it was discarded): the same call, logged twice (app/calls/kept_copies.py).
        copy = KeptCopy(None, None, False, line_call=check.line_call, origin=True)
        refusal = copy.refusal()
    if refusal:  # a copy kept apart: saving it would log the call twice
        flash(refusal, "error")
        intake, status = None, 409
    elif intake is not None and copy is not None:
        intake.intake_group = copy.group  # its line's: no other copy of it saved after
    if intake is not None and intake.drops_case_details():
        # A reason that opens no case (changed by a stray key, say) would drop what was typed
        # about the survivor and the case: said, with everything kept, never dropped unsaid.
        form.reason.errors.append(
            _(
                "This reason opens no case, so what was typed about the survivor and the case "
                "would not be saved. Choose 'Violence report' (or give the case number of a "
                "follow-up), or clear those details."
            )
        )
    elif intake is not None and intake.drops_survivor_details():
        join_refused = True
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
    elif intake is not None:
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
            return redirect(url_for("calls.new"))
        except (IntakeError, CaseError) as error:
            flash(str(error), "error")
            if isinstance(error, LinkRefused):
                status = 404  # a case not this person's to add to: refused, audited
        else:
            return _after_save(saved)
    linked = _linked_case(form.case_id.data)
    if linked is not None and linked.erased_at is None:
        # The case's safe-contact instructions and flags are on the page (a follow-up call may
        # be a call back): a look at the case, audited as the case page's is.
        audit_case("view", linked, current_user, detail="safe contact on a new call")
        db.session.commit()
    form.consent_recipient.choices = recipient_choices(
        current_user.organisation_id, chosen=form.consent_recipient.data
    )
    if revision is None:
        revision = drafts.revision_of(user=current_user, intake_key=as_uuid(form.intake_key.data))
    return render_template(
        "calls/new.html",
        form=form,
        draft_revision=revision,
        kept=copy,
        kept_refused=bool(refusal),
        notice=saved_notice() if request.method == "GET" else None,
        linked=linked,
        join_refused=join_refused,
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
        # Who chose the caller, the page (for a call where no one said) or the operator.
        caller_set=_caller_set(typed),
    ), status


CALLER_SET = ("page", "operator")


def _caller_set(typed) -> str:
    """Who set "Who is calling", as the page (or its draft) said: "page", "operator" or ""."""
    said = _one(typed.get("caller_set"))
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


def _after_save(saved):
    """Where the operator goes next: the case, or a fresh intake for the next call. That page
    says what was saved (saved_notice), told by the call's id in its address: the save is the
    request's only write, with no session row written after its commit."""
    marks = {"saved": str(saved.call_id)}
    if not saved.created:
        marks["again"] = "1"
    if saved.case_id is not None:
        return redirect(url_for("cases.show", case_id=saved.case_id, **marks))
    return redirect(url_for("calls.new", **marks))


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
