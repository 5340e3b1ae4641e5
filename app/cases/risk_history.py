"""A case's risk assessments over time: the newest, and a risk form drawn before it.

A risk form carries the newest assessment its page showed. Sent after a colleague saved a
newer one, it would replace their level unseen (a severe rating made low by a page opened
before it) and tick off the safety re-assessment their rating planned: it is shown theirs
first, with everything typed kept, and saved when sent again."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.cases.models import Case, RiskAssessment
from app.cases.services import CaseError
from app.extensions import db

NONE = "none"  # the mark of a case with no assessment yet


class NewerAssessment(CaseError):
    """A risk assessment was saved after the form was opened."""

    def __init__(self, newest: RiskAssessment):
        super().__init__(_l("Not saved yet: a risk assessment was saved after this form opened."))
        self.newest = newest


def newest(case: Case) -> RiskAssessment | None:
    """The case's newest risk assessment, read now (not from the case's loaded list)."""
    stmt = (
        select(RiskAssessment)
        .where(RiskAssessment.case_id == case.id)
        .order_by(RiskAssessment.assessed_at.desc(), RiskAssessment.id.desc())
        .limit(1)
    )
    return db.session.execute(stmt).scalar_one_or_none()


def mark(assessment: RiskAssessment | None) -> str:
    """What a form carries of the newest assessment its page showed."""
    return str(assessment.id) if assessment is not None else NONE


def refuse_if_newer(case: Case, seen: str) -> None:
    """Refuse a form whose page showed another assessment as the newest than the case's."""
    latest = newest(case)
    if mark(latest) != seen:
        raise NewerAssessment(latest)
