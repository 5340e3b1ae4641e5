"""A saved intake through SQLAlchemy's unit of work: a call added to an existing case (its
version checked, its parts written as objects), and the reference the batch writer
(app/cases/bulk.py, bulk_parts.py) is compared with in tests/cases/test_import_bulk.py.
calls/intake.py chooses the path; both write the same records and audit entries."""

from __future__ import annotations

from sqlalchemy import delete

from app import audit
from app.auth.models import User
from app.calls.intake_data import (
    Intake,
    IntakeError,
    Saved,
)
from app.calls.joins import case_for
from app.calls.models import Call, EmergencyAction, IntakeDraft
from app.calls.planning import (
    NO_CONTACT_REFUSED,
    NO_CONTACT_UNASKED,
    CaseTasks,
    police_consent,
    tasks_for_call,
)
from app.cases.casework import (
    a_child_at_risk,
    build_assessment,
    build_consents,
    build_incident,
    build_note,
    build_perpetrator,
    danger_told,
    restore_child_tasks,
)
from app.cases.models import Case
from app.cases.services import audit_case, open_task, record_event
from app.clock import utcnow
from app.crypto import blind
from app.extensions import db


def write_orm(data: Intake, by: User) -> Saved:
    """The call and its case's parts through the unit of work: for a call added to an
    existing case, and the reference the batch writer is compared with."""
    case, new_case = case_for(data, by)
    call = Call(
        organisation_id=by.organisation_id,
        taken_by_id=by.id,
        channel=data.channel,
        caller_type=data.caller_type,
        reason=data.reason,
        ended_at=data.ended_at,
        danger=" ".join(data.danger),
        outcomes=" ".join(data.outcomes),
        flags=" ".join(data.flags),
        intake_key=data.intake_key,
        intake_group=data.intake_group,
        sent_key=data.sent_key,
        line_id=data.line_id,
        case=case,
        caller_phone=data.caller_phone,
        caller_name=data.caller_name,
        narrative=data.narrative,
    )
    call.started_at = data.started_at or utcnow()
    db.session.add(call)
    if data.caller_phone:
        blind.set_index(
            owner_type="call",
            owner_id=call.id,
            field="phone",
            values=[data.caller_phone],
            new_owner=True,
        )
    for action, at in data.emergency:
        db.session.add(
            EmergencyAction(
                call=call,
                case_id=case.id if case else None,
                action=action,
                taken_at=at,
                by_id=by.id,
            )
        )
    audit.record(
        "create", user=by, object_type="call", object_id=call.id, case_id=case.id if case else None
    )
    if case is not None:
        record_case_parts(case, call, data, by, new_case=new_case)
    if data.intake_key is not None:
        db.session.execute(
            delete(IntakeDraft).where(
                IntakeDraft.user_id == by.id, IntakeDraft.intake_key == data.intake_key
            )
        )
    db.session.flush()  # a duplicate intake key fails here, inside the try
    return Saved.of(call, case, created=True)


def record_case_parts(case: Case, call: Call, data: Intake, by: User, *, new_case: bool) -> None:
    """The incident, perpetrator, risk, consent, counselling and tasks told in this call."""
    parts = [f"call:{call.id}"]
    if data.tells_of_a_child(new_case=new_case) and case.survivor_age_band == "unknown":
        # First, so what follows is recorded as a child's (an incident's child helpline
        # category, a consent given by the child).
        case.is_child = True
    if data.incident is not None and data.incident.tells(child=case.is_child):
        parts.append(f"incident:{build_incident(case, data.incident, by=by).id}")
    if data.perpetrator is not None:
        parts.append(f"perpetrator:{build_perpetrator(case, data.perpetrator, by=by).id}")
    level = None
    if data.risk_answers is not None:
        assessment = build_assessment(
            case,
            data.risk_answers,
            by=by,
            raised_to=data.risk_raised_to,
            reason=data.risk_reason,
            clock=data.clock_start(call.started_at),  # as the call's other clocks
        )
        level = assessment.level
        parts.append(f"risk:{assessment.id}")
    if data.consents:
        parts.extend(f"consent:{c.id}" for c in build_consents(case, data.consents, by=by))
    if not new_case and "no_contact_request" in dict(data.emergency):
        # The survivor's consent, given in this call or earlier on the case (forms.py checks
        # a call opening a case).
        answer = police_consent(case.consents)
        if answer is not True:
            raise IntakeError(NO_CONTACT_REFUSED if answer is False else NO_CONTACT_UNASKED)
    if data.counselling:
        parts.append(f"note:{build_note(case, data.counselling, by=by, kind='counselling').id}")
    if not new_case and data.services_wanted:
        # Services the survivor asks for in a later call are added to the case's list.
        wanted = case.services_wanted.split()
        added = [code for code in data.services_wanted if code not in wanted]
        if added:
            case.services_wanted = " ".join(wanted + added)
            record_event(case, by=by, kind="edit", new="services_wanted")
            parts.append("services_wanted:" + "+".join(added))
    if data.follow_up_at is not None:
        open_task(case, kind="follow_up_call", due=data.follow_up_at, by=by, by_hand=True)
    # The clocks run from the call's start (a long call, or one written up afterwards, does
    # not move a deadline later), never from a time still to come.
    plan_tasks(
        case, data, by=by, level=level, new_case=new_case, now=data.clock_start(call.started_at)
    )
    if level in ("high", "severe") and "high_risk" not in data.flags:
        call.flags = " ".join([*data.flags, "high_risk"])
    if not new_case:
        case.updated_at = utcnow()
    audit_case("create" if new_case else "update", case, by, detail=" ".join(parts))


def plan_tasks(case: Case, data: Intake, *, by: User, level, new_case: bool, now) -> None:
    """planning.tasks_for_call on the case; a commune notification this call records is the
    case's open one done (a call joining a case)."""
    told_before = frozenset() if new_case else frozenset(danger_told(case))
    if case.is_child or a_child_at_risk([*data.danger, *told_before]):
        restore_child_tasks(case)
    notified = dict(data.emergency).get("commune_chair")
    for task in case.tasks:  # a new case's list is in memory: no statement
        if notified and task.kind == "notify_commune" and task.done_at is None:
            task.done_at, task.done_by_id = notified, by.id
    held = CaseTasks.of((t.kind, t.done_at) for t in case.tasks)
    planned = tasks_for_call(
        danger=data.danger,
        emergency=data.emergency,
        assessed=data.risk_answers is not None,
        level=level,
        child=case.is_child,
        new_case=new_case,
        held=held,
        now=now,
        told_before=told_before,
    )
    for plan in planned:
        task = open_task(case, kind=plan.kind, due=plan.due, by=by)
        if plan.done_at is not None:  # done in this call (the commune chair notified)
            task.done_at, task.done_by_id = plan.done_at, by.id
