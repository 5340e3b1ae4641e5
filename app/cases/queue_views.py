"""The work queues' full task lists, page by page; acting from the queues: mark a task done,
assign a case; and how lists show times."""

from __future__ import annotations

import re
import uuid
from datetime import datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from app.auditlog.people import changed_accounts
from app.auth.access import HOME_ENDPOINTS, refuse_object, refuse_role, roles_required
from app.auth.models import User
from app.cases import bp, drafts, queries
from app.cases.casework import complete_task, may_complete
from app.cases.models import Case, Task
from app.cases.scope import case_scope
from app.cases.search import Page
from app.cases.services import CaseError, assign_case, audit_case, refuse_if_closed
from app.classifications import ALL_LISTS, CLOSING_DUTIES
from app.clock import utcnow
from app.extensions import db
from app.form_fields import as_row_id, local_text

CASE_ROLES = ("operator", "case_manager", "supervisor")
TASK_PAGE_SIZE = 50
# The task lists of the home pages, each in full: who may open it, and how it is read.
TASK_LISTS = {
    "mine": (CASE_ROLES, lambda user, now, **page: queries.due_tasks(user, **page)),
    "overdue": (
        ("supervisor",),
        lambda user, now, **page: queries.overdue_tasks(user, now=now, **page),
    ),
    "child": (("supervisor",), lambda user, now, **page: queries.child_deadlines(user, **page)),
}


def _back(case: Case | None = None) -> str:
    """Back to the page the form was on: the case page or a page of a task list when it says
    so ("case", "tasks:<list>:<page>"), else the home page."""
    back = request.form.get("back", "")
    if case is not None and back == "case":
        return url_for("cases.show", case_id=case.id)
    parts = back.split(":")
    if len(parts) == 3 and parts[0] == "tasks" and parts[1] in TASK_LISTS and parts[2].isdecimal():
        return url_for("cases.task_list", list=parts[1], page=int(parts[2][:6]))
    return url_for(HOME_ENDPOINTS[current_user.role])


@bp.route("/tasks")
@roles_required(*CASE_ROLES)
def task_list():
    """One of the home pages' task lists in full, 50 tasks a page: the user's tasks due, and
    for supervisors the organisation's overdue tasks and child cases' 12-hour deadlines. Codes,
    dates and names only, as on the home pages: nothing sealed is read."""
    name = request.args.get("list", "mine")
    if name not in TASK_LISTS:
        abort(404)
    roles, read = TASK_LISTS[name]
    if not current_user.has_role(*roles):
        refuse_role()
    now = utcnow()
    number = max(1, min(request.args.get("page", 1, type=int), 100_000))
    queue = read(current_user, now, limit=TASK_PAGE_SIZE, offset=(number - 1) * TASK_PAGE_SIZE)
    page = Page(queue.rows, queue.total, number, TASK_PAGE_SIZE)
    if not page.rows and number > page.pages:  # done meanwhile: the list is shorter now
        return redirect(url_for("cases.task_list", list=name, page=page.pages))
    managers = queries.workload(current_user, now=now) if name != "mine" else None
    stranded = queries.stranded_holders(current_user.organisation_id) if managers else []
    return render_template(
        "cases/tasks.html",
        name=name,
        page=page,
        flags=queue.flags,
        now=now,
        managers=managers,
        stranded=stranded,
        back=f"tasks:{name}:{page.number}",
    )


def _refuse_unless_theirs(task: Task) -> None:
    """403, audited, for a task this person may see but not tick off (a colleague's)."""
    if not may_complete(task, current_user):
        audit_case("denied", task.case, current_user, detail=f"task:{task.id}; not theirs")
        db.session.commit()
        abort(403)


