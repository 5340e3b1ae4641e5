"""Work queues: each role's lists hold the right rows and nothing out of scope; tasks are marked
done and cases assigned from the queues, by the right people only, with their audit entries."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.audit import AuditEntry
from app.calls.intake import Intake, Survivor, save_intake
from app.cases import queries
from app.cases import services as cases
from app.cases.casework import complete_task
from app.cases.models import Case, Task
from app.cases.queue_views import due_in
from app.cases.search import CaseFilters, search_cases
from app.clock import LOCAL, first_day, utcnow
from app.extensions import db
from tests.cases.test_import import run as run_import
from tests.conftest import sign_in


def row_of(html: str, text: str) -> str:
    """The table row of a page holding `text` (a case number), or ''."""
    for row in re.findall(r"<tr\b.*?</tr>", html, flags=re.S):
        if text in row:
            return row
    return ""


def table(html: str, table_id: str) -> str:
    """The markup of one table of a page."""
    match = re.search(rf'<table id="{table_id}".*?</table>', html, flags=re.S)
    assert match, f"no table {table_id}"
    return match.group(0)


@pytest.fixture
def world(make_org, make_user):
    """Two hotlines; in the first two operators, two case managers and a supervisor. Cases:
    `adult` (op1, cm1, an overdue follow-up), `child` (op1, unassigned, 12-hour path), `closing`
    (op2, cm2, pending closure), `other` (second hotline, a child, unassigned)."""
    org_a, org_b = make_org(code="HA"), make_org(code="HB")

    def person(role, org, **kw):
        return make_user(role, organisation=org, language="en", **kw)

    p = {
        "op1": person("operator", org_a),
        "op2": person("operator", org_a),
        "cm1": person("case_manager", org_a, full_name="Lê Quản Lý Một"),
        "cm2": person("case_manager", org_a, full_name="Trần Quản Lý Hai"),
        "sup": person("supervisor", org_a),
        "admin": person("admin", org_a),
        "op_b": person("operator", org_b),
        "cm_b": person("case_manager", org_b),
        "sup_b": person("supervisor", org_b),
    }
    now = utcnow()

    def intake(by, **kw):
        return save_intake(data=Intake(reason="violence_report", **kw), by=by)

    # The adults' calls record the commune chair notified (the task is done as it is planned);
    # the children's fill in the checklist with nothing ticked (no risk assessment to plan).
    notified = [("commune_chair", now - timedelta(hours=3))]
    adult = intake(
        p["op1"],
        survivor=Survivor(name="Nguyễn Thị Người Lớn", age=34),
        follow_up_at=now - timedelta(hours=2, minutes=5),
        emergency=notified,
    ).case
    child = intake(
        p["op1"], survivor=Survivor(name="Bé Thử", age=9), danger=["danger_now"], risk_answers=[]
    ).case
    closing = intake(
        p["op2"], survivor=Survivor(name="Người Đóng Ca", age=40), emergency=notified
    ).case
    other = intake(
        p["op_b"], survivor=Survivor(name="Bé Khác", age=8), danger=["injured"], risk_answers=[]
    ).case
    info = save_intake(data=Intake(reason="information", started_at=now), by=p["op1"]).call
    cases.assign_case(case=adult, to=p["cm1"], by=p["sup"])
    cases.assign_case(case=closing, to=p["cm2"], by=p["sup"])
    cases.change_status(case=closing, to="pending_closure", by=p["cm2"])
    c = {"adult": adult, "child": child, "closing": closing, "other": other}
    return p, c, info


def page(client, user, url):
    """A page as `user` sees it, through a browser of their own."""
    browser = client.application.test_client()
    sign_in(browser, user)
    response = browser.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_operator_desk_lists_own_calls_cases_and_tasks(client, world):
    p, c, info = world
    html = page(client, p["op1"], "/home/operator")
    recent = table(html, "recent-cases")
    assert c["adult"].number in recent and c["child"].number in recent
    assert c["closing"].number not in html and c["other"].number not in html
    calls = table(html, "recent-calls")
    assert "Information request" in calls and "Violence report" in calls
    assert calls.count("<tr") == 1 + 3  # header, two violence reports, the information call
    tasks = table(html, "due-tasks")
    # The child case is unassigned: its tasks are the opener's to see; the adult's follow-up
    # belongs to its case manager now.
    assert "Notify the commune" in tasks
    assert c["child"].number in tasks and c["adult"].number not in tasks
    assert "Nguyễn Thị Người Lớn" not in html and "Bé Thử" not in html  # nothing sealed


def test_another_operator_sees_only_their_own(client, world):
    p, c, _ = world
    html = page(client, p["op2"], "/home/operator")
    assert c["closing"].number in table(html, "recent-cases")
    for key in ("adult", "child", "other"):
        assert c[key].number not in html


def test_case_manager_sees_their_cases_with_overdue_counts(client, world):
    p, c, _ = world
    html = page(client, p["cm1"], "/home/case-manager")
    mine = row_of(table(html, "my-cases"), c["adult"].number)
    assert mine and "1 overdue" in mine and "2 h overdue" in mine
    assert 'class="is-overdue' in mine
    tasks = table(html, "due-tasks")
    assert "Follow-up call" in tasks and c["adult"].number in tasks
    call_back = row_of(tasks, c["adult"].number)
    assert "Read the safe-contact instructions before calling" in call_back
    assert f"/cases/{c['adult'].id}#safe-h" in call_back
    for key in ("child", "closing", "other"):
        assert c[key].number not in html
    other = page(client, p["cm2"], "/home/case-manager")
    assert c["closing"].number in other and c["adult"].number not in other


def test_supervisor_queues(client, world):
    p, c, _ = world
    html = page(client, p["sup"], "/home/supervisor")
    child_row = row_of(table(html, "child-deadlines"), c["child"].number)
    assert child_row and "Child" in child_row and re.search(r"in 1[01] h", child_row)
    # Acting on a child at serious risk means reaching them: the instructions come first.
    assert f"/cases/{c['child'].id}#safe-h" in child_row
    overdue = table(html, "overdue-tasks")
    assert c["adult"].number in overdue and c["child"].number in overdue  # follow-up, notify
    assert "2 h overdue" in row_of(overdue, c["adult"].number)
    unassigned = table(html, "unassigned-cases")
    assert c["child"].number in unassigned and c["adult"].number not in unassigned
    assert "Child" in row_of(unassigned, c["child"].number)
    closing = table(html, "pending-closure")
    assert c["closing"].number in closing and "Trần Quản Lý Hai" in closing
    workload = table(html, "workload")
    assert "Lê Quản Lý Một" in workload and "Trần Quản Lý Hai" in workload
    assert c["other"].number not in html
    # Reference content stays, after the queues.
    assert html.index('id="child-deadlines"') < html.index('id="auth-events"')
    assert "Legal deadlines" in html
    other = page(client, p["sup_b"], "/home/supervisor")
    assert c["other"].number in table(other, "child-deadlines")
    for key in ("adult", "child", "closing"):
        assert c[key].number not in other


def test_a_prohibition_of_contact_check_waits_on_the_12_hour_list(client, world):
    """The commune chair decides a prohibition of contact within 12 hours (Law 13/2022): the
    check, which the operator does not hold, is on the supervisors' 12-hour list while its hours
    run (it was on no list until overdue), beside the children's."""
    p, c, _ = world
    now = utcnow()
    adult = save_intake(
        data=Intake(
            reason="violence_report",
            survivor=Survivor(name="Chị Mai", age=30),
            emergency=[("no_contact_request", now - timedelta(hours=1)), ("commune_chair", now)],
        ),
        by=p["op1"],
    ).case
    check = next(t for t in adult.tasks if t.kind == "no_contact_12h")
    assert check.assigned_to_id is None and check.due_at > now
    sign_in(client, p["sup"])  # one browser: a second sign-in would reuse the one-time code
    html = client.get("/home/supervisor").get_data(as_text=True)
    row = row_of(table(html, "child-deadlines"), adult.number)
    assert row and "Prohibition of contact" in row and "Child" not in row
    assert row_of(table(html, "child-deadlines"), c["child"].number)  # the child's still there
    full = client.get("/cases/tasks?list=child").get_data(as_text=True)
    assert adult.number in full and c["child"].number in full


