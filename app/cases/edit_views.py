"""Editing the survivor's details, with optimistic locking: a save made from an older version
shows both versions side by side (the conflict screen) instead of overwriting."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from flask import abort, flash, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from app import classifications as c
from app.auth.access import roles_required
from app.cases import bp, draft_copies, drafts, edits, merge, services
from app.cases.ages import age_problem, birth_date_problem, day_told
from app.cases.edits import EditConflict
from app.cases.forms import CaseEditForm
from app.cases.models import Case, FormSubmission
from app.cases.queue_views import code_label
from app.cases.services import CaseError
from app.cases.views import (
    CASE_ROLES,
    back_to_case,
    load_case,
    place_names,
    refused_back_to_case,
    still_in_scope,
)
from app.extensions import db
from app.places.form_choices import fill_place_choices


def _picked(formdata: MultiDict) -> MultiDict:
    """The form as submitted, with the conflict screen's choices applied: where the editor kept
    the other person's value (`pick-NAME` = theirs), that value, sent beside the editor's own as
    `theirs-NAME`, is the one taken."""
    picked = formdata.copy()
    for name in services.EDITABLE:
        if formdata.get(f"pick-{name}") == "theirs":
            picked.setlist(name, formdata.getlist(f"theirs-{name}"))
        elif formdata.get(f"pick-{name}") == "both" and name in merge.LISTS:
            mine, theirs = formdata.getlist(name), formdata.getlist(f"theirs-{name}")
            picked.setlist(name, merge.together(mine, theirs))
    return picked


def _changes(form: CaseEditForm, case: Case) -> dict | None:
    """The submitted values as the service stores them; None when the date is unreadable."""
    changes = {name: form[name].data for name in services.EDITABLE if name in form}
    typed = (form.survivor_birth_date.data or "").strip()
    if typed:
        try:
            born = datetime.strptime(typed, "%d/%m/%Y").date()
        except ValueError:
            form.survivor_birth_date.errors = [
                _("Write the date as dd/mm/yyyy, for example 05/03/2026.")
            ]
            return None
        problem = birth_date_problem(born, day_told(case))  # as the intake does
        if problem:
            form.survivor_birth_date.errors = [str(problem)]
            return None
        changes["survivor_birth_date"] = born.isoformat()
        # An age beside it agrees with it, as at intake: a different one would decide the
        # child-protection path against the date (a child's 12 hours ended by a slip).
        problem = age_problem(form.survivor_age.data, born, day_told(case))
        if problem:
            form.survivor_age.errors = [str(problem)]
            return None
    else:  # blank, or spaces only
        changes["survivor_birth_date"] = None
    age = form.survivor_age.data
    changes["survivor_age"] = str(age) if age is not None else None
    changes["services_wanted"] = " ".join(form.services_wanted.data or [])
    return changes


@bp.route("/<uuid:case_id>/edit", methods=["GET", "POST"])
@roles_required(*CASE_ROLES)
def edit(case_id: uuid.UUID):
    """Edit the survivor's details; a save made from an older version shows both versions."""
    case = load_case(case_id)
    try:
        services.refuse_if_closed(case)
    except CaseError as error:
        if request.method == "GET":
            return refused_back_to_case(case, error)
        # Closed while this was being typed: the form comes back with every change in it, to
        # copy, and nothing is saved.
        flash(str(error), "error")
        form = CaseEditForm(formdata=_picked(request.form))
        fill_place_choices(form)
        return render_template("cases/edit.html", case=case, form=form), 409
    restored = None
    if request.method == "GET":
        stored = edits.snapshot(case)
        # What the editor typed and did not send comes back, with the version and start it was
        # typed from: if the case changed since, saving it shows the conflict screen.
        form, restored = drafts.fill(
            CaseEditForm,
            case=case,
            user=current_user,
            name="edit",
            page=drafts.page_asked(request.args.get("draft")),
            data={
                **edits.form_values(stored),
                "version": case.version,
                "base": merge.fingerprints(case.id, stored),
            },
        )
        # The form shows the survivor's details, opened for it: a look at the case.
        services.audit_case("view", case, current_user, detail="edit form")
        db.session.commit()
    else:
        said = _unanswered(request.form)
        if said is not None and request.form.get("version") == str(case.version):
            form = CaseEditForm(formdata=request.form)  # the editor's values, no choice applied
            fill_place_choices(form)
            if not form.validate() or (mine := _changes(form, case)) is None:
                abort(400)  # the screen's own values, checked when it was made: not this page's
            return _ask_again(case, form, mine, said)
        # A row left without a choice in a post from an older version: the save below meets the
        # newer version and the screen comes back, that row still compared as changed by both.
        form = CaseEditForm(formdata=_picked(request.form))
    fill_place_choices(form)
    if request.method == "POST" and form.validate():
        changes = _changes(form, case)
        if changes is not None:
            typed = form.version.data
            if not (typed.isascii() and typed.isdigit() and len(typed) <= 18):
                abort(400)  # the hidden field altered: not this page's
            page = drafts.page_asked(form.form_key.data)
            sent = drafts.sent_key(page, request.form)
            if sent is not None and db.session.get(FormSubmission, sent) is not None:
                # This page's text saved already (a double click, a retry after an answer
                # lost): sent again, it changes nothing, even where a colleague has put a field
                # back since as the first sending found it (the version check alone would let
                # it through). Said as the first sending's answer was.
                return back_to_case(case, _("Changes saved."))
            try:
                changed = edits.update_case(
                    case=case,
                    by=current_user,
                    expected_version=int(form.version.data),
                    changes=changes,
                    page=page,
                    sent=sent,
                    copies=draft_copies.copy_sent(form, request.form),
                    base=merge.read_base(form.base.data),
                )
            except EditConflict as conflict:
                if sent is not None and db.session.get(FormSubmission, sent) is not None:
                    # This page sent again as it was (a double click): the first send saved
                    # it, and moved the version the second one carries.
                    return back_to_case(case, _("Changes saved."))
                screen = _conflict(case, form, changes, conflict)
                _keep_sent(case, form, page)
                return screen
            except CaseError as error:
                flash(str(error), "error")
            else:
                return back_to_case(
                    case, _("Changes saved.") if changed else _("Nothing was changed.")
                )
    return render_template("cases/edit.html", case=case, form=form, restored=restored)


