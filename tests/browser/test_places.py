"""A province and a commune found by typing, on a headset, with the keyboard alone (places.js):
no accents, no "Thành phố", "Xã" or "Phường", Tab moves on with the place chosen, Enter never
sends the form, and what was chosen stays when the form comes back with a mistake."""

import re

import pytest
from playwright.sync_api import expect

from app.calls.models import Call
from app.extensions import db
from app.places.queries import commune_choices, find_place
from tests.browser.test_intake import count, open_intake, sign_in, tab_to

pytestmark = pytest.mark.browser

HANOI, HCMC, HOAN_KIEM = "01", "79", "00070"


def chosen(page, select: str) -> str:
    """The text of the option a list shows as chosen."""
    return page.eval_on_selector(select, "s => s.selectedOptions[0].textContent")


@pytest.fixture
def intake(page, live_url, make_user):
    """The intake of a violence report, open in Vietnamese (the operator's language)."""
    sign_in(page, live_url, make_user("operator"))
    open_intake(page, live_url)
    page.check("#reason-0")
    return page


def test_a_city_typed_without_its_kind_or_accents_is_chosen_and_tab_loads_its_communes(intake):
    page = intake
    page.focus("#survivor_phone")
    assert tab_to(page, "#province_code-find") == 1  # the box is the province's stop
    expect(page.get_by_label("Tìm tỉnh/thành")).to_be_focused()
    page.keyboard.type("ho chi minh")
    page.keyboard.press("Tab")
    expect(page.locator("#province_code")).to_have_value(HCMC)
    assert chosen(page, "#province_code") == "Hồ Chí Minh (thành phố)"
    expect(page.locator("#province_code-find-status")).to_have_text(
        "Đã chọn: Hồ Chí Minh (thành phố)."
    )
    # Tab went on to the commune's box, and the list holds the city's communes.
    expect(page.get_by_label("Tìm xã/phường")).to_be_focused()
    expect(page.locator("#commune_code option")).to_have_count(len(commune_choices(HCMC)) + 1)


@pytest.mark.parametrize(
    ("typed", "code"),
    [("dien bien", "11"), ("hue", "46"), ("da nang", "48"), ("can tho", "92"), ("tp hcm", HCMC)],
)
def test_a_province_is_found_without_accents_or_its_kind(intake, typed, code):
    page = intake
    page.fill("#province_code-find", typed)
    expect(page.locator("#province_code")).to_have_value(code)


def test_a_ward_typed_without_accents_is_chosen_among_the_citys_communes(intake):
    page = intake
    page.fill("#province_code-find", "ha noi")
    expect(page.locator("#province_code")).to_have_value(HANOI)
    page.keyboard.press("Tab")
    page.keyboard.type("hoan kiem")
    expect(page.locator("#commune_code")).to_have_value(HOAN_KIEM)
    assert chosen(page, "#commune_code") == "Phường Hoàn Kiếm"
    # The list shows only what matches; the kind typed with the name finds it too.
    expect(page.locator("#commune_code option:not([hidden])")).to_have_count(1)
    page.fill("#commune_code-find", "")
    page.keyboard.type("phuong hoan")
    expect(page.locator("#commune_code")).to_have_value(HOAN_KIEM)
    # Nothing matches: said, and the choice stays; Escape empties the box and shows every commune.
    page.keyboard.type("zz")
    expect(page.locator("#commune_code-find-status")).to_contain_text("Không có nơi nào khớp")
    expect(page.locator("#commune_code")).to_have_value(HOAN_KIEM)
    page.keyboard.press("Escape")
    expect(page.locator("#commune_code-find")).to_have_value("")
    expect(page.locator("#commune_code option:not([hidden])")).to_have_count(
        len(commune_choices(HANOI)) + 1
    )
    expect(page.locator("#commune_code")).to_have_value(HOAN_KIEM)


def test_the_arrow_keys_choose_among_the_matches(intake):
    page = intake
    page.fill("#province_code-find", "ha")  # Hà Nội, Hà Tĩnh, Hải Phòng
    first = page.input_value("#province_code")
    page.keyboard.press("ArrowDown")
    expect(page.locator("#province_code")).not_to_have_value(first)
    expect(page.locator("#province_code-find-status")).to_contain_text("(2/3; ")
    page.keyboard.press("ArrowUp")
    expect(page.locator("#province_code")).to_have_value(first)


