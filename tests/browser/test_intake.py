"""The intake in a real browser: keyboard alone, a silent call in a few keys, the repeat-caller
panel, a double click, and a session that ends mid-call without losing what was typed."""

import json
import re
import uuid
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from app.auth.sessions import revoke_user_sessions
from app.calls.drafts import load_draft, open_draft, save_draft
from app.calls.intake import Intake, Survivor, save_intake
from app.calls.models import Call, IntakeDraft
from app.cases.models import Case, Incident, Perpetrator
from app.cases.services import assign_case, change_status, erase_case
from app.extensions import db
from app.places.queries import commune_choices
from tests.conftest import PASSWORD, duties_done

pytestmark = pytest.mark.browser


def sign_in(page, base, user):
    page.goto(f"{base}/auth/login")
    page.fill("#email", user.email)
    page.fill("#password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/(home|calls)/"))


def tab_to(page, selector: str, limit: int = 150) -> int:
    """Press Tab until the element has focus; returns how many presses it took."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return presses
    raise AssertionError(f"{selector} never got focus by Tab")


def open_intake(page, base: str) -> None:
    """Open the intake page and wait until the number field has the keyboard."""
    page.goto(f"{base}/calls/new")
    expect(page.locator("#caller_phone")).to_be_focused()


def count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def three_cases_from_one_number(colleague) -> list:
    """Three cases opened by a colleague from 0912 345 678, flagged, oldest first: a panel
    fuller than a narrow screen's box."""
    return [
        save_intake(
            data=Intake(
                reason="violence_report",
                intake_key=uuid.uuid4(),
                caller_phone="0912345678",
                flags=["perpetrator_calling", "high_risk"],
                survivor=Survivor(safe_contact=f"Chỉ gọi sau 18 giờ, lần {n}"),
            ),
            by=colleague,
        ).case
        for n in range(3)
    ]


