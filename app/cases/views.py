"""The case page and the work done on it: timeline, notes and tasks (the parts added after the
intake are in part_views.py, edits with optimistic locking in edit_views.py, status changes in
status_views.py, drafts of its forms in draft_views.py).
Every look and every change is written to the audit log; a case the user may not see is
answered 404 and audited."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app import audit
from app.auth.access import refuse_object, roles_required
from app.auth.models import User
from app.calls.corrections import NAMES as CALL_FIELDS
from app.calls.forms import CallCorrectionForm
from app.calls.services import contact_flags
from app.calls.views import saved_notice
from app.cases import bp, casework, corrections, draft_copies, drafts, services
from app.cases.forms import (
    CaseEditForm,
    ChildIncidentForm,
    NoteForm,
    PerpetratorForm,
    TaskForm,
)
from app.cases.models import Case, FormSubmission
from app.cases.queries import unable_to_work
from app.cases.scope import case_scope
from app.cases.services import TRANSITIONS, CaseError
from app.cases.timeline import shown_parts, timeline
from app.clock import utcnow
from app.extensions import db
from app.form_fields import as_uuid, local_text
from app.places.models import Place

CASE_ROLES = ("operator", "case_manager", "supervisor")


def load_case(case_id: uuid.UUID) -> Case:
    """The case if the current user may see it; otherwise the attempt is audited and 404."""
    stmt = case_scope(current_user)(select(Case).where(Case.id == case_id))
    case = db.session.execute(stmt).scalar_one_or_none()
    if case is None:
        refuse_object("case", case_id)
    return case


def moves_open(case: Case) -> list[str]:
    """The statuses this user may move the case to now."""
    return [
        to for to, roles in TRANSITIONS.get(case.status, {}).items() if current_user.role in roles
    ]


# What an edit's timeline entry names for each detail it changed (the edit page's labels,
# the safe-contact box's without its question).
EDIT_LABELS = {
    name: getattr(CaseEditForm, name).args[0]
    for name in services.EDITABLE
    if hasattr(CaseEditForm, name)
} | {"safe_contact": _l("Safe contact")}
# What a correction's timeline entry names for each field of the part it changed.
CORRECTION_LABELS = {
    name: getattr(form, field_name).args[0]
    for form, names in (
        (ChildIncidentForm, corrections.INCIDENT_FIELDS),
        (PerpetratorForm, corrections.PERPETRATOR_FIELDS),
        (CallCorrectionForm, {name: name for name in CALL_FIELDS}),
    )
    for name, field_name in names.items()
}


def _moves_offered(case: Case) -> list[str]:
    """The moves offered on the case page: those open, but approving a closure this user asked
    for (another supervisor approves it; the status page refuses it, audited)."""
    moves = moves_open(case)
    if "closed" in moves and services.closure_requester(case) == current_user.id:
        moves.remove("closed")
    return moves


def _people(case: Case) -> dict[int, User]:
    """Staff named on the page (authors, assessors), by id, in one query."""
    ids = {case.opened_by_id, case.assigned_to_id}
    ids |= {c.taken_by_id for c in case.calls} | {n.author_id for n in case.notes}
    ids |= {e.by_id for e in case.events} | {r.assessed_by_id for r in case.assessments}
    ids |= {i.recorded_by_id for i in case.incidents} | {
        p.recorded_by_id for p in case.perpetrators
    }
    ids |= {c.recorded_by_id for c in case.consents}
    ids |= {t.done_by_id for t in case.tasks}
    # Each case manager the case was assigned to, not only the one holding it now.
    ids |= {int(e.to_value) for e in case.events if e.kind == "assign" and e.to_value}
    ids.discard(None)
    rows = db.session.execute(select(User).where(User.id.in_(ids))).scalars() if ids else []
    return {u.id: u for u in rows}


@bp.route("/<uuid:case_id>")
@roles_required(*CASE_ROLES)
def show(case_id: uuid.UUID):
    """One case with its timeline; writes one 'view' entry saying what was shown."""
    return case_page(load_case(case_id))


def case_page(
    case: Case,
    *,
    note_form=None,
    task_form=None,
    status: int = 200,
    posted: str | None = None,
    note_page=None,
):
    """The case page, audited as a look at what it shows; a note or task form that was refused
    is shown again with everything typed and its errors; `note_page`: the note draft to offer
    back (else the one the address asks for, or the newest)."""
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
    restored = {}  # what was typed into the page's forms and not sent, offered back
    asked = drafts.page_asked(request.args.get("draft"))  # from the list of unsent text
    if note_form is None:
        note_form, restored["note"] = drafts.fill(
            NoteForm,
            case=case,
            user=current_user,
            name="note",
            page=note_page or asked,
            formdata=None,
        )
    if task_form is None:  # on a closed case, a task left unsent is shown to copy
        task_form, restored["task"] = drafts.fill(
            TaskForm, case=case, user=current_user, name="task", page=asked, formdata=None
        )
    page = render_template(
        "cases/show.html",
        case=case,
        entries=entries,
        people=_people(case),
        moves=_moves_offered(case),
        flags=contact_flags(case),
        note_form=_ids_prefixed(note_form, "note-"),
        task_form=_ids_prefixed(task_form or TaskForm(formdata=None), "task-"),
        place=place_names([case.province_code, case.commune_code]),
        notice=saved_notice(case) if status == 200 else None,
        restored=restored,
        posted=posted,
        assigning=_assignable(case),
        edit_labels=EDIT_LABELS,
        correction_labels=CORRECTION_LABELS,
        may_complete=casework.may_complete,
    )
    return page, status


def _assignable(case: Case):
    """For a supervisor on an active case: the organisation's active case managers to give it
    to (names only: their load is on the home page, where counting it for hundreds of them
    is paid once, not on every case page), and whether the person holding it can no longer
    work it; else None."""
    if current_user.role != "supervisor" or case.is_closed or case.erased_at is not None:
        return None
    managers = db.session.execute(
        select(User.id, User.full_name)
        .where(
            User.organisation_id == case.organisation_id,
            User.role == "case_manager",
            User.active.is_(True),
        )
        .order_by(User.full_name)
    ).all()
    holder = case.assigned_to_id
    if holder is not None:
        unable = unable_to_work(case.organisation_id).where(User.id == holder)
        if db.session.execute(unable).first() is not None:
            holder = None  # the form says so, and offers to choose someone else
    return {"managers": managers, "holder": holder}


def _ids_prefixed(form, prefix: str):
    """Two forms on one page: each field's id (and its label's) made the page's own, so the
    note's "Kind" label never points at the task's select (the names sent are unchanged)."""
    for f in form:
        if not f.id.startswith(prefix):
            f.id = prefix + f.id
            f.label.field_id = f.id
    return form


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


PART_WRITE_ATTEMPTS = 6  # four people writing to one case at once all got theirs in (3 did not)
CASE_BUSY = _l(
    "Others changed this case at the same moment, more than once, so this was not saved. "
    "Everything you typed is kept: send it again."
)


def saved_once(form, case: Case, write: Callable[[], object], draft: str) -> bool:
    """Run `write` (a casework function, which commits) with the form's key recorded, and the
    person's draft of the form deleted, in the same transaction; False, with nothing written,
    when that form had been saved before (a double click, a retry after a timeout, the back
    button), or a copy of it brought back by a reload (drafts.restore) had been, or the other
    way round."""
    page = as_uuid(form.form_key.data)
    key = drafts.sent_key(page, request.form)  # the page's key and the text sent
    copies = draft_copies.copy_sent(form, request.form)  # sent as from the pages copied

    def write_all():
        draft_copies.sent_from_sources(case=case, user=current_user, form=draft, copies=copies)
        return write()

    keys = (key, *draft_copies.sent_keys(copies))
    for attempt in range(PART_WRITE_ATTEMPTS):
        if attempt:
            # Someone else wrote to the case at the same instant (its version moved on between
            # our read and our write): adding a part takes nothing of theirs, so it is written
            # again on the case as it now is (reloaded after the rollback), if this person may
            # still see it (the other write may have given it to someone else).
            still_in_scope(case)
        try:
            return _keyed_write(keys, page, case, write_all, draft)
        except StaleDataError:
            continue
    # Overtaken at every try (several people writing to the case at once): the form again,
    # everything typed kept, never an error page.
    raise CaseError(CASE_BUSY)


def still_in_scope(case: Case) -> None:
    """After a write collided and was rolled back: the case, as it now is, must still be this
    person's to see (the other write may have given it to someone else); else refused (404,
    audited), before anything of it is shown."""
    still = case_scope(current_user)(select(Case.id).where(Case.id == case.id))
    if db.session.execute(still).first() is None:
        refuse_object("case", case.id)


def _keyed_write(
    keys: tuple,  # the page's own key of the text sent, then those as from the pages copied
    page: uuid.UUID | None,
    case: Case,
    write: Callable[[], object],
    draft: str,
) -> bool:
    def sent_before() -> bool:
        return any(k is not None and db.session.get(FormSubmission, k) for k in keys)

    if len(keys) > 1 and sent_before():
        # The page this text was copied from sent it already (or this copy was): saved once.
        drafts.drop(case=case, user=current_user, form=draft, page=page)
        db.session.commit()
        return False
    if keys[0] is not None:
        db.session.add(FormSubmission(key=keys[0], user_id=current_user.id, case_id=case.id))
    try:
        drafts.drop(case=case, user=current_user, form=draft, page=page)
        write()
    except IntegrityError:
        db.session.rollback()
        if not sent_before():
            raise
        # Saved before: a draft of it left by a late autosave goes now.
        drafts.drop(case=case, user=current_user, form=draft, page=page)
        db.session.commit()
        return False
    except BaseException:
        # Refused (a closed case, a rule) or overtaken: nothing of it stays, the key stays free
        # for the corrected form, and no row it locked stays locked while the page is made.
        db.session.rollback()
        raise
    return True


def added_once(form, case: Case, write: Callable[[], object], said: str, *, draft: str):
    """Save a case-page form once (saved_once; `draft` names the form's draft, deleted with
    the save) and go back to the case saying what happened; a CaseError from `write` is left
    to the view, which knows what to show again."""
    if not saved_once(form, case, write, draft):
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
        return case_page(case, note_form=form, status=422, posted="note")
    try:
        return added_once(
            form,
            case,
            lambda: casework.add_note(
                case=case, by=current_user, body=form.body.data, kind=form.kind.data
            ),
            _("Note added."),
            draft="note",
        )
    except CaseError as error:
        # Closed while it was being written: the page again, the note's text kept to copy.
        flash(str(error), "error")
        return case_page(load_case(case_id), note_form=form, status=409, posted="note")


def _task_added(due: datetime) -> str:
    """The word on a task added; one due over a day ago (a slip of the year, "01/01/2020") is
    said to be overdue already, not added without a word."""
    if due < utcnow() - timedelta(days=1):
        return _(
            "Task added. Its due time, %(time)s, is past: it is overdue already. If the date "
            "was mistyped, add the task again with the right one and mark this one done.",
            time=local_text(due),
        )
    return _("Task added.")


@bp.route("/<uuid:case_id>/tasks", methods=["POST"])
@roles_required(*CASE_ROLES)
def add_task(case_id: uuid.UUID):
    """Plan a task on the case."""
    case = load_case(case_id)
    form = TaskForm()
    if not form.validate():
        flash(_("Please check the fields marked below; everything you typed is kept."), "error")
        return case_page(case, task_form=form, status=422, posted="task")
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
            _task_added(form.due_at.data),
            draft="task",
        )
    except CaseError as error:
        # Closed while it was being planned: the page again, what was typed kept to copy.
        flash(str(error), "error")
        return case_page(load_case(case_id), task_form=form, status=409, posted="task")
