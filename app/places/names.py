"""How place names are read and ordered.

Names sort in Vietnamese alphabet order (a ă â b c d đ e ê ..., tones ranked after letters), by
the proper name without its "Xã", "Phường" or "Thành phố" prefix. Typed names are compared in
two passes, with accents and then without, each time whatever their case, punctuation and prefix
("TP.", "Tỉnh", "P.", "Xã"...), so an old register's "tp ha noi" still finds Hà Nội.
"""

from __future__ import annotations

import re
import unicodedata

# The prefixes of the official names; provinces that are "tỉnh" carry none.
CITY_PREFIX = "Thành phố "
OFFICIAL_PREFIXES = (CITY_PREFIX, "Tỉnh ", "Xã ", "Phường ", "Đặc khu ")
# What people write before a name, and the kind of unit it points to (None: no longer a kind).
TYPED_PREFIXES = {
    "thành phố": "thanh_pho_trung_uong",
    "tp": "thanh_pho_trung_uong",
    "t p": "thanh_pho_trung_uong",
    "tỉnh": "tinh",
    "xã": "xa",
    "x": "xa",
    "phường": "phuong",
    "p": "phuong",
    "đặc khu": "dac_khu",
    "thị trấn": None,
    "tt": None,
}
PROVINCE_KINDS = ("thanh_pho_trung_uong", "tinh")  # what "Thành phố", "TP" and "Tỉnh" name
# Provinces merged whole into another on 1 July 2025 (Resolution 202/2025/QH15), with the code of
# the province they are part of now, and common short names of the cities.
FORMER_PROVINCES = {
    "Hà Giang": "08", "Yên Bái": "15", "Bắc Kạn": "19", "Bắc Giang": "24", "Vĩnh Phúc": "25",
    "Hòa Bình": "25", "Hải Dương": "31", "Thái Bình": "33", "Hà Nam": "37", "Nam Định": "37",
    "Quảng Bình": "44", "Thừa Thiên Huế": "46", "Quảng Nam": "48", "Kon Tum": "51",
    "Bình Định": "52", "Ninh Thuận": "56", "Phú Yên": "66", "Đắk Nông": "68", "Bình Thuận": "68",
    "Bình Phước": "75", "Bình Dương": "79", "Bà Rịa - Vũng Tàu": "79", "Long An": "80",
    "Tiền Giang": "82", "Bến Tre": "86", "Trà Vinh": "86", "Kiên Giang": "91", "Sóc Trăng": "92",
    "Hậu Giang": "92", "Bạc Liêu": "96",
}  # fmt: skip
SHORT_NAMES = {"HCM": "79", "TPHCM": "79"}

ALPHABET = "0123456789aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"  # f, j, w, z: foreign words only
TONES = {"\u0300": "1", "\u0309": "2", "\u0303": "3", "\u0301": "4", "\u0323": "5"}
LETTER_MARKS = {"\u0306", "\u0302", "\u031b"}  # breve, circumflex, horn: part of the letter
APOSTROPHES = re.compile(r"['’‘`´]")
KIND_AFTER = re.compile(
    r"^(.*\S)\s*\(([^()]*)\)\s*$"
)  # "Hồ Chí Minh (thành phố)", as a list shows it
NOT_WORD = re.compile(r"[\W_]+")


def proper_name(name: str) -> str:
    """The official name without its kind prefix: "Phường Ba Đình" -> "Ba Đình"."""
    for prefix in OFFICIAL_PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def choice_label(name: str) -> str:
    """A province as a list shows it: a city's name first, its kind after ("Hồ Chí Minh (thành
    phố)"), so the list reads in alphabet order and a browser's own type-ahead finds it by its
    name; every word of the official name stays in sight."""
    proper = proper_name(name)
    return f"{proper} ({CITY_PREFIX.strip().lower()})" if name.startswith(CITY_PREFIX) else name


