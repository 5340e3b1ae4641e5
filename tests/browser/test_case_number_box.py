"""The case-number boxes searched by GET, in a real browser: app.js stops a phone number typed
there before it reaches an address (one with a year-like middle group, or a landline typed as one
block, too), and lets a case number of the user's own all-digit code through."""

import pytest
from playwright.sync_api import expect

from app.calls.intake import Intake, Survivor, save_intake
from tests.browser.test_queues import sign_in as sign_in_page

pytestmark = pytest.mark.browser

PHONES = ["098 2019 888", "024 2012 3456", "02033123456"]


def sign_in(page, base, user):
    """Sign in and wait for the home page (sign_in_page returns before the last step lands)."""
    sign_in_page(page, base, user)
    page.wait_for_url(lambda url: "/auth/" not in url)


@pytest.fixture
def child_line(make_org, make_user):
    """A hotline whose code is digits only, with an operator and a supervisor, and a case."""
    org = make_org(code="111")
    people = {
        role: make_user(role, organisation=org, language="en")
        for role in ("operator", "supervisor")
    }
    case = save_intake(
        data=Intake(reason="violence_report", survivor=Survivor(age=11)), by=people["operator"]
    ).case
    return people, case


def test_the_case_search_stops_a_phone_number_and_opens_an_own_case_number(
    page, live_url, child_line
):
    people, case = child_line
    sign_in(page, live_url, people["operator"])
    page.goto(f"{live_url}/cases/search")
    for typed in PHONES:
        page.fill("#number", typed)
        page.get_by_role("button", name="Search", exact=True).click()
        expect(page.locator("#number-shape-error")).to_contain_text("search by phone")
        assert page.url == f"{live_url}/cases/search", typed  # not sent
    org, year, seq = case.number.split("-")
    page.fill("#number", f"{org} {year} {int(seq)}")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page).to_have_url(f"{live_url}/cases/{case.id}")
    # Its own number as one block, and in two pieces either way.
    for typed in (case.number.replace("-", ""), f"{org} {year}{seq}", f"{org}{year} {int(seq)}"):
        page.goto(f"{live_url}/cases/search")
        page.fill("#number", typed)
        page.get_by_role("button", name="Search", exact=True).click()
        expect(page).to_have_url(f"{live_url}/cases/{case.id}")
    assert page.errors == [], page.errors


def test_the_audit_logs_case_box_stops_a_phone_number(page, live_url, child_line):
    people, _case = child_line
    sign_in(page, live_url, people["supervisor"])
    page.goto(f"{live_url}/audit/")
    for typed in PHONES:
        page.fill("#f-case", typed)
        page.get_by_role("button", name="Filter").click()
        expect(page.locator("#f-case-shape-error")).to_be_visible()
        assert page.url == f"{live_url}/audit/", typed  # not sent
    assert page.errors == [], page.errors
