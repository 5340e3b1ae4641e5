"""The checks the intake form and the case page's forms share: a risk level raised above the
checklist's needs its reason, and a consent must say one thing (a service agreed or refused,
not both; nothing in the survivor's name when no one could be asked; a child's and a guardian's
answers that agree; a prohibition of contact only with the survivor's consent)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError

from app import classifications as c
from app.calls.answers import checklist_answers
from app.calls.planning import NO_CONTACT_REFUSED, NO_CONTACT_UNASKED
from app.cases import risk


def check_raised_level(form) -> None:
    """A level raised above the checklist's needs its reason (the intake and the case's
    reassessment). Checked on the level's list: the reason's own checks stop at an empty field,
    so the refusal came only from the save, as a message at the top of the page."""
    computed = risk.score(checklist_answers(form)).level
    raised = risk.final_level(computed, form.risk_raised_to.data or None)
    if raised != computed and not (form.risk_reason.data or "").strip():
        raise ValidationError(_l("Say why you rate the risk higher than the checklist does."))


def check_consent_overlap(form) -> None:
    """A service cannot be both agreed to and refused in one answer (the intake and the
    case's consent form)."""
    both = set(form.consent_services.data or []) & set(form.consent_refused.data or [])
    if both:
        names = ", ".join(str(c.SERVICES.get(code, code)) for code in sorted(both))
        raise ValidationError(
            _l(
                "A service cannot be both agreed to and refused: %(services)s. Untick it on "
                "one side.",
                services=names,
            )
        )


def check_no_contact_consent(form) -> None:
    """A prohibition of contact the hotline asks for needs the survivor's consent (Law 13/2022:
    when an agency asks): refused by them in this call, or not given in a call opening the
    case, it cannot be recorded as requested. A call joining a case may rely on the consent
    its case holds: the save checks it (intake_orm.record_case_parts)."""
    if "police" in (form.consent_refused.data or []):
        raise ValidationError(NO_CONTACT_REFUSED)
    joins = form.case_id.data or (form.case_number.data or "").strip()
    if not joins and form.reason.data != "violence_report":
        raise ValidationError(
            _l(
                "A prohibition of contact is requested on a survivor's case: choose “Violence "
                "report”, or give the case number."
            )
        )
    if not joins and "police" not in (form.consent_services.data or []):
        raise ValidationError(NO_CONTACT_UNASKED)


def check_consent_giver(form) -> None:
    """No one could be asked: nothing is agreed, refused or shared in the survivor's name (the
    intake and the case's consent form). Consent must be explicit; without it only an emergency
    referral, with its stated reason, may go."""
    if form.consent_given_by.data != "not_asked":
        return
    if form.consent_services.data or form.consent_refused.data or form.consent_share.data == "yes":
        raise ValidationError(
            _l(
                "No one could be asked, so no service can be marked as agreed or refused and "
                "details cannot be marked as shareable. Say who gave the answer, or leave them "
                "unmarked."
            )
        )


def check_child_consent(form) -> None:
    """A child's consent that says two things at once is refused (the intake and the case's
    consent form on a child's case): services marked as agreed though the child says no and
    no guardian agrees, or "the child and a guardian" though the guardian says no."""
    child, guardian = form.child_assent.data, form.guardian_consent.data
    if form.consent_given_by.data == "child_and_guardian" and "no" in (child, guardian):
        raise ValidationError(
            _l("The child or the guardian does not agree: choose who gave the consent.")
        )
    if form.consent_given_by.data == "guardian" and guardian == "no" and form.consent_services.data:
        raise ValidationError(
            _l("The parent or guardian does not agree: choose who gave the consent.")
        )
    if form.consent_services.data and child == "no" and guardian != "yes":
        raise ValidationError(
            _l(
                "The child does not agree and no guardian does: no service can be marked as "
                "agreed. Mark them as refused, or record the guardian's agreement."
            )
        )
