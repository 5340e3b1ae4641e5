"""The home pages' task lists in full, page by page (/cases/tasks): every task reachable when a
list holds more than the home page shows, in order, within the user's scope; acting from a page
of the list comes back to it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.audit import AuditEntry
from app.calls.intake import Intake, Survivor, save_intake
from app.cases import services as cases
from app.cases.casework import add_task
from app.cases.models import Task
from app.clock import utcnow
from app.extensions import db
from tests.conftest import sign_in


def rows(html: str) -> list[str]:
    """The body rows of the page's task table."""
    match = re.search(r'<table id="task-list".*?</table>', html, flags=re.S)
    assert match, "no task list"
    return re.findall(r"<tr\b.*?</tr>", match.group(0).split("<tbody>")[1], flags=re.S)


@pytest.fixture
def busy(make_org, make_user):
    """A case manager with 55 follow-up calls due on one case (the earliest two hours ago, one
    more each hour after), their supervisor, an operator, and a second hotline's supervisor."""
    org, other = make_org(code="TL"), make_org(code="TM")
    people = {
        "cm": make_user("case_manager", organisation=org, language="en", full_name="Lý Bận Rộn"),
        "cm2": make_user("case_manager", organisation=org, language="en"),
        "sup": make_user("supervisor", organisation=org, language="en"),
        "op": make_user("operator", organisation=org, language="en"),
        "admin": make_user("admin", organisation=org, language="en"),
        "sup_b": make_user("supervisor", organisation=other, language="en"),
    }
    case = save_intake(
        data=Intake(
            reason="violence_report",
            survivor=Survivor(name="Người Nhiều Việc", age=30),
            emergency=[("commune_chair", utcnow())],  # notified in the call: no task left
        ),
        by=people["op"],
    ).case
    cases.assign_case(case=case, to=people["cm"], by=people["sup"])
    start = utcnow() - timedelta(hours=2)
    tasks = [
        add_task(case=case, by=people["cm"], kind="follow_up_call", due=start + timedelta(hours=i))
        for i in range(55)
    ]
    return people, case, tasks


def browse(client, user):
    browser = client.application.test_client()
    sign_in(browser, user)
    return browser


def test_the_home_page_links_to_the_whole_list(client, busy):
    people, case, tasks = busy
    html = browse(client, people["cm"]).get("/home/case-manager").get_data(as_text=True)
    assert "Showing 50 of 55." in html
    assert 'href="/cases/tasks?list=mine"' in html


def test_the_list_goes_page_by_page_in_due_order(client, busy):
    people, case, tasks = busy
    browser = browse(client, people["cm"])
    first = browser.get("/cases/tasks?list=mine")
    assert first.status_code == 200
    html = first.get_data(as_text=True)
    assert len(rows(html)) == 50 and "Page 1 of 2" in html
    assert 'href="/cases/tasks?list=mine&amp;page=2"' in html
    # The first page opens with the most overdue task; the last five are on page two.
    assert "2 h overdue" in rows(html)[0]
    second = browser.get("/cases/tasks?list=mine&page=2").get_data(as_text=True)
    assert len(rows(second)) == 5 and "Page 2 of 2" in second
    assert "in 52 h" in rows(second)[-1] or "in 2 days" in rows(second)[-1]
    assert case.number in second and "Người Nhiều Việc" not in second  # nothing sealed
    # A page past the end (tasks done meanwhile) goes to the last one.
    beyond = browser.get("/cases/tasks?list=mine&page=9")
    assert beyond.status_code == 302 and beyond.location.endswith("list=mine&page=2")


def test_marking_a_task_done_from_a_page_comes_back_to_it(client, busy):
    people, case, tasks = busy
    browser = browse(client, people["cm"])
    page_two = browser.get("/cases/tasks?list=mine&page=2").get_data(as_text=True)
    assert 'name="back" value="tasks:mine:2"' in page_two
    last = tasks[-1]
    done = browser.submit(
        f"/cases/tasks/{last.id}/done", {"back": "tasks:mine:2"}, page="/cases/tasks?list=mine"
    )
    assert done.status_code == 302 and done.location.endswith("/cases/tasks?list=mine&page=2")
    db.session.expire_all()
    assert db.session.get(Task, last.id).done_at is not None
    assert len(rows(browser.get(done.location).get_data(as_text=True))) == 4
    # A return address that is not a list's page sends the person home instead.
    odd = browser.submit(
        f"/cases/tasks/{tasks[-2].id}/done", {"back": "tasks:secret:2"}, page="/auth/account"
    )
    assert odd.location.endswith("/home/case-manager")


def test_a_supervisor_pages_the_organisations_overdue_tasks_and_assigns_from_them(client, busy):
    people, case, tasks = busy
    browser = browse(client, people["sup"])
    html = browser.get("/cases/tasks?list=overdue").get_data(as_text=True)
    # Two of the 55 are past due (two hours and one hour ago); the third is due now.
    assert len(rows(html)) in (2, 3) and "Lý Bận Rộn" in html
    assert 'name="assignee"' in html and 'name="back" value="tasks:overdue:1"' in html
    moved = browser.submit(
        f"/cases/{case.id}/assign",
        {"assignee": people["cm2"].id, "expected": people["cm"].id, "back": "tasks:overdue:1"},
        page="/cases/tasks?list=overdue",
    )
    assert moved.status_code == 302 and moved.location.endswith("/cases/tasks?list=overdue&page=1")
    db.session.rollback()
    assert db.session.get(type(case), case.id).assigned_to_id == people["cm2"].id
    # The child list is the organisation's too (no child case here).
    child = browser.get("/cases/tasks?list=child").get_data(as_text=True)
    assert "Nothing is waiting on a 12-hour deadline." in child
    # Another hotline's supervisor sees none of these tasks.
    other = browse(client, people["sup_b"]).get("/cases/tasks?list=overdue").get_data(as_text=True)
    assert rows(other) == [rows(other)[0]] and "Nothing is overdue." in other
    assert case.number not in other


@pytest.mark.parametrize("who, name", [("cm", "overdue"), ("op", "child"), ("admin", "mine")])
def test_lists_are_for_their_roles_only(client, busy, who, name):
    people, case, tasks = busy
    response = browse(client, people[who]).get(f"/cases/tasks?list={name}")
    assert response.status_code == 403
    denied = db.session.execute(
        select(AuditEntry).where(
            AuditEntry.action == "denied", AuditEntry.user_id == people[who].id
        )
    ).scalar_one()
    assert denied.detail == "role: cases.task_list"


def test_an_unknown_list_is_not_found_and_others_see_only_their_own(client, busy):
    people, case, tasks = busy
    assert browse(client, people["cm"]).get("/cases/tasks?list=all").status_code == 404
    html = browse(client, people["cm2"]).get("/cases/tasks").get_data(as_text=True)
    assert "No open tasks." in html and case.number not in html
