"""Work on an open case: notes, incidents, perpetrators, risk assessments, consent and tasks.

The `build_*` functions add a part to the session without committing, so the intake can save a
whole call in one transaction; the public services around them commit and audit once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l

from app.auth.models import User
from app.cases import consent_history, risk, risk_history
from app.cases.models import (
    WATCHED_CHECKS,
    Case,
    CaseNote,
    Consent,
    Incident,
    Perpetrator,
    RiskAssessment,
    Task,
)
from app.cases.services import CaseError, audit_case, open_task, record_event, refuse_if_closed
from app.classifications import ACTS, CLOSING_DUTIES, TASK_KINDS, forms_of
from app.clock import utcnow
from app.extensions import db

# How soon a safety re-assessment is due after a rating at this level.
SAFETY_REVIEW_AFTER = {"severe": timedelta(hours=24), "high": timedelta(hours=72)}
CHILD_SERIOUS_WINDOW = timedelta(hours=12)  # Decree 56/2017: intervene within 12 hours
DONE_NOTE_MAX = 500  # characters of a note said as a task is marked done


@dataclass
class IncidentData:
    """An incident as typed: codes, date and a free-text description (sealed)."""

    occurred_on: date | None = None
    place_type: str = "unknown"
    acts: list[str] = field(default_factory=list)
    gbv_type: str | None = None
    gbv_context: str | None = None
    chi_category: str | None = None
    description: str | None = None

    def tells(self, *, child: bool) -> bool:
        """Whether it says anything to record on this case: a Child Helpline category alone
        says nothing on an adult's case (it is kept for a child's only)."""
        told = (
            self.occurred_on, self.place_type != "unknown", self.acts, self.gbv_type,
            self.gbv_context, (self.description or "").strip(),
        )  # fmt: skip
        return any(told) or bool(child and self.chi_category)


@dataclass
class PerpetratorData:
    """A perpetrator as typed: codes, and a name or description (sealed)."""

    relationship: str = "unknown"
    sex: str = "unknown"
    age_band: str = "unknown"
    alcohol_or_drugs: str = "unknown"
    weapon_access: str = "unknown"
    earlier_violence: str = "unknown"
    name: str | None = None
    notes: str | None = None

    def tells(self) -> bool:
        """Whether it says anything of the person (a weapon with no relationship is a record)."""
        codes = (
            self.relationship, self.sex, self.age_band, self.alcohol_or_drugs,
            self.weapon_access, self.earlier_violence,
        )  # fmt: skip
        typed = (self.name or "").strip() or (self.notes or "").strip()
        return any(code != "unknown" for code in codes) or bool(typed)


@dataclass
class ConsentData:
    """Consent for one service type, to one recipient or any provider of it."""

    service: str
    granted: bool
    share_data: bool = False
    recipient_id: int | None = None
    given_by: str = "survivor"
    child_assent: str | None = None
    guardian_consent: str | None = None


def build_incident(case: Case, data: IncidentData, *, by: User) -> Incident:
    """Add an incident; its statistical forms follow from its acts."""
    acts = [a for a in data.acts if a in ACTS]
    incident = Incident(
        case=case,
        recorded_by_id=by.id,
        occurred_on=data.occurred_on,
        place_type=data.place_type,
        acts=" ".join(acts),
        forms=" ".join(forms_of(acts)),
        gbv_type=data.gbv_type,
        gbv_context=data.gbv_context,
        chi_category=data.chi_category if case.is_child else None,
        description=data.description,
    )
    db.session.add(incident)
    return incident


def build_perpetrator(case: Case, data: PerpetratorData, *, by: User) -> Perpetrator:
    """Add a perpetrator."""
    perpetrator = Perpetrator(
        case=case,
        recorded_by_id=by.id,
        relationship_code=data.relationship,
        sex=data.sex,
        age_band=data.age_band,
        alcohol_or_drugs=data.alcohol_or_drugs,
        weapon_access=data.weapon_access,
        earlier_violence=data.earlier_violence,
        name=data.name,
        notes=data.notes,
    )
    db.session.add(perpetrator)
    return perpetrator


def build_assessment(
    case: Case,
    answers: list[str],
    *,
    by: User,
    raised_to: str | None = None,
    reason: str | None = None,
    clock: datetime | None = None,
) -> RiskAssessment:
    """Score the checklist, set the case's risk level, and plan a safety re-assessment; an open
    one from an earlier assessment is done by this one (on the case page or a later call).
    `clock`: when the re-assessment's time runs from (a call's: Intake.clock_start), else now."""
    result = risk.score(answers)
    level = risk.final_level(result.level, raised_to)
    if level != result.level and not (reason or "").strip():
        raise CaseError(_l("Say why you rate the risk higher than the checklist does."))
    assessment = RiskAssessment(
        case=case,
        assessed_by_id=by.id,
        answers=" ".join(a for a in answers if a in risk.QUESTIONS),
        points=result.points,
        computed_level=result.level,
        level=level,
        reason=reason if level != result.level else None,
    )
    db.session.add(assessment)
    now = utcnow()
    for task in case.tasks:  # a new case's list is in memory: no statement
        if task.kind == "safety_review" and task.done_at is None:
            task.done_at, task.done_by_id = now, by.id
    old = case.risk_level
    case.risk_level = level
    if old != level:
        record_event(case, by=by, kind="risk", old=old, new=level)
    if level in SAFETY_REVIEW_AFTER:
        due = (clock or now) + SAFETY_REVIEW_AFTER[level]
        open_task(case, kind="safety_review", due=due, by=by)
    return assessment


def consent_giver(data: ConsentData, *, child: bool) -> str:
    """Who gave a consent, as recorded. On a child's case "the survivor" is the child: with
    a guardian's yes (and the child not saying no) it is the child and a guardian, with the
    child saying no it is the guardian only, and with no guardian's yes the child alone (the
    record shows the guardian's answer beside it). Any other choice stands as made."""
    if not child or data.given_by != "survivor" or data.guardian_consent != "yes":
        return data.given_by
    return "guardian" if data.child_assent == "no" else "child_and_guardian"