def _keep_sent(case: Case, form: CaseEditForm, page: uuid.UUID | None) -> None:
    """What the page sent into the conflict screen, kept as its draft: the page's autosave
    stops as it sends, so what was typed in its last seconds would be lost once the screen is
    left; the form opened again brings it all back (and meets the screen again if saved)."""
    if page is None:
        return
    sent = _picked(request.form)
    fields = {
        name: values[0] if len(values) == 1 else values
        for name, values in sent.lists()
        if name in form._fields and name != "csrf_token"
    }
    try:
        drafts.keep(case=case, user=current_user, form="edit", page=page, fields=fields)
    except drafts.DraftError:  # the case closed meanwhile, or more than a draft holds
        db.session.rollback()


def _unanswered(formdata: MultiDict) -> dict[str, tuple[str, str]] | None:
    """The conflict screen sent back with a row left without a choice (a field both people
    changed is not chosen for the editor): each row's who and choice as sent, to show the screen
    again; None when every row has its choice, or the post is not from the screen."""
    rows = {
        name: (formdata.get(f"who-{name}", ""), formdata.get(f"pick-{name}", ""))
        for name in services.EDITABLE
        if f"who-{name}" in formdata
    }
    if all(pick in merge.picks(name) for name, (_, pick) in rows.items()):
        return None
    return rows


def _ask_again(case: Case, form: CaseEditForm, mine: dict, said: dict[str, tuple[str, str]]):
    """The conflict screen again, as it was (the editor's values, the choices made), asking for
    the missing ones. Their version is the one it showed: the case has not moved since."""
    conflict = EditConflict(theirs=edits.snapshot(case), version=case.version)
    return _conflict(case, form, mine, conflict, said=said)


def _conflict(
    case: Case,
    form: CaseEditForm,
    mine: dict,
    conflict: EditConflict,
    said: dict[str, tuple[str, str]] | None = None,
):
    """Someone saved first: show their version and this editor's, field by field, each marked
    with who changed it since the editor's start; the value to keep is preselected (theirs where
    only they changed the field, the editor's where only the editor did) and can be switched; a
    field both changed waits for the editor's choice. `said`: the screen sent back without every
    choice, its rows' who and choice as they were."""
    db.session.rollback()
    still_in_scope(case)  # the other save may have handed the case to someone else
    # The other editor's saved values are shown: a look at the case.
    services.audit_case("view", case, current_user, detail="edit conflict")
    db.session.commit()
    theirs = conflict.theirs
    base = merge.read_base(form.base.data)
    places = place_names(
        v.get(n) for v in (theirs, mine) for n in ("province_code", "commune_code")
    )
    theirs_typed = edits.form_values(theirs)
    decided = merge.decide(case.id, base, mine, theirs, said)
    rows = [
        ConflictRow(
            name=name,
            label=form[name].label.text,
            theirs=_as_shown(name, theirs.get(name), places),
            mine=_as_shown(name, mine.get(name), places),
            who=who,
            keep=keep,
            theirs_typed=_as_typed(theirs_typed.get(name)),
            both=_as_shown(name, merge.both_lists(name, mine.get(name), theirs.get(name)), places),
        )
        for name, (who, keep) in decided.items()
    ]
    form.version.data = str(conflict.version)
    form.base.data = merge.next_base(case.id, theirs, base, decided)
    return (
        render_template(
            "cases/conflict.html", case=case, form=form, rows=rows, unanswered=said is not None
        ),
        409,
    )


@dataclass(frozen=True)
class ConflictRow:
    """One field that differs on the conflict screen."""

    name: str
    label: str
    theirs: str | None  # as a person reads it
    mine: str | None
    who: str  # "theirs", "mine" or "both": who changed it since the editor's start
    keep: str  # the side marked to be saved ("" until the editor chooses)
    theirs_typed: list[str]  # their value as the form takes it back
    both: str | None = None  # a list: both lists together, as read, when that is a third choice


def _as_typed(value) -> list[str]:
    """A form value as the strings a browser would send for it (none for no choice made)."""
    if isinstance(value, list):
        return [str(v) for v in value]
    return [""] if value is None else [str(value)]


SHOWN_BY_LABEL = {"survivor_sex": "sex", "disability": "disability", "ethnicity": "ethnicity"}


def _as_shown(name: str, value: str | None, places: dict[str, str]) -> str | None:
    """A stored value of the edit form as a person reads it: labels for codes, place names,
    dd/mm/yyyy for a date."""
    if not value:
        return None
    if name in SHOWN_BY_LABEL:
        return code_label(value, SHOWN_BY_LABEL[name])
    if name == "services_wanted":
        return ", ".join(code_label(code, "service") for code in c.codes(value))
    if name in ("province_code", "commune_code"):
        return places.get(value, value)
    if name == "survivor_birth_date":
        return date.fromisoformat(value).strftime("%d/%m/%Y")
    return value
