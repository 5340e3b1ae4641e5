"""A workbook of several sheets (a hotline keeping a sheet a month) is one register: every sheet
it shows with a row of headings is read in order, its rows named by sheet and row; hidden sheets
(a template's drop-down lists) are not read; a sheet shown without headings is named as not
read."""

import os
import sys
import zipfile
from datetime import datetime

import openpyxl
import pytest
from sqlalchemy import select

from app.calls.models import Call
from app.cases.models import Case
from app.cases.register.files import read_rows
from app.cases.register.positions import numbered
from app.extensions import db
from tests.cases.test_import import SAMPLES, count, run, snapshot

H = ["ngày tiếp nhận", "họ tên", "giới tính", "số điện thoại", "tóm tắt"]
JANUARY = [H, [datetime(2024, 1, 5), "Chị Một", "Nữ", "0900000011", "a"]]
FEBRUARY = [
    H,
    [datetime(2024, 2, 5), "Chị Hai", "Nữ", "0900000012", "b"],
    [datetime(2024, 2, 6), "Chị Ba", "Nữ", "0900000013", "c"],
]


@pytest.fixture
def head(make_user):
    return make_user("supervisor")


def book_with(path, sheets, hidden=()):
    """A workbook of (title, rows) sheets, those titled in `hidden` hidden."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
        if title in hidden:
            sheet.sheet_state = "hidden"
    book.active = next(n for n, (title, _) in enumerate(sheets) if title not in hidden)
    book.save(path)
    return path


def summaries() -> list[str]:
    cases = db.session.execute(select(Case).order_by(Case.number)).scalars()
    return [case.summary for case in cases]


def test_every_sheet_a_month_is_read_in_order_as_one_register(app, head, tmp_path):
    """Only January was read, and nothing said so. Every sheet is now read, in order; a row
    is named by its sheet's place (a tab may be named after a person) and its row."""
    march = [H, [datetime(2024, 3, 5), "Chị Tư", "nam nữ", "0900000014", "d"], FEBRUARY[1]]
    path = book_with(
        tmp_path / "so-2024.xlsx",
        [("Tháng 1", JANUARY), ("Tháng 2", FEBRUARY), ("Chị Năm", march)],
    )
    result = run(app, path, "--as", head.email, "--processes", "1")
    assert count(Call) == 3 and summaries() == ["a", "b", "c"]
    assert "Trang tính 3, dòng 2, cột 'giới tính'" in result.output
    assert "Trang tính 3, dòng 3, giống hệt trang tính 2, dòng 2 ở mọi cột" in result.output
    assert "Chị Năm" not in result.output
    assert result.exit_code == 1  # the row with an error
    again = run(app, path, "--as", head.email, "--processes", "1")
    assert count(Call) == 3 and "đã ghi: 0" in again.output


def test_a_dry_run_of_several_sheets_writes_nothing(app, head, tmp_path):
    path = book_with(tmp_path / "so.xlsx", [("Tháng 1", JANUARY), ("Tháng 2", FEBRUARY)])
    before = snapshot()
    result = run(app, path, "--as", head.email, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "sẽ được ghi: 3" in result.output
    assert snapshot() == before


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or (os.cpu_count() or 1) < 2,
    reason="two processes take turns only on Linux with two CPUs",
)
def test_two_processes_import_the_sheets_in_order(app, head, tmp_path):
    """Blocks of two rows run across the sheets: each process checks and saves its own, and
    the cases are numbered in the file's order."""
    months = [
        (f"Tháng {m}", [H] + [[datetime(2024, m, d), f"Chị {m}-{d}", "Nữ", "", f"{m}-{d}"]
                              for d in range(1, 4)])
        for m in range(1, 4)
    ]  # fmt: skip
    path = book_with(tmp_path / "so.xlsx", months)
    result = run(app, path, "--as", head.email, "--batch-size", "2", "--processes", "2")
    assert result.exit_code == 0, result.output
    assert summaries() == [f"{m}-{d}" for m in range(1, 4) for d in range(1, 4)]
    again = run(app, path, "--as", head.email, "--batch-size", "2", "--processes", "2")
    assert count(Call) == 9 and "đã nhập trước đó: 9" in again.output


def test_rows_are_numbered_by_sheet_only_in_a_workbook_showing_several(app, tmp_path):
    one = book_with(tmp_path / "mot.xlsx", [("Sổ", FEBRUARY)])
    two = book_with(tmp_path / "hai.xlsx", [("Tháng 1", JANUARY), ("Tháng 2", FEBRUARY)])
    with app.app_context():
        assert [n for n, _ in read_rows(one)] == [2, 3]
        assert [n for n, _ in read_rows(two)] == [numbered(1, 2), numbered(2, 2), numbered(2, 3)]


