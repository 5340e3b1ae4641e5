"""The case pages with JavaScript off (a locked-down office browser, a script blocked): Enter in
a field never sends a form half-filled, as with the script on."""

import re

import pytest
from sqlalchemy import func, select

from app.cases.models import Case, Incident, Task
from app.extensions import db
from tests.browser.test_queues import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def nojs(browser):
    """A page at 1366x768 in Vietnamese, with JavaScript off."""
    context = browser.new_context(
        viewport={"width": 1366, "height": 768}, locale="vi-VN", java_script_enabled=False
    )
    yield context.new_page()
    context.close()


def _count(model, case) -> int:
    db.session.expire_all()
    return db.session.execute(
        select(func.count()).select_from(model).where(model.case_id == case.id)
    ).scalar_one()


def _main_button(page):
    return page.locator("form.card [type=submit]:not(.enter-guard)").first


def test_enter_in_a_field_sends_no_case_form(nojs, live_url, case_hotline):
    """Without the script, Enter in a box sends a form through its first submit button: an
    Enter on a risk box saved an empty checklist, the case's severe level made low and its
    safety re-assessment marked done; on an incident's date box, or a task's due time, it added
    them half-filled. The first submit button is now a hidden one posting to a route that does
    nothing (204: the browser stays on the page): Enter sends nothing, the form's button does."""
    people, case = case_hotline
    sign_in(nojs, live_url, people["case_manager"])
    nojs.wait_for_url(f"{live_url}/home/case-manager")
    risk = f"{live_url}/cases/{case.id}/risk"
    nojs.goto(risk)
    for box in range(4):
        nojs.check(f"#risk_answers-{box}")
    with nojs.expect_navigation():
        _main_button(nojs).click()
    db.session.expire_all()
    assert db.session.get(Case, case.id).risk_level == "severe"

    nojs.goto(risk)
    nojs.focus("#risk_answers-0")
    nojs.keyboard.press("Enter")
    nojs.wait_for_timeout(700)  # a form sent would have left the page by now
    assert nojs.url == risk
    db.session.expire_all()
    assert db.session.get(Case, case.id).risk_level == "severe"

    nojs.goto(f"{live_url}/cases/{case.id}/incidents/new")
    nojs.fill("#incident_date", "01/03/2026")
    nojs.keyboard.press("Enter")
    nojs.wait_for_timeout(700)
    assert nojs.url.endswith("/incidents/new") and _count(Incident, case) == 0

    tasks = _count(Task, case)
    nojs.goto(f"{live_url}/cases/{case.id}")
    nojs.click("summary:has-text('Add a task')")
    nojs.fill("#task-due_at", "01/03/2027 09:00")
    nojs.keyboard.press("Enter")
    nojs.wait_for_timeout(700)
    assert _count(Task, case) == tasks
    with nojs.expect_navigation():
        nojs.click("form[action$='/tasks'] [type=submit]:not(.enter-guard)")
    assert _count(Task, case) == tasks + 1


def test_a_phone_typed_in_the_case_number_box_never_reaches_the_address(
    nojs, live_url, case_hotline
):
    """Without the script that stops it, a phone number typed in the case-number box went into
    the address (?number=0912+345+678), the history and the server's log. The form is sent in
    the body: refused there, the address holds no number; a search that passes lands on its
    results."""
    people, case = case_hotline
    sign_in(nojs, live_url, people["supervisor"])
    nojs.wait_for_url(f"{live_url}/home/supervisor")
    nojs.goto(f"{live_url}/cases/search")
    nojs.fill("#number", "0912 345 678")
    with nojs.expect_navigation():
        nojs.click("form[data-check-case-number] [type=submit]")
    assert "0912" not in nojs.url and "345" not in nojs.url
    assert nojs.locator("#number-error").is_visible()
    nojs.fill("#number", "")
    nojs.select_option("#status", "open")
    with nojs.expect_navigation():
        nojs.click("form[data-check-case-number] [type=submit]")
    assert nojs.url.endswith("/cases/search?status=open#results")
    assert case.number in nojs.locator("#results").inner_text()


def test_unsent_text_is_discarded_only_when_asked_twice(nojs, live_url, case_hotline):
    """The Discard button asked through the script's confirm box: without the script, one
    click threw the text away for good. It asks in the page itself now."""
    from app.cases import drafts
    from app.cases.models import CaseDraft

    people, case = case_hotline
    drafts.keep(
        case=case,
        user=people["case_manager"],
        form="note",
        page=drafts.page_asked("6f1c1f4e-0000-4000-8000-000000000001"),
        fields={"kind": "note", "body": "Chị gọi lại lúc 9 giờ"},
    )
    sign_in(nojs, live_url, people["case_manager"])
    nojs.wait_for_url(re.compile(r"/home/|/drafts"))  # signing in offers unsent text
    nojs.goto(f"{live_url}/cases/drafts")
    nojs.locator("summary", has_text="Discard").click()
    assert _count(CaseDraft, case) == 1  # opened the question only
    with nojs.expect_navigation():
        nojs.locator(".confirm-question").get_by_role("button", name="Confirm").click()
    assert _count(CaseDraft, case) == 0


@pytest.mark.parametrize("script", [True, False])
def test_enter_in_the_new_account_form_creates_no_account(
    browser, live_url, make_user, make_org, script
):
    """Enter in the e-mail box created the account at once, with the first role and the first
    organisation in the lists: access to a hotline nobody chose. Sent by its button only."""
    from app.auth.models import User

    make_org(name="A Hotline thứ nhất", code="AA")
    admin = make_user("admin")
    context = browser.new_context(
        viewport={"width": 1366, "height": 768}, locale="vi-VN", java_script_enabled=script
    )
    page = context.new_page()
    sign_in(page, live_url, admin)
    page.wait_for_url(f"{live_url}/admin/users")
    page.goto(f"{live_url}/admin/users/new")
    page.fill("#full_name", "Trần Văn Mới")
    page.fill("#email", "moi@example.org")
    page.keyboard.press("Enter")
    page.wait_for_timeout(700)
    assert page.url == f"{live_url}/admin/users/new"
    db.session.expire_all()
    made = select(User).where(User.email == "moi@example.org")
    assert db.session.execute(made).first() is None
    context.close()
