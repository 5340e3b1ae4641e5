"""The intake form: shape only (lengths, choices, date formats) and the checks of what was typed.
The answers become the service's `Intake` in app/calls/answers.py; what they mean, and which
records they create, is decided in app/calls/intake.py."""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import HiddenField, IntegerField, SelectField, SubmitField
from wtforms.validators import DataRequired, NumberRange, Optional, ValidationError
from wtforms.widgets import TextInput

from app import classifications as c
from app.auth.forms import REQUIRED
from app.calls.answer_rules import (
    check_child_consent,
    check_consent_giver,
    check_consent_overlap,
    check_no_contact_consent,
    check_raised_level,
)
from app.calls.answers import action_time, checklist_filled
from app.cases import risk
from app.cases.ages import MAX_AGE, age_problem, birth_date_problem, is_child_age
from app.cases.recipients import NOT_OFFERED, RECIPIENT_HINT, is_recipient
from app.clock import local_day, local_today, utcnow
from app.form_fields import (
    ADDRESS_LENGTH,
    NAME_LENGTH,
    CodeRadioField,
    CodeSelectField,
    LocalDateTimeField,
    MultiCheckboxField,
    QuickBind,
    Readable,
    TypedRequired,
    choices,
    date_field,
    long_text,
    phone_field,
    text,
)
from app.places.form_choices import check_commune, commune_find_box, province_find_box

SLACK = timedelta(minutes=5)  # a clock a little ahead of the server's


