"""User journeys in a real browser: keyboard sign-in, one-time codes, time-outs, double clicks."""

import re
import time

import pyotp
import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from app.auth.models import User
from app.extensions import db
from tests.conftest import PASSWORD, current_code

pytestmark = pytest.mark.browser


def _sign_in_by_keyboard(page, base, user):
    page.goto(f"{base}/auth/login")
    expect(page.locator("#email")).to_be_focused()  # the email field has focus on arrival
    page.keyboard.type(user.email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")


def test_operator_signs_in_by_keyboard_on_the_vietnamese_page(page, live_url, make_user):
    user = make_user("operator")
    page.goto(f"{live_url}/auth/login")
    expect(page.locator("h1")).to_have_text("Đăng nhập")
    _sign_in_by_keyboard(page, live_url, user)
    expect(page).to_have_url(f"{live_url}/home/operator")
    expect(page.locator("h1")).to_have_text("Bàn trực")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1366, "the desk scrolls sideways at 1366x768"
    page.screenshot(path="test-artifacts/operator-desk.png", full_page=True)
    assert page.errors == [], page.errors  # no script error and no CSP violation


def test_wrong_password_keeps_the_email_and_says_nothing_more(page, live_url, make_user):
    user = make_user("operator")
    page.goto(f"{live_url}/auth/login")
    page.fill("#email", user.email)
    page.fill("#password", "not the right one")
    page.click("button[type=submit], input[type=submit]")
    expect(page.locator("#login-error")).to_be_visible()
    expect(page.locator("#email")).to_have_value(user.email)
    expect(page.locator("#password")).to_have_value("")


def test_admin_signs_in_with_a_code_and_a_double_click_creates_one_account(
    page, live_url, make_user, make_org
):
    admin = make_user("admin")
    org = make_org(name="Đơn vị nhấp đúp")
    _sign_in_by_keyboard(page, live_url, admin)
    expect(page).to_have_url(f"{live_url}/auth/verify")
    page.fill("#code", current_code(admin))
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_url}/admin/users")
    page.goto(f"{live_url}/admin/users/new")
    page.fill("#full_name", "Phan Thị Nhấp Đúp")
    page.keyboard.press("Enter")  # moves on, as in every form; sends nothing
    expect(page.locator("#email")).to_be_focused()
    assert page.url == f"{live_url}/admin/users/new"
    page.fill("#email", "double@example.org")
    page.select_option("#role", "operator")
    page.select_option("#organisation_id", str(org.id))
    page.locator("input[type=submit]").dblclick()
    expect(page.locator("#temporary-password")).to_be_visible()
    count = db.session.execute(
        select(func.count(User.id)).where(User.email == "double@example.org")
    ).scalar_one()
    assert count == 1
    assert page.errors == [], page.errors


def test_supervisor_sets_up_codes_before_entering(page, live_url, make_user):
    user = make_user("supervisor", mfa_on=False)
    _sign_in_by_keyboard(page, live_url, user)
    expect(page).to_have_url(f"{live_url}/auth/enrol")
    expect(page.locator(".qr svg")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text()
    page.fill("#code", pyotp.TOTP(secret).now())
    page.keyboard.press("Enter")
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{live_url}/home/supervisor")


def test_idle_warning_appears_and_staying_keeps_the_session(page, serve, make_app, make_user):
    short = make_app(SESSION_IDLE_SECONDS=8, SESSION_WARNING_SECONDS=5)
    base = serve(short)
    user = make_user("operator")
    _sign_in_by_keyboard(page, base, user)
    expect(page).to_have_url(f"{base}/home/operator")
    warning = page.locator("#session-warning")
    expect(warning).to_be_hidden()
    expect(warning).to_be_visible(timeout=8000)
    expect(page.locator("#session-countdown")).to_have_text(re.compile(r"^[1-5]$"))
    page.click("#stay-signed-in")
    expect(warning).to_be_hidden()
    page.reload()
    expect(page).to_have_url(f"{base}/home/operator")


def test_idle_timeout_signs_out_with_a_message(page, serve, make_app, make_user):
    short = make_app(SESSION_IDLE_SECONDS=6, SESSION_WARNING_SECONDS=3)
    base = serve(short)
    _sign_in_by_keyboard(page, base, make_user("operator"))
    expect(page).to_have_url(f"{base}/home/operator")
    expect(page).to_have_url(re.compile(r"/auth/login"), timeout=15000)
    expect(page.locator(".flash-info").first).to_contain_text("không có thao tác")
    page.goto(f"{base}/home/operator")
    expect(page).to_have_url(re.compile(r"/auth/login"))


def test_typing_counts_as_activity(page, serve, make_app, make_user):
    short = make_app(SESSION_IDLE_SECONDS=8, SESSION_WARNING_SECONDS=3)
    base = serve(short)
    _sign_in_by_keyboard(page, base, make_user("operator"))
    expect(page).to_have_url(f"{base}/home/operator")
    page.goto(f"{base}/auth/password")
    field = page.locator("#current")
    field.click()
    for _ in range(7):  # 14 seconds of typing, well past the 8-second idle limit
        page.keyboard.type("ab")
        time.sleep(2)
    expect(page).to_have_url(f"{base}/auth/password")
    expect(page.locator("#session-warning")).to_be_hidden()
    page.goto(f"{base}/home/operator")
    expect(page).to_have_url(f"{base}/home/operator")


def test_a_tab_of_an_account_that_signed_out_leaves_the_screen(page, live_url, make_user):
    """Operator A signs out in one tab: A's other tab (a case list) does not stay on screen;
    and when B signs in on the same browser, A's pages are not kept alive by B's activity."""
    first, second = make_user("operator"), make_user("operator")
    _sign_in_by_keyboard(page, live_url, first)
    expect(page).to_have_url(f"{live_url}/home/operator")
    other = page.context.new_page()
    other.goto(f"{live_url}/home/operator")
    other.locator("#logout-form button").click()
    expect(other).to_have_url(re.compile(r"/auth/login"))
    expect(page).to_have_url(re.compile(r"/auth/login"))  # the first tab left by itself
    # A signs in again in tab 1; B signs in in tab 2 after signing A out there: tab 1 leaves.
    _sign_in_by_keyboard(page, live_url, first)
    expect(page).to_have_url(f"{live_url}/home/operator")
    other.goto(f"{live_url}/home/operator")
    other.locator("#logout-form button").click()
    expect(page).to_have_url(re.compile(r"/auth/login"))
    _sign_in_by_keyboard(other, live_url, second)
    expect(other).to_have_url(f"{live_url}/home/operator")
    assert page.errors == [], page.errors
