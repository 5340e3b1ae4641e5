"""Working on a case in a real browser: two people edit the survivor's details at once, and the
second's conflict screen keeps the first's change to a field the second did not touch; a note
sent after the session ended stays on the page until its author has signed in again; the
commune list follows the province."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from app.auth.sessions import revoke_user_sessions
from app.cases.models import Case, CaseDraft, CaseNote
from app.extensions import db
from app.places.queries import commune_choices
from tests.browser.test_queues import sign_in as sign_in_only
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def sign_in(page, base, user):
    sign_in_only(page, base, user)
    page.wait_for_url(re.compile(r"/home/"))


def clash(page, browser, base, case, editor, other, *, mine: dict, theirs: dict) -> None:
    """`editor` (on `page`) and `other` open the edit form at once; `other` saves `theirs`
    first, then `editor` saves `mine` and meets the conflict screen."""
    edit = f"{base}/cases/{case.id}/edit"
    sign_in(page, base, editor)
    page.goto(edit)
    for field, value in mine.items():
        page.fill(field, value)
    second = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
    sign_in(second, base, other)
    second.goto(edit)
    for field, value in theirs.items():
        second.fill(field, value)
    second.get_by_role("button", name="Save the changes").click()
    expect(second.locator(".flash-success")).to_contain_text("Changes saved")
    page.get_by_role("button", name="Save the changes").click()
    expect(page.locator("h1")).to_contain_text("Someone else changed this case")


def sign_in_again_in_a_new_tab(page, user) -> None:
    """Follow the kept page's link, sign in in the tab it opens, close that tab."""
    with page.expect_popup() as opened:
        page.click("#typed-kept-link")
    tab = opened.value
    tab.fill("#email", user.email)
    tab.fill("#password", PASSWORD)
    tab.keyboard.press("Enter")
    # Signed in again: home, or first the unsent text (a conflict screen's values are kept as
    # the edit's draft while it is open).
    tab.wait_for_url(re.compile(r"/home/|/cases/drafts"))
    tab.close()


def test_two_editors_keep_each_others_changes_through_the_conflict_screen(
    page, browser, live_url, case_hotline
):
    people, case = case_hotline
    clash(
        page,
        browser,
        live_url,
        case,
        people["supervisor"],
        people["case_manager"],
        mine={"#survivor_name": "Lan (alias)"},
        theirs={"#safe_contact": "Call after 8 pm"},
    )
    contact = page.locator("table.conflict tr", has_text="Safe contact")
    # The keyboard starts on the screen's first row, on the value marked there.
    first = page.locator("table.conflict tbody tr").first
    expect(first.locator("input[type=radio]:checked")).to_be_focused()
    expect(contact).to_contain_text("Changed by the other person; you left it as it was.")
    expect(contact.locator("input[type=radio][value=theirs]")).to_be_checked()
    name = page.locator("table.conflict tr", has_text="name or alias")
    expect(name.locator("input[type=radio][value=mine]")).to_be_checked()
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    page.screenshot(path="test-artifacts/edit-conflict.png", full_page=True)
    page.get_by_role("button", name="Save the values marked").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".flash-success")).to_contain_text("Changes saved")
    # The conflict screen is answered 409, which the console notes; nothing else went wrong.
    assert [e for e in page.errors if "409" not in e] == [], page.errors
    db.session.expire_all()
    saved = db.session.get(Case, case.id)
    assert (saved.survivor_name, saved.safe_contact) == ("Lan (alias)", "Call after 8 pm")


def test_a_note_sent_after_the_session_ended_stays_on_the_page_until_signed_in_again(
    page, live_url, case_hotline
):
    people, case = case_hotline
    manager = people["case_manager"]
    sign_in(page, live_url, manager)
    page.goto(f"{live_url}/cases/{case.id}")
    page.fill("#note-body", "Called back at 9; she is safe at her sister's.")
    revoke_user_sessions(manager.id)  # the session ends on the server (another device, an admin)
    db.session.commit()
    page.get_by_role("button", name="Add the note").click()
    expect(page.locator("#typed-kept")).to_be_visible()
    expect(page.locator("#typed-kept")).to_be_focused()
    expect(page.locator("#note-body")).to_have_value(
        "Called back at 9; she is safe at her sister's."
    )
    assert page.url == f"{live_url}/cases/{case.id}"  # not sent to the sign-in page
    assert db.session.execute(select(func.count()).select_from(CaseNote)).scalar_one() == 0
    db.session.rollback()  # end the test's read: SQLite would keep the server from writing
    sign_in_again_in_a_new_tab(page, manager)
    page.get_by_role("button", name="Add the note").click()
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.locator(".timeline")).to_contain_text("she is safe at her sister's")
    # The session check answered 401 once, which the console notes; nothing else went wrong.
    assert [e for e in page.errors if "401" not in e] == [], page.errors
    note = db.session.execute(select(CaseNote)).scalar_one()
    assert note.body == "Called back at 9; she is safe at her sister's."


