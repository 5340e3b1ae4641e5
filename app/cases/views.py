"""The case page and the work done on it: timeline, notes, tasks and status changes (the parts
added after the intake are in part_views.py, edits with optimistic locking in edit_views.py).
Every look and every change is written to the audit log; a case the user may not see is
answered 404 and audited."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app import audit
from app import classifications as c
from app.auth.access import refuse_object, roles_required
from app.auth.models import User
from app.calls.forms import (
    as_uuid,
)
from app.calls.models import Call
from app.calls.views import saved_notice
from app.cases import bp, casework, services
from app.cases.forms import (
    NoteForm,
    StatusForm,
    TaskForm,
)
from app.cases.models import Case, FormSubmission
from app.cases.queries import case_scope
from app.cases.services import TRANSITIONS, CaseError
from app.cases.timeline import shown_parts, timeline
from app.extensions import db
from app.places.models import Place

CASE_ROLES = ("operator", "case_manager", "supervisor")


def load_case(case_id: uuid.UUID) -> Case:
    """The case if the current user may see it; otherwise the attempt is audited and 404."""
    stmt = case_scope(current_user)(select(Case).where(Case.id == case_id))
    case = db.session.execute(stmt).scalar_one_or_none()
    if case is None:
        refuse_object("case", case_id)
    return case


def _moves(case: Case) -> list[str]:
    """The statuses this user may move the case to now."""
    return [
        to for to, roles in TRANSITIONS.get(case.status, {}).items() if current_user.role in roles
    ]


def _role_could(to: str) -> bool:
    """Whether this user's role may make a move to that status from some status: a move a
    colleague's change closed off, not one this person could never make (refused, audited)."""
    return any(current_user.role in moves.get(to, ()) for moves in TRANSITIONS.values())


def _people(case: Case) -> dict[int, User]:
    """Staff named on the page (authors, assessors), by id, in one query."""
    ids = {case.opened_by_id, case.assigned_to_id}
    ids |= {c.taken_by_id for c in case.calls} | {n.author_id for n in case.notes}
    ids |= {e.by_id for e in case.events} | {r.assessed_by_id for r in case.assessments}
    # Each case manager the case was assigned to, not only the one holding it now.
    ids |= {int(e.to_value) for e in case.events if e.kind == "assign" and e.to_value}
    ids.discard(None)
    rows = db.session.execute(select(User).where(User.id.in_(ids))).scalars() if ids else []
    return {u.id: u for u in rows}


@bp.route("/<uuid:case_id>")
@roles_required(*CASE_ROLES)
def show(case_id: uuid.UUID):
    """One case with its timeline; writes one 'view' entry saying what was shown."""
    return _case_page(load_case(case_id))


def _case_page(case: Case, *, note_form=None, task_form=None, status: int = 200):
    """The case page, audited as a look at what it shows; a note or task form that was refused
    is shown again with everything typed and its errors."""
    entries = [] if case.erased_at else timeline(case)
    audit.record(
        "view",
        user=current_user,
        object_type="case",
        object_id=case.id,
        case_id=case.id,
        organisation_id=case.organisation_id,
        detail=shown_parts(entries) or None,
    )
    db.session.commit()
    page = render_template(
        "cases/show.html",
        case=case,
        entries=entries,
        people=_people(case),
        moves=_moves(case),
        flags=_contact_flags(case),
        note_form=_ids_prefixed(note_form or NoteForm(formdata=None), "note-"),
        task_form=_ids_prefixed(task_form or TaskForm(formdata=None), "task-"),
        place=place_names([case.province_code, case.commune_code]),
        notice=saved_notice(case) if status == 200 else None,
    )
    return page, status


def _ids_prefixed(form, prefix: str):
    """Two forms on one page: each field's id (and its label's) made the page's own, so the
    note's "Kind" label never points at the task's select (the names sent are unchanged)."""
    for f in form:
        if not f.id.startswith(prefix):
            f.id = prefix + f.id
            f.label.field_id = f.id
    return form


def _contact_flags(case: Case) -> list[str]:
    """The flags to heed before contacting the survivor: those set on the case's calls (the
    perpetrator may answer, an abusive caller...) and a high or severe risk."""
    flags: dict[str, None] = {}
    for marks in db.session.execute(select(Call.flags).where(Call.case_id == case.id)).scalars():
        flags.update(dict.fromkeys(c.codes(marks)))
    if case.risk_level in ("high", "severe"):
        flags["high_risk"] = None
    return list(flags)


def place_names(codes) -> dict[str, str]:
    """The names of these place codes (empty ones left out)."""
    codes = {code for code in codes if code}
    if not codes:
        return {}
    rows = db.session.execute(select(Place.code, Place.name).where(Place.code.in_(codes)))
    return dict(rows.tuples().all())


def back_to_case(case: Case, message: str):
    flash(message, "success")
    return redirect(url_for("cases.show", case_id=case.id))


def saved_once(form, case: Case, write: Callable[[], object]) -> bool:
    """Run `write` (a casework function, which commits) with the form's key recorded in the
    same transaction; False, with nothing written, when that form had been saved before (a
    double click, a retry after a timeout, the back button)."""
    key = as_uuid(form.form_key.data)
    try:
        return _keyed_write(key, case, write)
    except StaleDataError:
        # Someone else wrote to the case at the same instant (its version moved on between our
        # read and our write): adding a part takes nothing of theirs, so it is written again,
        # once, on the case as it now is (reloaded after the rollback).
        return _keyed_write(key, case, write)