def consent_as_recorded(data: ConsentData, *, child: bool) -> dict:
    """A consent's columns as stored: who gave it (consent_giver), and the child's and a
    guardian's answers on a child's case only (on an adult's they were not asked: left from
    an age corrected on the page, say)."""
    fields = {**data.__dict__, "given_by": consent_giver(data, child=child)}
    if not child:
        fields["child_assent"] = fields["guardian_consent"] = None
    return fields


def build_consents(case: Case, consents: list[ConsentData], *, by: User) -> list[Consent]:
    """Record consent given or refused, per service type and recipient."""
    rows = []
    for data in consents:
        fields = consent_as_recorded(data, child=case.is_child)
        row = Consent(case=case, recorded_by_id=by.id, **fields)
        db.session.add(row)
        rows.append(row)
    return rows


def build_note(case: Case, body: str, *, by: User, kind: str = "note") -> CaseNote:
    """Add a note (sealed) to the case."""
    note = CaseNote(case=case, author_id=by.id, kind=kind, body=body)
    db.session.add(note)
    case.updated_at = utcnow()
    return note


def danger_told(case: Case) -> set[str]:
    """What the case's calls told in the danger questions (a child involved, an injury...)."""
    return {d for call in case.calls for d in (call.danger or "").split()}


def a_child_at_risk(danger) -> bool:
    """A child is involved in the violence told (whoever the survivor is)."""
    return "child_involved" in danger


def restore_child_tasks(case: Case) -> None:
    """A child's case again (an age corrected back): the child-path tasks the correction ended
    come back, to whoever holds the case now (it may have been reassigned meanwhile)."""
    for task in case.tasks:
        if task.ended_by == "not_child":
            task.done_at, task.ended_by = None, None
            task.assigned_to_id = case.assigned_to_id


def plan_child_path(
    case: Case, *, by: User, serious: bool, now: datetime | None = None
) -> list[Task]:
    """A case found to be a child's after its call (an age entered, a high-risk reassessment):
    the commune notified at once (if it never was asked), and action within 12 hours when the
    risk is serious. A call plans these through calls/planning.py."""
    now = now or utcnow()
    restore_child_tasks(case)
    kinds = {t.kind for t in case.tasks if t.done_at is None}
    tasks = []
    # The commune is notified once per case: a later reassessment does not ask again.
    if not any(t.kind == "notify_commune" for t in case.tasks):
        tasks.append(open_task(case, kind="notify_commune", due=now, by=by))
    if serious and "child_12h" not in kinds:
        tasks.append(open_task(case, kind="child_12h", due=now + CHILD_SERIOUS_WINDOW, by=by))
    return tasks


def add_note(*, case: Case, by: User, body: str, kind: str = "note") -> CaseNote:
    """Write a note on the case."""
    refuse_if_closed(case)
    note = build_note(case, body, by=by, kind=kind)
    audit_case("update", case, by, detail=f"note:{note.id}")
    db.session.commit()
    return note


def add_incident(*, case: Case, by: User, data: IncidentData) -> Incident:
    """Record another incident on the case."""
    refuse_if_closed(case)
    incident = build_incident(case, data, by=by)
    case.updated_at = utcnow()
    audit_case("update", case, by, detail=f"incident:{incident.id}")
    db.session.commit()
    return incident