@bp.route("/tasks/<uuid:task_id>/done", methods=["POST"])
@roles_required(*CASE_ROLES)
def task_done(task_id: uuid.UUID):
    """Mark a task done, by someone who may see its case (anyone else gets 404) and whose task
    it is to do (an operator another's: 403); both refusals audited. A duty of law is marked
    done with a note of what was done (`note`); a note typed and not saved is kept."""
    note = request.form.get("note", "")
    stmt = case_scope(current_user)(
        select(Task).join(Case, Case.id == Task.case_id).where(Task.id == task_id)
    )
    task = db.session.execute(stmt).scalar_one_or_none()
    if task is None:
        refuse_object("task", task_id)
    _refuse_unless_theirs(task)
    for attempt in (1, 2):
        try:
            done = complete_task(task=task, by=current_user, note=note)
            break
        except CaseError as error:
            db.session.rollback()
            flash(str(error), "error")
            # Nothing typed for a duty: back to the same page, the keyboard on its box and
            # the message beside it too (the page opens scrolled to the box, below the top's).
            kept = _note_kept(task, note)
            if kept is None and (box := _box(task)):
                flash(str(error), "field:" + box[1:])
            return redirect(kept or _back(task.case) + _box(task))
        except StaleDataError:  # the case changed at the same instant (closed, say)
            db.session.rollback()  # read again as it now is: a closed case refuses
            task = db.session.execute(stmt).scalar_one_or_none()
            if task is None:  # that change handed the case to someone else
                refuse_object("task", task_id)
            _refuse_unless_theirs(task)  # the case assigned meanwhile: its tasks went along
            if attempt == 2:
                flash(_("The case changed meanwhile; nothing was changed. Try again."), "error")
                return redirect(_note_kept(task, note) or _back(task.case))
    if not done and task.ended_by is not None:  # ended meanwhile, by no one's hand
        flash(_("This task had already ended; nothing was changed."), "info")
    elif not done and task.done_by_id != current_user.id:  # a colleague did it first
        flash(
            _(
                "%(name)s had already marked this task done, at %(time)s; nothing was changed.",
                name=_done_by(task),
                time=local_text(task.done_at),
            ),
            "info",
        )
    elif not done and note.strip() and note.strip() != (task.done_note or "").strip():
        # Marked done by this person already, with another note (a second tab, a page sent
        # again after its note was changed): this one is not lost, but kept for the case.
        flash(
            _(
                "You had already marked this task done, at %(time)s; nothing was changed.",
                time=local_text(task.done_at),
            ),
            "info",
        )
    else:  # done now, or by this same click sent twice
        flash(_("Task marked done on case %(number)s.", number=task.case.number), "success")
        return redirect(_back(task.case))
    # Not done by this click: what they typed of it is kept (the case page's note box).
    return redirect(_note_kept(task, note) or _back(task.case))


def _box(task: Task) -> str:
    """The anchor of the duty's note box the form was sent from ("#done-note-<list>-<task>"):
    the page comes back with the keyboard on it (app.js)."""
    at = request.form.get("at", "")
    mark = re.fullmatch(r"done-note-([a-z-]{1,40})-([0-9a-f-]{36})", at)
    if task.kind not in CLOSING_DUTIES or mark is None or mark.group(2) != str(task.id):
        return ""
    return f"#{at}"


def _note_kept(task: Task, note: str) -> str | None:
    """A note typed to mark the task done and not saved (too long, the case closed or changed
    meanwhile) is kept as the person's note draft on the case, whose page, where it comes back
    in the note box, is given to go to; None when nothing was typed (or the case is erased:
    its key is gone)."""
    note = note.strip()
    if not note or task.case.erased_at is not None:
        return None
    drafts.keep_reason_as_note(case=task.case, user=current_user, page=uuid.uuid4(), reason=note)
    flash(_("The note you typed was not saved with the task: it is in the note box below."), "info")
    return url_for("cases.show", case_id=task.case.id, _anchor="add-note")


def _done_by(task: Task) -> str:
    """The name of who marked the task done (a colleague's account since deleted: unnamed)."""
    user = db.session.get(User, task.done_by_id) if task.done_by_id else None
    return user.full_name if user is not None else _("A colleague")