def sort_key(name: str) -> tuple[str, str]:
    """Vietnamese dictionary order of the proper name: letters first, then tones."""
    letters: list[str] = []
    tones: list[str] = []
    for char in unicodedata.normalize("NFD", words(proper_name(name), accents=True)):
        if char in LETTER_MARKS and letters:
            letters[-1] = unicodedata.normalize("NFC", letters[-1] + char)
        elif char in TONES and tones:
            tones[-1] = TONES[char]
        elif not unicodedata.combining(char):
            letters.append(char)
            tones.append("0")
    primary = "".join(chr(0x100 + ALPHABET.index(c)) if c in ALPHABET else c for c in letters)
    return primary, "".join(tones)


def words(text: str, *, accents: bool) -> str:
    """Lower-case words separated by one space; apostrophes dropped ("M’Drắk" -> "mdrắk");
    without accents "đ" becomes "d"."""
    text = APOSTROPHES.sub("", unicodedata.normalize("NFC", text).casefold())
    if not accents:
        stripped = unicodedata.normalize("NFD", text.replace("đ", "d"))
        text = "".join(c for c in stripped if not unicodedata.combining(c))
    return " ".join(NOT_WORD.sub(" ", text).split())


def tones_last(text: str) -> str:
    """The words with their accents, each word's tone mark moved to its end, so the old and the
    new placement of a tone ("doạ", "dọa") give one form."""
    found = []
    for word in words(text, accents=True).split():
        chars = unicodedata.normalize("NFD", word)
        tones = "".join(char for char in chars if char in TONES)
        found.append(
            unicodedata.normalize("NFC", "".join(c for c in chars if c not in TONES)) + tones
        )
    return " ".join(found)


def known_forms(text: str) -> list[tuple[str, str]]:
    """The forms a known value (a label, a heading) is filed under: as written, with its tone
    marks placed either way, and without accents."""
    return [
        ("accents", words(text, accents=True)),
        ("tones", tones_last(text)),
        ("bare", words(text, accents=False)),
    ]


def typed_forms(text: str) -> list[tuple[str, str]]:
    """The forms a typed value is looked up by (see known_forms): with its accents (the tone
    mark placed either way) when it has any, so "Chú" (uncle) never finds "chủ" (employer),
    nor "Bồ" (lover) "bố" (father); without accents when it was typed without any, against
    every known value without its accents, so "nu" finds "nữ" and "ba" finds both "ba"
    (father) and "bà" (grandmother): a value two codes share, which is not guessed."""
    typed, bare = words(text, accents=True), words(text, accents=False)
    if typed == bare:
        return [("bare", bare)]
    return [("accents", typed), ("tones", tones_last(text))]


def kind_first(text: str) -> str:
    """A name whose province kind follows it in brackets ("Huế (thành phố)", "Điện Biên
    (tỉnh)") with that kind put first ("thành phố Huế"); any other text as it is."""
    found = KIND_AFTER.match(text.strip())
    if found and words(found[2], accents=False) in ("thanh pho", "tinh"):
        return f"{found[2]} {found[1]}"
    return text


def match_key(text: str, *, accents: bool) -> str:
    """The form two names are compared in; without accents, spaces do not count either."""
    found = words(text, accents=accents)
    return found if accents else found.replace(" ", "")


def readings(text: str, *, accents: bool) -> list[tuple[str, str | None]]:
    """The keys a typed name may stand for: as typed, and without a prefix it starts with
    (with the kind that prefix names); a province's kind after its name in brackets, as the
    forms' lists show a city ("Huế (thành phố)"), is read as that prefix."""
    typed = words(kind_first(text), accents=accents)
    found = [(match_key(typed, accents=accents), None)]
    for prefix, kind in TYPED_PREFIXES.items():
        lead = words(prefix, accents=accents) + " "
        if typed.startswith(lead) and len(typed) > len(lead):
            found.append((match_key(typed[len(lead) :], accents=accents), kind))
    return found
