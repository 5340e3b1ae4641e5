"""Correcting an incident in a real browser: from the case's timeline to its form, filled with
what was recorded, and back to the timeline saying what was corrected."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from app.cases import casework
from app.cases.casework import IncidentData
from tests.browser.test_queues import sign_in

pytestmark = pytest.mark.browser


def test_an_incident_is_corrected_from_the_timeline(page, live_url, case_hotline):
    people, case = case_hotline
    casework.add_incident(
        case=case,
        by=people["operator"],
        data=IncidentData(occurred_on=date(2026, 3, 2), acts=["a_beating"], description="At home"),
    )
    sign_in(page, live_url, people["case_manager"])
    page.wait_for_url(re.compile(r"/home/"))
    page.goto(f"{live_url}/cases/{case.id}")
    page.get_by_role("link", name=re.compile(r"^Correct the incident recorded ")).click()
    expect(page.locator("h1")).to_have_text("Correct an incident")
    expect(page.locator("#incident_date")).to_be_focused()  # the keyboard on the first field
    expect(page.locator("#incident_date")).to_have_value("02/03/2026")
    expect(page.locator("input[name=acts][value=a_beating]")).to_be_checked()
    expect(page.locator("#incident_description")).to_have_value("At home")
    page.fill("#incident_date", "01/03/2026")
    page.fill("#incident_description", "At the market")
    page.get_by_role("button", name="Save the correction").click()
    expect(page.locator(".flash-success")).to_contain_text("Correction saved.")
    timeline = page.locator(".timeline")
    expect(timeline).to_contain_text("Incident corrected: When it happened, What happened")
    expect(timeline).to_contain_text("At the market")
    expect(timeline).to_contain_text("01/03/2026")
    assert page.errors == [], page.errors


def test_a_call_is_corrected_from_its_page_by_keyboard(page, live_url, case_hotline):
    """The operator opens a call they took from the case's timeline, corrects its narrative and
    reason by keyboard (Enter in a box moves on, never sends), and the timeline says so."""
    people, case = case_hotline
    (call,) = case.calls
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page, live_url, people["operator"])
    page.wait_for_url(re.compile(r"/home/"))
    page.goto(f"{live_url}/calls/{call.id}")
    page.get_by_role("link", name="Correct this call").click()
    expect(page.locator("h1")).to_contain_text("Correct the call of")
    expect(page.locator("#channel")).to_be_focused()
    expect(page.locator("#reason option")).to_have_count(2)  # a case call's reasons only
    page.locator("#caller_name").fill("Her sister")
    page.locator("#caller_name").press("Enter")  # moves on; nothing sent
    expect(page.locator("#narrative")).to_be_focused()
    page.keyboard.type("Called back from a neighbour's phone")
    page.keyboard.press("Control+Enter")  # sends the form
    expect(page.locator(".flash-success")).to_contain_text("Correction saved.")
    expect(page.locator("#call-corrected")).to_contain_text(people["operator"].full_name)
    expect(page.locator(".wide")).to_contain_text("Called back from a neighbour's phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    page.goto(f"{live_url}/cases/{case.id}")
    expect(page.locator(".timeline")).to_contain_text(
        "Call corrected: Caller's name or alias, What the caller said"
    )
    assert page.errors == [], page.errors


def test_a_page_that_warns_first_keeps_the_keyboard_at_its_top(page, live_url, case_hotline):
    """A one-form page opens on its first field, unless it says something first (a duty of law
    still open holds the closure): then the reader starts at the top, where that is said."""
    people, case = case_hotline
    sign_in(page, live_url, people["case_manager"])
    page.wait_for_url(re.compile(r"/home/"))
    page.goto(f"{live_url}/cases/{case.id}/status?to=in_support")
    expect(page.locator("#reason")).to_be_focused()
    page.goto(f"{live_url}/cases/{case.id}/status?to=pending_closure")
    expect(page.locator("#duties-open")).to_be_visible()
    assert page.evaluate("document.activeElement === document.body")


def test_a_call_correction_left_half_typed_comes_back_after_signing_in(
    page, serve, make_app, case_hotline
):
    """The session times out while a call's correction is being typed: it was kept as a draft,
    is offered after signing in again, comes back whole, and goes once saved."""
    from sqlalchemy import func, select

    from app.cases.models import CaseDraft
    from app.extensions import db

    people, case = case_hotline
    (call,) = case.calls
    base = serve(make_app(SESSION_IDLE_SECONDS=10, SESSION_WARNING_SECONDS=4))
    sign_in(page, base, people["operator"])
    page.wait_for_url(re.compile(r"/home/"))
    page.goto(f"{base}/calls/{call.id}/edit")
    page.fill("#narrative", "She called back: he keeps her papers")
    status = page.locator(".draft-status")
    expect(status).to_contain_text(re.compile(r"Kept as a draft at \d\d:\d\d"), timeout=8000)
    expect(page).to_have_url(re.compile(r"/auth/login"), timeout=20000)

    sign_in(page, base, people["operator"])
    page.wait_for_url(f"{base}/cases/drafts")  # offered first after signing in
    row = page.locator("tr", has_text=case.number)
    expect(row).to_contain_text("Correct the call of")
    row.get_by_role("link", name="Continue").click()
    expect(page.locator(f"#draft-restored-call-{call.id}")).to_be_visible()
    expect(page.locator("#narrative")).to_have_value("She called back: he keeps her papers")
    page.get_by_role("button", name="Save the correction").click()
    expect(page.locator(".flash-success")).to_contain_text("Correction saved.")
    expect(page.locator(".wide")).to_contain_text("She called back: he keeps her papers")
    db.session.expire_all()
    assert db.session.execute(select(func.count()).select_from(CaseDraft)).scalar_one() == 0
    db.session.rollback()
    assert page.errors == [], page.errors