def test_the_commune_list_follows_the_province_on_the_edit_page(page, live_url, case_hotline):
    """As on the intake: choosing another province fills the commune list with its communes, so
    the edit is not refused for a commune of the old one."""
    people, case = case_hotline
    case.province_code, case.commune_code = "01", "00004"
    db.session.commit()
    code, name = commune_choices("79")[0]
    sign_in(page, live_url, people["case_manager"])
    page.goto(f"{live_url}/cases/{case.id}/edit")
    expect(page.locator("#commune_code")).to_have_value("00004")
    page.select_option("#province_code", "79")
    expect(page.locator(f"#commune_code option[value='{code}']")).to_have_text(name)
    expect(page.locator("#commune_code option[value='00004']")).to_have_count(0)
    page.select_option("#commune_code", code)
    page.get_by_role("button", name="Save the changes").click()
    expect(page.locator(".flash-success")).to_contain_text("Changes saved")
    db.session.expire_all()
    saved = db.session.get(Case, case.id)
    assert (saved.province_code, saved.commune_code) == ("79", code)


def test_a_conflict_screen_sent_after_the_session_ended_survives_signing_in_again(
    page, browser, live_url, case_hotline
):
    """Nothing is typed on the conflict screen (its values are hidden and marked), yet what it
    holds stays on the page when signing in again in a new tab, and is saved after."""
    people, case = case_hotline
    manager = people["case_manager"]
    clash(
        page,
        browser,
        live_url,
        case,
        manager,
        people["supervisor"],
        mine={"#survivor_name": "Lan (alias)"},
        theirs={"#safe_contact": "Call after 8 pm"},
    )
    revoke_user_sessions(manager.id)
    db.session.commit()
    page.get_by_role("button", name="Save the values marked").click()
    expect(page.locator("#typed-kept")).to_be_focused()
    db.session.rollback()
    sign_in_again_in_a_new_tab(page, manager)  # its sign-in page tells this page: signed out
    expect(page.locator("h1")).to_contain_text("Someone else changed this case")  # kept
    page.get_by_role("button", name="Save the values marked").click()
    expect(page.locator(".flash-success")).to_contain_text("Changes saved")
    db.session.expire_all()
    saved = db.session.get(Case, case.id)
    assert (saved.survivor_name, saved.safe_contact) == ("Lan (alias)", "Call after 8 pm")
    # The draft the screen's values were kept as while it was open went with the save.
    assert db.session.execute(select(func.count()).select_from(CaseDraft)).scalar_one() == 0
    db.session.rollback()


def test_a_case_page_kept_after_its_session_ended_elsewhere_still_clears_when_left(
    page, serve, make_app, case_hotline
):
    people, case = case_hotline
    manager = people["case_manager"]
    base = serve(make_app(SESSION_IDLE_SECONDS=8, SESSION_WARNING_SECONDS=3))
    sign_in(page, base, manager)
    page.goto(f"{base}/cases/{case.id}")
    page.fill("#note-body", "Half a note")
    revoke_user_sessions(manager.id)
    db.session.commit()
    page.wait_for_timeout(2500)  # past the keep-alive's pace: the next key asks the server
    page.type("#note-body", " more")
    expect(page.locator("#typed-kept")).to_be_visible(timeout=10000)
    expect(page.locator("#note-body")).to_be_focused()  # the notice left the keyboard alone
    assert page.url == f"{base}/cases/{case.id}"
    expect(page.locator("#session-warning")).to_be_visible(timeout=15000)  # warned first
    expect(page.locator("#session-warning-typed")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/auth/login"), timeout=25000)  # then left alone


def test_a_field_both_changed_is_chosen_by_keyboard(page, browser, live_url, case_hotline):
    people, case = case_hotline
    clash(
        page,
        browser,
        live_url,
        case,
        people["supervisor"],
        people["case_manager"],
        mine={"#survivor_name": "Lan B"},
        theirs={"#survivor_name": "Lan A"},
    )
    row = page.locator("table.conflict tr", has_text="name or alias")
    expect(row).to_contain_text("Changed by both of you: choose which to keep.")
    expect(row.locator("input[type=radio]:checked")).to_have_count(0)
    save = page.get_by_role("button", name="Save the values marked")
    save.focus()
    page.keyboard.press("Enter")  # no choice made: asked again, nothing saved
    expect(page.locator("#choose-alert")).to_be_visible()
    # The keyboard waits on the first row to choose: Space takes theirs.
    expect(row.locator("input[type=radio][value=theirs]")).to_be_focused()
    page.keyboard.press("Space")
    save.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".flash-success")).to_contain_text("Nothing was changed")
    db.session.expire_all()
    assert db.session.get(Case, case.id).survivor_name == "Lan A"


def test_enter_on_a_box_of_the_risk_form_moves_on_and_never_sends_it(page, live_url, case_hotline):
    """Chromium sends a form when Enter is pressed on a box: an empty checklist was saved as
    "low", ending the safety re-assessment of a high-risk case."""
    from app.cases.models import RiskAssessment

    people, case = case_hotline
    sign_in(page, live_url, people["case_manager"])
    page.goto(f"{live_url}/cases/{case.id}/risk")
    boxes = page.locator("[name=risk_answers]")
    boxes.nth(0).focus()
    page.keyboard.press("Enter")
    expect(boxes.nth(1)).to_be_focused()  # the next box, as Tab
    page.keyboard.press("Space")
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)
    assert page.url == f"{live_url}/cases/{case.id}/risk"  # nothing sent
    assert db.session.execute(select(func.count(RiskAssessment.id))).scalar_one() == 0
    ticked = boxes.nth(1).get_attribute("value")
    page.keyboard.press("Control+Enter")  # sent on purpose
    expect(page.locator(".flash-success")).to_be_visible()
    db.session.rollback()
    assert db.session.execute(select(RiskAssessment.answers)).scalar_one() == ticked