def test_the_workload_counts_only_the_organisations_own_cases(world):
    """A case of another hotline still assigned to one of ours (left with them when they moved,
    then reopened there) is not counted, nor shown, on our supervisor's page."""
    p, c, _ = world
    adult = c["adult"]
    adult.assigned_to_id = p["cm_b"].id
    for task in adult.tasks:
        task.assigned_to_id = p["cm_b"].id
    db.session.commit()
    rows = {row.id: row for row in queries.workload(p["sup_b"], now=utcnow())}
    assert (rows[p["cm_b"].id].cases, rows[p["cm_b"].id].overdue) == (0, 0)
    rows = {row.id: row for row in queries.workload(p["sup"], now=utcnow())}
    assert rows[p["cm1"].id].cases == 0  # no longer theirs


def test_the_queries_leave_closed_and_done_work_out(world):
    p, c, _ = world
    now = utcnow()
    notify = next(t for t in c["child"].tasks if t.kind == "notify_commune")
    complete_task(task=notify, by=p["sup"], note="Đã báo chủ tịch UBND xã")
    overdue = queries.overdue_tasks(p["sup"], now=now)
    assert {r.kind for r in overdue.rows} == {"follow_up_call"}
    cases.change_status(case=c["closing"], to="closed", by=p["sup"])
    assert queries.pending_closure(p["sup"], now=now).total == 0
    assert [r.number for r in queries.my_cases(p["cm2"], now=now).rows] == []


def test_a_queue_shows_its_first_rows_and_counts_the_rest(world):
    p, c, _ = world
    queue = queries._task_queue(
        p["sup"], [Task.organisation_id == p["sup"].organisation_id], limit=2
    )
    assert len(queue.rows) == 2 and queue.total == 3 and queue.more


@pytest.mark.parametrize(
    "minutes, text",
    [
        (0.2, "due now"),
        (30, "in 30 min"),
        (-45, "45 min overdue"),
        (3 * 60 + 10, "in 3 h"),
        (-(2 * 60 + 59), "2 h overdue"),
        (3 * 24 * 60, "in 3 days"),
        (-5 * 24 * 60, "5 days overdue"),
    ],
)
def test_due_times_read_plainly(app, minutes, text):
    now = utcnow()
    with app.test_request_context(), force_locale("en"):
        assert due_in(now + timedelta(minutes=minutes), now) == text


# ---- marking a task done from a queue ---------------------------------------------------------


def _task(case, kind):
    return db.session.execute(
        select(Task).where(Task.case_id == case.id, Task.kind == kind)
    ).scalar_one()