def test_a_violence_call_by_keyboard_alone_opens_an_encrypted_case(
    page, live_url, make_user, make_org
):
    operator = make_user("operator", organisation=make_org(code="HN"))
    sign_in(page, live_url, operator)
    open_intake(page, live_url)
    page.keyboard.type("0987 654 321")
    tab_to(page, "#reason-0")
    page.keyboard.press("1")  # violence report: the case sections open
    expect(page.locator("#survivor_name")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1366, "the intake scrolls sideways on a 1366x768 office screen"
    tab_to(page, "#danger-0")
    page.keyboard.press("Space")  # in danger now
    tab_to(page, "#emergency-0")
    page.keyboard.press("Space")  # police called: the time fills itself
    expect(page.locator("#emergency_time_police_113")).to_have_value(
        re.compile(r"^\d\d/\d\d/\d{4} \d\d:\d\d$")
    )
    tab_to(page, "#survivor_name")
    page.keyboard.type("Võ Thị Bàn Phím")
    page.keyboard.press("Enter")  # Enter moves on, it never submits
    expect(page.locator("#survivor_sex")).to_be_focused()
    page.keyboard.press("ArrowDown")  # unknown -> female is first: go to the top
    page.keyboard.press("Home")
    tab_to(page, "#survivor_age")
    page.keyboard.type("31")
    tab_to(page, "#safe_contact")
    page.keyboard.type("Chỉ gọi giờ hành chính")
    tab_to(page, "#acts-0")
    page.keyboard.press("Space")  # beating
    tab_to(page, "#perpetrator_relationship")
    page.keyboard.press("ArrowDown")  # intimate partner
    tab_to(page, "#risk_answers-1")
    page.keyboard.press("Space")  # threats to kill: a red flag
    expect(page.locator("#risk-result")).to_have_attribute("data-level", "high")
    # what the level comes from, in words
    expect(page.locator("#risk-result")).to_contain_text("dấu hiệu đặc biệt nguy hiểm: 1")
    assert count(Call) == 0  # nothing saved by any Enter so far
    page.keyboard.press("Control+Enter")
    page.wait_for_url(re.compile(r"/cases/[0-9a-f-]{36}$"))
    case = db.session.execute(select(Case)).scalar_one()
    assert re.fullmatch(r"HN-\d{4}-000001", case.number)
    expect(page.locator("h1")).to_contain_text(case.number)
    assert case.survivor_name == "Võ Thị Bàn Phím" and case.risk_level == "high"
    assert case.survivor_sex == "female"
    assert "Võ Thị".encode() not in case.survivor_name_sealed
    assert (count(Incident), count(Perpetrator)) == (1, 1)
    call = case.calls[0]
    assert call.danger == "danger_now" and call.emergency_actions[0].action == "police_113"
    assert page.errors == [], page.errors


def test_a_silent_call_takes_a_few_keys(page, live_url, make_user):
    sign_in(page, live_url, make_user("operator"))
    open_intake(page, live_url)
    presses = tab_to(page, "#reason-0")
    page.keyboard.press("5")  # silent
    expect(page.locator("#sec-danger")).to_be_hidden()
    page.keyboard.press("Control+Enter")
    expect(page.locator(".flash-success")).to_be_visible()
    # The message is said once: its marks leave the address, so a reload does not repeat it.
    expect(page).to_have_url(re.compile(r"/calls/new$"))
    page.reload()
    expect(page.locator("#reason-0")).to_be_visible()
    expect(page.locator(".flash-success")).to_have_count(0)
    assert presses <= 2  # phone -> name -> reason
    call = db.session.execute(select(Call)).scalar_one()
    assert (call.reason, call.case_id) == ("silent", None)
    assert call.ended_at is not None  # filled at save when nobody pressed "End now"
    # No one said who called: not "the survivor", the list's first choice, by default.
    assert call.caller_type == "anonymous"


def test_the_caller_type_a_silent_call_set_goes_back_but_a_choice_stays(page, live_url, make_user):
    sign_in(page, live_url, make_user("operator"))
    open_intake(page, live_url)
    tab_to(page, "#reason-0")
    page.keyboard.press("5")  # silent: no one said who called
    expect(page.locator("#caller_type")).to_have_value("anonymous")
    page.keyboard.press("1")  # a violence report after all: back to the default
    expect(page.locator("#caller_type")).to_have_value("survivor")
    page.select_option("#caller_type", "relative")
    page.check("[name=reason][value=prank]")
    expect(page.locator("#caller_type")).to_have_value("relative")  # the operator's choice


def test_who_chose_the_caller_comes_back_with_the_draft(page, live_url, make_user):
    """Brought back by a reload, a "Would not say" the page set still goes back to "the
    survivor" when the reason changes; one the operator chose still stays."""
    sign_in(page, live_url, make_user("operator"))
    open_intake(page, live_url)
    page.check("[name=reason][value=silent]")
    expect(page.locator("#caller_type")).to_have_value("anonymous")
    page.fill("#narrative", "Im lặng")
    page.wait_for_url(re.compile(r"/calls/new\?draft="), timeout=15000)
    page.reload()
    expect(page.locator("#caller_type")).to_have_value("anonymous")
    page.check("#reason-0")  # a violence report after all
    expect(page.locator("#caller_type")).to_have_value("survivor")
    page.select_option("#caller_type", "relative")
    page.wait_for_timeout(4500)  # the choice is in the draft
    page.reload()
    page.check("[name=reason][value=prank]")
    expect(page.locator("#caller_type")).to_have_value("relative")


def forms_sent(page, path: str) -> list[str]:
    """The forms the page sends to `path` from now on: a key that sent one would be seen even
    though the save's own request leaves a moment after the key (it fetches a token first)."""
    sent: list[str] = []
    page.on(
        "request", lambda r: sent.append(r.url) if r.method == "POST" and path in r.url else None
    )
    return sent


def test_a_time_typed_beside_an_emergency_action_ticks_it(page, live_url, make_user):
    sign_in(page, live_url, make_user("operator"))
    open_intake(page, live_url)
    page.check("[name=reason][value=violence_report]")
    box = page.locator("[name=emergency][value=ambulance_115]")
    expect(box).not_to_be_checked()
    page.fill("#emergency_time_ambulance_115", "14:30")  # typed first, the box forgotten
    expect(box).to_be_checked()
    sent = forms_sent(page, "/calls/new")
    page.locator("#caller_phone").focus()
    page.keyboard.press("Enter")  # moves on
    page.focus("#channel")
    page.keyboard.press("Enter")  # a list too: the next field, nothing sent
    expect(page.locator("#caller_type")).to_be_focused()
    page.wait_for_timeout(1500)  # the save asks for a fresh token first: its form leaves later
    assert sent == []


def test_a_repeat_caller_is_recognised_from_another_spelling(page, live_url, make_user, make_org):
    org = make_org(code="HN")
    colleague = make_user("operator", organisation=org)
    earlier = save_intake(
        data=Intake(
            reason="violence_report",
            intake_key=uuid.uuid4(),
            caller_phone="0912345678",
            flags=["perpetrator_calling"],
            survivor=Survivor(safe_contact="Không bao giờ để lại lời nhắn"),
        ),
        by=colleague,
    ).case
    sign_in(page, live_url, make_user("operator", organisation=org))
    open_intake(page, live_url)
    page.keyboard.type("+84 91-234-5678")
    panel = page.locator("#repeat-panel")
    expect(panel.locator("[data-panel-calls]")).to_have_attribute("data-panel-calls", "1")
    expect(panel).to_contain_text(earlier.number)
    expect(panel).to_contain_text("Không bao giờ để lại lời nhắn")
    # From the number, Shift+Tab reaches "Add this call to…" at once (it came after Save).
    for _ in range(3):
        page.keyboard.press("Shift+Tab")
        if page.evaluate("document.activeElement.classList.contains('use-case')"):
            break
    expect(panel.locator(".use-case")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#case_number")).to_have_value(earlier.number)
    expect(page.locator("#reason-3")).to_be_checked()  # follow-up
    page.click("#submit")
    page.wait_for_url(re.compile(r"/cases/"))
    assert count(Case) == 1 and len(db.session.get(Case, earlier.id).calls) == 2


def test_what_is_known_of_the_number_is_in_sight_at_1366x768(page, live_url, make_user, make_org):
    """The case of the number typed, its safe contact and "Add this call to…" go to the top of
    the side column, on the screen without scrolling; Shift+Tab from the number still reaches
    the button first."""
    org = make_org(code="HN")
    earlier = save_intake(
        data=Intake(
            reason="violence_report",
            caller_phone="0912345678",
            danger=["danger_now"],
            survivor=Survivor(name="Nguyễn Thị Lan", age=9, safe_contact="Chỉ nhắn tin"),
        ),
        by=make_user("operator", organisation=org),
    ).case
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page, live_url, make_user("operator", organisation=org))
    open_intake(page, live_url)
    page.keyboard.type("0912 345 678")
    panel = page.locator("#repeat-panel")
    expect(panel).to_contain_text(earlier.number)
    button = panel.locator(".use-case")
    for shown in (panel.get_by_text("Chỉ nhắn tin"), button):
        box = shown.bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= 768, box
    # The number an operator reads out is on one line.
    expect(button).to_have_text(f"Thêm cuộc gọi này vào ca {earlier.number}")
    expect(button.locator(".nowrap")).to_have_text(earlier.number)
    page.keyboard.press("Shift+Tab")
    expect(button).to_be_focused()
    # Another number, unknown: the call's own card is back on top.
    page.locator("#caller_phone").fill("0977 000 111")
    expect(panel.locator(".panel-none")).to_be_visible()
    call_card = page.locator(".intake-side .card").first.bounding_box()
    assert call_card["y"] < panel.bounding_box()["y"]


def test_on_a_narrow_screen_the_call_panel_is_above_the_form_as_tab_reaches_it(
    page, live_url, make_user
):
    """At 1024 px the page has one column: the panel Tab reaches before the number is shown
    before it too (it was shown below the whole form, reached first)."""
    page.set_viewport_size({"width": 1024, "height": 768})
    sign_in(page, live_url, make_user("operator"))
    open_intake(page, live_url)
    side = page.locator(".intake-side").bounding_box()
    main = page.locator(".intake-main").bounding_box()
    assert side["y"] + side["height"] <= main["y"] + 1  # above, not beside nor below
    assert abs(side["x"] - main["x"]) < 2  # one column
    page.keyboard.press("Shift+Tab")  # from the number, back into the panel just above it
    assert page.evaluate("!!document.activeElement.closest('.intake-side')")


def test_on_a_narrow_screen_the_number_stays_put_as_the_panel_fills(
    page, live_url, make_user, make_org
):
    """The panel above the number keeps its height as what is known of the number arrives
    (scrolling within itself), so the field being typed into never moves."""
    org = make_org(code="HN")
    three_cases_from_one_number(make_user("operator", organisation=org))
    page.set_viewport_size({"width": 1024, "height": 768})
    sign_in(page, live_url, make_user("operator", organisation=org))
    open_intake(page, live_url)
    number = page.locator("#caller_phone")
    before = number.bounding_box()["y"]
    page.keyboard.type("0912 345 678")
    panel = page.locator("#repeat-panel")
    expect(panel.locator("[data-panel-calls]")).to_have_attribute("data-panel-calls", "3")
    assert abs(number.bounding_box()["y"] - before) < 1
    last = panel.locator(".use-case").last
    last.focus()  # as the keyboard reaches it: scrolled into the panel's view
    box, shown = last.bounding_box(), panel.bounding_box()
    assert shown["y"] <= box["y"] and box["y"] + box["height"] <= shown["y"] + shown["height"] + 1


def test_on_a_narrow_screen_the_keys_reach_the_end_of_a_full_panel(
    page, live_url, make_user, make_org
):
    """The panel scrolls within itself at 1024 px. Its last case here is closed (no button to
    Tab to), so its safe-contact note lies below the panel's last focusable element: from that
    button the arrow keys scroll the panel to its end, and the note comes into view."""
    org = make_org(code="HN")
    supervisor = make_user("supervisor", organisation=org)
    manager = make_user("case_manager", organisation=org)
    oldest = three_cases_from_one_number(make_user("operator", organisation=org))[0]  # last
    assign_case(case=oldest, to=manager, by=supervisor)
    duties_done(oldest, manager)
    change_status(case=oldest, to="pending_closure", by=manager)
    change_status(case=oldest, to="closed", by=supervisor)
    page.set_viewport_size({"width": 1024, "height": 768})
    sign_in(page, live_url, make_user("operator", organisation=org))
    open_intake(page, live_url)
    page.keyboard.type("0912 345 678")
    panel = page.locator("#repeat-panel")
    expect(panel.locator("[data-panel-calls]")).to_have_attribute("data-panel-calls", "3")
    expect(panel.locator(".use-case")).to_have_count(2)
    last_note = panel.locator(".safe-contact-note").last
    expect(last_note).to_contain_text("lần 0")
    assert page.evaluate("p => p.scrollHeight > p.clientHeight + 40", panel.element_handle())
    page.keyboard.press("Shift+Tab")  # from the number to the panel's last button
    expect(panel.locator(".use-case").last).to_be_focused()
    at_end = "p => p.scrollTop + p.clientHeight >= p.scrollHeight - 1"
    for _ in range(15):  # as a person would: press until the end shows
        page.keyboard.press("ArrowDown")
        page.wait_for_timeout(150)  # a key's smooth scroll runs its course
        if page.evaluate(at_end, panel.element_handle()):
            break
    else:
        raise AssertionError("the arrow keys never brought the panel's end into view")
    # Measured in one go, as the page's own scroll may still be moving.
    inside = """p => {
        const note = p.querySelector('.panel-case:last-child .safe-contact-note');
        return note.getBoundingClientRect().bottom <= p.getBoundingClientRect().bottom + 1;
    }"""
    assert page.evaluate(inside, panel.element_handle())
    expect(panel.locator(".use-case").last).to_be_focused()  # the keys scrolled, nothing else


def test_a_copy_kept_apart_refused_on_a_narrow_screen_says_so_where_the_eye_is(
    page, live_url, make_user
):
    """The refusal to save a copy kept apart from a call saved since is focused, in sight,
    with the link to that call (the number field, focused otherwise, is far below it)."""
    from app.calls.drafts import KEPT_APART, save_draft

    user = make_user("operator")
    original = uuid.uuid4()
    saved = save_intake(data=Intake(reason="silent", intake_key=original), by=user)
    copy = uuid.uuid4()
    fields = {"reason": "silent", "started_at": "06/12/2026 08:00", "kept_from": str(original)}
    save_draft(user=user, intake_key=copy, fields=fields, page=KEPT_APART)
    page.set_viewport_size({"width": 1024, "height": 768})
    sign_in(page, live_url, user)
    page.goto(f"{live_url}/calls/new?draft={copy}")
    page.keyboard.press("Control+Enter")
    notice = page.locator("#kept-apart[data-refused]")
    expect(notice).to_be_focused()
    expect(notice.locator(f'a[href="/calls/{saved.call_id}"]')).to_be_in_viewport()
    assert count(Call) == 1


def test_a_case_erased_while_its_call_is_typed_is_unlinked_on_the_page(
    page, live_url, make_user, make_org
):
    """The operator adds the call to the caller's case from the panel; a supervisor erases
    that case meanwhile. The next autosave drops the link on the page and says so; saving then
    opens the call on its own, with everything typed."""
    org = make_org(code="HN")
    supervisor = make_user("supervisor", organisation=org)
    earlier = save_intake(
        data=Intake(reason="violence_report", intake_key=uuid.uuid4(), caller_phone="0912000111"),
        by=make_user("operator", organisation=org),
    ).case
    sign_in(page, live_url, make_user("operator", organisation=org))
    open_intake(page, live_url)
    page.keyboard.type("0912 000 111")
    page.locator("#repeat-panel .use-case").click()
    expect(page.locator("#case_number")).to_have_value(earlier.number)
    erase_case(case=db.session.get(Case, earlier.id), by=supervisor, reason="recorded_in_error")
    page.fill("#caller_name", "Cô Ba Gọi Lại")  # the next autosave carries the link
    expect(page.locator("#case-erased")).to_be_visible(timeout=10000)
    expect(page.locator("#case-erased")).to_contain_text("vừa bị giám sát viên xoá")
    expect(page.locator("#case_number")).to_have_value("")
    expect(page.locator("#caller_name")).to_have_value("Cô Ba Gọi Lại")
    db.session.rollback()  # end the test's read: SQLite would keep the server from writing
    page.click("#submit")
    expect(page.locator(".flash-success")).to_be_visible()
    new = db.session.execute(select(Call).where(Call.id != earlier.calls[0].id)).scalar_one()
    assert new.case_id is None and new.caller_name == "Cô Ba Gọi Lại"


def test_a_call_opened_from_a_case_erased_meanwhile_no_longer_names_it(
    page, live_url, make_user, make_org
):
    org = make_org(code="HN")
    operator = make_user("operator", organisation=org)
    case = save_intake(
        data=Intake(reason="violence_report", intake_key=uuid.uuid4()), by=operator
    ).case
    sign_in(page, live_url, operator)
    page.goto(f"{live_url}/calls/new?case={case.id}")  # "New call on this case"
    expect(page.locator("#linked-case")).to_contain_text(case.number)
    erase_case(case=case, by=make_user("supervisor", organisation=org), reason="recorded_in_error")
    page.fill("#caller_name", "Gọi Tiếp")
    expect(page.locator("#case-erased")).to_be_visible(timeout=10000)
    expect(page.locator("#linked-case")).to_be_hidden()
    assert page.locator("[name=case_id]").input_value() == ""


def test_a_double_click_saves_one_call(page, live_url, make_user):
    sign_in(page, live_url, make_user("operator"))
    open_intake(page, live_url)
    page.check("#reason-2")  # information
    page.dblclick("#submit")
    expect(page.locator(".flash-success")).to_be_visible()
    page.wait_for_timeout(500)  # a second request, had one been sent, would land by now
    assert count(Call) == 1


def test_a_session_ended_on_the_server_mid_call_loses_nothing(page, live_url, make_user):
    user = make_user("operator")
    sign_in(page, live_url, user)
    open_intake(page, live_url)
    page.keyboard.type("0903 111 222")
    page.check("#reason-0")
    page.fill("#survivor_name", "Phan Thị Nháp")
    expect(page.locator("#draft-status")).to_contain_text(re.compile(r"\d\d:\d\d"), timeout=10000)
    revoke_user_sessions(user.id)  # the session ends on the server (time-out, another device...)
    db.session.commit()
    page.fill("#caller_name", "Chị Hai")  # typed after the end: kept on the page
    expect(page.locator("#session-ended")).to_be_visible(timeout=10000)
    page.click("#submit")  # posting now would lose it: the page refuses and explains
    expect(page.locator("#session-ended")).to_be_visible()
    assert count(Call) == 0
    db.session.rollback()  # end the test's read: SQLite would keep the server from writing
    with page.expect_popup() as opened:
        page.click("#session-ended-link")
    tab = opened.value
    tab.fill("#email", user.email)
    tab.fill("#password", PASSWORD)
    tab.keyboard.press("Enter")
    tab.wait_for_url(lambda url: urlsplit(url).path == "/calls/drafts")  # signed in again
    tab.close()
    expect(page.locator("#session-ended")).to_be_hidden(timeout=15000)  # saving again
    page.click("#submit")
    page.wait_for_url(re.compile(r"/cases/"))
    call = db.session.execute(select(Call)).scalar_one()
    assert call.caller_name == "Chị Hai" and call.case.survivor_name == "Phan Thị Nháp"


def test_a_save_the_network_cuts_keeps_what_was_typed_after_the_last_autosave(
    page, live_url, make_user
):
    """Only the last autosave (every 4 seconds) was on the server: the page the back button
    brought back after a cut save had lost what was typed since."""
    sign_in(page, live_url, make_user("operator"))
    open_intake(page, live_url)
    page.keyboard.type("0903 777 888")
    page.check("#reason-0")
    page.fill("#survivor_name", "Vũ Thị Trước")
    expect(page.locator("#draft-status")).to_contain_text(re.compile(r"\d\d:\d\d"), timeout=10000)
    page.fill("#narrative", "Gõ sau lần lưu nháp cuối")
    page.route(
        "**/calls/new*",
        lambda route: route.abort() if route.request.method == "POST" else route.continue_(),
    )
    page.keyboard.press("Control+Enter")  # sent at once, before the next autosave
    page.wait_for_timeout(1000)
    assert count(Call) == 0
    db.session.rollback()
    draft = db.session.execute(select(IntakeDraft)).scalar_one()
    assert "Gõ sau lần lưu nháp cuối" in json.dumps(draft.payload, ensure_ascii=False)
    db.session.rollback()


def test_a_network_drop_mid_call_loses_nothing(page, live_url, make_user):
    user = make_user("operator")
    sign_in(page, live_url, user)
    open_intake(page, live_url)
    page.keyboard.type("0903 444 555")
    page.check("#reason-0")
    page.context.set_offline(True)  # the office network goes down mid-call
    page.fill("#survivor_name", "Đinh Thị Mất Mạng")
    status = page.locator("#draft-status")
    expect(status).to_contain_text("Mất kết nối", timeout=10000)
    page.click("#submit")  # saving now cannot work: the page keeps everything and says so
    # The try has run its course (on a busy machine it can take a while to fail): the form is
    # free again, so coming back online below does not complete it.
    expect(page.locator("#intake-form")).not_to_have_attribute(
        "data-submitted", "yes", timeout=15000
    )
    expect(status).to_contain_text("Mất kết nối")
    expect(page.locator("#survivor_name")).to_have_value("Đinh Thị Mất Mạng")
    assert count(Call) == 0
    db.session.rollback()  # end the test's read: SQLite would keep the server from writing
    page.context.set_offline(False)
    expect(status).to_contain_text(re.compile(r"\d\d:\d\d"), timeout=10000)  # draft saved
    draft = db.session.execute(select(IntakeDraft)).scalar_one()
    assert "Đinh Thị Mất Mạng" in json.dumps(draft.payload, ensure_ascii=False)
    db.session.rollback()
    page.click("#submit")
    page.wait_for_url(re.compile(r"/cases/"))
    assert db.session.execute(select(Case)).scalar_one().survivor_name == "Đinh Thị Mất Mạng"


def test_an_idle_time_out_mid_call_offers_the_draft_back_whole(page, serve, make_app, make_user):
    base = serve(make_app(SESSION_IDLE_SECONDS=10, SESSION_WARNING_SECONDS=3))
    user = make_user("operator")
    sign_in(page, base, user)
    open_intake(page, base)
    page.keyboard.type("0903 111 222")
    page.check("#reason-0")
    page.fill("#survivor_name", "Phan Thị Nháp")
    page.fill("#narrative", "Cuộc gọi dài, bị ngắt giữa chừng")
    page.check("#acts-2")
    page.fill("#incident_date", "20/11/2026")
    key = page.locator("[name=intake_key]").input_value()
    expect(page).to_have_url(re.compile(r"/auth/login"), timeout=25000)  # signed out when idle
    page.fill("#email", user.email)
    page.fill("#password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: urlsplit(url).path == "/calls/drafts")  # offered first
    page.click(f"a[href$='draft={key}']")
    expect(page.locator("#survivor_name")).to_have_value("Phan Thị Nháp")
    expect(page.locator("#narrative")).to_have_value("Cuộc gọi dài, bị ngắt giữa chừng")
    expect(page.locator("#caller_phone")).to_have_value("0903 111 222")
    expect(page.locator("#incident_date")).to_have_value("20/11/2026")
    expect(page.locator("#acts-2")).to_be_checked()
    expect(page.locator("#reason-0")).to_be_checked()
    page.click("#submit")
    page.wait_for_url(re.compile(r"/cases/"))
    assert count(Call) == 1 and count(Case) == 1


def test_a_case_chosen_in_the_panel_replaces_the_case_the_page_was_opened_for(
    page, live_url, make_user, make_org
):
    org = make_org(code="HN")
    operator = make_user("operator", organisation=org)
    opened_for = save_intake(
        data=Intake(reason="violence_report", intake_key=uuid.uuid4()), by=operator
    ).case
    callers = save_intake(
        data=Intake(reason="violence_report", intake_key=uuid.uuid4(), caller_phone="0912000222"),
        by=operator,
    ).case
    sign_in(page, live_url, operator)
    page.goto(f"{live_url}/calls/new?case={opened_for.id}")
    expect(page.locator("[data-new-case]")).to_be_hidden()  # the case's own details stand
    page.fill("#caller_phone", "0912 000 222")
    page.locator("#repeat-panel .use-case").click()
    expect(page.locator("#linked-case")).to_be_hidden()
    assert page.locator("[name=case_id]").input_value() == ""
    expect(page.locator("#case_number")).to_have_value(callers.number)
    page.fill("#case_number", "")  # none after all: a new case, whose details show
    expect(page.locator("[data-new-case]")).to_be_visible()
    page.locator("#repeat-panel .use-case").click()
    db.session.rollback()
    page.click("#submit")
    page.wait_for_url(re.compile(rf"/cases/{callers.id}"))
    db.session.expire_all()
    assert len(db.session.get(Case, callers.id).calls) == 2
    assert len(db.session.get(Case, opened_for.id).calls) == 1


def test_the_panel_empties_when_the_number_is_cut_short(page, live_url, make_user, make_org):
    org = make_org(code="HN")
    operator = make_user("operator", organisation=org)
    case = save_intake(
        data=Intake(reason="violence_report", intake_key=uuid.uuid4(), caller_phone="0912000333"),
        by=operator,
    ).case
    sign_in(page, live_url, operator)
    open_intake(page, live_url)
    page.keyboard.type("0912 000 333")
    expect(page.locator("#repeat-panel")).to_contain_text(case.number)
    page.fill("#caller_phone", "0912")
    expect(page.locator("#repeat-panel")).not_to_contain_text(case.number)
    expect(page.locator("#repeat-panel .use-case")).to_have_count(0)


def test_a_reload_mid_call_brings_the_intake_back(page, live_url, make_user):
    sign_in(page, live_url, make_user("operator"))
    open_intake(page, live_url)
    page.check("#reason-0")
    page.fill("#survivor_name", "Người Tải Lại")
    page.fill("#narrative", "Trình duyệt tải lại giữa cuộc gọi")
    page.wait_for_url(re.compile(r"/calls/new\?draft="), timeout=15000)  # saved: named
    page.reload()
    expect(page.locator("#survivor_name")).to_have_value("Người Tải Lại")
    expect(page.locator("#narrative")).to_have_value("Trình duyệt tải lại giữa cuộc gọi")


def _reloaded_before_the_last_copy_landed(
    page, live_url, user, typed_first=None, landed=None
) -> tuple[uuid.UUID, dict, int]:
    """Type, let a draft be saved, reload; then the closing page's last copy (its narrative
    longer by a few words) lands on the server after the reloaded page was drawn, as a beacon
    slower than the reload's own request does. The test writes that copy itself, as the
    server would have, so the order is certain (after `typed_first`, if given, has typed on
    the reloaded page)."""
    sign_in(page, live_url, user)
    open_intake(page, live_url)
    page.check("#reason-0")
    page.fill("#survivor_name", "Người Tải Lại")
    page.fill("#narrative", "Chồng đánh")
    page.wait_for_url(re.compile(r"/calls/new\?draft="), timeout=15000)
    key = uuid.UUID(urlsplit(page.url).query.split("=")[1])
    page.reload()
    expect(page.locator("#narrative")).to_have_value("Chồng đánh")
    if typed_first:
        typed_first()  # on the reloaded page, before the copy lands
    opened = open_draft(user=user, intake_key=key)
    fields, revision = opened
    fields["narrative"] = "Chồng đánh vào đầu"  # typed just before the reload
    fields["flags"] = [page.locator("#flags-1").get_attribute("value")]  # and a flag ticked
    fields["caller_name"] = "Chị An"  # and a name typed
    fields.update(landed or {})
    save_draft(user=user, intake_key=key, fields=fields, revision=revision, page="closed page")
    db.session.rollback()  # end the test's read: SQLite would keep the server from writing
    return key, fields, revision + 1


def test_a_reloads_race_brings_the_last_words_back_not_the_copy_before(page, live_url, make_user):
    user = make_user("operator")
    key, _fields, _revision = _reloaded_before_the_last_copy_landed(page, live_url, user)
    # Nothing typed on the reloaded page: it takes the newer copy in as it asks, and says so.
    expect(page.locator("#narrative")).to_have_value("Chồng đánh vào đầu", timeout=10000)
    expect(page.locator("#draft-merged .merged-added")).to_contain_text(
        "Nội dung người gọi trình bày"
    )
    expect(page.locator("#draft-merged .merged-kept")).to_be_hidden()
    expect(page.locator("#survivor_name")).to_have_value("Người Tải Lại")
    expect(page.locator("#flags-1")).to_be_checked()
    expect(page.locator("#caller_name")).to_have_value("Chị An")
    page.locator("#narrative").press("End")
    page.keyboard.type(", chị sợ")
    expect(page.locator("#draft-status")).to_contain_text(re.compile(r"\d\d:\d\d"), timeout=10000)
    page.wait_for_timeout(4500)  # the next autosave, of the page's text with the copy taken in
    fields = load_draft(user=user, intake_key=key)
    db.session.rollback()
    assert fields["narrative"] == "Chồng đánh vào đầu, chị sợ"
    page.reload()
    expect(page.locator("#narrative")).to_have_value("Chồng đánh vào đầu, chị sợ")


def test_text_typed_on_both_sides_of_a_reloads_race_keeps_both(page, live_url, make_user):
    user = make_user("operator")

    def typed_first():
        page.locator("#narrative").press("End")
        page.keyboard.type(", chị sợ")
        page.check("#flags-0")
        page.fill("#caller_name", "Chị Bình")  # a name typed on both pages: never run together

    key, _fields, revision = _reloaded_before_the_last_copy_landed(
        page, live_url, user, typed_first
    )
    expect(page.locator("#narrative")).to_have_value("Chồng đánh vào đầu, chị sợ", timeout=10000)
    expect(page.locator("#flags-0")).to_be_checked()  # each side's tick
    expect(page.locator("#flags-1")).to_be_checked()
    expect(page.locator("#draft-merged .merged-added")).to_contain_text(
        "Nội dung người gọi trình bày"
    )
    expect(page.locator("#draft-merged .merged-kept")).to_contain_text("Tên hoặc bí danh người gọi")
    expect(page.locator("#caller_name")).to_have_value("Chị Bình")
    page.wait_for_timeout(4500)
    db.session.rollback()
    fields, now = open_draft(user=user, intake_key=key)
    db.session.rollback()
    assert now > revision
    assert fields["narrative"] == "Chồng đánh vào đầu, chị sợ"
    assert fields["survivor_name"] == "Người Tải Lại" and fields["caller_name"] == "Chị Bình"
    assert len(fields["flags"]) == 2
    # Saving the call keeps it all.
    page.click("#submit")
    page.wait_for_url(re.compile(r"/cases/"))
    case = db.session.execute(select(Case)).scalar_one()
    assert case.calls[0].narrative == "Chồng đánh vào đầu, chị sợ"
    db.session.rollback()


def test_a_caller_the_closing_page_set_is_still_the_pages_once_taken_in(page, live_url, make_user):
    """The closing page's last seconds: a silent call, so the page set "Would not say". Taken
    in by the reloaded page, a violence report chosen after still puts "the survivor" back."""
    user = make_user("operator")
    silent = {"reason": "silent", "caller_type": "anonymous", "caller_set": "page"}
    _reloaded_before_the_last_copy_landed(page, live_url, user, landed=silent)
    expect(page.locator("#caller_type")).to_have_value("anonymous", timeout=10000)
    expect(page.locator("[name=reason][value=silent]")).to_be_checked()
    page.check("#reason-0")
    expect(page.locator("#caller_type")).to_have_value("survivor")


def test_saving_before_the_newer_copy_was_taken_in_is_refused_then_takes_it_in(
    page, live_url, make_user
):
    """Saved at once after the reload, before the page asked: the save would have dropped the
    closing page's copy; refused, the page sent back takes it in, and the next save has it."""
    user = make_user("operator")
    _reloaded_before_the_last_copy_landed(page, live_url, user)
    page.click("#submit")
    expect(page.locator(".flash-error")).to_contain_text("Chưa lưu")
    assert count(Call) == 0
    db.session.rollback()
    expect(page.locator("#narrative")).to_have_value("Chồng đánh vào đầu", timeout=10000)
    expect(page.locator("#draft-merged .merged-added")).to_contain_text(
        "Nội dung người gọi trình bày"
    )
    page.click("#submit")
    page.wait_for_url(re.compile(r"/cases/"))
    case = db.session.execute(select(Case)).scalar_one()
    assert case.calls[0].narrative == "Chồng đánh vào đầu"
    db.session.rollback()


def test_a_stray_key_on_the_reason_never_hides_what_was_typed(page, live_url, make_user):
    sign_in(page, live_url, make_user("operator"))
    open_intake(page, live_url)
    page.check("#reason-0")  # violence report
    page.fill("#survivor_name", "Người Không Mất")
    page.focus("#reason-0")
    page.keyboard.press("5")  # a slip of the finger: silent
    expect(page.locator("#reason-4")).to_be_checked()
    expect(page.locator("#survivor_name")).to_be_visible()
    page.click("#submit")
    expect(page.locator("#form-errors")).to_contain_text("không mở ca")
    expect(page.locator("#survivor_name")).to_have_value("Người Không Mất")
    assert count(Call) == 0


def test_a_child_involved_puts_the_page_on_the_child_path_as_saving_does(page, live_url, make_user):
    sign_in(page, live_url, make_user("operator"))
    open_intake(page, live_url)
    page.check("#reason-0")
    expect(page.locator("#child-banner")).to_be_hidden()
    page.check("input[name=danger][value=child_involved]")  # no age known: a child first
    expect(page.locator("#child-banner")).to_be_visible()
    page.fill("#survivor_age", "30")  # an age saying otherwise
    expect(page.locator("#child-banner")).to_be_hidden()
    expect(page.locator("#child-inline")).to_be_hidden()
    page.fill("#survivor_age", "9")  # said beside the age too, the banner out of sight
    expect(page.locator("#child-inline")).to_be_visible()
    expect(page.locator("#child-inline")).to_have_text(
        "Trẻ dưới 16 tuổi: theo quy trình bảo vệ trẻ em"
    )
    page.fill("#survivor_age", "")
    page.uncheck("input[name=danger][value=child_involved]")
    page.select_option("#caller_type", "child_self")  # a child calling for themself
    expect(page.locator("#child-banner")).to_be_visible()
    page.select_option("#survivor_age_band", "16_59")  # an age group saying otherwise
    expect(page.locator("#child-banner")).to_be_hidden()
    # A date of birth counts the age on the call's day, as the case does: 15 on 10/06/2026,
    # 16 two days later.
    page.fill("#started_at", "10/06/2026 09:00")
    page.fill("#survivor_birth_date", "11/06/2010")
    expect(page.locator("#child-banner")).to_be_visible()
    page.fill("#started_at", "12/06/2026 09:00")
    expect(page.locator("#child-banner")).to_be_hidden()


def test_a_call_on_a_child_s_case_asks_the_child_s_questions(page, live_url, make_user):
    """The child helpline category and the child's and a guardian's consent are asked of a call
    joining a child's case (the page's own answers say nothing of the case's age), not of one
    joining an adult's; a case typed by number may be a child's, so they are asked."""
    operator = make_user("operator")
    child, adult = (
        save_intake(
            data=Intake(
                reason="violence_report", intake_key=uuid.uuid4(), survivor=Survivor(age=age)
            ),
            by=operator,
        ).case
        for age in (12, 30)
    )
    sign_in(page, live_url, operator)

    def asked() -> bool:
        return page.eval_on_selector(
            "#guardian_consent", "el => !el.closest('[data-child-only]').hidden"
        )

    page.goto(f"{live_url}/calls/new?case={child.id}")
    expect(page.locator("#linked-case")).to_contain_text(child.number)
    assert asked() and page.eval_on_selector("#chi_category", "el => !el.parentElement.hidden")
    expect(page.locator("#child-banner")).to_be_hidden()
    page.goto(f"{live_url}/calls/new?case={adult.id}")
    expect(page.locator("#linked-case")).to_contain_text(adult.number)
    assert not asked()
    open_intake(page, live_url)
    assert not asked()
    page.check("input[name=reason][value=follow_up]")
    page.fill("#case_number", adult.number)
    assert asked()


def test_a_page_opened_before_the_phone_rang_starts_the_call_at_the_first_key(
    page, live_url, make_user
):
    sign_in(page, live_url, make_user("operator"))
    open_intake(page, live_url)
    page.evaluate("document.getElementById('started_at').value = '01/01/2020 08:00'")  # idle
    page.keyboard.type("0987 000 111")
    expect(page.locator("#started_at")).not_to_have_value("01/01/2020 08:00")
    expect(page.locator("#started_at")).to_have_value(re.compile(r"^\d\d/\d\d/20\d\d \d\d:\d\d$"))


def test_an_intake_opened_again_in_a_second_tab_defers_to_the_first(page, live_url, make_user):
    """The draft offered again (the sign-in page's list, a copied address) while the page that
    is typing it is still open: the second copy says so and never saves over the first."""
    sign_in(page, live_url, make_user("operator"))
    open_intake(page, live_url)
    page.check("#reason-2")  # information
    page.fill("#narrative", "Bản đang gõ")
    page.wait_for_url(re.compile(r"/calls/new\?draft="), timeout=15000)
    second = page.context.new_page()
    second.goto(page.url)
    expect(second.locator("#open-elsewhere")).to_be_visible()
    expect(page.locator("#open-elsewhere")).to_be_hidden()
    assert second.evaluate("document.getElementById('intake-form').inert")  # read-only there
    page.fill("#narrative", "Bản đang gõ, viết tiếp")
    page.click("#submit")
    expect(page.locator(".flash-success")).to_be_visible()
    # The first tab is done: the second reloads, finds the intake saved, and is free again.
    expect(second.locator("#open-elsewhere")).to_be_hidden(timeout=10000)
    assert not second.evaluate("document.getElementById('intake-form').inert")
    expect(second.locator("#narrative")).to_have_value("")
    db.session.rollback()
    assert count(Call) == 1
    assert db.session.execute(select(Call)).scalar_one().narrative == "Bản đang gõ, viết tiếp"


def test_a_choice_made_in_a_list_also_keeps_its_section_open(page, live_url, make_user):
    sign_in(page, live_url, make_user("operator"))
    open_intake(page, live_url)
    page.check("#reason-0")
    page.select_option("#survivor_sex", "female")  # chosen, nothing typed
    page.focus("#reason-0")
    page.keyboard.press("2")  # information
    expect(page.locator("#survivor_sex")).to_be_visible()
    page.click("#submit")  # refused over the case details, which stay in sight
    expect(page.locator("#form-errors")).to_contain_text("không mở ca")
    expect(page.locator("#survivor_sex")).to_be_visible()
    expect(page.locator("#survivor_sex")).to_have_value("female")


def test_a_choice_in_a_list_keeps_its_section_open_on_an_intake_brought_back(
    page, live_url, make_user
):
    """Brought back from its draft ("Continue" after the session ended), the page is drawn
    with the operator's own choices: they still count as answers a stray key must not hide."""
    user = make_user("operator")
    key = uuid.uuid4()
    fields = {
        "intake_key": str(key),
        "owner": str(user.id),
        "started_at": "07/12/2026 08:00",
        "reason": "violence_report",
        "survivor_sex": "female",
        "perpetrator_relationship": "intimate_partner",
    }
    save_draft(user=user, intake_key=key, fields=fields)
    db.session.commit()
    sign_in(page, live_url, user)
    page.goto(f"{live_url}/calls/new?draft={key}")
    expect(page.locator("#survivor_sex")).to_have_value("female")
    page.focus("#reason-0")
    page.keyboard.press("3")  # a slip of the finger: information
    expect(page.locator("[name=reason][value=information]")).to_be_checked()
    expect(page.locator("#survivor_sex")).to_be_visible()
    expect(page.locator("#perpetrator_relationship")).to_be_visible()
    page.goto(f"{live_url}/calls/new")  # a new form's own choices hold nothing
    page.focus("#reason-0")
    page.keyboard.press("3")
    expect(page.locator("#survivor_sex")).to_be_hidden()


def test_a_child_s_answer_stays_in_sight_while_it_can_hold_the_save_back(page, live_url, make_user):
    """The child's questions go when nothing says "child" any more, but not over an answer
    given: the save checks a child's answers unless the survivor is known to be 16 or over,
    so the answer that refuses it must be there to see and change."""
    sign_in(page, live_url, make_user("operator"))
    open_intake(page, live_url)
    page.check("#reason-0")
    page.check("input[name=danger][value=child_involved]")
    page.select_option("#child_assent", "no")
    page.check("input[name=consent_services][value=counselling]")
    page.uncheck("input[name=danger][value=child_involved]")  # the survivor's child, not her
    expect(page.locator("#child-banner")).to_be_hidden()
    expect(page.locator("#child_assent")).to_be_visible()
    page.select_option("#child_assent", "unknown")  # taken back: nothing left to ask
    page.check("input[name=danger][value=injured]")  # any change draws the page again
    expect(page.locator("#child_assent")).to_be_hidden()


def test_a_checklist_tick_taken_back_makes_up_no_assessment(page, live_url, make_user):
    """A stray Space on a checklist box ticks "The checklist was gone through" with it; taken
    back, both go, so the save makes up no level and plans the 24-hour assessment
    (docs/risk.md). A tick the operator gave it themself stays."""
    sign_in(page, live_url, make_user("operator"))
    open_intake(page, live_url)
    page.check("#reason-0")
    page.check("input[name=danger][value=danger_now]")
    page.focus("#risk_answers-0")
    page.keyboard.press("Space")
    expect(page.locator("#risk_checked")).to_be_checked()
    page.keyboard.press("Space")
    expect(page.locator("#risk_answers-0")).not_to_be_checked()
    expect(page.locator("#risk_checked")).not_to_be_checked()
    page.check("#risk_checked")  # gone through, every answer no
    page.check("#risk_answers-0")
    page.uncheck("#risk_answers-0")
    expect(page.locator("#risk_checked")).to_be_checked()
    page.uncheck("#risk_checked")
    page.keyboard.press("Control+Enter")
    page.wait_for_url(re.compile(r"/cases/"))
    db.session.rollback()
    case = db.session.execute(select(Case)).scalar_one()
    assert case.risk_level is None
    assert "safety_review" in {task.kind for task in case.tasks}


@pytest.mark.parametrize("ticked_by, left", [("page", False), ("operator", True)])
def test_the_checklist_s_tick_brought_back_remembers_who_gave_it(
    page, live_url, make_user, ticked_by, left
):
    """An intake brought back from its draft still knows whether the page ticked "gone
    through" with a stray answer (it goes with that answer) or the operator did (it stays)."""
    user = make_user("operator")
    key = uuid.uuid4()
    fields = {
        "intake_key": str(key),
        "owner": str(user.id),
        "started_at": "07/12/2026 08:00",
        "reason": "violence_report",
        "risk_answers": ["escalating"],
        "risk_checked": "y",
        "risk_checked_by": ticked_by,
    }
    save_draft(user=user, intake_key=key, fields=fields)
    db.session.commit()
    sign_in(page, live_url, user)
    page.goto(f"{live_url}/calls/new?draft={key}")
    expect(page.locator("#risk_checked")).to_be_checked()
    page.uncheck("input[name=risk_answers][value=escalating]")
    if left:
        expect(page.locator("#risk_checked")).to_be_checked()
    else:
        expect(page.locator("#risk_checked")).not_to_be_checked()
    expect(page.locator("[name=risk_checked_by]")).to_have_value("" if not left else "operator")


def test_the_commune_list_follows_the_province(page, live_url, make_user):
    sign_in(page, live_url, make_user("operator"))
    open_intake(page, live_url)
    page.check("#reason-0")
    page.select_option("#province_code", "79")
    code, name = commune_choices("79")[0]
    expect(page.locator(f"#commune_code option[value='{code}']")).to_have_text(name)
    page.select_option("#province_code", "01")
    expect(page.locator(f"#commune_code option[value='{code}']")).to_have_count(0)
    expect(page.locator("#commune_code option")).to_have_count(len(commune_choices("01")) + 1)


def test_an_intake_kept_after_its_session_ended_elsewhere_still_clears_when_left(
    page, serve, make_app, make_user
):
    """The page stays for what it holds when the session ends elsewhere, but a screen nobody
    touches for the idle time still goes to the sign-in page (what it saved is a draft)."""
    base = serve(make_app(SESSION_IDLE_SECONDS=8, SESSION_WARNING_SECONDS=3))
    user = make_user("operator")
    sign_in(page, base, user)
    open_intake(page, base)
    page.keyboard.type("0903 111 222")
    page.check("#reason-0")
    page.fill("#survivor_name", "Phan Thị Nháp")
    expect(page.locator("#draft-status")).to_contain_text(re.compile(r"\d\d:\d\d"), timeout=10000)
    revoke_user_sessions(user.id)
    db.session.commit()
    page.fill("#caller_name", "Chị Hai")
    expect(page.locator("#session-ended")).to_be_visible(timeout=10000)
    assert urlsplit(page.url).path == "/calls/new"  # kept while the person is there
    expect(page.locator("#session-warning")).to_be_visible(timeout=15000)  # warned first
    expect(page.locator("#session-warning-typed")).to_be_visible()  # typed since: not a draft
    expect(page).to_have_url(re.compile(r"/auth/login"), timeout=25000)  # then left alone


def test_a_reason_picked_by_its_key_starts_the_call_on_a_page_left_open(page, live_url, make_user):
    """The page was opened long before the phone rang: the key that picks the reason starts
    the call, as typing does, so a call logged in a few keys is not dated to the page's
    opening."""
    from datetime import timedelta

    from app.clock import utcnow

    sign_in(page, live_url, make_user("operator"))
    open_intake(page, live_url)
    page.evaluate("document.querySelector('[name=started_at]').value = '01/01/2026 08:00'")
    tab_to(page, "#reason-0")
    page.keyboard.press("5")  # silent
    page.keyboard.press("Control+Enter")
    expect(page.locator(".flash-success")).to_be_visible()
    call = db.session.execute(select(Call)).scalar_one()
    assert utcnow() - call.started_at < timedelta(minutes=5)
    assert call.ended_at >= call.started_at


def test_enter_steps_past_a_group_of_choices_and_never_onto_save(page, live_url, make_user):
    sign_in(page, live_url, make_user("operator"))
    open_intake(page, live_url)
    tab_to(page, "#reason-0")
    page.keyboard.press("1")  # violence report
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.name") != "reason"
    sent = forms_sent(page, "/calls/new")
    page.focus("#follow_up_at")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.type") != "submit"
    page.keyboard.press("Enter")
    page.wait_for_timeout(1500)  # the save asks for a fresh token first: its form leaves later
    assert sent == [] and count(Call) == 0


def test_survivor_details_typed_before_a_case_is_chosen_stay_in_sight(
    page, live_url, make_user, make_org
):
    org = make_org(code="HN")
    earlier = save_intake(
        data=Intake(
            reason="violence_report",
            intake_key=uuid.uuid4(),
            caller_phone="0912345678",
            survivor=Survivor(name="Chị Cũ"),
        ),
        by=make_user("operator", organisation=org),
    ).case
    sign_in(page, live_url, make_user("operator", organisation=org))
    open_intake(page, live_url)
    page.keyboard.type("0912 345 678")
    tab_to(page, "#reason-0")
    page.keyboard.press("1")
    page.fill("#safe_contact", "Chỉ gọi qua chị gái")
    page.locator("#repeat-panel .use-case").click()
    expect(page.locator("#case_number")).to_have_value(earlier.number)
    expect(page.locator("#safe_contact")).to_be_visible()
    expect(page.locator("#join-survivor")).to_be_visible()
    page.fill("#safe_contact", "")
    page.locator("#case_number").dispatch_event("input")
    expect(page.locator("#safe_contact")).to_be_hidden()
    expect(page.locator("#join-survivor")).to_be_hidden()


def _a_call_in_its_draft(page, base, user, *, survivor: bool = True) -> None:
    """Signed in, a violence report typed into the intake, and kept as its draft."""
    sign_in(page, base, user)
    open_intake(page, base)
    page.keyboard.type("0903 111 222")
    page.check("#reason-0")
    if survivor:
        page.fill("#survivor_name", "Phan Thị Nháp")
    expect(page.locator("#draft-status")).to_contain_text(re.compile(r"\d\d:\d\d"), timeout=10000)


def _session_ends_then_typed(page, user, field: str, text: str) -> None:
    """The session ends on the server, then more is typed: on the page only."""
    revoke_user_sessions(user.id)
    db.session.commit()
    page.fill(field, text)
    expect(page.locator("#session-ended")).to_be_visible(timeout=10000)
    db.session.rollback()


def _sign_out_in_another_tab(page, base):
    other = page.context.new_page()
    other.goto(f"{base}/auth/account")
    other.locator("#logout-form button").click()
    other.wait_for_url(re.compile(r"/auth/login"))
    return other


def test_an_intake_all_kept_leaves_the_screen_when_its_owner_signs_out_elsewhere(
    page, live_url, make_user
):
    """The operator signs out in another tab (leaving the desk): the intake, every keystroke
    in its draft, goes from the screen; signed in again, it comes back whole."""
    user = make_user("operator")
    _a_call_in_its_draft(page, live_url, user)
    db.session.rollback()
    other = _sign_out_in_another_tab(page, live_url)
    expect(page).to_have_url(re.compile(r"/auth/login"), timeout=5000)
    assert "Phan Thị Nháp" not in page.content()
    other.close()
    page.fill("#email", user.email)
    page.fill("#password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/calls/drafts"))
    page.locator("a[href*='draft=']").first.click()
    expect(page.locator("#survivor_name")).to_have_value("Phan Thị Nháp")
    expect(page.locator("#caller_phone")).to_have_value("0903 111 222")
    assert page.errors == [], page.errors


def test_another_account_signing_in_hides_an_intake_still_holding_typing(page, live_url, make_user):
    """The session ended on the server and more was typed (not yet kept); then a colleague
    signs in on the same browser: nothing of the call stays in sight, but nothing is lost.
    Its owner signing in again finds it whole and saves it."""
    user = make_user("operator")
    colleague = make_user("operator", organisation=user.organisation)
    _a_call_in_its_draft(page, live_url, user)
    _session_ends_then_typed(page, user, "#caller_name", "Chị Hai")
    other = page.context.new_page()
    sign_in(other, live_url, colleague)
    expect(page.locator("#other-account")).to_be_visible(timeout=5000)
    for hidden in ("#caller_phone", "#survivor_name", "#caller_name", "#repeat-panel"):
        expect(page.locator(hidden)).to_be_hidden()
    expect(page.locator("#other-account")).to_be_focused()
    assert "/calls/new" in page.url  # kept for its owner: typing not yet on the server

    # The colleague signs out, the owner signs in again there: the page is theirs again.
    other.goto(f"{live_url}/auth/account")
    other.locator("#logout-form button").click()
    other.wait_for_url(re.compile(r"/auth/login"))
    sign_in(other, live_url, user)
    other.close()
    expect(page.locator("#other-account")).to_be_hidden(timeout=15000)
    expect(page.locator("#caller_name")).to_have_value("Chị Hai")
    page.click("#submit")
    page.wait_for_url(re.compile(r"/cases/"))
    call = db.session.execute(select(Call)).scalar_one()
    assert call.caller_name == "Chị Hai" and call.case.survivor_name == "Phan Thị Nháp"
    db.session.rollback()


def test_leaving_an_intake_whose_typing_the_server_cannot_take_asks_first(
    page, live_url, make_user
):
    """The session ended and more was typed: a reload (F5, a link) would lose it, so the
    browser asks before leaving; staying keeps every word."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    user = make_user("operator")
    _a_call_in_its_draft(page, live_url, user, survivor=False)
    _session_ends_then_typed(page, user, "#narrative", "Lời kể gõ sau khi phiên kết thúc")
    asked = []
    page.on("dialog", lambda d: (asked.append(d.type), d.dismiss()))
    try:
        page.reload(timeout=3000)
    except PlaywrightTimeout:
        pass  # the reload was called off: the page stays
    assert asked == ["beforeunload"]
    expect(page.locator("#narrative")).to_have_value("Lời kể gõ sau khi phiên kết thúc")


def test_a_number_handed_over_takes_the_keys_after_it(page, live_url, make_user):
    """A number in the intake as it opens (the phone system's, a draft's): the keyboard is on
    it, after it, so a key pressed never goes in front of the number."""
    user = make_user("operator")
    key = uuid.uuid4()
    save_draft(user=user, intake_key=key, fields={"caller_phone": "0912 345 678"})
    db.session.commit()
    sign_in(page, live_url, user)
    page.goto(f"{live_url}/calls/new?draft={key}")
    expect(page.locator("#caller_phone")).to_be_focused()
    page.keyboard.type("9")
    expect(page.locator("#caller_phone")).to_have_value("0912 345 6789")


def test_a_mistake_reached_from_the_list_of_mistakes_is_typed_over(page, live_url, make_user):
    """From the list of mistakes, Enter on a link puts the keys in its field with the wrong
    value chosen: typing replaces it."""
    sign_in(page, live_url, make_user("operator"))
    open_intake(page, live_url)
    page.check("#reason-0")
    page.fill("#survivor_age", "abc")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#form-errors")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#survivor_age")).to_be_focused()
    page.keyboard.type("31")
    expect(page.locator("#survivor_age")).to_have_value("31")


def test_an_intake_kept_after_its_session_ended_is_cleared_when_left_without_a_question(
    page, serve, make_app, make_user
):
    """Kept for typing the server could not take, then left alone: the idle time-out clears
    the screen, and no "leave this page?" question (nobody there to answer it) holds it."""
    base = serve(make_app(SESSION_IDLE_SECONDS=12, SESSION_WARNING_SECONDS=4))
    user = make_user("operator")
    _a_call_in_its_draft(page, base, user, survivor=False)
    _session_ends_then_typed(page, user, "#narrative", "Lời kể gõ sau khi phiên kết thúc")
    asked = []
    page.on("dialog", lambda d: (asked.append(d.type), d.dismiss()))
    expect(page).to_have_url(re.compile(r"/auth/login"), timeout=30000)
    assert asked == []


def test_a_draft_saved_as_someone_else_signs_in_does_not_show_the_page_again(
    page, live_url, make_user
):
    """An autosave sent under the owner's session is answered just after a colleague signed in
    on another tab: the answer says nothing of who is signed in now, so the page is not shown
    again (everything now kept, it goes)."""
    user = make_user("operator")
    colleague = make_user("operator", organisation=user.organisation)
    _a_call_in_its_draft(page, live_url, user, survivor=False)
    held = []
    drafts_url = re.compile(r"/calls/drafts$")

    def hold(route):
        if route.request.method == "POST":
            held.append(route)
        else:
            route.continue_()

    page.route(drafts_url, hold)
    page.fill("#caller_name", "Chị Hai")
    for _ in range(80):  # the next autosave tick, held on its way
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "no autosave held"
    answer = held[0].fetch()  # the server takes it, under the owner's session
    db.session.rollback()
    other = page.context.new_page()
    other.goto(f"{live_url}/auth/account")
    other.locator("#logout-form button").click()
    other.wait_for_url(re.compile(r"/auth/login"))
    sign_in(other, live_url, colleague)
    expect(page.locator("#other-account")).to_be_visible(timeout=5000)
    held[0].fulfill(response=answer)
    expect(page).to_have_url(re.compile(r"/(auth/login|home/)"), timeout=5000)
    assert "Chị Hai" not in page.content()
    page.unroute(drafts_url)
    other.close()