class IntakeForm(FlaskForm):
    """One call, and what it tells about a case; sections show as the answers need them."""

    Meta = QuickBind

    intake_key = HiddenField()
    # The account the page was opened under: a page left open after that session ended is
    # never saved (nor its draft kept) under the next account signed in on the browser.
    owner = HiddenField()
    case_id = HiddenField()
    line_id = HiddenField()
    # The call
    started_at = LocalDateTimeField(_l("Call started"), validators=[TypedRequired(REQUIRED)])
    ended_at = LocalDateTimeField(_l("Call ended"), validators=[Optional()])
    channel = CodeSelectField(_l("Channel"), choices=choices(c.CHANNELS), default="phone")
    caller_type = CodeSelectField(
        _l("Who is calling"), choices=choices(c.CALLER_TYPES), default="survivor"
    )
    caller_phone = phone_field(_l("Caller's number"))
    caller_name = text(_l("Caller's name or alias"), 200, render_kw={"autocomplete": "off"})
    reason = CodeRadioField(
        _l("Reason for the call"), choices=choices(c.REASONS), validators=[DataRequired(REQUIRED)]
    )
    outcomes = MultiCheckboxField(_l("What was done"), choices=choices(c.CALL_OUTCOMES))
    flags = MultiCheckboxField(_l("Flags on this number"), choices=choices(c.CALLER_FLAGS))
    narrative = long_text(_l("What the caller said"), rows=4)
    # Danger first
    danger = MultiCheckboxField(_l("Danger right now"), choices=choices(c.DANGER_QUESTIONS))
    emergency = MultiCheckboxField(
        _l("Emergency actions taken"), choices=choices(c.EMERGENCY_ACTIONS)
    )
    # The case: a new one, or an existing case this call is about
    case_number = text(_l("Existing case number"), 32, render_kw={"autocomplete": "off"})
    survivor_name = text(
        _l("Survivor's name or alias"), NAME_LENGTH, render_kw={"autocomplete": "off"}
    )
    survivor_sex = CodeSelectField(_l("Sex"), choices=choices(c.SEXES), default="unknown")
    survivor_birth_date = date_field(_l("Date of birth"))
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
    survivor_age_band = CodeSelectField(
        _l("Age group, if the age is not known"), choices=choices(c.AGE_BANDS), default="unknown"
    )
    disability = CodeSelectField(
        _l("Disability"), choices=choices(c.DISABILITIES, blank=""), default=""
    )
    ethnicity = CodeSelectField(
        _l("Ethnicity"), choices=choices(c.ETHNICITIES, blank=""), default=""
    )
    survivor_phone = phone_field(_l("Survivor's number"))
    survivor_address = text(_l("Address or place"), ADDRESS_LENGTH)
    province_code = CodeSelectField(
        _l("Province or city"),
        choices=[],
        default="",
        render_kw=province_find_box("commune_code"),
    )
    commune_code = CodeSelectField(
        _l("Commune or ward"),
        choices=[],
        default="",
        validate_choice=False,
        render_kw=commune_find_box(),
    )
    safe_contact = long_text(_l("Safe contact: how and when we may get in touch"), rows=2)
    summary = long_text(_l("Case summary"), rows=3)
    services_wanted = MultiCheckboxField(
        _l("Services the survivor wants"), choices=choices(c.SERVICES)
    )
    # The incident
    incident_date = date_field(_l("When it happened"))
    place_type = CodeSelectField(_l("Where"), choices=choices(c.PLACE_TYPES), default="unknown")
    acts = MultiCheckboxField(
        _l("Acts of violence (Law 13/2022, art. 3)"), choices=choices(c.ACT_LABELS)
    )
    gbv_type = CodeSelectField(
        _l("GBVIMS type"), choices=choices(c.GBV_TYPES, blank=""), default=""
    )
    gbv_context = CodeSelectField(
        _l("Context"), choices=choices(c.GBV_CONTEXTS, blank=""), default=""
    )
    chi_category = CodeSelectField(
        _l("Child helpline category"), choices=choices(c.CHI_CATEGORIES, blank=""), default=""
    )
    incident_description = long_text(_l("What happened"), rows=3)
    # The perpetrator
    perpetrator_relationship = CodeSelectField(
        _l("Relationship to the survivor"), choices=choices(c.RELATIONSHIPS, blank=""), default=""
    )
    perpetrator_sex = CodeSelectField(_l("Sex"), choices=choices(c.SEXES), default="unknown")
    perpetrator_age_band = CodeSelectField(
        _l("Age group"), choices=choices(c.PERPETRATOR_AGE_BANDS), default="unknown"
    )
    perpetrator_alcohol = CodeSelectField(
        _l("Alcohol or drugs"), choices=choices(c.YES_NO_UNKNOWN), default="unknown"
    )
    perpetrator_weapon = CodeSelectField(
        _l("Access to weapons"), choices=choices(c.YES_NO_UNKNOWN), default="unknown"
    )
    perpetrator_earlier = CodeSelectField(
        _l("Violent before"), choices=choices(c.YES_NO_UNKNOWN), default="unknown"
    )
    perpetrator_name = text(_l("Name or description"), 200, render_kw={"autocomplete": "off"})
    # Risk
    risk_answers = MultiCheckboxField(_l("Risk checklist"), choices=choices(risk.QUESTIONS))
    risk_raised_to = CodeSelectField(
        _l("Raise the level on professional judgement"),
        choices=choices(c.RISK_LEVELS, blank=_l("No, keep the checklist's level")),
        default="",
    )
    risk_reason = text(_l("Why the level is raised"), 500)
    # Consent and counselling
    consent_services = MultiCheckboxField(
        _l("Agrees to be referred for"), choices=choices(c.SERVICES)
    )
    consent_refused = MultiCheckboxField(_l("Refuses referral for"), choices=choices(c.SERVICES))
    consent_share = CodeRadioField(
        _l("Agrees that their details are shared with the service"),
        choices=choices(c.YES_NO_UNKNOWN),
        default="unknown",
    )
    consent_given_by = CodeSelectField(
        _l("Consent given by"), choices=choices(c.CONSENT_GIVERS), default="survivor"
    )
    # Filled when the page is drawn (recipients.recipient_choices); a choice is checked only
    # when one is made, so a consent to any provider costs the save no query.
    consent_recipient = SelectField(
        _l("To whom"), choices=[], default="", validate_choice=False, description=RECIPIENT_HINT
    )
    child_assent = CodeSelectField(
        _l("The child agrees"), choices=choices(c.YES_NO_UNKNOWN), default="unknown"
    )
    guardian_consent = CodeSelectField(
        _l("A guardian agrees"), choices=choices(c.YES_NO_UNKNOWN), default="unknown"
    )
    counselling = long_text(_l("Counselling given in this call"), rows=2)
    follow_up_at = LocalDateTimeField(_l("Call back at"), validators=[Optional()])
    submit = SubmitField(_l("Save the call"))

    def validate_started_at(self, field) -> None:
        """A call is logged when it happens or after: a start still to come is a slip of the
        year, the day or the month (it would head every list of calls for years)."""
        if field.data and field.data > utcnow() + SLACK:
            raise ValidationError(_l("The call cannot start later than now."))

    def validate_follow_up_at(self, field) -> None:
        """A call-back follows the call: one before it is a day or year typed wrong (its task
        would be overdue before the call happened)."""
        started = self.started_at.data
        if field.data and started and field.data < started:
            raise ValidationError(_l("The call-back cannot be before the call started."))

    def validate_ended_at(self, field) -> None:
        """A call cannot end before it started, nor later than now."""
        if field.data and self.started_at.data and field.data < self.started_at.data:
            raise ValidationError(_l("The call cannot end before it started."))
        if field.data and field.data > utcnow() + SLACK:
            raise ValidationError(_l("The call cannot end later than now."))

    def validate_incident_date(self, field) -> None:
        """An incident told in a call happened by the day of the call."""
        started = self.started_at.data
        last = local_day(started) if started else local_today()
        if field.data and field.data > last:
            raise ValidationError(_l("The incident cannot be later than the call."))

    def validate_risk_raised_to(self, field) -> None:
        check_raised_level(self)

    def validate_commune_code(self, field) -> None:
        """A commune of the province chosen (the page's list is refilled as the province
        changes; what is sent is checked again here)."""
        check_commune(field, self.province_code.data)

    def validate_emergency(self, field) -> None:
        """Each action's time, when typed, is a time, and not one still to come (it was
        taken: the time of a prohibition-of-contact request starts a legal clock). A time
        written beside an action left unticked is refused, not dropped unsaid."""
        for code, name in c.EMERGENCY_ACTIONS.items():
            if (
                code not in (field.data or [])
                and (self.typed.get(f"emergency_time_{code}") or "").strip()
            ):
                raise ValidationError(
                    _l(
                        "A time is written beside “%(action)s”, which is not ticked: tick it, "
                        "or clear the time.",
                        action=str(name),
                    )
                )
        for code in field.data or []:
            name = str(c.EMERGENCY_ACTIONS.get(code, code))
            try:
                at = action_time(self, self.typed, code)
            except ValueError:
                raise ValidationError(
                    _l("Write the time of “%(action)s” as hh:mm or dd/mm/yyyy hh:mm.", action=name)
                ) from None
            if at is not None and at > utcnow() + SLACK:
                raise ValidationError(
                    _l("The time of “%(action)s” cannot be later than now.", action=name)
                )
            started = self.started_at.data
            if at is not None and started and at < started - timedelta(minutes=1):
                # An action of this call, taken during it or after: a day typed wrong would
                # start a legal clock (the prohibition of contact's 12 hours) before the call.
                raise ValidationError(
                    _l(
                        "The time of “%(action)s” cannot be before the call started: an "
                        "action taken earlier belongs in “What the caller said”.",
                        action=name,
                    )
                )
        if "no_contact_request" in (field.data or []):
            check_no_contact_consent(self)

    def validate_risk_answers(self, field) -> None:
        """The danger questions and the checklist agree: a weapon used or a threat to kill,
        told first, is one of the checklist's red flags (which one is the operator's to say;
        docs/risk.md). Asked only when the checklist is filled in."""
        told = "weapon_or_threat" in (self.danger.data or [])
        red_flag = set(field.data or []) & {"weapon_used", "threats_to_kill"}
        if told and not red_flag and checklist_filled(self, self.typed):
            raise ValidationError(
                _l(
                    "The danger questions say a weapon was used or a threat to kill was made: "
                    "tick which in the checklist."
                )
            )

    def validate_survivor_birth_date(self, field) -> None:
        """A date of birth cannot be in the future nor after the call (a call written up
        later), nor make the survivor older than the age box allows."""
        started = self.started_at.data
        problem = field.data and birth_date_problem(
            field.data, local_day(started) if started else None
        )
        if problem:
            raise ValidationError(problem)

    def validate_survivor_age(self, field) -> None:
        """An age told beside a date of birth agrees with it (ages.age_problem): otherwise
        one of them is a slip, and the child-protection path would hang on which."""
        born = self.survivor_birth_date.data
        if field.data is None or not isinstance(born, date):
            return
        started = self.started_at.data
        on = local_day(started) if started else None
        if birth_date_problem(born, on):
            return  # the date's own mistake is said beside it
        if problem := age_problem(field.data, born, on):
            raise ValidationError(problem)

    def validate_consent_given_by(self, field) -> None:
        """The child's and a guardian's answers are checked unless the survivor is told to be
        16 or over (they are then not asked, and not kept: casework.build_consents)."""
        check_consent_giver(self)
        if not self.tells_an_adult():
            check_child_consent(self)

    def validate_consent_refused(self, field) -> None:
        check_consent_overlap(self)

    def validate_consent_recipient(self, field) -> None:
        """An organisation the page offered (active, not the hotline's own)."""
        if not field.data:
            return
        if not (self.consent_services.data or self.consent_refused.data):
            raise ValidationError(_l("Tick the services this consent is for."))
        if not is_recipient(field.data, current_user.organisation_id):
            raise ValidationError(NOT_OFFERED)

    def tells_an_adult(self) -> bool:
        """Whether the age typed (or the date of birth on the call's day, as the case counts
        it, or the age group) says 16 or over."""
        age, birth = self.survivor_age.data, self.survivor_birth_date.data
        if age is not None or birth is not None:
            return not is_child_age(age, birth, local_day(self.started_at.data))
        return self.survivor_age_band.data in ("16_59", "60_plus")

    def process(self, formdata=None, obj=None, data=None, extra_filters=None, **kwargs):
        """Bound as usual, the form data kept as `typed`: the page sends fields the form reads
        beside its own (each emergency action's time)."""
        formdata = self.meta.wrap_formdata(self, formdata)
        self.typed = formdata if formdata is not None else MultiDict()
        super().process(formdata, obj, data=data, extra_filters=extra_filters, **kwargs)