def test_a_task_is_marked_done_by_who_may_see_its_case(client, world):
    p, c, _ = world
    for who, case_key, kind in (
        ("cm1", "adult", "follow_up_call"),  # its case manager
        ("sup", "child", "child_12h"),  # the organisation's supervisor
        ("op1", "child", "notify_commune"),  # the operator who opened the case
    ):
        task = _task(c[case_key], kind)
        browser = client.application.test_client()
        sign_in(browser, p[who])
        said = {"note": "Đã làm xong"}  # a duty of law is marked done with what was done
        response = browser.submit(f"/cases/tasks/{task.id}/done", said, page="/auth/account")
        assert response.status_code == 302, who
        db.session.expire_all()
        done = db.session.get(Task, task.id)
        assert done.done_at is not None and done.done_by_id == p[who].id
        entry = (
            db.session.execute(
                select(AuditEntry)
                .where(AuditEntry.action == "update")
                .order_by(AuditEntry.id.desc())
            )
            .scalars()
            .first()
        )
        assert entry.detail == f"task:{task.id} done" and entry.user_id == p[who].id
        assert entry.case_id == c[case_key].id
        html = browser.get(response.location).get_data(as_text=True)
        assert "Task marked done on case" in html and task.id.hex not in html.replace("-", "")


def test_others_cannot_mark_a_task_done(client, world):
    p, c, _ = world
    task = _task(c["adult"], "follow_up_call")
    for who in ("op2", "cm2", "sup_b", "cm_b"):
        browser = client.application.test_client()
        sign_in(browser, p[who])
        response = browser.submit(f"/cases/tasks/{task.id}/done", page="/auth/account")
        assert response.status_code == 404, who
        denied = db.session.execute(
            select(AuditEntry).where(AuditEntry.action == "denied", AuditEntry.user_id == p[who].id)
        ).scalar_one()
        assert denied.object_type == "task" and denied.object_id == str(task.id)
        assert denied.case_id == c["adult"].id
        assert denied.organisation_id == c["adult"].organisation_id
    db.session.expire_all()
    assert db.session.get(Task, task.id).done_at is None


def test_an_operator_cannot_tick_off_the_case_managers_task(client, world):
    """The 12-hour check of a child, handed to the case manager with the case, is not the
    operator's who opened it: no button on the case page, and a post is a denied 403."""
    p, c, _ = world
    cases.assign_case(case=c["child"], to=p["cm1"], by=p["sup"])
    task = _task(c["child"], "child_12h")
    assert task.assigned_to_id == p["cm1"].id
    sign_in(client, p["op1"])
    page = client.get(f"/cases/{c['child'].id}").get_data(as_text=True)
    assert f"/cases/tasks/{task.id}/done" not in page
    response = client.submit(f"/cases/tasks/{task.id}/done", page="/auth/account")
    assert response.status_code == 403
    denied = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "denied", AuditEntry.user_id == p["op1"].id)
    ).scalar_one()
    assert denied.object_type == "case" and denied.detail == f"task:{task.id}; not theirs"
    assert denied.case_id == c["child"].id
    db.session.expire_all()
    assert db.session.get(Task, task.id).done_at is None
    manager = client.application.test_client()
    sign_in(manager, p["cm1"])
    assert manager.submit(f"/cases/tasks/{task.id}/done", page="/auth/account").status_code == 302


def test_an_operator_cannot_tick_off_the_12_hour_check_of_a_case_not_yet_assigned(client, world):
    """Before anyone is assigned, the child's 12-hour check is the supervisors' to hand out: not
    on the operator's list, no button, a post refused; their other unassigned tasks stay theirs."""
    p, c, _ = world
    check = _task(c["child"], "child_12h")
    assert check.assigned_to_id is None and c["child"].opened_by_id == p["op1"].id
    mine = [t.id for t in queries.due_tasks(p["op1"]).rows]
    assert check.id not in mine and _task(c["child"], "notify_commune").id in mine
    sign_in(client, p["op1"])
    page = client.get(f"/cases/{c['child'].id}").get_data(as_text=True)
    assert f"/cases/tasks/{check.id}/done" not in page
    refused = client.submit(f"/cases/tasks/{check.id}/done", page="/auth/account")
    assert refused.status_code == 403
    db.session.expire_all()
    assert db.session.get(Task, check.id).done_at is None


def test_admins_cannot_reach_tasks_and_gets_are_refused(client, world):
    p, c, _ = world
    task = _task(c["adult"], "follow_up_call")
    sign_in(client, p["admin"])
    assert client.submit(f"/cases/tasks/{task.id}/done", page="/auth/account").status_code == 403
    browser = client.application.test_client()
    sign_in(browser, p["cm1"])
    assert browser.get(f"/cases/tasks/{task.id}/done").status_code == 405


def test_an_unknown_task_is_a_denied_404(client, world):
    p, _, _ = world
    sign_in(client, p["cm1"])
    missing = "00000000-0000-7000-8000-000000000000"
    assert client.submit(f"/cases/tasks/{missing}/done", page="/auth/account").status_code == 404
    denied = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "denied")
    ).scalar_one()
    assert denied.object_id == missing and denied.case_id is None


# ---- assigning from a queue ------------------------------------------------------------------


def test_a_supervisor_assigns_an_unassigned_case(client, world):
    p, c, _ = world
    sign_in(client, p["sup"])
    response = client.submit(
        f"/cases/{c['child'].id}/assign", {"assignee": p["cm2"].id}, page="/home/supervisor"
    )
    assert response.status_code == 302 and response.location == "/home/supervisor"
    db.session.expire_all()
    case = db.session.get(Case, c["child"].id)
    assert case.assigned_to_id == p["cm2"].id
    assert {t.assigned_to_id for t in case.tasks} == {p["cm2"].id}  # its open tasks follow
    entry = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "assign", AuditEntry.case_id == case.id)
    ).scalar_one()
    assert entry.user_id == p["sup"].id
    assert entry.detail == f"user:{p['cm2'].id} open>in_support"  # an open case is in support
    moved = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "status", AuditEntry.case_id == case.id)
    ).scalar_one()  # the move of status is found among the status changes too
    assert (moved.user_id, moved.detail) == (p["sup"].id, "open>in_support assign")
    html = client.get("/home/supervisor").get_data(as_text=True)
    assert f"Case {case.number} is now assigned to Trần Quản Lý Hai." in html
    assert case.number not in table(html, "unassigned-cases")