def _keyed_write(key: uuid.UUID | None, case: Case, write: Callable[[], object]) -> bool:
    if key is not None:
        db.session.add(FormSubmission(key=key, user_id=current_user.id, case_id=case.id))
    try:
        write()
    except IntegrityError:
        db.session.rollback()
        if key is None or db.session.get(FormSubmission, key) is None:
            raise
        return False
    except BaseException:
        # Refused (a closed case, a rule) or overtaken: nothing of it stays, the key stays free
        # for the corrected form, and no row it locked stays locked while the page is made.
        db.session.rollback()
        raise
    return True


def added_once(form, case: Case, write: Callable[[], object], said: str):
    """Save a case-page form once (saved_once) and go back to the case saying what happened;
    a CaseError from `write` is left to the view, which knows what to show again."""
    if not saved_once(form, case, write):
        said = _("This form had already been saved; nothing was saved twice.")
    return back_to_case(case, said)


def looked_at(case: Case, form: str) -> None:
    """A form page about the case opened: a look at the case, written to the audit log."""
    services.audit_case("view", case, current_user, detail=form)
    db.session.commit()


def refused_back_to_case(case: Case, error: Exception):
    flash(str(error), "error")
    return redirect(url_for("cases.show", case_id=case.id))


@bp.route("/<uuid:case_id>/notes", methods=["POST"])
@roles_required(*CASE_ROLES)
def add_note(case_id: uuid.UUID):
    """Write a note on the case."""
    case = load_case(case_id)
    form = NoteForm()
    if not form.validate():
        flash(_("Please check the fields marked below; everything you typed is kept."), "error")
        return _case_page(case, note_form=form, status=422)
    try:
        return added_once(
            form,
            case,
            lambda: casework.add_note(
                case=case, by=current_user, body=form.body.data, kind=form.kind.data
            ),
            _("Note added."),
        )
    except CaseError as error:
        # Closed while it was being written: the page again, the note's text kept to copy.
        flash(str(error), "error")
        return _case_page(load_case(case_id), note_form=form, status=409)


@bp.route("/<uuid:case_id>/tasks", methods=["POST"])
@roles_required(*CASE_ROLES)
def add_task(case_id: uuid.UUID):
    """Plan a task on the case."""
    case = load_case(case_id)
    form = TaskForm()
    if not form.validate():
        flash(_("Please check the fields marked below; everything you typed is kept."), "error")
        return _case_page(case, task_form=form, status=422)
    try:
        return added_once(
            form,
            case,
            lambda: casework.add_task(
                case=case,
                by=current_user,
                kind=form.kind.data,
                due=form.due_at.data,
                note=form.note.data,
            ),
            _("Task added."),
        )
    except CaseError as error:
        return refused_back_to_case(case, error)


@bp.route("/<uuid:case_id>/status", methods=["GET", "POST"])
@roles_required(*CASE_ROLES)
def change_status(case_id: uuid.UUID):
    """Move the case to another status (a reason is asked where one is needed)."""
    case = load_case(case_id)
    form = StatusForm()
    if request.method == "GET":
        form.to.data = request.args.get("to", "")
        form.version.data = str(case.version)
        if form.to.data in _moves(case):  # the page shows the case's open tasks: a look
            looked_at(case, "status form")
    if request.method == "POST" and form.to.data == case.status:
        # Sent twice (a double click, the back button): the first one made the change.
        return back_to_case(case, _("The case already has that status; nothing was changed."))
    moved_on = False  # the case changed under this page: never answered as a refusal
    stale = form.version.data and form.version.data != str(case.version)
    if request.method == "POST" and form.validate() and stale:
        # Changed since the page was made (a task added, a reassessment): what the move would
        # end is shown again as it is now, the reason kept, and nothing is changed yet.
        moved_on = True
        form.version.data = str(case.version)
        flash(
            _(
                "This case changed since the page was opened. It is shown as it is now, with "
                "its open tasks: check it, then confirm again."
            ),
            "error",
        )
    elif request.method == "POST" and form.validate():
        try:
            services.change_status(
                case=case, to=form.to.data, by=current_user, reason=form.reason.data
            )
        except CaseError as error:  # a rule said no (a reason missing, a move not allowed)
            flash(str(error), "error")
        except StaleDataError:
            # Changed by someone else at the same instant (a second click, a colleague).
            db.session.rollback()
            if case.status == form.to.data:  # reloaded: theirs was the same change
                return back_to_case(
                    case, _("The case already has that status; nothing was changed.")
                )
            moved_on = True
            form.version.data = str(case.version)
            flash(
                _(
                    "Someone else changed this case at the same moment. Its status is shown "
                    "as it is now: check it, then try again."
                ),
                "error",
            )
        else:
            return back_to_case(case, _("Status changed."))
    if form.to.data not in _moves(case) and moved_on and _role_could(form.to.data):
        # The move is no longer open (a colleague approved or returned the case meanwhile):
        # the case page shows where it stands, with the message said above.
        return redirect(url_for("cases.show", case_id=case.id))
    if form.to.data not in _moves(case):
        # A move this person may not make on this case (or no such status): refused, audited.
        db.session.rollback()
        services.audit_case("denied", case, current_user, detail="status change")
        db.session.commit()
        abort(404)
    needs_reason = (case.status, form.to.data) in services.NEEDS_REASON
    return render_template("cases/status.html", case=case, form=form, needs_reason=needs_reason)
