"""What is typed on a case page survives in a real browser: a note left typing when the session
times out comes back after signing in again, an edit left by following a link comes back on the
edit page, and either can be thrown away."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from app.cases.models import Case, CaseDraft, CaseNote
from app.extensions import db
from tests.browser.test_case_edits import sign_in
from tests.browser.test_queues import sign_in as sign_in_only

pytestmark = pytest.mark.browser

NOTE = "Called back at 9; she is safe at her sister's. Next call on Monday."


def drafts_stored() -> int:
    db.session.expire_all()
    count = db.session.execute(select(func.count()).select_from(CaseDraft)).scalar_one()
    db.session.rollback()  # end the test's read: SQLite would keep the server from writing
    return count


def test_a_note_left_typing_when_the_session_timed_out_comes_back_after_signing_in(
    page, serve, make_app, case_hotline
):
    people, case = case_hotline
    manager = people["case_manager"]
    base = serve(make_app(SESSION_IDLE_SECONDS=10, SESSION_WARNING_SECONDS=4))
    sign_in(page, base, manager)
    page.goto(f"{base}/cases/{case.id}")
    page.fill("#note-body", NOTE)
    status = page.locator("#add-note .draft-status")
    expect(status).to_contain_text(re.compile(r"Kept as a draft at \d\d:\d\d"), timeout=8000)
    # Left alone: warned, with no word of losing anything (it is kept), then signed out.
    expect(page.locator("#session-warning")).to_be_visible(timeout=10000)
    expect(page.locator("#session-warning-typed")).to_be_hidden()
    expect(page).to_have_url(re.compile(r"/auth/login"), timeout=15000)
    assert NOTE not in page.content()

    sign_in_only(page, base, manager)
    page.wait_for_url(f"{base}/cases/drafts")  # offered first after signing in
    row = page.locator("tr", has_text=case.number)
    expect(row).to_contain_text("Note")
    row.get_by_role("link", name="Continue").click()
    expect(page.locator("#draft-restored-note")).to_be_visible()
    expect(page.locator("#note-body")).to_have_value(NOTE)
    page.get_by_role("button", name="Add the note").click()
    expect(page.locator(".flash-success")).to_contain_text("Note added")
    expect(page.locator(".timeline")).to_contain_text("she is safe at her sister's")
    expect(page.locator("#draft-restored-note")).to_have_count(0)
    expect(page.locator("#note-body")).to_have_value("")
    db.session.expire_all()
    assert db.session.execute(select(CaseNote.id)).scalars().all() != []
    assert drafts_stored() == 0
    assert page.errors == [], page.errors


def test_an_edit_left_by_a_link_comes_back_and_can_be_thrown_away(page, live_url, case_hotline):
    """Typed, then away before the next autosave tick: the page sends what it holds as it goes
    (navigator.sendBeacon), and the edit page brings it back; discarding puts the case's own
    values back."""
    people, case = case_hotline
    sign_in(page, live_url, people["case_manager"])
    edit = f"{live_url}/cases/{case.id}/edit"
    page.goto(edit)
    page.fill("#survivor_name", "Lan (alias)")
    page.fill("#safe_contact", "Text only, never call")
    page.get_by_role("link", name="Cancel").click()
    page.wait_for_url(f"{live_url}/cases/{case.id}")
    for _ in range(20):  # the beacon is sent as the page goes; it lands just after
        if drafts_stored():
            break
        page.wait_for_timeout(100)
    page.goto(edit)
    expect(page.locator("#draft-restored-edit")).to_be_visible()
    expect(page.locator("#survivor_name")).to_have_value("Lan (alias)")
    expect(page.locator("#safe_contact")).to_have_value("Text only, never call")

    # Asked first, in the page: one click never discards for good.
    page.locator("summary", has_text="Discard what I typed").click()
    expect(page.locator(".confirm-question")).to_contain_text(
        "Discard what you typed here for good?"
    )
    assert drafts_stored() == 1
    page.locator(".confirm-question").get_by_role("button", name="Confirm").click()
    expect(page.locator(".flash-success")).to_contain_text("What you had typed was discarded")
    expect(page.locator("#survivor_name")).to_have_value("Lan")
    expect(page.locator("#draft-restored-edit")).to_have_count(0)
    assert drafts_stored() == 0
    db.session.expire_all()
    assert db.session.get(Case, case.id).survivor_name == "Lan"
    db.session.rollback()
    assert page.errors == [], page.errors


def test_a_case_page_whose_typing_is_kept_leaves_the_screen_when_signed_out_elsewhere(
    page, live_url, case_hotline
):
    """Signed out in another tab: a page holding text not yet kept stays (for it to be sent
    once signed in again), but one whose text is kept as a draft on the server has nothing to
    stay for and leaves, as any page does; the draft waits for the next sign-in."""
    people, case = case_hotline
    manager = people["case_manager"]
    sign_in(page, live_url, manager)
    page.goto(f"{live_url}/cases/{case.id}")
    page.fill("#note-body", NOTE)
    expect(page.locator("#add-note .draft-status")).to_contain_text("Kept as a draft at")
    other = page.context.new_page()
    other.goto(f"{live_url}/home/case_manager")
    other.locator("#logout-form button").click()
    expect(page).to_have_url(re.compile(r"/auth/login"))
    assert drafts_stored() == 1
    sign_in_only(page, live_url, manager)
    page.wait_for_url(f"{live_url}/cases/drafts")
    assert page.errors == [], page.errors


def test_a_note_sent_moments_after_more_was_typed_leaves_no_draft_behind(
    page, live_url, case_hotline
):
    """Lines typed after the last autosave and sent at once: the note holds every line, and
    no draft is left behind (none sent late by the page as it goes, nor kept by the server
    for text that is saved)."""
    people, case = case_hotline
    sign_in(page, live_url, people["case_manager"])
    page.goto(f"{live_url}/cases/{case.id}")
    page.fill("#note-body", "First line.\nSecond line.")
    status = page.locator("#add-note .draft-status")
    expect(status).to_contain_text(re.compile(r"Kept as a draft at"), timeout=8000)
    page.locator("#note-body").press("End")
    page.locator("#note-body").press_sequentially("\nThird line, typed just before sending.")
    page.get_by_role("button", name="Add the note").click()
    expect(page.locator(".flash-success")).to_contain_text("Note added")
    page.wait_for_timeout(1500)  # the closing page's beacon has landed
    assert drafts_stored() == 0
    notes = db.session.execute(select(CaseNote).where(CaseNote.case_id == case.id)).scalars()
    assert [note.body.count("\n") for note in notes] == [2]
    db.session.rollback()
    assert page.errors == [], page.errors


def test_a_note_typed_then_reloaded_at_once_comes_back(page, live_url, case_hotline):
    """F5 within the autosave's few seconds: the closing page's last copy reaches the server
    after the reloaded page was drawn (Chromium sends it as the new page commits). The new page
    asks whether it landed and opens again to bring it back: the note is as it was left, and
    the page does not go on reloading."""
    people, case = case_hotline
    sign_in(page, live_url, people["case_manager"])
    page.goto(f"{live_url}/cases/{case.id}")
    page.fill("#note-body", NOTE)
    page.reload()
    expect(page.locator("#note-body")).to_have_value(NOTE, timeout=8000)
    expect(page.locator("#draft-restored-note")).to_be_visible()
    page.wait_for_load_state("load")  # that page's own load counts for nothing below
    loads = []
    page.on("load", lambda _page: loads.append(1))
    page.wait_for_timeout(5000)  # both questions asked again: nothing newer, no reload
    assert loads == [] and page.errors == [], page.errors


def test_sending_one_form_is_not_undone_by_the_other_form_s_last_copy(page, live_url, case_hotline):
    """Text typed in the task form and the note form, the note sent at once: the task's last
    copy goes as the page is left, and the page that answers keeps its "Note added" (it is not
    opened again for that copy, which waits in the unsent text and comes back with the form)."""
    people, case = case_hotline
    sign_in(page, live_url, people["case_manager"])
    page.goto(f"{live_url}/cases/{case.id}")
    page.locator("summary", has_text="Add a task").click()
    page.fill("#task-note", "Call her sister on Monday")
    page.fill("#note-body", NOTE)
    page.get_by_role("button", name="Add the note").click()
    expect(page.locator(".flash-success")).to_contain_text("Note added")
    page.wait_for_load_state("load")  # that page's own load counts for nothing below
    loads = []
    page.on("load", lambda _page: loads.append(1))
    page.wait_for_timeout(5000)
    assert loads == [] and page.errors == [], page.errors
    expect(page.locator(".flash-success")).to_contain_text("Note added")


def test_a_note_typed_as_the_case_is_handed_on_says_it_is_no_longer_kept(
    page, live_url, case_hotline, make_user
):
    """The supervisor hands the case to another case manager while a note is typed: the next
    autosave is refused, and the line under the form says the note is not kept any more (it
    said "Kept as a draft"), and leaving the page asks first."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    from app.auth.models import User
    from app.cases.services import assign_case

    people, case = case_hotline
    other = make_user("case_manager", organisation=people["case_manager"].organisation)
    sign_in(page, live_url, people["case_manager"])
    page.goto(f"{live_url}/cases/{case.id}")
    page.fill("#note-body", "first part of a note")
    status = page.locator("#add-note .draft-status")
    expect(status).to_contain_text(re.compile(r"Kept as a draft at \d\d:\d\d"), timeout=8000)
    db.session.expire_all()
    assign_case(
        case=db.session.get(Case, case.id),
        to=db.session.get(User, other.id),
        by=db.session.get(User, people["supervisor"].id),
    )
    db.session.rollback()
    page.fill("#note-body", "first part of a note, and more typed after the hand-over")
    expect(status).to_contain_text("No longer kept as a draft", timeout=8000)
    asked = []
    page.on("dialog", lambda d: (asked.append(d.type), d.dismiss()))
    try:
        page.reload(timeout=3000)
    except PlaywrightTimeout:
        pass  # called off: the text stays to be copied
    assert asked == ["beforeunload"]
    expect(page.locator("#note-body")).to_have_value(
        "first part of a note, and more typed after the hand-over"
    )
