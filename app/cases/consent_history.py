"""A case's consents over time, and a consent form drawn before a newer one.

A consent form carries the newest consent its page showed. Sent after a colleague (or a call
joining the case) recorded a newer answer for one of the services it ticks, it would become
the current answer unseen: a withdrawal of consent to share details with the police, say,
undone by a page opened before it. The newer answers are shown first, with everything typed
kept, and the form is saved when sent again."""

from __future__ import annotations

import uuid

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, tuple_

from app.cases.models import Case, Consent
from app.cases.services import CaseError
from app.extensions import db

NONE = "none"  # the mark of a case with no consent recorded yet


class NewerConsent(CaseError):
    """Consent for a service ticked was recorded after the form was opened."""

    def __init__(self, rows: list[Consent]):
        super().__init__(_l("Not saved yet: consent was recorded after this form opened."))
        self.rows = rows


def mark(case: Case) -> str:
    """What a form carries of the newest consent its page showed."""
    stmt = _in_order(select(Consent.id).where(Consent.case_id == case.id)).limit(1)
    newest = db.session.execute(stmt).scalar_one_or_none()
    return str(newest) if newest is not None else NONE


def refuse_if_newer(case: Case, seen: str, services: set[str]) -> None:
    """Refuse a form whose page was drawn before a consent for one of `services` was
    recorded (by anyone, or by this user in another tab)."""
    if mark(case) == seen:
        return
    stmt = select(Consent).where(Consent.case_id == case.id, Consent.service.in_(services))
    seen_id = _as_id(seen)
    earlier = db.session.get(Consent, seen_id) if seen_id is not None else None
    if earlier is not None and earlier.case_id == case.id:
        after = (earlier.recorded_at, earlier.id)
        stmt = stmt.where(tuple_(Consent.recorded_at, Consent.id) > after)
    newer = list(db.session.execute(_in_order(stmt)).scalars())
    if newer:
        raise NewerConsent(newer)


def _in_order(stmt):
    return stmt.order_by(Consent.recorded_at.desc(), Consent.id.desc())


def _as_id(seen: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(seen)
    except ValueError:  # "none", or a value no page gave: every answer for the services is newer
        return None
