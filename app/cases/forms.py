"""Case page forms: shape only. The rules (who may, what changes, conflicts) are in services."""

from __future__ import annotations

import uuid

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, StringField, SubmitField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import TextInput

from app import classifications as c
from app.auth.forms import REQUIRED
from app.calls.answer_rules import (
    check_child_consent,
    check_consent_giver,
    check_consent_overlap,
    check_raised_level,
)
from app.cases import risk
from app.cases.ages import MAX_AGE
from app.cases.recipients import NOT_OFFERED, RECIPIENT_HINT, is_recipient, recipient_choices
from app.clock import local_today
from app.form_fields import (
    ADDRESS_LENGTH,
    NAME_LENGTH,
    LocalDateTimeField,
    MultiCheckboxField,
    Readable,
    TypedRequired,
    choices,
    date_field,
    long_text,
    phone_field,
    text,
)
from app.places.form_choices import check_commune, commune_find_box, province_find_box


class PageForm(FlaskForm):
    """A case-page form with a key of its own, given by the page (kept when the form comes back
    with errors): it names the page's draft (app/cases/drafts.py), so two tabs typing the same
    form keep two drafts, and sending one deletes its own only."""

    form_key = HiddenField()
    # The page a draft brought back as a copy was typed on (app/cases/drafts.restore): sent,
    # the text counts as sent from that page too, and that page's draft of it goes.
    copy_of = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.form_key.data:
            self.form_key.data = str(uuid.uuid4())


class OnceForm(PageForm):
    """A case-page form that adds something: views.saved_once records its key with the change,
    so the same form sent twice adds nothing the second time."""


class NoteForm(OnceForm):
    """A note, a counselling session or a contact attempt."""

    kind = SelectField(_l("Kind"), choices=choices(c.NOTE_KINDS), default="note")
    # An empty note (or spaces only) says nothing: refused, as a required field.
    body = long_text(_l("Note"), rows=4, required=True)
    submit = SubmitField(_l("Add the note"))


class CaseEditForm(PageForm):
    """The survivor's details; `version` is the case version the editor started from, `base`
    the fingerprints of its values (so a conflict can tell who changed what)."""

    version = HiddenField(validators=[InputRequired()])
    base = HiddenField()
    survivor_name = text(
        _l("Survivor's name or alias"), NAME_LENGTH, render_kw={"autocomplete": "off"}
    )
    survivor_sex = SelectField(_l("Sex"), choices=choices(c.SEXES), default="unknown")
    survivor_birth_date = text(
        _l("Date of birth"), 10, render_kw={"placeholder": "dd/mm/yyyy", "inputmode": "numeric"}
    )
    survivor_age = IntegerField(
        _l("Age in years"),
        validators=[
            Optional(),
            Readable(),
            NumberRange(0, MAX_AGE, _l("Give an age between 0 and 120.")),
        ],
        widget=TextInput(),
        render_kw={"inputmode": "numeric"},
    )
    disability = SelectField(
        _l("Disability"), choices=choices(c.DISABILITIES, blank=""), default=""
    )
    ethnicity = SelectField(_l("Ethnicity"), choices=choices(c.ETHNICITIES, blank=""), default="")
    survivor_phone = phone_field(_l("Survivor's number"))
    survivor_address = text(_l("Address or place"), ADDRESS_LENGTH)
    province_code = SelectField(
        _l("Province or city"),
        choices=[],
        default="",
        render_kw=province_find_box("commune_code"),
    )
    commune_code = SelectField(
        _l("Commune or ward"),
        choices=[],
        default="",
        validate_choice=False,
        render_kw=commune_find_box(),
    )
    safe_contact = long_text(_l("Safe contact: how and when we may get in touch"), rows=2)
    summary = long_text(_l("Case summary"), rows=4)
    services_wanted = MultiCheckboxField(
        _l("Services the survivor wants"), choices=choices(c.SERVICES)
    )
    submit = SubmitField(_l("Save the changes"))

    def validate_commune_code(self, field) -> None:
        """A commune of the province chosen, as on the intake."""
        check_commune(field, self.province_code.data)


