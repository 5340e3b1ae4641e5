"""Dates as Excel saves them: month first (English, United States), refused before anything is
written; date cells and text dates in one column of a workbook, warned; a time of 00:00 after a
date (pandas, a column formatted with its time), no time; a CSV's counts of days, read as the
workbook's."""

import json
import uuid
from datetime import datetime

import openpyxl
import pytest

from app.calls.models import Call
from app.cases import import_run
from app.cases.register.values import read_date
from app.crypto.datakeys import keyring
from tests.cases.test_import import count, run


@pytest.fixture
def head(make_user):
    return make_user("supervisor")


def csv_file(path, text: str, encoding: str = "utf-8"):
    path.write_bytes(text.encode(encoding, errors="replace"))
    return path


def workbook(path, rows):
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


@pytest.mark.parametrize("dry_run", [True, False])
def test_a_file_of_dates_month_first_is_refused_whole(app, head, tmp_path, dry_run):
    """3/4/2024 (4 March, month first) was read as 3 April without a word: one date that can
    only be month first refuses the file, before anything is written."""
    path = csv_file(
        tmp_path / "so-us.csv",
        "ngày tiếp nhận,họ tên,giới tính\n3/4/2024,Chị Một,Nữ\n3/15/2024,Chị Hai,Nữ\n",
    )
    result = run(app, path, "--as", head.email, *(["--dry-run"] if dry_run else []))
    assert result.exit_code == 1
    assert (
        "Dòng 3, cột 'ngày tiếp nhận': '3/15/2024' chỉ có thể là ngày viết tháng trước"
        in result.output
    )
    assert "lưu lại tệp rồi nhập lại" in result.output
    assert count(Call) == 0


def test_a_date_of_birth_month_first_is_shown_by_its_shape(app, head, tmp_path):
    path = csv_file(
        tmp_path / "so.csv",
        "ngày tiếp nhận,họ tên,ngày sinh\n15/03/2024,Chị Một,7/13/1981\n",
    )
    result = run(app, path, "--as", head.email, "--dry-run")
    assert result.exit_code == 1
    assert "cột 'ngày sinh': '9/99/9999' chỉ có thể là ngày viết tháng trước" in result.output
    assert "1981" not in result.output


def test_a_workbook_column_of_date_cells_and_text_dates_is_warned(app, head, tmp_path):
    """Excel set to month first turns 03/04/2024 typed into a date cell of 4 March and leaves
    15/03/2024 as text: both read, and the column is named in a warning."""
    path = workbook(
        tmp_path / "so.xlsx",
        [
            ["ngày tiếp nhận", "họ tên", "giới tính"],
            [datetime(2024, 3, 4), "Chị Một", "Nữ"],
            ["15/03/2024", "Chị Hai", "Nữ"],
        ],
    )
    result = run(app, path, "--as", head.email, "--dry-run")
    assert result.exit_code == 0, result.output
    assert (
        "Cột 'ngày tiếp nhận' vừa có ô kiểu ngày vừa có ngày gõ dạng chữ (ví dụ dòng 3)"
        in result.output
    )
    alone = workbook(tmp_path / "ngay.xlsx", [["ngày tiếp nhận", "họ tên"], ["15/03/2024", "a"]])
    assert "vừa có ô kiểu ngày" not in run(app, alone, "--as", head.email, "--dry-run").output


PANDAS_CSV = (
    "ngày tiếp nhận,họ tên,giới tính,số điện thoại\n"
    "2024-03-15 00:00:00,Chị Một,Nữ,0912345678\n"
    "16/03/2024 00:00,Chị Hai,Nữ,912345679\n"
)


def test_the_same_rows_saved_with_a_time_of_midnight_are_already_imported(app, head, tmp_path):
    """A date cell at midnight is a date without a time; pandas writes it "2024-03-15
    00:00:00", a column formatted with its time "15/03/2024 00:00": the same rows."""
    path = workbook(
        tmp_path / "so.xlsx",
        [
            ["ngày tiếp nhận", "họ tên", "giới tính", "số điện thoại"],
            [datetime(2024, 3, 15), "Chị Một", "Nữ", 912345678],
            [datetime(2024, 3, 16), "Chị Hai", "Nữ", "0912 345 679"],
        ],
    )
    assert "đã ghi: 2" in run(app, path, "--as", head.email).output
    again = run(app, csv_file(tmp_path / "so.csv", PANDAS_CSV), "--as", head.email)
    assert "đã ghi: 0" in again.output and "đã nhập trước đó: 2" in again.output
    assert read_date("15/03/2024 00:00:30")[1] is not None  # a time after all


def test_rows_keyed_with_their_time_of_midnight_before_are_still_found(
    app, head, tmp_path, monkeypatch
):
    path = csv_file(tmp_path / "so.csv", PANDAS_CSV)

    def as_before(intake, organisation_id):  # the date keyed with its time of 00:00
        cells = json.loads(intake.key_basis.removeprefix("row|"))
        cells["date"] += " 00:00"
        basis = f"{organisation_id}|row|{json.dumps(cells, ensure_ascii=False, sort_keys=True)}"
        return uuid.UUID(keyring().lasting_hash(basis, purpose="register-import")[:32])

    with monkeypatch.context() as patched:
        patched.setattr(import_run, "row_key", as_before)
        assert "đã ghi: 2" in run(app, path, "--as", head.email).output
    again = run(app, path, "--as", head.email)
    assert "đã ghi: 0" in again.output and count(Call) == 2


def test_a_count_of_days_in_a_csv_is_read_as_the_workbook_reads_it(app, head, tmp_path):
    """A date column formatted "General" saved as CSV holds 45366: read as the date Excel
    counts with it, with the workbook's warning, and the same row as the workbook's."""
    rows = [["ngày tiếp nhận", "họ tên", "giới tính"], [45366, "Chị Một", "Nữ"]]
    assert "đã ghi: 1" in run(app, workbook(tmp_path / "so.xlsx", rows), "--as", head.email).output
    path = csv_file(tmp_path / "so.csv", "ngày tiếp nhận,họ tên,giới tính\n45366,Chị Một,Nữ\n")
    result = run(app, path, "--as", head.email)
    assert "số 45366 được đọc là ngày mà Excel đếm bằng số đó (15/03/2024)" in result.output
    assert "đã nhập trước đó: 1" in result.output and count(Call) == 1
