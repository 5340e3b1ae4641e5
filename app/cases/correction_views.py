"""Correcting an incident or a person who used violence (app/cases/corrections.py): the part's
form filled with its values, kept as a draft while typed, saved once however often it is sent,
refused on a closed case. A colleague's correction made after the page was drawn is kept beside
this person's when they changed other fields; when both changed a field, the page comes back with
the part as it now is above everything typed, to send again."""

from __future__ import annotations

import uuid

from flask import abort, flash, request
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.access import roles_required
from app.auth.models import User
from app.calls.answers import incident_data, perpetrator_data
from app.cases import bp, corrections, drafts
from app.cases.corrections import PartChanged
from app.cases.part_views import NO_INCIDENT, NO_PERSON, _part_page, _read_only, _told
from app.cases.services import CaseError
from app.cases.views import CASE_ROLES, back_to_case, load_case, looked_at, saved_once
from app.extensions import db


@bp.route("/<uuid:case_id>/incidents/<uuid:part_id>/edit", methods=["GET", "POST"])
@roles_required(*CASE_ROLES)
def correct_incident(case_id: uuid.UUID, part_id: uuid.UUID):
    """Correct an incident recorded on the case."""
    return _correct(case_id, "incident", part_id)


@bp.route("/<uuid:case_id>/perpetrators/<uuid:part_id>/edit", methods=["GET", "POST"])
@roles_required(*CASE_ROLES)
def correct_perpetrator(case_id: uuid.UUID, part_id: uuid.UUID):
    """Correct a person who used violence recorded on the case."""
    return _correct(case_id, "perpetrator", part_id)


def _title(kind: str) -> str:
    return (
        _("Correct an incident") if kind == "incident" else _("Correct a person who used violence")
    )


def _correct(case_id: uuid.UUID, kind: str, part_id: uuid.UUID):
    case = load_case(case_id)  # not this person's to see: 404, audited
    part = corrections.find_part(case, kind, part_id)
    if part is None:  # not a part of this case: refused as not there, audited
        corrections.refuse_part(case, kind, part_id, current_user)
        db.session.commit()
        abort(404)
    name = drafts.part_form(kind, part.id)
    form_cls = corrections.form_class(case, kind)
    if request.method == "GET":
        if (refused := _read_only(case)) is not None:
            return refused
        looked_at(case, f"{kind} correction form")
        asked = drafts.page_asked(request.args.get("draft"))  # from the list of unsent text
        form, restored = drafts.fill(
            form_cls, case=case, user=current_user, name=name, page=asked,
            data=corrections.form_values(part),
        )  # fmt: skip
        if restored is None or not form.seen.data:  # a draft keeps the one it was typed on
            form.seen.data = corrections.fingerprint(part)
        return _page(case, form, kind, name, restored)
    form = form_cls()
    if form.validate_on_submit():
        data = incident_data(form) if kind == "incident" else perpetrator_data(form)
        if kind == "incident" and "chi_category" not in request.form:
            # A page drawn without the category (the case an adult's then, a child's now):
            # it says nothing of it, so the category stays as stored.
            data.chi_category = part.chi_category
        told = data.tells(child=case.is_child) if kind == "incident" else data.tells()
        if _told(form, told, NO_INCIDENT if kind == "incident" else NO_PERSON):
            saved: list[str] = []

            def write():
                # A form sent twice is known by its key first (views._keyed_write), before
                # its own correction could count as a colleague's.
                db.session.flush()
                saved[:] = corrections.correct(
                    case=case, part=part, by=current_user, data=data, seen=form.seen.data or None
                )

            try:
                if not saved_once(form, case, write, name):
                    said = _("This form had already been saved; nothing was saved twice.")
                elif not saved:
                    said = _("Nothing was different from what was recorded; nothing changed.")
                else:
                    said = _("Correction saved.")
                return back_to_case(case, said)
            except PartChanged as changed:
                # Theirs shown above the form; what this person changed kept, each field both
                # changed marked, the others as the colleague left them: sent again, saved.
                db.session.rollback()
                now = corrections.find_part(case, kind, part_id)
                if now is None:  # not reached: parts are never deleted but with the case
                    abort(404)
                corrections.refill(
                    form, now, keep=changed.mine, marked=changed.both, unknown=changed.unknown
                )
                form.seen.data = corrections.fingerprint(now)
                looked_at(case, f"{kind} correction conflict")  # theirs shown: a look
                page = _page(case, form, kind, name, None, theirs=now, changed=changed)
                return page, 409
            except CaseError as error:  # closed meanwhile: the form stays, with all typed
                flash(str(error), "error")
    return _page(case, form, kind, name, None)


def _page(case, form, kind: str, name: str, restored, **shown):
    """The correction's page (again), with the colleague's correction if one came between."""
    if "changed" in shown:
        changed = shown["changed"]
        shown["corrected_by"] = changed.by if isinstance(changed.by, User) else None
        shown["corrected_at"] = changed.at
        shown["unknown"] = changed.unknown
    return _part_page(case, form, _title(kind), name, restored, correcting=kind, **shown)