def test_a_supervisor_reassigns_a_case(client, world):
    p, c, _ = world
    sign_in(client, p["sup"])
    client.submit(f"/cases/{c['adult'].id}/assign", {"assignee": p["cm2"].id}, page="/auth/account")
    db.session.expire_all()
    assert db.session.get(Case, c["adult"].id).assigned_to_id == p["cm2"].id
    html = page(client, p["cm2"], "/home/case-manager")
    assert c["adult"].number in table(html, "my-cases")


def test_an_assignment_to_the_wrong_person_is_refused_in_the_users_language(
    client, world, make_user
):
    p, c, _ = world
    p["sup"].language = "vi"
    gone = make_user("case_manager", organisation=p["sup"].organisation)
    gone.active = False
    db.session.commit()
    with force_locale("vi"):
        expected = str(_l("Choose an active case manager of this organisation."))
    sign_in(client, p["sup"])
    # A crafted id no integer column holds (the database refused it: a server error), or a
    # digit only to Python, is no one as well.
    crafted = ("99999999999999999999", "²")
    never_offered = (p["cm_b"].id, 999_999, "x", *crafted)
    for assignee in (*never_offered, gone.id, p["op1"].id, ""):
        response = client.submit(
            f"/cases/{c['child'].id}/assign", {"assignee": assignee}, page="/auth/account"
        )
        if assignee in never_offered:  # a denied attempt, answered alike whether the account
            assert response.status_code == 404  # is another hotline's or is no one's
            continue
        assert response.status_code == 302
        html = client.get(response.location).get_data(as_text=True)
        assert "flash-error" in html and expected.replace("'", "&#39;") in html, assignee
        db.session.expire_all()
        assert db.session.get(Case, c["child"].id).assigned_to_id is None
    denied = db.session.execute(
        select(AuditEntry.detail)
        .where(AuditEntry.case_id == c["child"].id, AuditEntry.action == "denied")
        .order_by(AuditEntry.id)
    ).scalars()
    # Handing the case to another hotline's account is an attempt on need-to-know: audited,
    # as is an id no page offered.
    assert list(denied) == [
        f"assign user:{p['cm_b'].id}",
        "assign user:999999",
        *["assign user:?"] * 3,
    ]


def test_a_closed_case_cannot_be_assigned(client, world):
    p, c, _ = world
    cases.change_status(case=c["closing"], to="closed", by=p["sup"])
    sign_in(client, p["sup"])
    client.submit(
        f"/cases/{c['closing'].id}/assign", {"assignee": p["cm1"].id}, page="/auth/account"
    )
    html = client.get("/home/supervisor").get_data(as_text=True)
    assert "This case is closed and cannot be changed" in html
    # A page drawn before the closure (and before a colleague took the case meanwhile) is told
    # the case is closed, not that it changed hands.
    client.submit(
        f"/cases/{c['closing'].id}/assign",
        {"assignee": p["cm1"].id, "expected": ""},
        page="/auth/account",
    )
    html = client.get("/home/supervisor").get_data(as_text=True)
    assert "This case is closed and cannot be changed" in html and "meanwhile" not in html
    db.session.expire_all()
    assert db.session.get(Case, c["closing"].id).assigned_to_id == p["cm2"].id


def test_another_organisations_supervisor_gets_a_denied_404(client, world):
    p, c, _ = world
    sign_in(client, p["sup_b"])
    response = client.submit(
        f"/cases/{c['child'].id}/assign", {"assignee": p["cm_b"].id}, page="/home/supervisor"
    )
    assert response.status_code == 404
    denied = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "denied", AuditEntry.user_id == p["sup_b"].id)
    ).scalar_one()
    assert denied.object_type == "case" and denied.case_id == c["child"].id
    assert denied.organisation_id == c["child"].organisation_id
    db.session.expire_all()
    assert db.session.get(Case, c["child"].id).assigned_to_id is None


def test_only_supervisors_assign(client, world):
    p, c, _ = world
    for who in ("cm1", "op1", "admin"):
        browser = client.application.test_client()
        sign_in(browser, p[who])
        response = browser.submit(
            f"/cases/{c['child'].id}/assign", {"assignee": p["cm1"].id}, page="/auth/account"
        )
        assert response.status_code == 403, who
    db.session.expire_all()
    assert db.session.get(Case, c["child"].id).assigned_to_id is None


def test_a_case_manager_moved_to_another_hotline_no_longer_sees_its_cases(client, world):
    """The case stays assigned to them (a closed one is not checked on a move); they no longer
    see it, and the old hotline's supervisor finds it among the cases without a case manager."""
    p, c, _ = world
    p["cm1"].organisation_id = p["sup_b"].organisation_id
    db.session.commit()
    sign_in(client, p["cm1"])
    assert client.get(f"/cases/{c['adult'].id}").status_code == 404
    assert c["adult"].number not in client.get("/home/case-manager").get_data(as_text=True)
    html = page(client, p["sup"], "/home/supervisor")
    assert c["adult"].number in table(html, "unassigned-cases")
    assert "can no longer work this case" in row_of(
        table(html, "unassigned-cases"), c["adult"].number
    )


def test_a_disabled_case_managers_cases_go_back_to_the_supervisor(client, world):
    p, c, _ = world
    p["cm1"].active = False
    db.session.commit()
    sign_in(client, p["sup"])
    html = client.get("/home/supervisor").get_data(as_text=True)
    row = row_of(table(html, "unassigned-cases"), c["adult"].number)
    assert row and f'name="expected" value="{p["cm1"].id}"' in row
    found = client.get("/cases/search", query_string={"assignee": "none", "status": "active"})
    assert c["adult"].number in found.get_data(as_text=True)  # "see them all" shows it too
    response = client.submit(  # assigned again from that row
        f"/cases/{c['adult'].id}/assign",
        {"assignee": p["cm2"].id, "expected": str(p["cm1"].id)},
        page="/home/supervisor",
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Case, c["adult"].id).assigned_to_id == p["cm2"].id


