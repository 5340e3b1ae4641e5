"""Work queues and case lists, scoped to what the current user may see (app/cases/scope.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Row, Select, and_, exists, func, or_, select, text
from sqlalchemy.orm import aliased

from app.auth.models import User
from app.calls.services import flags_of_cases
from app.cases.models import (
    ACTIVE_STATUSES,
    WATCHED_CHECKS,
    Case,
    CaseEvent,
    Task,
)
from app.cases.scope import case_scope
from app.classifications import CLOSING_DUTIES
from app.clock import first_day, local_day, local_midnight
from app.extensions import db
from app.places.models import Place

# ---- Work queues and case lists ---------------------------------------------------------------
# Every list row holds codes, dates, counts and staff names only: never a sealed column, so a list
# decrypts nothing, stays fast, and is not a read of case content. One statement per list, with
# the open-task figures as correlated subqueries on the task table's case index (no N+1).

QUEUE_LIMIT = 50


@dataclass
class Queue:
    """The first rows of a work list, and how many there are in all."""

    rows: list[Row]
    total: int
    # A task list's cases' flags (calls.services.flags_of_cases): shown beside its call actions.
    flags: dict = field(default_factory=dict)
    # The unassigned list's: the accounts that can no longer work the cases they hold.
    holders: list = field(default_factory=list)

    @property
    def more(self) -> bool:
        """Whether the list goes on beyond the rows shown."""
        return self.total > len(self.rows)


def end_of_local_day(now: datetime) -> datetime:
    """Midnight ending the current day in Vietnam, in UTC ("due today" ends there)."""
    return local_midnight(local_day(now) + timedelta(days=1))


def _open_tasks(column, *conditions):
    """An aggregate over the open tasks of the case of the enclosing row."""
    return (
        select(column)
        .where(Task.case_id == Case.id, Task.done_at.is_(None), *conditions)
        .correlate(Case)
        .scalar_subquery()
    )


def case_rows(now: datetime) -> Select:
    """Case list columns: number, status, dates, codes, place and assignee names, and the earliest
    open task with the number of overdue and due-today tasks. Nothing sealed."""
    assignee, province, commune = aliased(User), aliased(Place), aliased(Place)
    return (
        select(
            Case.id,
            Case.number,
            Case.status,
            Case.opened_at,
            Case.updated_at,
            Case.risk_level,
            Case.is_child,
            Case.province_code,
            Case.commune_code,
            Case.assigned_to_id,
            assignee.full_name.label("assignee_name"),
            province.name.label("province_name"),
            commune.name.label("commune_name"),
            _open_tasks(func.min(Task.due_at)).label("next_due"),
            _open_tasks(func.count(Task.id), Task.due_at < now).label("overdue"),
            _open_tasks(
                func.count(Task.id), Task.due_at >= now, Task.due_at < end_of_local_day(now)
            ).label("due_today"),
        )
        .select_from(Case)
        .outerjoin(assignee, assignee.id == Case.assigned_to_id)
        .outerjoin(province, province.code == Case.province_code)
        .outerjoin(commune, commune.code == Case.commune_code)
    )


def task_rows() -> Select:
    """Open tasks of active cases with their case's number and child flag and the assignee."""
    assignee = aliased(User)
    return (
        select(
            Task.id,
            Task.kind,
            Task.due_at,
            Task.assigned_to_id,
            assignee.full_name.label("assignee_name"),
            Case.id.label("case_id"),
            Case.number.label("case_number"),
            Case.is_child,
            Case.risk_level,
            Case.status.label("case_status"),
            Case.assigned_to_id.label("case_assigned_to_id"),
        )
        .select_from(Task)
        .join(Case, Case.id == Task.case_id)
        .outerjoin(assignee, assignee.id == Task.assigned_to_id)
        .where(Task.done_at.is_(None), Case.status.in_(ACTIVE_STATUSES))
    )


def _queue(user: User, rows: Select, count: Select, limit: int, offset: int = 0) -> Queue:
    """`limit` rows from `offset` on within the user's scope; counted in full only when there
    may be more (or a page beyond the end was asked for)."""
    scope = case_scope(user)
    found = db.session.execute(scope(rows).limit(limit).offset(offset)).all()
    if len(found) < limit and (found or not offset):
        return Queue(found, offset + len(found))
    return Queue(found, db.session.execute(scope(count)).scalar_one())


def _case_queue(user, conditions, order, *, now, limit=QUEUE_LIMIT) -> Queue:
    """The first `limit` cases in order, then their list columns: the columns' subqueries (open
    tasks, names) run for the rows shown only, not for every case the conditions match (with
    tens of thousands of active cases, computing them all before sorting took most of a
    second)."""
    scope = case_scope(user)
    choose = select(Case.id).where(*conditions).order_by(*order)
    first = scope(choose.limit(limit)).subquery()
    rows = case_rows(now).join(first, first.c.id == Case.id).order_by(*order)
    found = db.session.execute(rows).all()
    if len(found) < limit:
        return Queue(found, len(found))
    # count(*), not count(id): the id is not in the indexes, so counting it would read every
    # row; an index that holds the conditions' columns counts alone.
    count = scope(select(func.count()).select_from(Case).where(*conditions))
    return Queue(found, db.session.execute(count).scalar_one())