def add_perpetrator(*, case: Case, by: User, data: PerpetratorData) -> Perpetrator:
    """Record another perpetrator on the case."""
    refuse_if_closed(case)
    perpetrator = build_perpetrator(case, data, by=by)
    case.updated_at = utcnow()
    audit_case("update", case, by, detail=f"perpetrator:{perpetrator.id}")
    db.session.commit()
    return perpetrator


def reassess_risk(
    *,
    case: Case,
    by: User,
    answers: list[str],
    raised_to: str | None = None,
    reason: str | None = None,
    seen: str | None = None,
) -> RiskAssessment:
    """Assess the risk again; earlier safety re-assessment tasks are done by this one. `seen`:
    the newest assessment the form's page showed; refused if one was saved since."""
    refuse_if_closed(case)
    if seen is not None:
        risk_history.refuse_if_newer(case, seen)
    now = utcnow()
    assessment = build_assessment(case, answers, by=by, raised_to=raised_to, reason=reason)
    # A child's case, or a child involved told in one of its calls: a serious risk is the
    # child's 12 hours too.
    child = case.is_child or a_child_at_risk(danger_told(case))
    if child and risk.at_least_high(assessment.level):
        plan_child_path(case, by=by, serious=True)
    case.updated_at = now
    audit_case("update", case, by, detail=f"risk:{assessment.id}")
    db.session.commit()
    return assessment


def record_consent(
    *, case: Case, by: User, consents: list[ConsentData], seen: str | None = None
) -> list[Consent]:
    """Record consent on the case page (a later conversation, a withdrawal...). `seen`: the
    newest consent the form's page showed; one recorded since for a service it ticks refuses
    it (consent_history.NewerConsent), so the newer answer is seen before it is replaced."""
    refuse_if_closed(case)
    if seen is not None:
        consent_history.refuse_if_newer(case, seen, {c.service for c in consents})
    rows = build_consents(case, consents, by=by)
    case.updated_at = utcnow()
    audit_case("update", case, by, detail=" ".join(f"consent:{r.id}" for r in rows))
    db.session.commit()
    return rows


def may_complete(task: Task, user: User) -> bool:
    """Whether the user may mark this task done, its case being one they may see. Case managers
    and supervisors work the whole case; an operator only what their own task list holds (the
    same rule as queries.due_tasks): a task given to them, or an unassigned one on a case they
    opened or that they planned, but never a 12-hour check of law not given to them
    (WATCHED_CHECKS: the child's, the prohibition of contact's)."""
    if user.role != "operator":
        return True
    if task.assigned_to_id is not None or task.kind in WATCHED_CHECKS:
        return task.assigned_to_id == user.id
    return user.id in (task.case.opened_by_id, task.created_by_id)


def complete_task(*, task: Task, by: User, note: str | None = None) -> bool:
    """Mark a task done, with an optional note; False when it had ended already (done by a
    second click, or ended when the survivor was found to be 16 or over). The case row is
    written too (its version moves), so a closure approved at the same instant, which ends the
    case's open tasks, fails one of the two on the case's version: a task is never both done
    by someone and ended by the closure, nor done on a case already closed. A duty of law
    (CLOSING_DUTIES) is marked done only with a note of what was done, or why it was not needed:
    its being done lets the case close, so the record says how. The note is kept apart from the
    task's own (written when it was planned)."""
    refuse_if_closed(task.case)  # first: a task the closure ended is not "done" again
    if task.done_at is not None:
        return False
    note = (note or "").strip()
    if task.kind in CLOSING_DUTIES and not note:
        raise CaseError(  # the task named: a page may list several duties
            _l(
                "Say what was done (or why it was not needed) to mark “%(task)s” done: the case "
                "can close once its duties of law are done, so the record says how.",
                task=TASK_KINDS[task.kind],
            )
        )
    if len(note) > DONE_NOTE_MAX:
        raise CaseError(_l("A note on a task done is at most 500 characters."))
    now = utcnow()
    task.done_at, task.done_by_id = now, by.id
    task.case.updated_at = now
    if note:
        task.done_note = note
    audit_case("update", task.case, by, detail=f"task:{task.id} done")
    db.session.commit()
    return True


def add_task(*, case: Case, by: User, kind: str, due: datetime, note: str | None = None) -> Task:
    """Plan a task on the case (a follow-up call, say). The task goes to the case's manager,
    so the case row is written too: a reassignment at the same instant then fails one of the two
    on the case's version, and the task never stays with the manager the case just left."""
    refuse_if_closed(case)
    task = open_task(case, kind=kind, due=due, by=by, note=note, by_hand=True)
    if task.assigned_to_id is None and by.role == "case_manager":
        task.assigned_to_id = by.id
    case.updated_at = utcnow()
    audit_case("update", case, by, detail=f"task:{task.id}")
    db.session.commit()
    return task