@bp.route("/<uuid:case_id>/assign", methods=["POST"])
@roles_required("supervisor")
def assign(case_id: uuid.UUID):
    """Give a case of the organisation to one of its case managers (or hand it to another)."""
    case = db.session.execute(
        case_scope(current_user)(select(Case).where(Case.id == case_id))
    ).scalar_one_or_none()
    if case is None:
        refuse_object("case", case_id)
    asked = (request.form.get("assignee") or "").strip()
    to = db.session.get(User, as_row_id(asked) or 0) if asked else None
    if to is None or to.organisation_id != case.organisation_id:
        staff_once = to is not None and to.id in changed_accounts(case.organisation_id)
        if asked and not staff_once:  # never offered by the page (another hotline's account,
            # or none): audited, answered alike, so whether an account is there is not told.
            # (One moved out since the page was drawn was offered: said as for a disabled one.)
            shown = as_row_id(asked)
            audit_case("denied", case, current_user, detail=f"assign user:{shown or '?'}")
            db.session.commit()
            abort(404)
        flash(_("Choose an active case manager of this organisation."), "error")
        return redirect(_back(case))
    try:
        refuse_if_closed(case)  # said as such, whoever held it when the page was drawn
    except CaseError as refused:
        flash(str(refused), "error")
        return redirect(_back(case))
    if "expected" in request.form and request.form["expected"] != str(case.assigned_to_id or ""):
        return _moved_meanwhile(case, to)  # a double click, or a colleague was quicker
    holder = case.assigned_to_id
    for attempt in range(1, ASSIGN_ATTEMPTS + 1):
        try:
            assign_case(case=case, to=to, by=current_user)
            break
        except CaseError as refused:
            db.session.rollback()
            flash(str(refused), "error")
            return redirect(_back(case))
        except StaleDataError:  # written by someone else at the same instant
            db.session.rollback()  # the case is read again as it now is
            if case.assigned_to_id != holder:
                return _moved_meanwhile(case, to)
            if attempt == ASSIGN_ATTEMPTS:  # still with the same person: never said otherwise
                flash(
                    _(
                        "Others changed case %(number)s at the same moment, more than once, so "
                        "it was not handed over: choose again.",
                        number=case.number,
                    ),
                    "error",
                )
                return redirect(_back(case))
            # Still with the same person: the other write was a note or a task, so the case is
            # assigned again as it now is (a task added meanwhile goes with it).
    flash(
        _("Case %(number)s is now assigned to %(name)s.", number=case.number, name=to.full_name),
        "success",
    )
    return redirect(_back(case))


# Tries of a hand-over met by other writes to the case (notes, tasks) at the same instant: as
# many as a part's (app/cases/views.py), so a few people writing at once never stop it.
ASSIGN_ATTEMPTS = 6


def _moved_meanwhile(case: Case, to: User):
    """The case was no longer with whom the page showed: nothing is changed; say where it is."""
    if case.assigned_to_id == to.id:
        flash(
            _(
                "Case %(number)s is now assigned to %(name)s.",
                number=case.number,
                name=to.full_name,
            ),
            "success",
        )
    elif case.assigned_to_id is None:
        flash(
            _(
                "Case %(number)s changed meanwhile; nothing was changed. Check the list, then "
                "choose again.",
                number=case.number,
            ),
            "error",
        )
    else:
        flash(
            _(
                "Case %(number)s was assigned to %(name)s meanwhile; nothing was changed. "
                "Choose again if it should go to someone else.",
                number=case.number,
                name=db.session.get(User, case.assigned_to_id).full_name,
            ),
            "error",
        )
    return redirect(_back(case))


@bp.app_template_filter("due_in")
def due_in(due_at: datetime | None, now: datetime | None = None) -> str:
    """How far a due time is: "in 3 h", "2 h overdue", "in 4 days", "due now"."""
    if due_at is None:
        return ""
    seconds = (due_at - (now or utcnow())).total_seconds()
    minutes = int(abs(seconds) // 60)
    if minutes < 1:
        return _("due now")
    late = seconds < 0
    if minutes < 60:
        return _("%(n)d min overdue", n=minutes) if late else _("in %(n)d min", n=minutes)
    hours = minutes // 60
    if hours < 48:
        return _("%(n)d h overdue", n=hours) if late else _("in %(n)d h", n=hours)
    days = hours // 24
    return _("%(n)d days overdue", n=days) if late else _("in %(n)d days", n=days)


@bp.app_template_filter("call_length")
def call_length(started_at: datetime | None, ended_at: datetime | None) -> str:
    """A call's length as m:ss (h:mm:ss past an hour); empty while the end is not recorded."""
    if started_at is None or ended_at is None or ended_at < started_at:
        return ""
    total = int((ended_at - started_at).total_seconds())
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


@bp.app_template_filter("code_label")
def code_label(code: str | None, list_name: str) -> str:
    """The label of a stored code in the user's language (app.classifications lists)."""
    if not code:
        return ""
    return str(ALL_LISTS[list_name].get(code, code))