def test_cases_waiting_for_a_case_manager_come_oldest_first_whoever_left_them(
    client, world, monkeypatch
):
    """A case manager who leaves may hold a whole caseload: listed before the cases never
    assigned, it pushed an older child's case off the list (only in the count)."""
    from app.cases import queries

    p, c, _ = world
    c["child"].opened_at = c["adult"].opened_at - timedelta(hours=1)
    p["cm1"].active = False  # holds the adult's case
    db.session.commit()
    monkeypatch.setattr(queries, "QUEUE_LIMIT", 1)
    html = page(client, p["sup"], "/home/supervisor")
    shown = table(html, "unassigned-cases")
    assert c["child"].number in shown and c["adult"].number not in shown


def test_a_case_manager_moved_away_since_the_page_was_drawn_is_said_not_refused(
    client, world, make_org, make_user
):
    """Offered by the supervisor's page, then moved to another hotline by an admin: picked,
    the page comes back saying to choose an active case manager, as for one just disabled; no
    refusal is written against the supervisor, who probed nothing."""
    from app.admin import services as admin_services

    p, c, _ = world
    leaving = make_user("case_manager", organisation=p["cm2"].organisation)
    admin = make_user("admin", organisation=p["cm2"].organisation)
    admin_services.update_user(
        by=admin, user=leaving, email=leaving.email, full_name=leaving.full_name,
        role="case_manager", organisation=make_org(), language="en",
    )  # fmt: skip
    sign_in(client, p["sup"])
    answer = client.submit(
        f"/cases/{c['child'].id}/assign", {"assignee": leaving.id}, page="/auth/account"
    )
    assert answer.status_code == 302
    assert "Choose an active case manager" in client.get(answer.location).get_data(as_text=True)
    denied = select(AuditEntry).where(AuditEntry.action == "denied")
    assert db.session.execute(denied).first() is None


def test_an_assignment_sent_twice_or_overtaken_changes_nothing_and_says_so(client, world):
    p, c, _ = world
    sign_in(client, p["sup"])
    url, child = f"/cases/{c['child'].id}/assign", c["child"]
    token = client.csrf_token("/home/supervisor")
    first = {"assignee": p["cm2"].id, "expected": "", "csrf_token": token}
    assert client.post(url, data=first).status_code == 302
    again = client.post(url, data=first)  # the double click
    assert again.status_code == 302
    html = client.get("/home/supervisor").get_data(as_text=True)
    assert f"Case {child.number} is now assigned to Trần Quản Lý Hai." in html
    stale = {"assignee": p["cm1"].id, "expected": "", "csrf_token": token}  # an older page
    client.post(url, data=stale)
    html = client.get("/home/supervisor").get_data(as_text=True)
    assert "was assigned to Trần Quản Lý Hai meanwhile; nothing was changed" in html
    db.session.expire_all()
    assert db.session.get(Case, child.id).assigned_to_id == p["cm2"].id
    entries = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "assign", AuditEntry.case_id == child.id)
    ).scalars()
    assert len(list(entries)) == 1


def test_two_supervisors_assigning_at_the_same_instant_get_no_error(client, world, monkeypatch):
    from sqlalchemy import update

    from app.cases import services

    p, c, _ = world
    sign_in(client, p["sup"])
    original = services.refuse_if_closed

    def overtaken(case):  # the other supervisor's write lands between read and write
        with db.engine.begin() as conn:
            conn.execute(
                update(Case.__table__)
                .where(Case.__table__.c.id == case.id)
                .values(version=Case.__table__.c.version + 1, assigned_to_id=p["cm1"].id)
            )
        return original(case)

    monkeypatch.setattr(services, "refuse_if_closed", overtaken)
    response = client.submit(
        f"/cases/{c['child'].id}/assign",
        {"assignee": p["cm2"].id, "expected": ""},
        page="/home/supervisor",
    )
    assert response.status_code == 302
    html = client.get("/home/supervisor").get_data(as_text=True)
    assert "was assigned to Lê Quản Lý Một meanwhile; nothing was changed" in html


def test_a_task_added_as_the_case_is_assigned_goes_with_it(client, world, monkeypatch):
    """A case manager adds a task while the supervisor hands the case on: the assignment is
    made again on the case as it now is, so the new task follows the case, and no error shows."""
    from sqlalchemy import insert, update

    from app.cases import services
    from app.crypto.datakeys import new_id

    p, c, _ = world
    adult = c["adult"]
    sign_in(client, p["sup"])
    original, calls = services.refuse_if_closed, []

    def overtaken(case):  # cm1's task lands between the supervisor's read and write
        calls.append(1)
        if len(calls) == 1:
            with db.engine.begin() as conn:
                conn.execute(
                    insert(Task.__table__).values(
                        id=new_id(),
                        case_id=case.id,
                        organisation_id=case.organisation_id,
                        kind="follow_up_call",
                        created_at=utcnow(),
                        created_by_id=p["cm1"].id,
                        due_at=utcnow() + timedelta(days=1),
                        assigned_to_id=p["cm1"].id,
                    )
                )
                conn.execute(
                    update(Case.__table__)
                    .where(Case.__table__.c.id == case.id)
                    .values(version=Case.__table__.c.version + 1)
                )
        return original(case)

    monkeypatch.setattr(services, "refuse_if_closed", overtaken)
    response = client.submit(
        f"/cases/{adult.id}/assign",
        {"assignee": p["cm2"].id, "expected": str(p["cm1"].id)},
        page="/home/supervisor",
    )
    assert response.status_code == 302 and len(calls) == 2
    html = client.get("/home/supervisor").get_data(as_text=True)
    assert f"Case {adult.number} is now assigned to Trần Quản Lý Hai." in html
    db.session.expire_all()
    case = db.session.get(Case, adult.id)
    assert case.assigned_to_id == p["cm2"].id
    assert {t.assigned_to_id for t in case.tasks if t.done_at is None} == {p["cm2"].id}


