"""Case use cases: open a case (linking its first call), and erase one for good."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app import audit
from app.auth.models import Organisation, User
from app.calls.models import Call
from app.cases.models import Case, CaseCounter
from app.clock import utcnow
from app.crypto import blind
from app.extensions import db

OWNER = "case"


class CaseError(Exception):
    """A case rule refused the request; the message is shown to the user."""


def next_case_number(organisation: Organisation, year: int) -> str:
    """ORG-YEAR-000123: the counter row is locked by the UPDATE, so workers never share one."""
    bump = (
        update(CaseCounter)
        .where(CaseCounter.organisation_id == organisation.id, CaseCounter.year == year)
        .values(last=CaseCounter.last + 1)
    )
    if db.session.execute(bump).rowcount == 0:
        try:
            with db.session.begin_nested():
                db.session.add(CaseCounter(organisation_id=organisation.id, year=year, last=0))
        except IntegrityError:
            pass  # another worker created it first
        db.session.execute(bump)
    last = db.session.execute(
        select(CaseCounter.last).where(
            CaseCounter.organisation_id == organisation.id, CaseCounter.year == year
        )
    ).scalar_one()
    return f"{organisation.code}-{year}-{last:06d}"


def link_call(call: Call, case: Case) -> None:
    """Move a call under its case: its values are resealed with the case's key and its own key
    destroyed. Its number stays findable through the call's own blind-index digest."""
    call.reseal(lambda: setattr(call, "case", case))
    call.destroy_key()


def open_case(
    *,
    by: User,
    call: Call | None = None,
    survivor_name: str | None = None,
    survivor_phone: str | None = None,
    survivor_address: str | None = None,
    safe_contact: str | None = None,
    summary: str | None = None,
    survivor_sex: str = "unknown",
    survivor_age_band: str = "unknown",
    province_code: str | None = None,
    commune_code: str | None = None,
) -> Case:
    """Open a case with its own data key, optionally from a call, and audit it."""
    now = utcnow()
    case = Case(
        number=next_case_number(by.organisation, now.year),
        organisation_id=by.organisation_id,
        opened_by_id=by.id,
        opened_at=now,
        survivor_sex=survivor_sex,
        survivor_age_band=survivor_age_band,
        province_code=province_code,
        commune_code=commune_code,
        survivor_name=survivor_name,
        survivor_phone=survivor_phone,
        survivor_address=survivor_address,
        safe_contact=safe_contact,
        summary=summary,
    )
    db.session.add(case)
    if survivor_phone:
        blind.set_index(owner_type=OWNER, owner_id=case.id, field="phone", values=[survivor_phone])
    if call is not None:
        if call.organisation_id != by.organisation_id or call.case_id is not None:
            raise CaseError(_l("This call cannot be linked to a new case."))
        link_call(call, case)
    audit.record(
        "create",
        user=by,
        object_type="case",
        object_id=case.id,
        case_id=case.id,
        organisation_id=case.organisation_id,
    )
    db.session.commit()
    return case


def erase_case(*, case: Case, by: User, reason: str) -> None:
    """Erase a case by destroying its data key and blind-index digests.

    Its sealed values (and those of its calls) can then never be opened again, by anyone, from
    the database or any backup taken afterwards; the statistical codes and the audit trail stay.
    """
    if by.role != "supervisor" or by.organisation_id != case.organisation_id:
        raise CaseError(_l("Only a supervisor of the case's organisation may erase it."))
    if case.erased_at is not None:
        raise CaseError(_l("This case has already been erased."))
    blind.remove_index(owner_type=OWNER, owner_id=case.id)
    for call in case.calls:
        blind.remove_index(owner_type="call", owner_id=call.id)
    case.destroy_key()
    case.erased_at = utcnow()
    case.status = "erased"
    audit.record(
        "erase",
        user=by,
        object_type="case",
        object_id=case.id,
        case_id=case.id,
        organisation_id=case.organisation_id,
        reason=reason,
    )
    db.session.commit()