class StatusForm(PageForm):
    """A move to another status, with a reason where one is needed."""

    to = HiddenField(validators=[DataRequired(REQUIRED)])
    # The case's version when the page was made: a case changed since (a task added, a new
    # assessment) is shown again as it is now before the move is made.
    version = HiddenField()
    reason = text(_l("Reason"), 500)
    submit = SubmitField(_l("Confirm"))


class EraseForm(FlaskForm):
    """Erasing a case for good: a reason from the fixed list, and the case number typed again."""

    reason = SelectField(
        _l("Why is the case erased?"),
        choices=choices(c.ERASE_REASONS, blank=_l("Choose a reason")),
        validators=[DataRequired(REQUIRED)],
        default="",
    )
    confirm = StringField(
        _l("Type the case number to confirm"),
        validators=[DataRequired(REQUIRED), Length(max=40)],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    submit = SubmitField(_l("Erase the case for good"))


class IncidentForm(OnceForm):
    """Another incident on the case."""

    incident_date = date_field(_l("When it happened"))
    place_type = SelectField(_l("Where"), choices=choices(c.PLACE_TYPES), default="unknown")
    acts = MultiCheckboxField(
        _l("Acts of violence (Law 13/2022, art. 3)"), choices=choices(c.ACT_LABELS)
    )
    gbv_type = SelectField(_l("GBVIMS type"), choices=choices(c.GBV_TYPES, blank=""), default="")
    gbv_context = SelectField(_l("Context"), choices=choices(c.GBV_CONTEXTS, blank=""), default="")
    incident_description = long_text(_l("What happened"), rows=3)
    submit = SubmitField(_l("Add the incident"))

    def validate_incident_date(self, field) -> None:
        """An incident recorded has happened (a date to come is a slip of the year or month)."""
        if field.data and field.data > local_today():
            raise ValidationError(_l("The incident cannot be in the future."))

    @classmethod
    def for_case(cls, case) -> type[IncidentForm]:
        """The form for this case: a child's asks the Child Helpline category too (an adult's
        case keeps none, so it is not offered)."""
        return ChildIncidentForm if case.is_child else cls


class ChildIncidentForm(IncidentForm):
    """Another incident on a child's case."""

    chi_category = SelectField(
        _l("Child helpline category"), choices=choices(c.CHI_CATEGORIES, blank=""), default=""
    )
    incident_description = long_text(_l("What happened"), rows=3)  # after the category
    submit = SubmitField(_l("Add the incident"))


class PerpetratorForm(OnceForm):
    """Another person who used violence."""

    perpetrator_relationship = SelectField(
        _l("Relationship to the survivor"), choices=choices(c.RELATIONSHIPS), default="unknown"
    )
    perpetrator_sex = SelectField(_l("Sex"), choices=choices(c.SEXES), default="unknown")
    perpetrator_age_band = SelectField(
        _l("Age group"), choices=choices(c.PERPETRATOR_AGE_BANDS), default="unknown"
    )
    perpetrator_alcohol = SelectField(
        _l("Alcohol or drugs"), choices=choices(c.YES_NO_UNKNOWN), default="unknown"
    )
    perpetrator_weapon = SelectField(
        _l("Access to weapons"), choices=choices(c.YES_NO_UNKNOWN), default="unknown"
    )
    perpetrator_earlier = SelectField(
        _l("Violent before"), choices=choices(c.YES_NO_UNKNOWN), default="unknown"
    )
    perpetrator_name = text(_l("Name or description"), 200, render_kw={"autocomplete": "off"})
    perpetrator_notes = long_text(_l("Notes"), rows=2)
    submit = SubmitField(_l("Add the person"))


# Corrections of a part recorded (app/cases/corrections.py): the same fields, filled with the
# part's values, and `seen`, the fingerprint of the part as the page showed it.
class IncidentCorrectionForm(IncidentForm):
    """An incident corrected."""

    seen = HiddenField()
    submit = SubmitField(_l("Save the correction"))

    @classmethod
    def for_case(cls, case) -> type[IncidentForm]:
        return ChildIncidentCorrectionForm if case.is_child else cls


class ChildIncidentCorrectionForm(ChildIncidentForm):
    """An incident on a child's case corrected."""

    seen = HiddenField()
    submit = SubmitField(_l("Save the correction"))


class PerpetratorCorrectionForm(PerpetratorForm):
    """A person who used violence corrected."""

    seen = HiddenField()
    submit = SubmitField(_l("Save the correction"))


class RiskForm(OnceForm):
    """The risk checklist again; `seen` is the newest assessment the page showed
    (app/cases/risk_history.py)."""

    seen = HiddenField()

    risk_answers = MultiCheckboxField(_l("Risk checklist"), choices=choices(risk.QUESTIONS))
    risk_raised_to = SelectField(
        _l("Raise the level on professional judgement"),
        choices=choices(c.RISK_LEVELS, blank=_l("No, keep the checklist's level")),
        default="",
    )
    risk_reason = text(_l("Why the level is raised"), 500)
    submit = SubmitField(_l("Save the assessment"))

    def validate_risk_raised_to(self, field) -> None:
        check_raised_level(self)


class TaskForm(OnceForm):
    """A task with a due time."""

    kind = SelectField(_l("Task"), choices=choices(c.TASK_KINDS), default="follow_up_call")
    due_at = LocalDateTimeField(
        _l("Due"), validators=[TypedRequired(REQUIRED)], render_kw={"autocomplete": "off"}
    )
    note = text(_l("Note"), 500)
    submit = SubmitField(_l("Add the task"))


class ConsentForm(OnceForm):
    """Consent given or refused later in the case; `seen` is the newest consent the page
    showed (app/cases/consent_history.py)."""

    seen = HiddenField()
    consent_services = MultiCheckboxField(
        _l("Agrees to be referred for"), choices=choices(c.SERVICES)
    )
    consent_refused = MultiCheckboxField(_l("Refuses referral for"), choices=choices(c.SERVICES))
    consent_share = SelectField(
        _l("Agrees that their details are shared with the service"),
        choices=choices(c.YES_NO_UNKNOWN),
        default="unknown",
    )
    consent_given_by = SelectField(
        _l("Consent given by"), choices=choices(c.CONSENT_GIVERS), default="survivor"
    )
    consent_recipient = SelectField(
        _l("To whom"),
        choices=[],  # filled by the view: the active organisations the case could go to
        default="",
        description=RECIPIENT_HINT,
    )
    submit = SubmitField(_l("Record the consent"))

    @classmethod
    def for_case(cls, case) -> type[ConsentForm]:
        """The form for this case: a child's asks the child's and a guardian's answers too."""
        return ChildConsentForm if case.is_child else cls

    def validate_consent_refused(self, field) -> None:
        check_consent_overlap(self)

    def validate_consent_given_by(self, field) -> None:
        check_consent_giver(self)

    def offer_recipients(self, organisation_id: int) -> None:
        """The recipients to choose from, as the intake offers them (recipient_choices): any
        provider, or an organisation the case of `organisation_id` could go to; one chosen
        before that is no longer offered stays on the list, marked, and is refused."""
        self._organisation_id = organisation_id
        self.consent_recipient.choices = recipient_choices(
            organisation_id, chosen=self.consent_recipient.data
        )

    def validate_consent_recipient(self, field) -> None:
        """An organisation offered (active, not the case's own), as the intake checks it."""
        offered_to = getattr(self, "_organisation_id", None)
        if field.data and (offered_to is None or not is_recipient(field.data, offered_to)):
            raise ValidationError(NOT_OFFERED)


class ChildConsentForm(ConsentForm):
    """Consent on a child's case: whether the child agrees, and whether a guardian does."""

    child_assent = SelectField(
        _l("The child agrees"), choices=choices(c.YES_NO_UNKNOWN), default="unknown"
    )
    guardian_consent = SelectField(
        _l("A guardian agrees"), choices=choices(c.YES_NO_UNKNOWN), default="unknown"
    )

    def validate_consent_given_by(self, field) -> None:
        check_consent_giver(self)
        check_child_consent(self)