def test_a_hidden_sheet_of_lists_first_is_not_read_and_an_instructions_sheet_is_named(
    app, head, tmp_path
):
    """A template's drop-down lists on a hidden first sheet were read instead of the register;
    an instructions sheet first gave a refusal for want of headings."""
    lists = [["Giới tính", "Nơi xảy ra"], ["Nữ", "Nhà"], ["Nam", "Trường"]]
    guide = [["Điền mỗi cuộc gọi một dòng ở trang Sổ tiếp nhận."]]
    path = book_with(
        tmp_path / "mau.xlsx",
        [("Danh mục", lists), ("Hướng dẫn", guide), ("Sổ tiếp nhận", JANUARY)],
        hidden=("Danh mục",),
    )
    result = run(app, path, "--as", head.email, "--processes", "1")
    assert result.exit_code == 0, result.output
    assert count(Call) == 1
    assert "Trang tính 1 không được đọc: trang có dữ liệu" in result.output
    assert "Hướng dẫn" not in result.output
    with app.app_context():
        assert [n for n, _ in read_rows(path)] == [numbered(2, 2)]


def test_a_sheet_naming_columns_but_not_the_date_is_named_as_not_read(app, head, tmp_path):
    path = book_with(
        tmp_path / "so.xlsx",
        [("Tháng 1", JANUARY), ("Thống kê", [["họ tên", "giới tính"], ["Chị Sáu", "Nữ"]])],
    )
    result = run(app, path, "--as", head.email, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Trang tính 2 không được đọc: dòng 1 của trang có tên cột" in result.output
    assert "sẽ được ghi: 1" in result.output


def test_a_workbook_without_headings_on_any_sheet_says_each_sheet_was_looked_at(
    app, head, tmp_path
):
    path = book_with(
        tmp_path / "so.xlsx",
        [("Hướng dẫn", [["Điền mỗi cuộc gọi một dòng."]]), ("Sổ", [["Ngày", "Tên"]])],
    )
    result = run(app, path, "--as", head.email, "--dry-run")
    assert result.exit_code == 1
    assert "trong 10 dòng đầu của bất kỳ trang tính nào trong 2 trang tính" in result.output


def test_a_refusal_about_a_sheets_table_names_the_sheet(app, head, tmp_path):
    twice = [["ngày tiếp nhận", "họ tên", "tên nạn nhân"], [datetime(2024, 1, 5), "a", "b"]]
    path = book_with(tmp_path / "so.xlsx", [("Tháng 1", JANUARY), ("Tháng 2", twice)])
    result = run(app, path, "--as", head.email, "--dry-run")
    assert result.exit_code == 1
    assert "Trang tính 2: Hai cột 'họ tên' và 'tên nạn nhân'" in result.output


def test_a_second_sheet_reaching_too_far_is_refused_and_a_hidden_one_is_not_read(
    app, head, tmp_path
):
    """Every sheet read is measured before it is read; a hidden one is not read at all."""
    book = openpyxl.Workbook()
    book.active.title = "Tháng 1"
    for row in JANUARY:
        book.active.append(row)
    far = book.create_sheet("Tháng 2")
    far.append(H)
    far["AN1048576"] = "x"
    book.save(tmp_path / "xa.xlsx")
    result = run(app, tmp_path / "xa.xlsx", "--as", head.email, "--dry-run")
    assert result.exit_code == 1
    assert "Trang tính 2 của tệp kéo dài tới ô AN1048576" in result.output
    far.sheet_state = "hidden"
    book.save(tmp_path / "an.xlsx")
    result = run(app, tmp_path / "an.xlsx", "--as", head.email, "--dry-run")
    assert result.exit_code == 0, result.output


def test_a_hidden_sheet_of_an_ods_reaching_too_far_is_refused_as_hidden(app, head, tmp_path):
    """LibreOffice's files are read whole on opening, hidden sheets too."""
    path = tmp_path / "so.ods"
    style = (
        '<office:automatic-styles><style:style style:name="an" style:family="table">'
        '<style:table-properties table:display="false"/></style:style>'
        "</office:automatic-styles>"
    )
    hidden = (
        '<table:table table:name="Danh mục" table:style-name="an">'
        '<table:table-row table:number-rows-repeated="1048575"><table:table-cell/>'
        '</table:table-row><table:table-row><table:table-cell table:number-columns-repeated="39"/>'
        '<table:table-cell office:value-type="string"><text:p>x</text:p></table:table-cell>'
        "</table:table-row></table:table>"
    )
    namespace = b' xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"'
    with zipfile.ZipFile(SAMPLES / "register-sample.ods") as source:
        with zipfile.ZipFile(path, "w") as target:
            for item in source.infolist():
                data = source.read(item)
                if item.filename == "content.xml":
                    data = data.replace(b"<office:automatic-styles/>", style.encode())
                    data = data.replace(
                        b"<office:document-content", b"<office:document-content" + namespace
                    )
                    data = data.replace(b"<table:table ", hidden.encode() + b"<table:table ", 1)
                target.writestr(item, data)
    result = run(app, path, "--as", head.email, "--dry-run", "--limit", 1)
    assert result.exit_code == 1, result.output
    assert "Một trang tính bị ẩn của tệp kéo dài tới ô AN1048576" in result.output
