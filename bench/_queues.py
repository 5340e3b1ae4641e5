"""The work queues' figures for bench/intake.py: each home page's lists, timed on the filled
database as the pages ask for them (app/home/views.py), for the measured hotline's operator, one of
its case managers and its supervisor. Server time of the queries, not of the page's rendering."""

from __future__ import annotations

import statistics
import time

from sqlalchemy import func, select

from app.auth.models import User
from app.calls.queries import calls_taken, recent_calls
from app.cases import queries
from app.cases.models import ACTIVE_STATUSES, Case
from app.clock import first_day, local_midnight, utcnow
from app.extensions import db

RECENT_DAYS = 14  # app/home/views.py

LISTS = {
    "operator": {
        "tasks due": lambda user, now: queries.due_tasks(user),
        "calls of the last days": lambda user, now: recent_calls(user, now=now),
        "cases opened in 14 days": lambda user, now: queries.cases_opened_recently(
            user, now=now, days=RECENT_DAYS
        ),
        # The full lists behind "See them all" and "All my calls" (not on the home page).
        "(full list) my tasks, page 2": lambda user, now: queries.due_tasks(
            user, limit=50, offset=50
        ),
        "(full list) all my calls, page 1": lambda user, now: calls_taken(user, page=1),
    },
    "case_manager": {
        "my cases, by next task": lambda user, now: queries.my_cases(user, now=now),
        "tasks due": lambda user, now: queries.due_tasks(user),
    },
    "supervisor": {
        "child deadlines": lambda user, now: queries.child_deadlines(user),
        "overdue tasks": lambda user, now: queries.overdue_tasks(user, now=now),
        "unassigned cases": lambda user, now: queries.unassigned_cases(user, now=now),
        "closures to approve": lambda user, now: queries.pending_closure(user, now=now),
        "tasks due": lambda user, now: queries.due_tasks(user),
        "case managers' workload": lambda user, now: queries.workload(user, now=now),
    },
}


def _size(found) -> str:
    """How many rows a list gave, and of how many."""
    if isinstance(found, tuple):  # recent_calls: (rows, total)
        rows, total = found
        return f"{len(rows)} of {total}"
    if isinstance(found, list):
        return str(len(found))
    return f"{len(found.rows)} of {found.total}"


def people(email: str) -> dict[str, User]:
    """The measured operator, the first case manager and the supervisor of their hotline."""
    operator = db.session.execute(select(User).filter_by(email=email)).scalar_one()

    def first(role):
        return (
            db.session.execute(
                select(User)
                .filter_by(role=role, organisation_id=operator.organisation_id)
                .order_by(User.id)
            )
            .scalars()
            .first()
        )

    return {
        "operator": operator,
        "case_manager": first("case_manager"),
        "supervisor": first("supervisor"),
    }


def measure(app, email: str, runs: int) -> list[tuple[str, str, str, float, float]]:
    """(role, list, rows, median ms, p95 ms) for every list, and a total per home page."""
    out = []
    with app.app_context():
        users = people(email)
        for role, lists in LISTS.items():
            user = users[role]
            if user is None:
                continue
            page = []
            for name, fetch in lists.items():
                samples, size = [], ""
                for _ in range(runs):
                    now = utcnow()
                    start = time.perf_counter()
                    found = fetch(user, now)
                    samples.append((time.perf_counter() - start) * 1000)
                    size = _size(found)
                    db.session.rollback()
                if not name.startswith("(full list)"):  # another page than the home page
                    page.append(samples)
                out.append((role, name, size, statistics.median(samples), _p95(samples)))
            totals = [sum(parts) for parts in zip(*page, strict=True)]
            out.append(
                (role, "**the page's lists together**", "", statistics.median(totals), _p95(totals))
            )
        out.append(("", "", _held(users), 0.0, 0.0))
    return out


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] if len(samples) > 1 else samples[0]


def _held(users: dict[str, User]) -> str:
    """What the measured people hold: the case manager's active cases, the hotline's active and
    unassigned cases."""
    org = users["operator"].organisation_id
    active = (
        select(func.count())
        .select_from(Case)
        .where(Case.organisation_id == org, Case.status.in_(ACTIVE_STATUSES))
    )
    total = db.session.execute(active).scalar_one()
    unassigned = db.session.execute(active.where(Case.assigned_to_id.is_(None))).scalar_one()
    held = 0
    if users["case_manager"] is not None:
        held = db.session.execute(
            active.where(Case.assigned_to_id == users["case_manager"].id)
        ).scalar_one()
    recent = db.session.execute(
        select(func.count())
        .select_from(Case)
        .where(
            Case.opened_by_id == users["operator"].id,
            Case.opened_at >= local_midnight(first_day(utcnow(), RECENT_DAYS)),
        )
    ).scalar_one()
    return (
        f"the hotline holds {total:,} active cases, {unassigned:,} of them unassigned; the case "
        f"manager {held:,}; the operator opened {recent:,} in the last {RECENT_DAYS} days"
    )


def report(rows) -> None:
    """The queue table, under the intake table."""
    print("Work queues, as the home pages ask for them (queries only, server time):")
    print("| home page | list | rows shown | median ms | p95 ms |")
    print("|---|---|---|---|---|")
    for role, name, size, median, p95 in rows:
        if not role:
            print(f"({size})")
            continue
        print(f"| {role} | {name} | {size} | {median:.2f} | {p95:.2f} |")
