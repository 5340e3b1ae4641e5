"""The intake form: shape only (lengths, choices, date formats). What the answers mean, and which
records they create, is decided in app/calls/intake.py."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import HiddenField, IntegerField, SubmitField
from wtforms.validators import DataRequired, NumberRange, Optional, ValidationError
from wtforms.widgets import TextInput

from app import classifications as c
from app.auth.forms import REQUIRED
from app.calls.intake import Intake, Survivor
from app.cases import risk
from app.cases.casework import ConsentData, IncidentData, PerpetratorData
from app.clock import local_today
from app.form_fields import (
    LOCAL,
    TIME_FORMAT,
    CodeRadioField,
    CodeSelectField,
    LocalDateTimeField,
    MultiCheckboxField,
    QuickBind,
    choices,
    date_field,
    long_text,
    text,
)
from app.places.form_choices import check_commune

# A phone line's id as the screen pop put it in the page (ASCII digits, an integer column's size).
LINE_ID = re.compile(r"[0-9]{1,9}")


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
    started_at = LocalDateTimeField(_l("Call started"), validators=[DataRequired(REQUIRED)])
    ended_at = LocalDateTimeField(_l("Call ended"), validators=[Optional()])
    channel = CodeSelectField(_l("Channel"), choices=choices(c.CHANNELS), default="phone")
    caller_type = CodeSelectField(
        _l("Who is calling"), choices=choices(c.CALLER_TYPES), default="survivor"
    )
    caller_phone = text(
        _l("Caller's number"), 40, render_kw={"inputmode": "tel", "autocomplete": "off"}
    )
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
    survivor_name = text(_l("Survivor's name or alias"), 200, render_kw={"autocomplete": "off"})
    survivor_sex = CodeSelectField(_l("Sex"), choices=choices(c.SEXES), default="unknown")
    survivor_birth_date = date_field(_l("Date of birth"))
    survivor_age = IntegerField(
        _l("Age in years"),
        validators=[Optional(), NumberRange(0, 120, _l("Give an age between 0 and 120."))],
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
    survivor_phone = text(_l("Survivor's number"), 40, render_kw={"inputmode": "tel"})
    survivor_address = text(_l("Address or place"), 300)
    province_code = CodeSelectField(_l("Province or city"), choices=[], default="")
    commune_code = CodeSelectField(
        _l("Commune or ward"), choices=[], default="", validate_choice=False
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
    child_assent = CodeSelectField(
        _l("The child agrees"), choices=choices(c.YES_NO_UNKNOWN), default="unknown"
    )
    guardian_consent = CodeSelectField(
        _l("A guardian agrees"), choices=choices(c.YES_NO_UNKNOWN), default="unknown"
    )
    counselling = long_text(_l("Counselling given in this call"), rows=2)
    follow_up_at = LocalDateTimeField(_l("Call back at"), validators=[Optional()])
    submit = SubmitField(_l("Save the call"))

    def validate_ended_at(self, field) -> None:
        """A call cannot end before it started."""
        if field.data and self.started_at.data and field.data < self.started_at.data:
            raise ValidationError(_l("The call cannot end before it started."))

    def validate_risk_reason(self, field) -> None:
        """A raised level needs its reason."""
        if self.risk_raised_to.data and not (field.data or "").strip():
            raise ValidationError(_l("Say why you rate the risk higher than the checklist does."))

    def validate_commune_code(self, field) -> None:
        """A commune of the province chosen (the page's list is refilled as the province
        changes; what is sent is checked again here)."""
        check_commune(field, self.province_code.data)

    def validate_emergency(self, field) -> None:
        """Each action's time, when typed, is a time, and not one still to come (it was
        taken: the time of a prohibition-of-contact request starts a legal clock)."""
        for code in field.data or []:
            name = str(c.EMERGENCY_ACTIONS.get(code, code))
            try:
                at = action_time(self, self.typed, code)
            except ValueError:
                raise ValidationError(
                    _l("Write the time of “%(action)s” as hh:mm or dd/mm/yyyy hh:mm.", action=name)
                ) from None
            if at is not None and at > datetime.now(UTC) + timedelta(minutes=5):
                raise ValidationError(
                    _l("The time of “%(action)s” cannot be later than now.", action=name)
                )

    def validate_survivor_birth_date(self, field) -> None:
        """A date of birth cannot be in the future."""
        if field.data and field.data > local_today():
            raise ValidationError(_l("The date of birth cannot be in the future."))

    def validate_consent_given_by(self, field) -> None:
        check_child_consent(self)

    def process(self, formdata=None, obj=None, data=None, extra_filters=None, **kwargs):
        """Bound as usual, the form data kept as `typed`: the page sends fields the form reads
        beside its own (each emergency action's time)."""
        formdata = self.meta.wrap_formdata(self, formdata)
        self.typed = formdata if formdata is not None else MultiDict()
        super().process(formdata, obj, data=data, extra_filters=extra_filters, **kwargs)


def check_child_consent(form) -> None:
    """A child's consent that says two things at once is refused (the intake and the case's
    consent form on a child's case): services marked as agreed though the child says no and
    no guardian agrees, or "the child and a guardian" though the guardian says no."""
    child, guardian = form.child_assent.data, form.guardian_consent.data
    if form.consent_given_by.data == "child_and_guardian" and "no" in (child, guardian):
        raise ValidationError(
            _l("The child or the guardian does not agree: choose who gave the consent.")
        )
    if form.consent_services.data and child == "no" and guardian != "yes":
        raise ValidationError(
            _l(
                "The child does not agree and no guardian does: no service can be marked as "
                "agreed. Mark them as refused, or record the guardian's agreement."
            )
        )


def emergency_times(form: IntakeForm, formdata) -> list[tuple[str, datetime]]:
    """Each emergency action ticked, with its time: the one typed beside it, or now if none
    (IntakeForm.validate_emergency refused any other)."""
    now = datetime.now(UTC)
    return [(code, action_time(form, formdata, code) or now) for code in form.emergency.data or []]


def action_time(form: IntakeForm, formdata, code: str) -> datetime | None:
    """The time typed beside an emergency action, in UTC: "dd/mm/yyyy hh:mm", or "hh:mm" on
    the day the call started (Vietnam's time). None when nothing is typed; ValueError when
    what is typed is not a time."""
    typed = " ".join((formdata.get(f"emergency_time_{code}") or "").split())
    if not typed:
        return None
    if not re.fullmatch(r"\d{1,2}[:.h]\d{2}", typed):
        return datetime.strptime(typed, TIME_FORMAT).replace(tzinfo=LOCAL).astimezone(UTC)
    # A time of day: on the day the call started, or the next when that is before the start
    # (a call from 23:55, an action at 00:10).
    started = form.started_at.data or datetime.now(UTC)
    day = started.astimezone(LOCAL).strftime("%d/%m/%Y")
    at = datetime.strptime(f"{day} {re.sub(r'[.h]', ':', typed)}", TIME_FORMAT)
    at = at.replace(tzinfo=LOCAL).astimezone(UTC)
    return at + timedelta(days=1) if at < started - timedelta(minutes=1) else at


def consent_rows(form, **extra) -> list[ConsentData]:
    """One consent per service ticked as agreed or refused (the intake and the case's consent
    form share these fields); `extra` goes into each (who else agreed, the recipient)."""
    return [
        ConsentData(
            service=code,
            granted=granted,
            share_data=granted and form.consent_share.data == "yes",
            given_by=form.consent_given_by.data,
            **extra,
        )
        for codes_, granted in (
            (form.consent_services.data, True),
            (form.consent_refused.data, False),
        )
        for code in codes_ or []
    ]


def incident_data(form) -> IncidentData:
    """The incident fields (shared by the intake and the case's incident form)."""
    return IncidentData(
        occurred_on=form.incident_date.data,
        place_type=form.place_type.data,
        acts=list(form.acts.data or []),
        gbv_type=form.gbv_type.data or None,
        gbv_context=form.gbv_context.data or None,
        chi_category=form.chi_category.data or None if "chi_category" in form else None,
        description=form.incident_description.data,
    )


def perpetrator_data(form) -> PerpetratorData:
    """The perpetrator fields (shared by the intake and the case's perpetrator form)."""
    notes = getattr(form, "perpetrator_notes", None)
    return PerpetratorData(
        relationship=form.perpetrator_relationship.data or "unknown",
        sex=form.perpetrator_sex.data,
        age_band=form.perpetrator_age_band.data,
        alcohol_or_drugs=form.perpetrator_alcohol.data,
        weapon_access=form.perpetrator_weapon.data,
        earlier_violence=form.perpetrator_earlier.data,
        name=form.perpetrator_name.data,
        notes=notes.data if notes is not None else None,
    )


INCIDENT_FIELDS = (
    "incident_date", "place_type", "acts", "gbv_type", "gbv_context", "chi_category",
    "incident_description",
)  # fmt: skip
PERPETRATOR_FIELDS = (
    "perpetrator_relationship", "perpetrator_sex", "perpetrator_age_band", "perpetrator_alcohol",
    "perpetrator_weapon", "perpetrator_earlier", "perpetrator_name",
)  # fmt: skip


def _told(form: IntakeForm, names: tuple[str, ...]) -> bool:
    """Whether any of these fields holds something other than what the form starts with."""
    return any(form[name].data not in (None, "", [], form[name].default) for name in names)


def to_intake(form: IntakeForm, formdata) -> Intake:
    """The validated form as an Intake for the service (blank optional values become None)."""
    f = form
    case_id = as_uuid(f.case_id.data)
    consents = consent_rows(
        f,
        child_assent=known(f.child_assent.data),
        guardian_consent=known(f.guardian_consent.data),
    )
    # Anything told of the incident or of the person who used violence is kept (a category
    # or a weapon with nothing else is what a caller often gives), nothing made of defaults.
    incident = incident_data(f) if _told(f, INCIDENT_FIELDS) else None
    perpetrator = perpetrator_data(f) if _told(f, PERPETRATOR_FIELDS) else None
    assessed = bool(f.risk_answers.data or f.risk_raised_to.data or formdata.get("risk_checked"))
    return Intake(
        reason=f.reason.data,
        intake_key=as_uuid(f.intake_key.data),
        channel=f.channel.data,
        caller_type=f.caller_type.data,
        started_at=f.started_at.data,
        ended_at=f.ended_at.data,
        caller_phone=f.caller_phone.data,
        caller_name=f.caller_name.data,
        narrative=f.narrative.data,
        outcomes=list(f.outcomes.data or []),
        flags=list(f.flags.data or []),
        danger=list(f.danger.data or []),
        emergency=emergency_times(f, formdata),
        line_id=int(f.line_id.data) if LINE_ID.fullmatch(f.line_id.data or "") else None,
        case_id=case_id,
        case_number=(f.case_number.data or "").strip() or None,
        survivor=Survivor(
            name=f.survivor_name.data,
            sex=f.survivor_sex.data,
            birth_date=f.survivor_birth_date.data,
            age=f.survivor_age.data,
            age_band=f.survivor_age_band.data,
            disability=f.disability.data or None,
            ethnicity=f.ethnicity.data or None,
            phone=f.survivor_phone.data,
            address=f.survivor_address.data,
            province_code=f.province_code.data or None,
            commune_code=f.commune_code.data or None,
            safe_contact=f.safe_contact.data,
        ),
        summary=f.summary.data,
        services_wanted=list(f.services_wanted.data or []),
        incident=incident,
        perpetrator=perpetrator,
        risk_answers=list(f.risk_answers.data or []) if assessed else None,
        risk_raised_to=f.risk_raised_to.data or None,
        risk_reason=f.risk_reason.data,
        consents=consents,
        counselling=f.counselling.data,
        follow_up_at=f.follow_up_at.data,
    )


def as_uuid(value: str | None) -> uuid.UUID | None:
    """A UUID from text, or None when blank or not one."""
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def known(value: str | None) -> str | None:
    """A yes or a no; None for "not known" or nothing."""
    return value if value in ("yes", "no") else None
