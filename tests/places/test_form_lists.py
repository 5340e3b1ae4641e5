"""The province and commune lists of the forms (the intake, the case's edit page, the search):
by name in alphabet order, a city by its name first, and marked for places.js's finding box."""

import re

import pytest

from app.places import names

PAGES = ["/calls/new", "/cases/search"]


def options(html: str, select_id: str) -> list[tuple[str, str]]:
    """(value, text) of a list's options, as the page draws them."""
    select = html.split(f'id="{select_id}"')[1].split("</select>")[0]
    return re.findall(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)</option>', select)


def test_a_city_is_listed_by_its_name_with_its_kind_after_and_a_province_as_it_is():
    assert names.choice_label("Thành phố Hồ Chí Minh") == "Hồ Chí Minh (thành phố)"
    assert names.choice_label("Thành phố Huế") == "Huế (thành phố)"
    assert names.choice_label("Điện Biên") == "Điện Biên"


@pytest.mark.parametrize("url", PAGES)
def test_the_province_list_is_in_alphabet_order_with_the_cities_under_their_names(
    client, login_as, url
):
    login_as("supervisor")
    listed = options(client.get(f"{url}?province=01").get_data(as_text=True), url_ids(url)[0])
    codes = [code for code, _text in listed if code]
    texts = [text for code, text in listed if code]
    assert len(codes) == 34 and listed[0][0] == ""
    assert texts[:6] == [
        "An Giang",
        "Bắc Ninh",
        "Cà Mau",
        "Cao Bằng",
        "Cần Thơ (thành phố)",
        "Đà Nẵng (thành phố)",
    ]
    # A browser's own type-ahead ("h", "hồ") finds the cities by their names: none starts with
    # their kind, and the stored codes are the official ones.
    assert not [t for t in texts if t.startswith(("Thành phố", "Tỉnh"))]
    assert dict(zip(texts, codes, strict=True))["Hồ Chí Minh (thành phố)"] == "79"
    assert texts.index("Hà Nội (thành phố)") < texts.index("Hà Tĩnh") < texts.index("Hưng Yên")


@pytest.mark.parametrize("url", PAGES)
def test_the_place_lists_carry_the_finding_box_in_vietnamese(client, login_as, url):
    login_as("supervisor")
    html = client.get(url).get_data(as_text=True)
    province, commune = url_ids(url)
    assert 'data-find="Tìm tỉnh/thành"' in select_tag(html, province)
    assert f'data-find-resets="{commune}"' in select_tag(html, province)
    assert 'data-find="Tìm xã/phường"' in select_tag(html, commune)
    assert 'data-find-none="Không có nơi nào khớp với “{typed}”' in select_tag(html, commune)
    assert "js/places.js" in html


@pytest.mark.parametrize("url", PAGES)
def test_a_province_option_carries_the_former_provinces_and_short_names_merged_into_it(
    client, login_as, url
):
    """places.js finds Hồ Chí Minh by "binh duong": the provinces merged into it on 1 July 2025
    (names.FORMER_PROVINCES) and its short names, as the import reads them (find_place)."""
    login_as("supervisor")
    html = client.get(url).get_data(as_text=True)
    province, _commune = url_ids(url)
    select = html.split(f'id="{province}"')[1].split("</select>")[0]
    hcmc = re.search(r'<option[^>]*value="79"[^>]*>', select).group(0)
    assert 'data-former="Bình Dương|Bà Rịa - Vũng Tàu"' in hcmc
    assert 'data-also="HCM|TPHCM"' in hcmc
    hanoi = re.search(r'<option[^>]*value="01"[^>]*>', select).group(0)
    assert "data-former" not in hanoi and "data-also" not in hanoi
    assert 'data-find-former="{name} — {former} cũ"' in select_tag(html, province)


def test_the_commune_boxes_say_what_to_do_while_their_list_is_empty(client, login_as):
    login_as("supervisor")
    intake = client.get("/calls/new").get_data(as_text=True)
    assert 'data-find-empty="Hãy chọn tỉnh, thành phố trước"' in select_tag(intake, "commune_code")
    search = client.get("/cases/search").get_data(as_text=True)
    assert 'data-find-empty="Chọn tỉnh, thành phố rồi bấm tìm kiếm' in select_tag(search, "commune")


def select_tag(html: str, select_id: str) -> str:
    """The opening tag of a list."""
    return re.search(rf'<select[^>]*\bid="{select_id}"[^>]*>', html).group(0)


def url_ids(url: str) -> tuple[str, str]:
    """The ids of a page's province and commune lists."""
    return ("province", "commune") if "search" in url else ("province_code", "commune_code")
