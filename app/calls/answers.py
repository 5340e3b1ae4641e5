"""The intake form's answers as the service's `Intake`: the times typed beside emergency actions,
the incident and the person who used violence when anything of them is told, consent per
service, and the page's keys (app/calls/forms.py holds the form's shape)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from app.calls.intake import Intake, Survivor
from app.cases.casework import ConsentData, IncidentData, PerpetratorData
from app.clock import LOCAL, local_to_utc, utcnow
from app.form_fields import TIME_FORMAT, as_row_id, as_uuid

if TYPE_CHECKING:
    from app.calls.forms import IntakeForm


def checklist_filled(form, formdata) -> bool:
    """Whether the risk checklist was filled in: a box ticked, a level raised, or "checked, no
    risk factor" ticked (nothing ticked is then an answer, not a question left)."""
    return bool(form.risk_answers.data or form.risk_raised_to.data or formdata.get("risk_checked"))


def checklist_answers(form) -> list[str]:
    """The checklist's answers as scored: those ticked, and on the intake "pregnant" told in the
    danger questions (the checklist asks the same)."""
    answers = list(form.risk_answers.data or [])
    danger = getattr(form, "danger", None)
    if danger is not None and "pregnant" in (danger.data or []) and "pregnant" not in answers:
        answers.append("pregnant")
    return answers


def emergency_times(form: IntakeForm, formdata) -> list[tuple[str, datetime]]:
    """Each emergency action ticked, with its time: the one typed beside it, or now if none
    (IntakeForm.validate_emergency refused any other)."""
    now = utcnow()
    return [(code, action_time(form, formdata, code) or now) for code in form.emergency.data or []]


# How long after a call (its end, else its start) an emergency action's time of day typed
# alone may be read as the next day's, when the call ran past midnight.
AFTER_THE_CALL = timedelta(hours=6)


def action_time(form: IntakeForm, formdata, code: str) -> datetime | None:
    """The time typed beside an emergency action, in UTC: "dd/mm/yyyy hh:mm", or "hh:mm" on
    the day the call started (Vietnam's time). None when nothing is typed; ValueError when
    what is typed is not a time."""
    typed = " ".join((formdata.get(f"emergency_time_{code}") or "").split())
    if not typed:
        return None
    if not re.fullmatch(r"\d{1,2}[:.h]\d{2}", typed):
        return local_to_utc(datetime.strptime(typed, TIME_FORMAT))
    # A time of day: on the day the call started, or the next when that is before the start
    # and the next day's is within hours of the call (a call from 23:55, an action at 00:10
    # during it or just after). A time just before a call's start stays on its day, and is
    # refused as before the call: moved a day on, it would start a legal clock (the
    # prohibition of contact's 12 hours) a day late without a word.
    now = utcnow()
    started = form.started_at.data or now
    day = started.astimezone(LOCAL).strftime("%d/%m/%Y")
    at = datetime.strptime(f"{day} {re.sub(r'[.h]', ':', typed)}", TIME_FORMAT)
    at = local_to_utc(at)
    if at >= started - timedelta(minutes=1):
        return at
    next_day = at + timedelta(days=1)
    latest = min(now + timedelta(minutes=1), (_call_end(form) or started) + AFTER_THE_CALL)
    return next_day if next_day <= latest else at


def _call_end(form: IntakeForm) -> datetime | None:
    """The call's end as typed, if it reads (its own field says what is wrong with it)."""
    ended = form.ended_at.data
    return ended if isinstance(ended, datetime) else None


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


def _ended_now(started: datetime | None) -> datetime:
    """A call not ended with "End now" ends as it is saved (a try the server refused sends the
    page back with its end still empty), never before it started."""
    now = utcnow()
    return max(now, started) if started is not None else now


def to_intake(form: IntakeForm, formdata) -> Intake:
    """The validated form as an Intake for the service (blank optional values become None)."""
    f = form
    case_id = as_uuid(f.case_id.data)
    consents = consent_rows(
        f,
        recipient_id=int(f.consent_recipient.data) if f.consent_recipient.data else None,
        child_assent=known(f.child_assent.data),
        guardian_consent=known(f.guardian_consent.data),
    )
    # Anything told of the incident or of the person who used violence is kept (a category
    # or a weapon with nothing else is what a caller often gives), nothing made of defaults;
    # a category alone is dropped later if the case is an adult's (IncidentData.tells).
    incident, perpetrator = incident_data(f), perpetrator_data(f)
    incident = incident if incident.tells(child=True) else None
    perpetrator = perpetrator if perpetrator.tells() else None
    assessed = checklist_filled(f, formdata)
    answers = checklist_answers(f)  # "pregnant" told in the danger questions counts there too
    return Intake(
        reason=f.reason.data,
        intake_key=as_uuid(f.intake_key.data),
        channel=f.channel.data,
        caller_type=f.caller_type.data,
        started_at=f.started_at.data,
        ended_at=f.ended_at.data or _ended_now(f.started_at.data),
        caller_phone=f.caller_phone.data,
        caller_name=f.caller_name.data,
        narrative=f.narrative.data,
        outcomes=list(f.outcomes.data or []),
        flags=list(f.flags.data or []),
        danger=list(f.danger.data or []),
        emergency=emergency_times(f, formdata),
        line_id=as_row_id(f.line_id.data),  # as the screen pop put it in the page
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
        risk_answers=answers if assessed else None,
        risk_raised_to=f.risk_raised_to.data or None,
        risk_reason=f.risk_reason.data,
        consents=consents,
        counselling=f.counselling.data,
        follow_up_at=f.follow_up_at.data,
    )


def known(value: str | None) -> str | None:
    """A yes or a no; None for "not known" or nothing."""
    return value if value in ("yes", "no") else None
