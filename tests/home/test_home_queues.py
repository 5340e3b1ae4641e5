"""Home pages: the queues come first, the reference content stays, search is in the navigation,
and each page runs a bounded number of statements that never touch a sealed column."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event

from app.calls import services as calls
from app.cases import services as cases
from app.cases.services import open_task
from app.clock import utcnow
from app.extensions import db
from tests.conftest import sign_in

SEALED_CASE_CONTENT = re.compile(
    r"survivor_\w+_sealed|summary_sealed|narrative_sealed|caller_\w+_sealed|note_sealed"
    r"|payload_sealed"
)


@pytest.fixture
def desk(make_org, make_user):
    """One hotline with an operator, a case manager and a supervisor, and one case each way."""
    org = make_org(code="QH")
    people = {
        role: make_user(role, organisation=org, language="en")
        for role in ("operator", "case_manager", "supervisor")
    }
    return org, people


def fill(people, *, n_cases: int, n_calls: int) -> None:
    """Cases (a third of them children) with three tasks each, half assigned; and calls."""
    operator, manager = people["operator"], people["case_manager"]
    now = utcnow()
    opened = [cases.open_case(by=operator, survivor_phone=f"09{i:08d}") for i in range(n_cases)]
    for i, case in enumerate(opened):
        case.is_child = i % 3 == 0
        if i % 2:
            case.assigned_to_id = manager.id
        open_task(case, kind="follow_up_call", due=now - timedelta(hours=i % 30))
        open_task(case, kind="safety_review", due=now + timedelta(hours=i % 40))
        open_task(
            case, kind="child_12h" if case.is_child else "other", due=now + timedelta(hours=3)
        )
    db.session.commit()
    for i in range(n_calls):
        calls.log_call(by=operator, reason="information", started_at=now - timedelta(minutes=i))


@contextmanager
def statements(app):
    """The SQL statements the app runs meanwhile."""
    seen: list[str] = []
    with app.app_context():
        engine = db.engine

    def count(conn, cursor, statement, parameters, context, executemany):
        if "web_session" not in statement:  # the session's own upkeep comes and goes
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


PAGES = {
    "operator": "/home/operator",
    "case_manager": "/home/case-manager",
    "supervisor": "/home/supervisor",
}


def measure(app, browsers) -> dict[str, list[str]]:
    found = {}
    for role, url in PAGES.items():
        with statements(app) as seen:
            response = browsers[role].get(url)
        assert response.status_code == 200
        found[role] = list(seen)
    with statements(app) as seen:
        response = browsers["supervisor"].get("/cases/search?status=active&child=yes")
    assert response.status_code == 200
    found["search"] = list(seen)
    return found


def test_each_page_runs_a_bounded_number_of_statements(app, desk):
    _, people = desk
    browsers = {}
    for role, person in people.items():
        browsers[role] = app.test_client()
        sign_in(browsers[role], person)
    fill(people, n_cases=300, n_calls=250)  # with their tasks: over 1,400 rows
    first = measure(app, browsers)
    fill(people, n_cases=40, n_calls=20)
    second = measure(app, browsers)
    for page, seen in first.items():
        assert len(seen) == len(second[page]), page
        assert len(seen) <= 25, (page, len(seen))
        for statement in seen:
            assert not SEALED_CASE_CONTENT.search(statement), (page, statement[:300])
    html = browsers["supervisor"].get("/home/supervisor").get_data(as_text=True)
    assert "Showing 50 of" in html  # the lists are cut, and say so


def test_queues_come_before_the_reference_content(client, desk):
    _, people = desk
    sign_in(client, people["operator"])
    html = client.get("/home/operator").get_data(as_text=True)
    assert html.index('id="due-tasks"') < html.index("Emergency numbers")
    assert html.index('id="recent-calls"') < html.index("Ask first")
    assert 'href="/calls/new"' in html and "Legal deadlines" in html


def test_case_manager_page_keeps_the_services_list(app, desk):
    _, people = desk
    browser = app.test_client()
    sign_in(browser, people["case_manager"])
    html = browser.get("/home/case-manager").get_data(as_text=True)
    assert html.index('id="my-cases"') < html.index("Basic support services")
    assert "No active case is assigned to you." in html


def test_supervisor_page_keeps_staff_and_sign_in_activity(app, desk):
    _, people = desk
    browser = app.test_client()
    sign_in(browser, people["supervisor"])
    html = browser.get("/home/supervisor").get_data(as_text=True)
    assert html.index('id="unassigned-cases"') < html.index('id="auth-events"')
    assert people["case_manager"].full_name in html and "Sign-in activity" in html
    assert "Signed in" in html  # the supervisor's own sign-in, from the audit log


@pytest.mark.parametrize("role", ["operator", "case_manager", "supervisor"])
def test_search_is_in_the_navigation(client, login_as, role):
    login_as(role)
    html = client.get("/auth/account").get_data(as_text=True)
    nav = html.split('<nav class="main-nav"')[1].split("</nav>")[0]
    assert 'href="/cases/search"' in nav


@pytest.mark.parametrize("role", ["admin", "partner"])
def test_search_is_not_offered_to_admins_or_partners(client, login_as, role):
    login_as(role)
    assert 'href="/cases/search"' not in client.get("/auth/account").get_data(as_text=True)
    assert client.get("/cases/search").status_code == 403


def test_the_operators_long_list_of_cases_leads_to_a_search_that_lists_them(
    client, make_org, make_user
):
    """ "See them all in search" opens the search for the cases opened since the list's first
    day, not an empty search form."""
    operator = make_user("operator", organisation=make_org(), language="en")
    opened = {cases.open_case(by=operator).number for _ in range(51)}
    db.session.commit()
    sign_in(client, operator)
    page = client.get("/home/operator").get_data(as_text=True)
    link = re.search(r'href="(/cases/search\?[^"]+)">See them all in search', page)
    assert link and "opened_from=" in link.group(1) and "opened_by=me" in link.group(1)
    shown = client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    listed = set(re.findall(r'class="case-number">([^<]+)<', shown))
    assert len(listed) == 50 and listed < opened and "Page 1 of 2" in shown  # 50 a page


def test_a_home_page_offers_what_was_left_unsaved_or_unsent(client, app, desk):
    """Intakes left unsaved and text left unsent on case pages are offered on the home page
    too (a tab closed while still signed in never meets the sign-in page's offer)."""
    import uuid

    from app.calls.drafts import save_draft
    from app.cases import drafts as case_drafts

    _, people = desk
    operator, manager = people["operator"], people["case_manager"]
    sign_in(client, operator)
    assert 'id="unsent-work"' not in client.get("/home/operator").get_data(as_text=True)
    save_draft(user=operator, intake_key=uuid.uuid4(), fields={"narrative": "…"})
    html = client.get("/home/operator").get_data(as_text=True)
    assert "You have 1 unsaved intake." in html and 'href="/calls/drafts"' in html
    assert 'href="/cases/drafts"' not in html

    case = cases.open_case(by=operator)
    case.assigned_to_id = manager.id
    db.session.commit()
    for form in ("note", "task", "status-open-in_support"):
        case_drafts.keep(case=case, user=manager, form=form, page=uuid.uuid4(), fields={"x": "y"})
    case.status = "in_support"  # moved without its service: the reason's draft stays behind
    db.session.commit()
    manager_browser = app.test_client()
    sign_in(manager_browser, manager)
    html = manager_browser.get("/home/case-manager").get_data(as_text=True)
    # A move from where the case no longer is: not offered, not counted.
    assert "You have 2 unsent texts on case pages." in html and 'href="/cases/drafts"' in html
    assert 'href="/calls/drafts"' not in html
    assert case_drafts.count_open(manager) == len(case_drafts.open_drafts(manager)) == 2
    # A case no longer theirs to see (its drafts left behind): not counted, as not listed.
    case.assigned_to_id = people["supervisor"].id
    db.session.commit()
    assert case_drafts.count_open(manager) == len(case_drafts.open_drafts(manager)) == 0
    html = manager_browser.get("/home/case-manager").get_data(as_text=True)
    assert 'id="unsent-work"' not in html


def test_the_search_behind_the_operators_list_holds_only_the_cases_they_opened(
    client, make_org, make_user
):
    """The operator also sees a colleague's case they took a call for: the search the home
    page's list leads to lists, as the list does, only the cases they opened themselves."""
    org = make_org()
    operator = make_user("operator", organisation=org, language="en")
    colleague = make_user("operator", organisation=org)
    mine = cases.open_case(by=operator).number
    call = calls.log_call(by=operator)
    theirs = cases.open_case(by=colleague, call=call).number  # a call the operator took
    db.session.commit()
    sign_in(client, operator)

    def listed(query: str) -> set[str]:
        shown = client.get(f"/cases/search?{query}").get_data(as_text=True)
        return set(re.findall(r'class="case-number">([^<]+)<', shown))

    assert listed("status=active") == {mine, theirs}
    assert listed("status=active&opened_by=me") == {mine}
    assert listed("status=active&opened_by=someone") == set()