class CallCorrectionForm(FlaskForm):
    """A saved call corrected (app/calls/corrections.py): the fields a correction may change,
    as the intake names them; `seen` is the marks of the call as the page showed it. The
    reasons offered are set per call (those of its kind)."""

    channel = CodeSelectField(_l("Channel"), choices=choices(c.CHANNELS))
    caller_type = CodeSelectField(_l("Who is calling"), choices=choices(c.CALLER_TYPES))
    reason = CodeSelectField(_l("Reason for the call"), choices=choices(c.REASONS))
    caller_phone = phone_field(_l("Caller's number"))
    caller_name = text(_l("Caller's name or alias"), 200, render_kw={"autocomplete": "off"})
    narrative = long_text(_l("What the caller said"), rows=6)
    outcomes = MultiCheckboxField(_l("What was done"), choices=choices(c.CALL_OUTCOMES))
    flags = MultiCheckboxField(_l("Flags on this number"), choices=choices(c.CALLER_FLAGS))
    seen = HiddenField()
    # The page's own key: with the text sent, the sending's record (drafts.sent_key); on a call
    # of a case, also its draft's name (app/cases/drafts.py), as a case-page form's.
    form_key = HiddenField()
    # The page a draft brought back as a copy was typed on (app/cases/forms.PageForm).
    copy_of = HiddenField()
    submit = SubmitField(_l("Save the correction"))
