"""Provinces and communes in Vietnamese order, names for codes, typed names read back to codes."""

import pytest

from app.places import names
from app.places.queries import communes_of, find_place, is_commune_of, place_name, provinces


def test_provinces_come_in_vietnamese_alphabet_order_by_their_proper_name():
    listed = [p.name for p in provinces()]
    assert len(listed) == 34
    assert listed[:6] == [
        "An Giang",
        "Bắc Ninh",
        "Cà Mau",
        "Cao Bằng",
        "Thành phố Cần Thơ",
        "Thành phố Đà Nẵng",
    ]
    assert listed.index("Điện Biên") > listed.index("Thành phố Đà Nẵng")
    assert listed[-2:] == ["Tuyên Quang", "Vĩnh Long"]


def test_communes_sort_by_proper_name_whatever_their_kind():
    hanoi = [p.name for p in communes_of("01")]
    assert len(hanoi) == 126
    proper = [names.proper_name(n) for n in hanoi]
    assert proper == sorted(proper, key=names.sort_key)
    assert hanoi.index("Phường Ba Đình") < hanoi.index("Xã Bát Tràng")
    last_d = max(i for i, n in enumerate(proper) if n.startswith("D"))
    first_dd = min(i for i, n in enumerate(proper) if n.startswith("Đ"))
    assert last_d < first_dd
    assert communes_of("99") == []


def test_tones_and_letters_follow_the_vietnamese_alphabet():
    tones = ["Ba", "Bà", "Bả", "Bã", "Bá", "Bạ"]
    assert sorted(reversed(tones), key=names.sort_key) == tones
    letters = ["Az", "Ăn", "Ân", "Bo", "Dz", "Đa", "Ez", "Êa", "Oz", "Ôa", "Ơa", "Uz", "Ưa"]
    assert sorted(reversed(letters), key=names.sort_key) == letters
    assert names.sort_key("Xã Ậu") == names.sort_key("Ậu")


def test_place_name_and_is_commune_of():
    assert place_name("01") == "Thành phố Hà Nội"
    assert place_name("00004") == "Phường Ba Đình"
    assert place_name("99999") is None and place_name(None) is None and place_name("") is None
    assert is_commune_of("00004", "01")
    assert not is_commune_of("00004", "79")
    assert not is_commune_of("01", None)  # a province is no commune
    assert not is_commune_of("99999", "01") and not is_commune_of(None, "01")


@pytest.mark.parametrize(
    "typed",
    ["Hà Nội", "ha noi", "HÀ NỘI", "TP Hà Nội", "TP. Hà Nội", "T.P. Hà Nội", "Thành phố Hà Nội",
     "thanh pho ha noi", "  tp.ha   noi ", "Hanoi"],
)  # fmt: skip
def test_find_place_reads_a_province_however_it_is_typed(typed):
    assert find_place(typed) == "01"


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("Tỉnh Cao Bằng", "04"),
        ("cao bang", "04"),
        ("Thanh Hoá", "38"),  # the older tone placement
        ("Huế", "46"),
        ("Thừa Thiên Huế", "46"),  # former provinces: the one they are part of now
        ("Bắc Giang", "24"),
        ("Tỉnh Bà Rịa - Vũng Tàu", "79"),
        ("TP.HCM", "79"),
        ("TPHCM", "79"),
        ("Thành phố Hồ Chí Minh", "79"),
    ],
)
def test_find_place_knows_other_names_of_provinces(typed, code):
    assert find_place(typed) == code


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("Hồ Chí Minh (thành phố)", "79"),  # as the forms' lists show a city, copied or exported
        ("Huế (thành phố)", "46"),
        ("ha noi (thanh pho)", "01"),
        ("Điện Biên (tỉnh)", "11"),
    ],
)
def test_find_place_reads_a_province_with_its_kind_after_it_as_the_lists_show_it(typed, code):
    assert find_place(typed) == code


def test_a_kind_in_brackets_that_is_no_provinces_is_not_read_as_one():
    assert names.kind_first("Huế (thành phố)") == "thành phố Huế"
    assert names.kind_first("Ba Đình (cũ)") == "Ba Đình (cũ)"
    assert find_place("Hoàn Kiếm (thành phố)", province_code="01") is None


@pytest.mark.parametrize(
    ("typed", "province", "code"),
    [
        ("Phường Ba Đình", "01", "00004"),
        ("P. Ba Đình", "01", "00004"),
        ("ba dinh", "01", "00004"),
        ("Ba Đình", "38", "16171"),  # the commune of Thanh Hóa, not the Hanoi ward
        ("Văn Miếu Quốc Tử Giám", "01", "00196"),
        ("Ea M'Droh", "66", "24286"),
        ("ea mdroh", "66", "24286"),
        ("Phường B’Lao", "68", "24829"),
        ("Văn Lăng", "19", "05665"),  # accents tell Văn Lăng from Văn Lang
        ("Văn Lang", "19", "02143"),
        ("phuong dong tien", "38", "15853"),  # the prefix tells Phường Đông Tiến ...
        ("xa dong tien", "38", "15724"),  # ... from Xã Đồng Tiến
    ],
)
def test_find_place_reads_a_commune_of_a_province(typed, province, code):
    assert find_place(typed, province_code=province) == code


@pytest.mark.parametrize(
    ("typed", "province"),
    [
        ("van lang", "19"),  # Văn Lang or Văn Lăng: a person must choose
        ("dong tien", "38"),
        ("Ba Đình", None),  # a commune is not looked for among provinces
        ("Ba Đình", "79"),
        ("Quận Ba Đình", "01"),  # districts are gone
        # Cities of a province before 2025, of many wards then: not the ward given the name.
        ("Thành phố Thủ Đức", "79"),
        ("TP Thủ Dầu Một", "79"),
        ("tp. nam dinh", "37"),
        ("Atlantis", None),
        ("", None),
        ("   ", "01"),
        (None, None),
    ],
)
def test_find_place_gives_none_rather_than_a_guess(typed, province):
    assert find_place(typed, province_code=province) is None
