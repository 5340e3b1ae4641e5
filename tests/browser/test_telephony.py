"""Screen pop in a real browser: an admin copies a new line token; an operator opens a call link."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from app.telephony import services
from tests.conftest import PASSWORD, current_code

pytestmark = pytest.mark.browser
NUMBER = "+84 912 345 678"


def test_admin_creates_a_line_and_copies_its_token(page, live_url, make_user):
    admin = make_user("admin")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_url)
    page.goto(f"{live_url}/auth/login")
    page.fill("#email", admin.email)
    page.fill("#password", PASSWORD)
    page.keyboard.press("Enter")
    page.fill("#code", current_code(admin))
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_url}/admin/users")
    page.get_by_role("link", name="Phone lines").or_(
        page.locator("a[href='/admin/lines']")
    ).first.click()
    expect(page).to_have_url(f"{live_url}/admin/lines")
    page.goto(f"{live_url}/admin/lines/new")
    page.fill("#name", "Tổng đài thử nghiệm")
    page.locator("input[type=submit]").dblclick()
    token = page.locator("#line-token").inner_text()
    assert token.startswith("dt_") and len(token) == 46
    copy = page.locator("[data-copy=line-token]")
    expect(copy).to_be_visible()
    copy.click()
    expect(copy).to_have_text(copy.get_attribute("data-copied"))
    assert page.evaluate("navigator.clipboard.readText()") == token
    page.screenshot(path="test-artifacts/line-token.png", full_page=True)
    page.goto(f"{live_url}/admin/lines")
    expect(page.locator("#lines tbody tr")).to_have_count(1)  # the double click made one line
    expect(page.locator("#lines")).to_contain_text(token[-4:])
    assert token not in page.content()
    assert page.errors == [], page.errors


def test_operator_opens_the_call_link_after_signing_in(page, app, live_url, make_user):
    operator = make_user("operator")
    admin = make_user("admin", organisation=operator.organisation)
    _line, token = services.create_line(by=admin, name="Tổng đài 111")
    announced = app.test_client().post(
        "/api/v1/calls/incoming",
        json={"caller": NUMBER},
        headers={"Authorization": f"Bearer {token}"},
    )
    link = live_url + urlsplit(announced.get_json()["url"]).path
    page.goto(link)
    # Where to go back to is kept in the session, not in the sign-in page's address.
    expect(page).to_have_url(f"{live_url}/auth/login")
    page.fill("#email", operator.email)
    page.fill("#password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_url}/calls/new?draft=*")
    expect(page.locator("#caller_phone")).to_have_value(NUMBER)
    expect(page.locator("#channel")).to_have_value("phone")
    page.screenshot(path="test-artifacts/screen-pop-intake.png", full_page=True)
    assert page.errors == [], page.errors
    first = page.url
    page.wait_for_timeout(6000)  # the page has autosaved its draft meanwhile
    page.goto(link)  # a second click on the same link: the same intake, still unsaved
    expect(page).to_have_url(first)
    expect(page.locator("#caller_phone")).to_have_value(NUMBER)
    page.screenshot(path="test-artifacts/screen-pop-opened.png", full_page=True)


def test_a_seven_digit_number_handed_over_shows_its_earlier_calls(page, app, live_url, make_user):
    """A provincial landline's local number, its area code dropped by the phone system, is
    announced (7 to 15 digits): the panel looks it up as it does any number."""
    import uuid

    from app.calls.intake import Intake, save_intake

    operator = make_user("operator")
    colleague = make_user("operator", organisation=operator.organisation)
    admin = make_user("admin", organisation=operator.organisation)
    local = "3822123"
    save_intake(
        data=Intake(reason="silent", intake_key=uuid.uuid4(), caller_phone=local), by=colleague
    )
    _line, token = services.create_line(by=admin, name="Tổng đài tỉnh")
    announced = app.test_client().post(
        "/api/v1/calls/incoming",
        json={"caller": local},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert announced.status_code == 201
    page.goto(live_url + urlsplit(announced.get_json()["url"]).path)
    page.fill("#email", operator.email)
    page.fill("#password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_url}/calls/new?draft=*")
    expect(page.locator("#caller_phone")).to_have_value(local)
    expect(page.locator("#repeat-panel [data-panel-calls]")).to_have_attribute(
        "data-panel-calls", "1"
    )
    assert page.errors == [], page.errors