def _task_queue(user, conditions, *, limit=QUEUE_LIMIT, offset=0) -> Queue:
    rows = task_rows().where(*conditions).order_by(Task.due_at, Task.id)
    count = (
        select(func.count(Task.id))
        .select_from(Task)
        .join(Case, Case.id == Task.case_id)
        .where(Task.done_at.is_(None), Case.status.in_(ACTIVE_STATUSES), *conditions)
    )
    queue = _queue(user, rows, count, limit, offset)
    # Flags are shown wherever a contact is offered ("Follow-up call", "Mark done"): the shown
    # rows' cases' flags, in one statement.
    queue.flags = flags_of_cases(list({row.case_id for row in queue.rows}))
    return queue


def cases_opened_recently(user: User, *, now: datetime, days: int = 14) -> Queue:
    """The operator's cases opened in the last `days` days, newest first: from the start of the
    first day in Vietnam, as the search its "see them all" link opens counts them."""
    conditions = [
        Case.opened_by_id == user.id,
        Case.opened_at >= local_midnight(first_day(now, days)),
        Case.erased_at.is_(None),
    ]
    return _case_queue(user, conditions, [Case.opened_at.desc()], now=now)


def my_cases(user: User, *, now: datetime) -> Queue:
    """Active cases assigned to the user, the one with the earliest open task first: each of
    their active cases' next task is looked up through the task's case index (a case manager
    holds tens of cases; gathering the organisation's open tasks instead read tens of
    thousands at 1,000,000 cases)."""
    conditions = [
        Case.assigned_to_id == user.id,
        Case.organisation_id == user.organisation_id,
        Case.status.in_(ACTIVE_STATUSES),
    ]
    order = [_open_tasks(func.min(Task.due_at)).asc().nulls_last(), Case.opened_at]
    return _case_queue(user, conditions, order, now=now)


def unable_to_work(organisation_id: int):
    """Accounts that can no longer work this organisation's cases: disabled, moved to another
    organisation, or no longer a case manager or supervisor (few, whatever the database size)."""
    return select(User.id).where(
        or_(
            User.active.is_(False),
            User.organisation_id.is_distinct_from(organisation_id),
            User.role.not_in(("case_manager", "supervisor")),
        )
    )


def stranded_holders(organisation_id: int, statuses=ACTIVE_STATUSES) -> list[int]:
    """The accounts that can no longer work this organisation's cases (unable_to_work) and
    still hold some in these statuses (None: any): usually none. Found account by account
    (one index probe each, on ix_case_assigned_queue), so the cases are then read through
    these few accounts; asked as one query, the database walked the organisation's active
    cases, or all its cases, checking each assignee against the list of every account of
    every other organisation."""
    held = [Case.assigned_to_id == User.id, Case.organisation_id == organisation_id]
    if statuses is not None:
        held.append(Case.status.in_(statuses))
    holds = exists(select(Case.id).where(*held))
    return list(db.session.execute(unable_to_work(organisation_id).where(holds)).scalars())


def unassigned_cases(user: User, *, now: datetime) -> Queue:
    """Active cases of the organisation no one works: those assigned to someone who can no
    longer work them (disabled, moved, another role) and those never assigned, oldest first
    together (a leaver's caseload must not push a waiting child's case off the list). Two
    lists, each walked in order along ix_case_assigned_queue (one query with OR would gather
    and sort every unassigned case before taking the first), merged by opening time."""
    active = [Case.organisation_id == user.organisation_id, Case.status.in_(ACTIVE_STATUSES)]
    holders = stranded_holders(user.organisation_id)
    stranded = Queue([], 0)
    if holders:
        stranded = _case_queue(
            user, [Case.assigned_to_id.in_(holders), *active], [Case.opened_at], now=now
        )
    never = _case_queue(user, [Case.assigned_to_id.is_(None), *active], [Case.opened_at], now=now)
    rows = sorted(stranded.rows + never.rows, key=lambda row: row.opened_at)[:QUEUE_LIMIT]
    return Queue(rows, stranded.total + never.total, holders=holders)


def open_duties():
    """A case row's count of open duties of law (a closure waits on them: services.duties_open),
    correlated on the task table's `case_id` index."""
    return (
        select(func.count(Task.id))
        .where(Task.case_id == Case.id, Task.done_at.is_(None), Task.kind.in_(CLOSING_DUTIES))
        .correlate(Case)
        .scalar_subquery()
    )