def test_a_hand_over_met_by_other_writes_is_made_or_said_truly(client, world, monkeypatch):
    """Colleagues writing notes to the case as it is handed over: the hand-over gave up after
    two collisions and said the case "was assigned to <its holder> meanwhile", which nobody
    did. It is tried as a part's write is; overtaken every time, it says so."""
    from sqlalchemy import update

    from app.cases import queue_views, services

    p, c, _ = world
    adult = c["adult"]
    sign_in(client, p["sup"])
    original, calls, clashes = services.refuse_if_closed, [], {"n": 4}

    def overtaken(case):  # a colleague's note lands between the read and the write
        calls.append(1)
        if len(calls) <= clashes["n"]:
            with db.engine.begin() as conn:
                conn.execute(
                    update(Case.__table__)
                    .where(Case.__table__.c.id == case.id)
                    .values(version=Case.__table__.c.version + 1)
                )
        return original(case)

    monkeypatch.setattr(services, "refuse_if_closed", overtaken)
    hand_over = {"assignee": p["cm2"].id, "expected": str(p["cm1"].id)}
    response = client.submit(f"/cases/{adult.id}/assign", hand_over, page="/home/supervisor")
    assert response.status_code == 302 and len(calls) == 5  # overtaken four times, then made
    db.session.expire_all()
    assert db.session.get(Case, adult.id).assigned_to_id == p["cm2"].id
    calls.clear()
    clashes["n"] = 99
    back = {"assignee": p["cm1"].id, "expected": str(p["cm2"].id)}
    response = client.submit(f"/cases/{adult.id}/assign", back, page="/home/supervisor")
    assert len(calls) == queue_views.ASSIGN_ATTEMPTS
    html = client.get(response.location).get_data(as_text=True)
    assert "so it was not handed over: choose again" in html
    assert "meanwhile" not in html
    db.session.expire_all()
    assert db.session.get(Case, adult.id).assigned_to_id == p["cm2"].id


def test_an_operators_call_back_on_a_colleagues_case_is_in_their_tasks(client, world):
    p, _, _ = world
    phone = "0912 000 111"
    case = save_intake(
        data=Intake(reason="violence_report", caller_phone=phone, survivor=Survivor(age=30)),
        by=p["op1"],
    ).case  # opened by a colleague, no case manager yet
    save_intake(  # op2 takes the next call from that number and plans a call-back
        data=Intake(
            reason="follow_up",
            case_id=case.id,
            caller_phone=phone,
            follow_up_at=utcnow() + timedelta(hours=3),
        ),
        by=p["op2"],
    )
    mine = queries.due_tasks(p["op2"])
    assert [(r.kind, r.case_number) for r in mine.rows] == [("follow_up_call", case.number)]


def test_a_supervisors_own_call_back_on_an_unassigned_case_is_in_their_tasks(world, make_user):
    """A supervisor takes a call and plans a call-back on a case no one manages yet: it is in
    their own task list; not the tasks the call set going (the commune's notification, with
    the unassigned case; the 12-hour check, on the deadlines list); another supervisor's list
    does not hold it. A register imported under their name leaves their list as it was."""
    p, _, _ = world
    case = save_intake(
        data=Intake(
            reason="violence_report",
            survivor=Survivor(age=30),
            follow_up_at=utcnow() + timedelta(hours=3),
            emergency=[("no_contact_request", utcnow())],
        ),
        by=p["sup"],
    ).case
    assert case.assigned_to_id is None
    mine = {(r.kind, r.case_number) for r in queries.due_tasks(p["sup"]).rows}
    assert mine == {("follow_up_call", case.number)}  # the call's duties wait with the case
    kinds = {t.kind for t in case.tasks}
    assert "no_contact_12h" in kinds  # held on the deadlines list instead
    other = make_user("supervisor", organisation=p["sup"].organisation)
    assert [r for r in queries.due_tasks(other).rows if r.case_number == case.number] == []
    # A duty the supervisor plans by hand on the case (a safety re-assessment, the commune
    # notified): theirs too, whatever its kind.
    from app.cases.casework import add_task

    add_task(case=case, by=p["sup"], kind="safety_review", due=utcnow() + timedelta(days=1))
    mine = {(r.kind, r.case_number) for r in queries.due_tasks(p["sup"]).rows}
    assert mine == {("follow_up_call", case.number), ("safety_review", case.number)}
    sample = Path(__file__).resolve().parents[2] / "docs" / "samples" / "register-sample.csv"
    before = queries.due_tasks(other).total
    result = run_import(current_app, sample, "--as", other.email, "--lang", "en")
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    imported = db.session.execute(
        select(func.count()).select_from(Task).where(Task.created_by_id == other.id)
    ).scalar_one()
    assert imported > 0 and queries.due_tasks(other).total == before


def test_a_later_call_with_a_new_assessment_closes_the_open_safety_review(world):
    p, c, _ = world
    adult = c["adult"]
    severe = ["weapon_used", "threats_to_kill", "strangulation", "escalating", "fears_death"]
    for _ in range(2):
        save_intake(
            data=Intake(reason="follow_up", case_id=adult.id, risk_answers=severe),
            by=p["op1"],
        )
    db.session.expire_all()
    reviews = [t for t in db.session.get(Case, adult.id).tasks if t.kind == "safety_review"]
    assert len(reviews) == 2 and sum(t.done_at is None for t in reviews) == 1


