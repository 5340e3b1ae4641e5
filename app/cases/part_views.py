"""The parts of a case record added after the intake: another incident, another person who used
violence, a new risk assessment, consent given or refused later. Each form is saved once however
often it is sent (views.added_once) and is refused on a closed case."""

from __future__ import annotations

import uuid

from flask import flash, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from app.auth.access import roles_required
from app.auth.models import User
from app.calls.answers import consent_rows, incident_data, known, perpetrator_data
from app.cases import bp, casework, consent_history, drafts, risk_history, services
from app.cases.forms import ConsentForm, IncidentForm, PerpetratorForm, RiskForm
from app.cases.models import Case
from app.cases.services import CaseError
from app.cases.views import (
    CASE_ROLES,
    added_once,
    load_case,
    looked_at,
    refused_back_to_case,
)
from app.extensions import db

NO_INCIDENT = _l(
    "Nothing is filled in about the incident: give at least its date, an act or what happened."
)
NO_PERSON = _l(
    "Nothing is filled in about the person: give at least the relationship, or a name or "
    "description."
)


def _read_only(case: Case):
    """A closed or erased case's forms do not open: back to the case, saying why."""
    try:
        services.refuse_if_closed(case)
    except CaseError as error:
        return refused_back_to_case(case, error)
    return None


@bp.route("/<uuid:case_id>/incidents/new", methods=["GET", "POST"])
@roles_required(*CASE_ROLES)
def add_incident(case_id: uuid.UUID):
    """Record another incident."""
    case = load_case(case_id)
    if request.method == "GET":
        if (refused := _read_only(case)) is not None:
            return refused
        looked_at(case, "incident form")
    form, restored = _opened(IncidentForm.for_case(case), case, "incident")
    if form.validate_on_submit() and _told(
        form, (data := incident_data(form)).tells(child=case.is_child), NO_INCIDENT
    ):
        try:
            return added_once(
                form,
                case,
                lambda: casework.add_incident(case=case, by=current_user, data=data),
                _("Incident added."),
                draft="incident",
            )
        except CaseError as error:  # closed meanwhile: the form stays, with all typed
            flash(str(error), "error")
    return _part_page(case, form, _("New incident"), "incident", restored)


@bp.route("/<uuid:case_id>/perpetrators/new", methods=["GET", "POST"])
@roles_required(*CASE_ROLES)
def add_perpetrator(case_id: uuid.UUID):
    """Record another person who used violence."""
    case = load_case(case_id)
    if request.method == "GET":
        if (refused := _read_only(case)) is not None:
            return refused
        looked_at(case, "person form")
    form, restored = _opened(PerpetratorForm, case, "perpetrator")
    if form.validate_on_submit() and _told(
        form, (data := perpetrator_data(form)).tells(), NO_PERSON
    ):
        try:
            return added_once(
                form,
                case,
                lambda: casework.add_perpetrator(case=case, by=current_user, data=data),
                _("Person added."),
                draft="perpetrator",
            )
        except CaseError as error:  # closed meanwhile: the form stays, with all typed
            flash(str(error), "error")
    return _part_page(case, form, _("Person who used violence"), "perpetrator", restored)


