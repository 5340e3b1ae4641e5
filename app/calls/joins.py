"""Which case a call belongs to: the existing case it joins (one the user may add a call to),
a new case for a violence report, or none (calls/intake.py writes it)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.auth.models import User
from app.calls.intake_data import Intake, IntakeError, LinkRefused, Survivor
from app.calls.services import calls_from_number, cases_of_number
from app.cases.models import Case
from app.cases.numbers import normalise_case_number
from app.cases.scope import case_scope, linkable_cases
from app.cases.services import start_case
from app.clock import local_day
from app.extensions import db


def case_for(data: Intake, by: User) -> tuple[Case | None, bool]:
    """The existing case this call joins (if the user may see it), a new one, or none; and
    whether it is new."""
    if data.case_id is not None or data.case_number:
        # The number the page shows wins over the case it was opened for (?case=): what the
        # operator reads is where the call goes.
        wanted = (
            Case.number == normalise_case_number(data.case_number, by.organisation.code)
            if data.case_number
            else Case.id == data.case_id
        )
        # Its row is locked first (FOR NO KEY UPDATE on PostgreSQL), as every edit of a case
        # locks it before the audit chain's head: taking the head first would deadlock with
        # a note or status change made on the same case at the same moment.
        stmt = linkable_cases(by)(select(Case).where(wanted))
        stmt = stmt.with_for_update(key_share=True, of=Case)
        case = db.session.execute(stmt).scalar_one_or_none()
        if case is None or not may_join(case, data, by):
            # Another hotline's case is named in the refusal's audit entry, in that hotline's
            # log (as a case number searched for is): the page says no more than for a number
            # no case has.
            raise LinkRefused(
                _l(
                    "That case cannot be found among the cases you may add a call to: those "
                    "you opened or took a call for, and those the repeat-caller panel shows "
                    "for this caller's number."
                ),
                case if case is not None else _named(wanted),
            )
        if case.erased_at is not None:
            raise IntakeError(_l("That case was erased. Open a new case for this call."))
        if case.is_closed:
            raise IntakeError(
                _l(
                    "That case is closed. Open a new case, or ask its case manager or a "
                    "supervisor to reopen it."
                )
            )
        return case, False
    if not (data.open_case or data.reason == "violence_report"):
        return None, False
    s = data.survivor or Survivor()
    case = start_case(
        by=by,
        as_of=local_day(data.started_at),
        survivor_name=s.name,
        survivor_sex=s.sex,
        survivor_birth_date=s.birth_date,
        survivor_age=s.age,
        survivor_age_band=s.age_band,
        disability=s.disability,
        ethnicity=s.ethnicity,
        survivor_phone=s.phone,
        survivor_address=s.address,
        province_code=s.province_code,
        commune_code=s.commune_code,
        safe_contact=s.safe_contact,
        summary=data.summary,
        services_wanted=data.services_wanted,
    )
    return case, True


def _named(wanted) -> Case | None:
    """The case a refused number or id names, whatever its organisation: for the audit entry
    only (its id and organisation; nothing sealed is read)."""
    return db.session.execute(select(Case).where(wanted)).scalar_one_or_none()


def may_join(case: Case, data: Intake, by: User) -> bool:
    """Whether this user may add the call to this case of their organisation (linkable_cases):
    one they may see, or, for an operator, a case of this caller's number: one an earlier call
    from it joined, or whose survivor's number it is (the repeat-caller panel shows both).
    Joining makes the case theirs to see (case_scope), so a case number typed alone is not
    enough: numbers run in sequence, and trying them would open every case."""
    visible = case_scope(by)(select(Case.id).where(Case.id == case.id))
    if db.session.execute(visible).first() is not None:
        return True
    if not data.caller_phone:
        return False
    phone, organisation_id = data.caller_phone, by.organisation_id
    return any(
        call.case_id == case.id
        for call in calls_from_number(phone, organisation_id=organisation_id)
    ) or any(
        known.id == case.id for known in cases_of_number(phone, organisation_id=organisation_id)
    )