def test_the_twelve_hours_run_from_the_calls_start(world):
    p, _, _ = world
    began = utcnow() - timedelta(hours=2)
    case = save_intake(
        data=Intake(
            reason="violence_report",
            started_at=began,
            survivor=Survivor(age=7),
            danger=["danger_now"],
        ),
        by=p["op1"],
    ).case
    [task] = [t for t in case.tasks if t.kind == "child_12h"]
    assert abs((task.due_at - (began + timedelta(hours=12))).total_seconds()) < 1


def test_an_erased_case_leaves_the_operators_list(world):
    p, c, _ = world
    cases.erase_case(case=c["child"], by=p["sup"], reason="recorded_in_error")
    listed = queries.cases_opened_recently(p["op1"], now=utcnow())
    assert c["child"].number not in [r.number for r in listed.rows]
    assert c["adult"].number in [r.number for r in listed.rows]


def test_the_operators_list_and_its_search_count_the_same_days(world):
    """Drawn at 06:00 in Vietnam, "the last 14 days" starts at midnight of the first day, as
    the search its "see them all" link opens does: a case opened at 00:30 that day is in both,
    one opened at 23:30 the day before in neither."""
    p, c, _ = world
    now = datetime(2026, 12, 6, 6, 0, tzinfo=LOCAL).astimezone(UTC)
    first = first_day(now, 14)
    assert first == date(2026, 11, 22)
    c["adult"].opened_at = datetime(2026, 11, 22, 0, 30, tzinfo=LOCAL)
    c["child"].opened_at = datetime(2026, 11, 21, 23, 30, tzinfo=LOCAL)
    db.session.commit()
    listed = queries.cases_opened_recently(p["op1"], now=now)
    found = search_cases(p["op1"], CaseFilters(opened_from=first, opened_by="me"), page=1, now=now)
    assert [r.number for r in listed.rows] == [c["adult"].number]
    assert [r.number for r in found.rows] == [c["adult"].number]
    assert listed.total == found.total == 1


def test_closing_a_case_ends_its_open_tasks_and_reopening_brings_them_back(client, world):
    """Ended, not done: no one did them. Reopened, the follow-up never made is due as it was
    (overdue), and the reopening page said so first."""
    p, c, _ = world
    adult = c["adult"]  # cm1's, with an overdue follow-up
    cases.change_status(case=adult, to="pending_closure", by=p["cm1"])
    sign_in(client, p["sup"])
    asked = client.get(f"/cases/{adult.id}/status?to=closed").get_data(as_text=True)
    assert "This case still has 1 open task. Approving the closure ends it:" in asked
    assert "Follow-up call" in asked
    response = client.submit(
        f"/cases/{adult.id}/status", {"to": "closed"}, page=f"/cases/{adult.id}/status?to=closed"
    )
    assert response.status_code == 302
    db.session.expire_all()
    closed = db.session.get(Case, adult.id)
    assert closed.status == "closed" and all(t.done_at is not None for t in closed.tasks)
    assert {(t.kind, t.ended_by, t.done_by_id) for t in closed.tasks} == {
        ("follow_up_call", "closed", None),
        ("notify_commune", None, p["op1"].id),  # done in its call: the commune chair notified
    }
    entry = (
        db.session.execute(
            select(AuditEntry)
            .where(AuditEntry.action == "status", AuditEntry.case_id == adult.id)
            .order_by(AuditEntry.id.desc())
        )
        .scalars()
        .first()
    )
    assert entry.detail == "pending_closure>closed tasks_ended=1"
    page = client.get(f"/cases/{adult.id}").get_data(as_text=True)
    assert "2 tasks done or ended" in page and "Ended with the case's closure" in page
    reopening = client.get(f"/cases/{adult.id}/status?to=reopened").get_data(as_text=True)
    assert "Reopening brings back 1 task the closure ended" in reopening
    cases.change_status(case=closed, to="reopened", by=p["sup"], reason="Gọi lại")
    # What the closure ended comes back; the notification done in the call stays done.
    assert {(t.kind, t.done_at is None, t.ended_by) for t in closed.tasks} == {
        ("follow_up_call", True, None),
        ("notify_commune", False, None),
    }
    assert adult.number in [
        r.case_number for r in queries.overdue_tasks(p["sup"], now=utcnow()).rows
    ]


def test_the_timeline_names_every_case_manager_the_case_was_assigned_to(client, world):
    p, c, _ = world
    sign_in(client, p["sup"])
    client.submit(f"/cases/{c['adult'].id}/assign", {"assignee": p["cm2"].id}, page="/auth/account")
    timeline = client.get(f"/cases/{c['adult'].id}").get_data(as_text=True)
    for manager in ("cm1", "cm2"):  # the first assignment, and the one now
        assert p[manager].full_name in timeline.split('id="timeline-h"')[-1], manager


# ---- assigning from the case page; tasks that find their holder --------------------------------


def test_a_supervisor_reassigns_from_the_case_page_and_comes_back_to_it(client, world):
    p, c, _ = world
    adult = c["adult"]  # cm1's
    for who in ("op1", "cm1"):  # only supervisors are offered the form
        assert 'name="assignee"' not in page(client, p[who], f"/cases/{adult.id}"), who
    sign_in(client, p["sup"])
    html = client.get(f"/cases/{adult.id}").get_data(as_text=True)
    form = re.search(r'<form[^>]*action="/cases/[^"]+/assign".*?</form>', html, flags=re.S)
    assert form and 'name="back" value="case"' in form.group(0)
    assert f'name="expected" value="{p["cm1"].id}"' in form.group(0)
    moved = client.submit(
        f"/cases/{adult.id}/assign",
        {"assignee": p["cm2"].id, "expected": p["cm1"].id, "back": "case"},
        page="/auth/account",
    )
    assert moved.status_code == 302 and moved.location.endswith(f"/cases/{adult.id}")
    db.session.expire_all()
    assert db.session.get(Case, adult.id).assigned_to_id == p["cm2"].id
    # A closed case offers no form.
    cases.change_status(case=c["closing"], to="closed", by=p["sup"])
    assert 'name="assignee"' not in client.get(f"/cases/{c['closing'].id}").get_data(as_text=True)


