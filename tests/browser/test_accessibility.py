"""Where the keyboard goes, for a headset operator or a screen-reader user: to the field a form
was sent back for, and back to the field being typed when the idle warning goes; the warning
keeps it while it shows."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_queues import sign_in

pytestmark = pytest.mark.browser


def _signed_in(page, base, user):
    sign_in(page, base, user)
    page.wait_for_url(re.compile(r"/home/"))


def test_a_form_sent_back_puts_the_keyboard_on_the_field_it_was_sent_back_for(
    page, live_url, case_hotline
):
    """An empty note, an incident dated in the future: the page came back with the keyboard
    at its top, the message far below and unannounced."""
    people, case = case_hotline
    _signed_in(page, live_url, people["case_manager"])
    page.goto(f"{live_url}/cases/{case.id}")
    page.locator(
        "#note-form button[type=submit]:not(.enter-guard),"
        " form[action$='/notes'] [type=submit]:not(.enter-guard)"
    ).first.click()
    expect(page.locator("#note-body")).to_be_focused()
    page.goto(f"{live_url}/cases/{case.id}/incidents/new")
    page.fill("#incident_date", "01/01/2099")
    page.locator("form.card [type=submit]:not(.enter-guard)").first.click()
    expect(page.locator("#incident_date")).to_be_focused()


def test_the_idle_warning_keeps_the_keyboard_and_gives_it_back(page, serve, make_app, case_hotline):
    """It is a modal dialog: Tab stays in it (the page behind is out of reach); Enter on
    "Stay signed in" gives the keyboard back to the note being typed, to go on typing."""
    base = serve(make_app(SESSION_IDLE_SECONDS=10, SESSION_WARNING_SECONDS=6))
    people, case = case_hotline
    _signed_in(page, base, people["case_manager"])
    page.goto(f"{base}/cases/{case.id}")
    page.locator("#note-body").click()
    page.keyboard.type("Chị gọi lại từ nhà chị gái")
    warning = page.locator("#session-warning")
    expect(warning).to_be_visible(timeout=12000)
    expect(page.locator("#stay-signed-in")).to_be_focused()
    page.keyboard.press("Tab")
    assert page.evaluate("!!document.activeElement.closest('#session-warning')")
    page.locator("#stay-signed-in").focus()
    page.keyboard.press("Enter")
    expect(warning).to_be_hidden()
    expect(page.locator("#note-body")).to_be_focused()
    page.keyboard.type(", an toàn")
    expect(page.locator("#note-body")).to_have_value("Chị gọi lại từ nhà chị gái, an toàn")
