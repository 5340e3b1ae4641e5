"""Registers as Excel saves them: a phone number stored as a number (its 0 dropped) or shortened
to 9.12346E+08, and a CSV that lost its Vietnamese letters."""

from datetime import datetime

import pytest
from sqlalchemy import select

from app.calls.models import Call
from app.cases.models import Case
from app.extensions import db
from tests.cases.test_import import count, run
from tests.cases.test_import_dates import csv_file, workbook


@pytest.fixture
def head(make_user):
    return make_user("supervisor")


def test_a_phone_number_stored_as_a_number_gets_its_zero_back(app, head, tmp_path):
    """Excel drops the 0 of a number typed into a cell formatted as a number: 912345678 was
    sealed and shown so. It is kept as the country writes it, with a warning that shows no
    digit of it; a 1900 hotline number is kept as it is."""
    path = workbook(
        tmp_path / "so.xlsx",
        [
            ["ngày tiếp nhận", "họ tên", "số điện thoại", "số điện thoại người gọi"],
            [datetime(2024, 3, 15), "Chị Một", 912345678, "1900123456"],
        ],
    )
    result = run(app, path, "--as", head.email)
    assert result.exit_code == 0, result.output
    assert "cột 'số điện thoại': số điện thoại bị mất số 0 ở đầu" in result.output
    assert "912" not in result.output and "người gọi" not in result.output
    case = db.session.execute(select(Case)).scalar_one()
    assert case.survivor_phone == "0912 345 678"
    assert case.calls[0].caller_phone == "1900123456"


def test_a_number_excel_shortened_is_said_so_without_its_digits(app, head, tmp_path):
    path = csv_file(
        tmp_path / "so.csv", "ngày tiếp nhận,họ tên,số điện thoại\n15/03/2024,Chị Một,9.12346E+08\n"
    )
    result = run(app, path, "--as", head.email, "--dry-run")
    assert "cột 'số điện thoại': Excel đã rút gọn số này" in result.output
    assert "9.12346" not in result.output and "9.99999" not in result.output


def test_a_csv_that_lost_its_vietnamese_letters_is_refused(app, head, tmp_path):
    """Plain "CSV" from Excel on English Windows (Windows-1252) writes '?' for each letter
    it lacks: the names came in as "Nguy?n Th? H??ng"."""
    for name, text in (
        ("ten.csv", "date,name,summary\r\n15/03/2024,Nguyễn Thị Hường,Chồng đánh\r\n"),
        ("cot.csv", "Ngày tiếp nhận,Họ tên,Giới tính\r\n15/03/2024,Chị Hai,Nữ\r\n"),
    ):
        path = csv_file(tmp_path / name, text, encoding="cp1252")
        result = run(app, path, "--as", head.email)
        assert result.exit_code == 1
        assert "Tệp này đã mất các chữ có dấu tiếng Việt khi được lưu" in result.output
    assert count(Call) == 0
    link = csv_file(
        tmp_path / "link.csv", "date,name,summary\n15/03/2024,Mai,xem https://a.vn/?id=1\n"
    )
    assert run(app, link, "--as", head.email).exit_code == 0
    # A file in UTF-8 whose questions were typed without a space after them: its letters are
    # there ("ư", "đ"), so it lost none.
    typed = csv_file(
        tmp_path / "typed.csv",
        "ngày tiếp nhận,họ tên,tóm tắt\n"
        "15/03/2024,Nguyễn Thị Hương,Chồng hỏi: đi đâu?Sao về muộn?\n"
        "16/03/2024,Trần Thị Lan,Chị hỏi có được không?Chị sợ lắm\n",
    )
    assert run(app, typed, "--as", head.email).exit_code == 0


def test_a_csv_without_headings_is_told_its_letters_may_be_lost(app, head, tmp_path):
    path = csv_file(tmp_path / "so.csv", "Ngày nhận,Tên\n15/03/2024,Chị Một\n")
    result = run(app, path, "--as", head.email, "--dry-run")
    assert "Nếu tệp có tên cột nhưng chữ có dấu tiếng Việt hiện sai" in result.output
