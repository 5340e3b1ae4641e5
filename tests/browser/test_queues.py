"""Work queues and search in a real browser: a supervisor assigns a case from the queue, the case
manager marks its task done, an operator finds a case by phone without the number in the URL."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.calls.intake import Intake, Survivor, save_intake
from app.cases.models import Case
from app.clock import utcnow
from app.extensions import db
from tests.conftest import PASSWORD, current_code

pytestmark = pytest.mark.browser


def sign_in(page, base, user):
    page.goto(f"{base}/auth/login")
    page.fill("#email", user.email)
    page.fill("#password", PASSWORD)
    page.keyboard.press("Enter")
    if user.totp_enabled:
        page.wait_for_url(f"{base}/auth/verify")
        page.fill("#code", current_code(user))
        page.keyboard.press("Enter")


@pytest.fixture
def hotline(make_org, make_user):
    org = make_org(code="BQ")
    people = {
        role: make_user(role, organisation=org, language="en")
        for role in ("operator", "case_manager", "supervisor")
    }
    child = save_intake(
        data=Intake(
            reason="violence_report",
            survivor=Survivor(age=9, phone="0933 222 111"),
            danger=["danger_now"],
            follow_up_at=utcnow() - timedelta(hours=3),
        ),
        by=people["operator"],
    ).case
    return people, child


def test_assign_from_the_queue_then_mark_the_task_done(page, browser, live_url, hotline):
    people, child = hotline
    sign_in(page, live_url, people["supervisor"])
    expect(page).to_have_url(f"{live_url}/home/supervisor")
    row = page.locator("#unassigned-cases tr", has_text=child.number)
    expect(row.locator(".child-tag")).to_have_text("Child")
    expect(page.locator("#overdue-tasks tr", has_text="Follow-up call")).to_contain_text(
        "3 h overdue"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    page.screenshot(path="test-artifacts/supervisor-queues.png", full_page=True)
    row.locator("select").select_option(str(people["case_manager"].id))
    row.get_by_role("button", name="Assign").click()
    expect(page.locator(".flash-success")).to_contain_text(f"Case {child.number} is now assigned")
    expect(page.locator("#unassigned-cases")).not_to_contain_text(child.number)
    assert page.errors == [], page.errors

    manager = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
    sign_in(manager, live_url, people["case_manager"])
    expect(manager.locator("#my-cases")).to_contain_text(child.number)
    manager.screenshot(path="test-artifacts/case-manager-queues.png", full_page=True)
    task = manager.locator("#due-tasks tr", has_text="Follow-up call")
    task.get_by_role("button", name="Mark done").click()
    expect(manager.locator(".flash-success")).to_contain_text("Task marked done")
    expect(manager.locator("#due-tasks")).not_to_contain_text("Follow-up call")
    db.session.expire_all()
    case = db.session.get(Case, child.id)
    assert case.assigned_to_id == people["case_manager"].id
    assert [t.done_at is not None for t in case.tasks if t.kind == "follow_up_call"] == [True]
    # A duty of law is marked done with what was done, typed in its row; Enter sends it.
    duty = manager.locator("#due-tasks tr", has_text="Notify the commune")
    duty.get_by_role("button", name="Mark done").click()
    expect(manager.locator(".flash-error")).to_contain_text("Say what was done")
    # The message names the duty; the keyboard is back on its box, marked.
    expect(manager.locator(".flash-error")).to_contain_text("Notify the commune")
    duty = manager.locator("#due-tasks tr", has_text="Notify the commune")
    expect(duty.get_by_role("textbox", name="What was done")).to_be_focused()
    expect(duty.get_by_role("textbox", name="What was done")).to_have_attribute(
        "aria-invalid", "true"
    )
    # Said beside the box too, in sight: the page opens scrolled to the box, the top's
    # message above the screen (it was, by 194px, on a supervisor's home).
    beside = duty.locator(".done-note-error")
    expect(beside).to_contain_text("Say what was done")
    expect(beside).to_be_in_viewport()
    box = duty.get_by_role("textbox", name="What was done")
    expect(box).to_have_attribute("aria-describedby", re.compile(r"-error$"))
    assert box.evaluate("e => e.getBoundingClientRect().width") >= 140  # room to type in
    duty.get_by_role("textbox", name="What was done").fill("Rang the commune chair at 9:00")
    manager.screenshot(path="test-artifacts/case-manager-duty-note.png", full_page=True)
    duty.get_by_role("textbox", name="What was done").press("Enter")
    expect(manager.locator(".flash-success")).to_contain_text("Task marked done")
    expect(manager.locator("#due-tasks")).not_to_contain_text("Notify the commune")
    db.session.expire_all()
    (notified,) = [t for t in db.session.get(Case, child.id).tasks if t.kind == "notify_commune"]
    assert notified.done_note == "Rang the commune chair at 9:00"
    assert manager.evaluate("document.documentElement.scrollWidth") <= 1366


def test_an_operator_finds_a_case_by_phone_and_the_number_stays_out_of_the_url(
    page, live_url, hotline
):
    people, child = hotline
    sign_in(page, live_url, people["operator"])
    expect(page.locator("#recent-cases")).to_contain_text(child.number)
    page.screenshot(path="test-artifacts/operator-queues.png", full_page=True)
    page.get_by_role("link", name="Search").first.click()
    page.fill("#phone", "+84 933 222 111")
    page.get_by_role("button", name="Search by phone").click()
    expect(page.locator("#search-results")).to_contain_text(child.number)
    assert page.url == f"{live_url}/cases/search/phone#results"  # the number is in no address
    page.screenshot(path="test-artifacts/search-by-phone.png", full_page=True)
    page.fill("#number", "0933 222 111")  # the number typed in the case-number box by mistake
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.locator("#number-shape-error")).to_contain_text("search by phone")
    expect(page.locator("#number")).to_be_focused()
    assert page.url == f"{live_url}/cases/search/phone#results"  # not sent: no number in it
    page.fill("#number", child.number.lower().replace("-", " "))
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page).to_have_url(f"{live_url}/cases/{child.id}")
    assert page.errors == [], page.errors


def test_the_case_managers_list_stays_inside_its_card(page, live_url, hotline, make_user):
    """A supervisor's case page at 1366 wide: a manager with a long full name made the list of
    managers stick out of the survivor's card over the next one."""
    people, child = hotline
    make_user(
        "case_manager",
        organisation=people["supervisor"].organisation,
        full_name="Nguyễn Thị Phương Thảo Nguyên Hạnh",
    )
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page, live_url, people["supervisor"])
    page.wait_for_url(f"{live_url}/home/supervisor")
    page.goto(f"{live_url}/cases/{child.id}")
    select_right, card_right = page.evaluate(
        """() => { const s = document.querySelector('.assign-form select');
        const card = s.closest('.card');
        return [s.getBoundingClientRect().right, card.getBoundingClientRect().right]; }"""
    )
    assert select_right <= card_right, (select_right, card_right)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366


def test_a_supervisor_s_own_duty_has_room_for_what_was_done(page, live_url, hotline):
    """A case a supervisor manages themself: its duties are on their home's own list, whose
    card was a third of the page wide, the note box 57px ("Đã là") and names a word a line."""
    from app.cases.services import assign_case

    people, child = hotline
    assign_case(case=child, to=people["supervisor"], by=people["supervisor"])
    people["supervisor"].language = "vi"
    db.session.commit()
    sign_in(page, live_url, people["supervisor"])
    page.wait_for_url(f"{live_url}/home/supervisor")
    boxes = page.locator("#due-tasks input.done-note")
    expect(boxes.first).to_be_visible()
    for width in boxes.evaluate_all("all => all.map(e => e.getBoundingClientRect().width)"):
        assert width >= 140
    for tag in page.locator(".child-tag").all():  # "Trẻ em" never broken over two lines
        assert tag.evaluate("e => e.getClientRects().length") == 1, tag.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