@bp.route("/<uuid:case_id>/risk", methods=["GET", "POST"])
@roles_required(*CASE_ROLES)
def reassess(case_id: uuid.UUID):
    """Go through the risk checklist again."""
    case = load_case(case_id)
    if request.method == "GET":
        if (refused := _read_only(case)) is not None:
            return refused
        looked_at(case, "risk form")
    form, restored = _opened(RiskForm, case, "risk")
    if request.method == "GET" and not form.seen.data:  # a draft keeps the one it was typed on
        form.seen.data = risk_history.mark(risk_history.newest(case))
    if form.validate_on_submit():

        def write():
            # A form sent twice is known by its key first (views._keyed_write), before its own
            # assessment could count as one saved since.
            db.session.flush()
            return casework.reassess_risk(
                case=case,
                by=current_user,
                answers=list(form.risk_answers.data or []),
                raised_to=form.risk_raised_to.data or None,
                reason=form.risk_reason.data,
                seen=form.seen.data or None,  # none from a page drawn before the field was
            )

        try:
            return added_once(form, case, write, _("Risk assessment saved."), draft="risk")
        except risk_history.NewerAssessment as newer:
            # Theirs shown above the form, everything typed kept; sent again, it is saved.
            form.seen.data = risk_history.mark(newer.newest)
            theirs = newer.newest
            by = db.session.get(User, theirs.assessed_by_id) if theirs is not None else None
            looked_at(case, "risk conflict")  # their assessment shown: a look at the case
            page = _part_page(
                case, form, _("Risk assessment"), "risk", None, newer=theirs, newer_by=by
            )
            return page, 409
        except CaseError as error:
            flash(str(error), "error")
    return _part_page(case, form, _("Risk assessment"), "risk", restored)


def _told(form, told: bool, nothing) -> bool:
    """Whether the part says anything to record; if not, the form says so (nothing is added: an
    incident or person all "unknown" would count in the statistics as one recorded)."""
    if not told:
        form.form_errors.append(str(nothing))
    return told


def _part_page(case: Case, form, title: str, draft: str, restored, **shown):
    """The form page of a part, with the notice offering back what was typed, if it was."""
    return render_template(
        "cases/part_form.html",
        case=case,
        form=form,
        title=title,
        draft=draft,
        restored=restored,
        **shown,
    )


def _opened(form_cls, case: Case, name: str):
    """The form as sent, or, opened, as the person left it unsent (their draft), if they did."""
    if request.method == "POST":
        return form_cls(), None
    asked = drafts.page_asked(request.args.get("draft"))  # from the list of unsent text
    return drafts.fill(form_cls, case=case, user=current_user, name=name, page=asked)


@bp.route("/<uuid:case_id>/consent", methods=["GET", "POST"])
@roles_required(*CASE_ROLES)
def consent(case_id: uuid.UUID):
    """Record consent given or refused later in the case."""
    case = load_case(case_id)
    if request.method == "GET":
        if (refused := _read_only(case)) is not None:
            return refused
        looked_at(case, "consent form")
    form, restored = _opened(ConsentForm.for_case(case), case, "consent")
    form.offer_recipients(case.organisation_id)
    if request.method == "GET" and not form.seen.data:  # a draft keeps the one it was typed on
        form.seen.data = consent_history.mark(case)
    if form.validate_on_submit():
        recipient = int(form.consent_recipient.data) if form.consent_recipient.data else None
        child = {
            name: known(form[name].data)
            for name in ("child_assent", "guardian_consent")
            if name in form
        }
        rows = consent_rows(form, recipient_id=recipient, **child)
        if not rows:
            # Said at the first group of boxes, which the keyboard goes to.
            form.consent_services.errors = [_("Tick at least one service.")]
        else:

            def write():
                db.session.flush()  # a form sent twice is known by its key first (added_once)
                return casework.record_consent(
                    case=case,
                    by=current_user,
                    consents=rows,
                    seen=form.seen.data or None,  # none from a page drawn before the field was
                )

            try:
                return added_once(form, case, write, _("Consent recorded."), draft="consent")
            except consent_history.NewerConsent as newer:
                # The newer answers shown above the form, everything typed kept; sent again,
                # it is saved.
                form.seen.data = consent_history.mark(case)
                looked_at(case, "consent conflict")  # their answers shown: a look at the case
                ids = {row.recorded_by_id for row in newer.rows}
                people = db.session.execute(select(User).where(User.id.in_(ids))).scalars()
                page = _part_page(
                    case,
                    form,
                    _("Consent"),
                    "consent",
                    None,
                    newer_consents=newer.rows,
                    recorded_by={person.id: person.full_name for person in people},
                )
                return page, 409
            except CaseError as error:  # closed meanwhile: the form stays, with all typed
                flash(str(error), "error")
    return _part_page(case, form, _("Consent"), "consent", restored)