def test_assigning_an_open_case_puts_its_move_to_support_on_the_timeline(client, world):
    p, c, _ = world
    child = c["child"]  # open, unassigned
    cases.assign_case(case=child, to=p["cm2"], by=p["sup"])
    moves = [(e.kind, e.from_value, e.to_value) for e in child.events]
    assert ("status", "open", "in_support") in moves
    entry = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "assign", AuditEntry.case_id == child.id)
    ).scalar_one()
    assert entry.detail == f"user:{p['cm2'].id} open>in_support"
    timeline = page(client, p["sup"], f"/cases/{child.id}").split('id="timeline-h"')[-1]
    assert "Status: Open → In support" in timeline


def test_child_tasks_brought_back_by_an_age_correction_go_to_the_case_manager_of_now(world):
    from app.cases.edits import update_case

    def age(years):
        update_case(
            case=child, by=p["sup"], expected_version=child.version, changes={"survivor_age": years}
        )

    p, c, _ = world
    child = c["child"]
    cases.assign_case(case=child, to=p["cm1"], by=p["sup"])
    age("17")
    assert [t.ended_by for t in child.tasks if t.kind == "child_12h"] == ["not_child"]
    cases.assign_case(case=child, to=p["cm2"], by=p["sup"])
    age("15")
    back = [t for t in child.tasks if t.kind == "child_12h"]
    assert back and {(t.done_at, t.assigned_to_id) for t in back} == {(None, p["cm2"].id)}
    assert child.number in [r.case_number for r in queries.due_tasks(p["cm2"]).rows]


def _lands_before_the_write(monkeypatch, case_values: dict, task_values: dict) -> list:
    """A colleague's change to a case (its version moved) and to its tasks, made once as the
    task-done view checks the case just before its write; returns the list of those checks."""
    from sqlalchemy import update

    from app.cases import casework

    original, calls = casework.refuse_if_closed, []

    def overtaken(case):
        calls.append(1)
        if len(calls) == 1:
            cases, tasks = Case.__table__, Task.__table__
            with db.engine.begin() as conn:
                conn.execute(
                    update(cases)
                    .where(cases.c.id == case.id)
                    .values(version=cases.c.version + 1, **case_values)
                )
                conn.execute(update(tasks).where(tasks.c.case_id == case.id).values(**task_values))
        return original(case)

    monkeypatch.setattr(casework, "refuse_if_closed", overtaken)
    return calls


def test_a_task_done_as_the_case_is_closed_is_refused_not_lost(client, world, monkeypatch):
    """The closure lands between reading the task and writing it: the case's version has moved,
    the task is read again, and the closed case refuses; the task stays ended by the closure."""
    p, c, _ = world
    adult = c["adult"]
    task = _task(adult, "follow_up_call")
    sign_in(client, p["cm1"])
    # the supervisor's approval lands between read and write
    calls = _lands_before_the_write(
        monkeypatch, {"status": "closed"}, {"done_at": utcnow(), "ended_by": "closed"}
    )
    response = client.submit(f"/cases/tasks/{task.id}/done", page="/auth/account")
    assert response.status_code == 302 and len(calls) == 2
    db.session.expire_all()
    ended = db.session.get(Task, task.id)
    assert ended.ended_by == "closed" and ended.done_by_id is None
    html = client.get(response.location).get_data(as_text=True)
    assert "Task marked done" not in html and "closed" in html


def test_an_operators_task_handed_on_as_they_tick_it_off_is_refused(client, world, monkeypatch):
    """The case is assigned between the operator's reading of their unassigned task and the
    write: the task went to the case manager with the case, so the retry refuses it (403,
    audited) instead of ticking off someone else's task."""
    p, c, _ = world
    task = _task(c["child"], "notify_commune")
    assert task.assigned_to_id is None and c["child"].opened_by_id == p["op1"].id
    sign_in(client, p["op1"])
    # the supervisor's assignment lands between read and write
    to_manager = {"assigned_to_id": p["cm1"].id}
    calls = _lands_before_the_write(monkeypatch, to_manager, to_manager)
    said = {"note": "Đã báo chủ tịch UBND xã"}
    response = client.submit(f"/cases/tasks/{task.id}/done", said, page="/auth/account")
    assert response.status_code == 403 and len(calls) == 1
    db.session.expire_all()
    assert db.session.get(Task, task.id).done_at is None
    denied = db.session.execute(
        select(AuditEntry.detail).where(AuditEntry.action == "denied")
    ).scalars()
    assert list(denied) == [f"task:{task.id}; not theirs"]


def test_the_case_page_says_when_its_holder_can_no_longer_work_it(client, world):
    p, c, _ = world
    adult = c["adult"]  # cm1's
    hint = "The person assigned can no longer work this case."
    sign_in(client, p["sup"])

    def shown():
        return client.get(f"/cases/{adult.id}").get_data(as_text=True)

    assert hint not in shown() and 'name="assignee"' in shown()
    cases.assign_case(case=adult, to=p["sup"], by=p["sup"])  # a supervisor may hold a case
    assert hint not in shown()
    cases.assign_case(case=adult, to=p["cm1"], by=p["sup"])
    p["cm1"].active = False
    db.session.commit()
    assert hint in shown()