def test_another_province_empties_the_commune_box(intake):
    page = intake
    page.fill("#province_code-find", "ha noi")
    page.fill("#commune_code-find", "hoan kiem")
    expect(page.locator("#commune_code")).to_have_value(HOAN_KIEM)
    page.fill("#province_code-find", "hue")
    expect(page.locator("#commune_code-find")).to_have_value("")
    expect(page.locator("#commune_code option")).to_have_count(len(commune_choices("46")) + 1)
    expect(page.locator("#commune_code")).to_have_value("")


def test_enter_in_a_place_box_moves_on_and_never_sends_the_form(intake):
    page = intake
    address = page.url
    page.focus("#province_code-find")
    page.keyboard.type("ha noi")
    page.keyboard.press("Enter")
    expect(page.locator("#commune_code-find")).to_be_focused()
    page.keyboard.type("hoan kiem")
    page.keyboard.press("Enter")
    expect(page.locator("#survivor_address")).to_be_focused()
    page.wait_for_timeout(300)  # a post would have left the page by now
    assert page.url == address
    expect(page.locator("#form-errors")).to_have_count(0)
    assert count(Call) == 0


def test_the_places_chosen_by_typing_survive_a_mistake_elsewhere(intake):
    page = intake
    page.fill("#province_code-find", "ha noi")
    page.fill("#commune_code-find", "hoan kiem")
    expect(page.locator("#commune_code")).to_have_value(HOAN_KIEM)
    page.fill("#survivor_age", "200")
    page.click("#submit")
    expect(page.locator("#form-errors")).to_contain_text("Vui lòng kiểm tra")
    expect(page.locator("#province_code")).to_have_value(HANOI)
    expect(page.locator("#commune_code")).to_have_value(HOAN_KIEM)
    # The boxes are back, and find again among the communes the page was drawn with.
    page.fill("#commune_code-find", "ba dinh")
    expect(page.locator("#commune_code")).to_have_value(find_place("Ba Đình", HANOI))
    assert count(Call) == 0


def test_the_case_search_finds_a_province_by_typing_and_enter_does_not_search(
    page, live_url, make_user
):
    sign_in(page, live_url, make_user("case_manager"))
    page.goto(f"{live_url}/cases/search")
    page.fill("#province-find", "da nang")
    expect(page.locator("#province")).to_have_value("48")
    page.keyboard.press("Enter")
    expect(page.locator("#commune-find")).to_be_focused()
    expect(page).to_have_url(re.compile(r"/cases/search$"))


def test_the_case_edit_page_finds_a_ward_by_typing(page, live_url, make_user, case_hotline):
    people, case = case_hotline
    editor = make_user("case_manager", organisation=people["case_manager"].organisation)
    case.assigned_to_id = editor.id
    db.session.commit()
    sign_in(page, live_url, editor)
    page.goto(f"{live_url}/cases/{case.id}/edit")
    page.fill("#province_code-find", "ha noi")
    page.fill("#commune_code-find", "hoan kiem")
    expect(page.locator("#commune_code")).to_have_value(HOAN_KIEM)
    page.get_by_role("button", name="Lưu thay đổi").click()
    expect(page.locator(".flash-success")).to_be_visible()
    db.session.expire_all()
    assert (case.province_code, case.commune_code) == (HANOI, HOAN_KIEM)


def test_a_commune_refused_on_the_edit_page_is_said_on_its_box(
    page, live_url, make_user, case_hotline
):
    """The box is where the keyboard stops: a page sent back with the commune refused puts the
    keyboard there, marked, and the message is its description."""
    people, case = case_hotline
    editor = make_user("case_manager", organisation=people["case_manager"].organisation)
    case.assigned_to_id = editor.id
    db.session.commit()
    sign_in(page, live_url, editor)
    page.goto(f"{live_url}/cases/{case.id}/edit")
    page.fill("#province_code-find", "hue")
    expect(page.locator("#commune_code option")).to_have_count(len(commune_choices("46")) + 1)
    # A commune of another province, as a page left open across a change of list could send.
    page.eval_on_selector(
        "#commune_code",
        "(s, code) => { s.add(new Option('Phường Hoàn Kiếm', code)); s.value = code; }",
        HOAN_KIEM,
    )
    page.get_by_role("button", name="Lưu thay đổi").click()
    box = page.locator("#commune_code-find")
    expect(box).to_be_focused()
    expect(box).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#commune_code-error")).to_contain_text("chọn xã, phường thuộc")
    described = box.get_attribute("aria-describedby").split()
    assert "commune_code-error" in described and "commune_code-find-status" in described
    expect(page.locator("#province_code")).to_have_value("46")