def pending_closure(user: User, *, now: datetime) -> Queue:
    """Cases of the organisation waiting for a supervisor to approve their closure, with when and
    by whom closure was asked, and how many duties of law are still open on each (the closure
    waits on them: services.duties_open); the longest waiting first."""
    asked = (
        select(CaseEvent.at, CaseEvent.by_id)
        .where(
            CaseEvent.case_id == Case.id,
            CaseEvent.kind == "status",
            CaseEvent.to_value == "pending_closure",
        )
        .order_by(CaseEvent.at.desc())
        .limit(1)
        .correlate(Case)
    )
    asked_at = asked.with_only_columns(CaseEvent.at).scalar_subquery()
    asker = aliased(User)
    asked_by = asked.with_only_columns(CaseEvent.by_id).scalar_subquery()
    rows = (
        case_rows(now)
        .add_columns(
            asked_at.label("asked_at"),
            asker.full_name.label("asked_by_name"),
            open_duties().label("duties"),
        )
        .outerjoin(asker, asker.id == asked_by)
        .where(Case.organisation_id == user.organisation_id, Case.status == "pending_closure")
        .order_by(asked_at.asc().nulls_first(), Case.opened_at)
    )
    count = select(func.count(Case.id)).where(
        Case.organisation_id == user.organisation_id, Case.status == "pending_closure"
    )
    return _queue(user, rows, count, QUEUE_LIMIT)


def overdue_tasks(user: User, *, now: datetime, **page) -> Queue:
    """Open tasks of the organisation's active cases past their due time, most overdue first
    (`page`: limit and offset, for the full list's pages)."""
    conditions = [Task.organisation_id == user.organisation_id, Task.due_at < now]
    return _task_queue(user, conditions, **page)


def child_deadlines(user: User, **page) -> Queue:
    """Open 12-hour checks of law of the organisation's cases, the nearest deadline first: a
    child survivor's, or a child involved in an adult's case (the case is then not flagged a
    child's, the check is the child's all the same), and a prohibition-of-contact request's
    (WATCHED_CHECKS: held by supervisors until given to someone)."""
    conditions = [
        # Spelled as ix_task_watched_open's condition, in literals, so the planner may use it
        # (a bound parameter would not prove the index covers the query). The organisation is
        # the case's, from the scope: with the task's too, SQLite walked all the
        # organisation's open tasks instead.
        text("task.kind IN ('child_12h', 'no_contact_12h') AND task.done_at IS NULL"),
    ]
    return _task_queue(user, conditions, **page)


def due_tasks(user: User, **page) -> Queue:
    """Open tasks for the user, soonest first: those assigned to them and, for an operator, the
    unassigned tasks of the cases they opened and those they planned themselves (a call-back
    on a colleague's case), but for the 12-hour checks of law, the supervisors' to hand out
    (the same rule as casework.may_complete). A supervisor who takes calls too finds the
    tasks they planned by hand (Task.by_hand: a call-back, a safety re-assessment, the commune
    notified...) on a case no one manages yet (until it has a manager no one else's list holds
    them before they are overdue); not the tasks a call or an import sets going (planned under
    the importing supervisor's name, a register's would fill their list), which wait on the
    unassigned cases' list with their case."""
    mine = Task.assigned_to_id == user.id
    if user.role == "operator":
        unassigned_of_mine = or_(Case.opened_by_id == user.id, Task.created_by_id == user.id)
        unassigned = and_(Task.assigned_to_id.is_(None), Task.kind.not_in(WATCHED_CHECKS))
        mine = or_(mine, and_(unassigned, unassigned_of_mine))
    elif user.role == "supervisor":
        planned = and_(
            Task.created_by_id == user.id,
            Task.assigned_to_id.is_(None),
            Task.by_hand.is_(True),
        )
        mine = or_(mine, planned)
    return _task_queue(user, [mine], **page)


def workload(user: User, *, now: datetime) -> list[Row]:
    """The organisation's active case managers with their active cases and overdue tasks, the
    least loaded first: whom to assign to."""
    active_cases = (
        select(func.count(Case.id))
        .where(
            Case.assigned_to_id == User.id,
            Case.organisation_id == user.organisation_id,  # none held elsewhere is counted
            Case.status.in_(ACTIVE_STATUSES),
        )
        .correlate(User)
        .scalar_subquery()
    )
    late = (
        select(func.count(Task.id))
        .join(Case, Case.id == Task.case_id)
        .where(
            Task.assigned_to_id == User.id,
            Task.done_at.is_(None),
            Task.due_at < now,
            Case.organisation_id == user.organisation_id,
            Case.status.in_(ACTIVE_STATUSES),
        )
        .correlate(User)
        .scalar_subquery()
    )
    stmt = (
        select(User.id, User.full_name, active_cases.label("cases"), late.label("overdue"))
        .where(
            User.organisation_id == user.organisation_id,
            User.role == "case_manager",
            User.active.is_(True),
        )
        .order_by(active_cases, User.full_name)
    )
    return list(db.session.execute(stmt).all())
