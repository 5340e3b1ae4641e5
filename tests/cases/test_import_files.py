"""Register files as people send them: values that are also column names in the first row of
data, a stray cell far past the table of a workbook, a year written with two digits."""

import re
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import openpyxl
import pytest
from flask_babel import force_locale

from app.cases.importer import validate_row
from app.cases.register import rows, values
from app.cases.register.files import read_rows
from app.clock import local_day
from tests.cases.test_import import run

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"
FAR = "AN1048576"  # 40 columns of Excel's last row: 42 million cells read as one block


@pytest.fixture
def head(make_user):
    return make_user("supervisor")


@pytest.mark.parametrize(
    "text",
    [
        "date,channel,reason,status,summary\n"
        "15/03/2024,Phone,counselling,,advice given\n"
        "16/03/2024,Phone,violence report,Closed,hit\n",
        "ngày tiếp nhận,kênh tiếp nhận,dịch vụ,dấu hiệu nguy cơ,trạng thái\n"
        "15/03/2024,Điện thoại,counselling,weapon access,Closed\n",
    ],
)
def test_values_that_are_also_column_names_are_not_a_second_row_of_headings(
    app, head, tmp_path, text
):
    """Under the columns that accept them, "Phone" (a channel, and a heading for the phone
    number), "counselling", "weapon access" and "Closed" are values, not names of columns."""
    path = tmp_path / "so.csv"
    path.write_text(text, encoding="utf-8")
    result = run(app, path, "--as", head.email, "--lang", "en", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "both hold column names" not in result.output


@pytest.mark.parametrize(
    "when",
    ["01/03/2026", "01/03/2026 14h30", "01/03/2026 9h", "2026-03-01 14:30:00.000", "2026/03/01",
     46082, datetime(2026, 3, 1), "0912 345 678"],
)  # fmt: skip
def test_a_row_of_data_is_never_taken_for_the_headings(app, head, tmp_path, when):
    """Headings the format does not know, above a first row of data two of whose values name
    columns (the channel "Điện thoại", the risk "Rượu bia"): were that row taken for the
    headings, the report would print its other cells, a survivor's name among them, as
    unknown columns. A row holding a number or a date is no row of headings: the file is
    refused for having none, naming no cell."""
    lines = [
        ["Ngày nhận", "Hình thức", "Tên người bị bạo lực", "Yếu tố"],
        [when, "Điện thoại", "Nguyễn Thị Tuyết", "Rượu bia"],
        [when, "Điện thoại", "Lê Thị Quỳnh", "Không"],
    ]
    if not isinstance(when, str):  # a workbook's cells: a date, or a day count ("General")
        path = tmp_path / "so.xlsx"
        book = openpyxl.Workbook()
        for row in lines:
            book.active.append(row)
        book.save(path)
    else:
        path = tmp_path / "so.csv"
        path.write_text("\n".join(",".join(row) for row in lines) + "\n", encoding="utf-8")
    result = run(app, path, "--as", head.email, "--lang", "en", "--dry-run")
    assert result.exit_code != 0
    assert "No row of headings was found" in result.output
    assert "Tuyết" not in result.output and "Quỳnh" not in result.output


def test_a_row_of_data_without_date_or_number_is_not_taken_for_the_headings(app, head, tmp_path):
    """A first row of data holding neither a date nor a phone number, two of whose values name
    columns ("Điện thoại", "Rượu bia"), under headings the format does not know: it names no
    date column, so it is not the row of headings, and the survivor's name beside them is not
    printed as an unknown column's."""
    path = tmp_path / "so.csv"
    path.write_text(
        "Mã số,Hình thức,Tên người bị bạo lực,Yếu tố\n7,Điện thoại,Nguyễn Thị Tuyết,Rượu bia\n",
        encoding="utf-8",
    )
    result = run(app, path, "--as", head.email, "--lang", "en", "--dry-run")
    assert result.exit_code != 0
    assert "Row 2 names columns but not the date of the call ('ngày tiếp nhận')" in result.output
    assert "Tuyết" not in result.output


def test_headings_without_the_date_column_are_refused_in_one_message(app, head, tmp_path):
    """A register whose headings the format reads but for the date (which every row needs) is
    refused at once, naming its row of headings, not row by row for a date missing."""
    path = tmp_path / "so.csv"
    path.write_text(
        "Sổ theo dõi\nHọ tên,Giới tính,Tuổi\nNgười Mẫu,Nữ,30\nNgười Khác,Nữ,41\n",
        encoding="utf-8",
    )
    result = run(app, path, "--as", head.email, "--lang", "en", "--dry-run")
    assert result.exit_code != 0
    assert "Row 2 names columns but not the date of the call" in result.output
    assert "every call needs its date" not in result.output


@pytest.mark.parametrize("extra", ["16-59", "60+", "2024", "0-15", 2024, "2023-2024"])
def test_headings_may_be_numbers_or_ranges(app, tmp_path, extra):
    """A year, an age band or a number typed in a spreadsheet's heading is a column's name: the
    row is still the headings (the column is reported as unknown), as is a row under a title."""
    path = tmp_path / "so.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["SỔ THEO DÕI CA NĂM 2024"])
    book.active.append(["STT", "Ngày tiếp nhận", "Giới tính", "Tuổi (năm)", extra])
    book.active.append([1, "15/03/2024", "Nữ", 30, "x"])
    book.save(path)
    with app.app_context():
        found = list(read_rows(path))
    assert [number for number, _ in found] == [3]


def _far_workbook(path: Path, *, value: bool) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "Sổ 2024"
    sheet.append(["ngày tiếp nhận", "giới tính"])
    sheet.append(["01/02/2024", "Nữ"])
    if value:
        sheet[FAR] = "x"
    else:
        sheet[FAR].font = Font(bold=True)  # formatted, empty: calamine leaves it out
    book.save(path)
    return path


def _without_dimension(path: Path, ref: str | None) -> Path:
    """The workbook as another writer might save it: its sheet's <dimension> saying only "A1",
    or left out."""
    other = path.with_name(f"{path.stem}-{ref or 'none'}.xlsx")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(other, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                new = f'<dimension ref="{ref}"/>'.encode() if ref else b""
                data = re.sub(rb"<dimension [^>]*/>", new, data)
            target.writestr(item, data)
    return other


def test_a_stray_cell_far_past_the_table_is_refused_before_the_sheet_is_read(app, head, tmp_path):
    """A 5 KB workbook with one value at AN1048576 would take gigabytes to read: it is refused
    in plain words naming the cell, whatever its <dimension> says; a cell only formatted there
    is not read, and does not stop the file."""
    far = _far_workbook(tmp_path / "xa.xlsx", value=True)
    for path in (far, _without_dimension(far, "A1"), _without_dimension(far, None)):
        result = run(app, path, "--as", head.email, "--lang", "en", "--dry-run", "--limit", 1)
        assert result.exit_code == 1, result.output
        assert f"Sheet 1 of the workbook reaches as far as cell {FAR}" in result.output
        assert "Traceback" not in result.output
    formatted = _far_workbook(tmp_path / "dinh-dang.xlsx", value=False)
    result = run(app, formatted, "--as", head.email, "--lang", "en", "--dry-run")
    assert result.exit_code == 0, result.output


def test_a_stray_cell_far_past_the_table_of_any_sheet_of_an_ods_is_refused(app, head, tmp_path):
    """LibreOffice's files are read whole on opening, so every sheet is measured; a run of empty
    rows is written once with how many times it repeats, and a value below it is counted on the
    row it lands on."""
    path = tmp_path / "so.ods"
    second = (
        '<table:table table:name="Ghi chú"><table:table-row table:number-rows-repeated="1048575">'
        '<table:table-cell table:number-columns-repeated="1024"/></table:table-row>'
        '<table:table-row><table:table-cell table:number-columns-repeated="39"/>'
        '<table:table-cell office:value-type="string"><text:p>x</text:p></table:table-cell>'
        "</table:table-row></table:table>"
    )
    with zipfile.ZipFile(SAMPLES / "register-sample.ods") as source:
        with zipfile.ZipFile(path, "w") as target:
            for item in source.infolist():
                data = source.read(item)
                if item.filename == "content.xml":
                    data = data.replace(b"</table:table>", b"</table:table>" + second.encode())
                target.writestr(item, data)
    result = run(app, path, "--as", head.email, "--lang", "en", "--dry-run", "--limit", 1)
    assert result.exit_code == 1, result.output
    assert f"Sheet 2 of the workbook reaches as far as cell {FAR}" in result.output
    sample = SAMPLES / "register-sample.ods"
    result = run(app, sample, "--as", head.email, "--lang", "en", "--dry-run", "--limit", 1)
    assert "reaches as far" not in result.output


def test_a_two_digit_year_is_read_against_the_year_in_vietnam(app, monkeypatch):
    """At 01:00 on 1 January 2027 in Vietnam (still 2026 in UTC), "27" is this year."""
    now = datetime(2026, 12, 31, 18, 0, tzinfo=UTC)
    for module in (rows, values):  # the clock, wherever the register code reads it
        monkeypatch.setattr(module, "utcnow", lambda: now, raising=False)
        monkeypatch.setattr(module, "local_today", lambda: date(2027, 1, 1), raising=False)
    monkeypatch.setattr("app.clock.utcnow", lambda: now)
    with app.app_context():
        intake, errors, _ = validate_row({"ngày tiếp nhận": "01/01/27 00:30"})
    assert errors == []
    assert intake.started_at == datetime(2026, 12, 31, 17, 30, tzinfo=UTC)


def test_rows_a_template_numbered_ahead_are_no_rows_of_the_register(app, head, tmp_path):
    """A register's "STT" column numbered down a template's blank rows: those rows hold nothing
    but a number, so they are neither errors nor counted (the run ends 0, all written). A note
    in a column the import does not read, on a row without a date, is still that row's error."""
    path = tmp_path / "mau.csv"
    path.write_text(
        "STT,ngày tiếp nhận,họ tên,lý do gọi,ghi chú riêng\n"
        "1,15/03/2024,Chị Một,tư vấn,\n"
        "2,,,,\n3,,,,\n4,,,,\n",
        encoding="utf-8",
    )
    with app.app_context():
        assert [number for number, _ in read_rows(path)] == [2]
    result = run(app, path, "--as", head.email, "--lang", "en")
    assert result.exit_code == 0, result.output
    assert "Rows read: 1; written: 1" in result.output
    assert "skipped because of errors: 0" in result.output
    noted = tmp_path / "ghi-chu.csv"
    noted.write_text(
        "STT,ngày tiếp nhận,họ tên,lý do gọi,ghi chú riêng\n"
        "1,15/03/2024,Chị Hai,tư vấn,\n2,,,,đã gọi lại\n3,,,,\n",
        encoding="utf-8",
    )
    with app.app_context():
        assert [number for number, _ in read_rows(noted)] == [2, 3]
    told = run(app, noted, "--as", head.email, "--dry-run", "--lang", "en")
    assert "Row 3, column 'date / ngày tiếp nhận' is empty" in told.output, told.output
    assert "The column 'ghi chú riêng' is not one we know" in told.output


@pytest.mark.parametrize(("name", "separator"), [("unicode.txt", "\t"), ("utf16.csv", ",")])
def test_excels_unicode_text_in_utf16_is_read_with_its_accents(app, tmp_path, name, separator):
    """Excel's "Unicode Text" saves UTF-16 with a byte order mark, tab-separated: it was read
    as Windows' Vietnamese code page, and no heading was found."""
    path = tmp_path / name
    text = "ngày tiếp nhận\tgiới tính\thọ tên\n15/03/2024\tNữ\tChị Ánh\n"
    path.write_bytes(text.replace("\t", separator).encode("utf-16"))
    with app.app_context():
        [(number, row)] = list(read_rows(path))
    assert number == 2 and row == {
        "ngày tiếp nhận": "15/03/2024",
        "giới tính": "Nữ",
        "họ tên": "Chị Ánh",
    }


def test_a_date_merged_down_counts_for_each_row_and_a_general_cell_is_read_as_excel_does(
    app, head, tmp_path
):
    """Excel keeps a merged cell's value in its top cell only: the calls below it were refused
    for a missing date. A date cell formatted "General" shows Excel's count of days, 45366."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["ngày tiếp nhận", "giới tính", "họ tên", "ghi chú"])
    sheet.append([datetime(2024, 3, 15), "Nữ", "Chị Một", "gộp ngang"])
    sheet.append([None, "Nữ", "Chị Hai", None])
    sheet.append([None, "Nam", "Anh Ba", None])
    sheet.append([45366, "Nữ", "Chị Bốn", None])
    sheet.merge_cells("A2:A4")
    sheet.merge_cells("D2:D3")
    sheet.merge_cells("B5:C5")  # across columns: its first column only
    path = tmp_path / "gop.xlsx"
    book.save(path)
    with app.app_context():
        found = list(read_rows(path))
        assert [n for n, _ in found] == [2, 3, 4, 5]
        assert all(row["ngày tiếp nhận"] == datetime(2024, 3, 15) for _, row in found[:3])
        assert "họ tên" not in found[3][1]
        intake, errors, notes = validate_row(found[3][1])
        assert errors == [] and local_day(intake.started_at) == date(2024, 3, 15)
        with force_locale("en"):
            said = " ".join(str(n) for n in notes)
        assert "the number 45366 is read as the date Excel counts with it (15/03/2024)" in said
    result = run(app, path, "--as", head.email, "--lang", "en")
    assert result.exit_code == 0, result.output
    assert "Rows read: 4; written: 4" in result.output


def test_a_general_date_cell_is_the_same_row_as_that_date_written(
    app, head, tmp_path, monkeypatch, make_user
):
    """Told to format the column as dates (or saving the sheet as CSV), the supervisor imports
    the register again: its rows without an old id are found, not written twice. A register
    imported before the row's key read the count as a date is found again too."""
    import uuid

    from app.cases import import_run
    from app.crypto.datakeys import keyring

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["ngày tiếp nhận", "họ tên", "giới tính"])
    sheet.append([45366, "Lê Thị Bê", "nữ"])
    sheet.append([45367, "Trần Thị Xê", "nữ"])
    general = tmp_path / "so.xlsx"
    book.save(general)
    sheet["A2"], sheet["A3"] = datetime(2024, 3, 15), datetime(2024, 3, 16)
    formatted = tmp_path / "so-ngay.xlsx"
    book.save(formatted)
    result = run(app, general, "--as", head.email, "--lang", "en")
    assert "written: 2" in result.output
    again = run(app, formatted, "--as", head.email, "--lang", "en")
    assert "written: 0" in again.output and "already imported: 2" in again.output, again.output

    def as_before(intake, organisation_id):  # the number as written in the key
        basis = f"{organisation_id}|{(intake.earlier_bases or (intake.key_basis,))[-1]}"
        return uuid.UUID(keyring().lasting_hash(basis, purpose="register-import")[:32])

    earlier = make_user("supervisor")  # another hotline, importing before the change
    with monkeypatch.context() as patched:
        patched.setattr(import_run, "row_key", as_before)
        assert "written: 2" in run(app, general, "--as", earlier.email, "--lang", "en").output
    found = run(app, general, "--as", earlier.email, "--lang", "en")
    assert "written: 0" in found.output and "already imported: 2" in found.output


def test_a_year_typed_as_a_number_is_no_count_of_days_and_a_birth_date_never_one(app):
    """2012 in a date column is a year typed, not Excel's day 2012 (a day of 1905, which made
    a child of 2012 an adult over sixty with a warning no one could read): refused."""
    day = {"ngày tiếp nhận": 45366, "lý do gọi": "bạo lực"}
    with app.app_context(), force_locale("en"):
        intake, errors, _ = validate_row(day)
        assert errors == [] and local_day(intake.started_at) == date(2024, 3, 15)
        for row in (
            {**day, "ngày sinh": 2012},
            {**day, "ngày sinh": 45366},
            {"ngày tiếp nhận": 2012},
        ):
            _, errors, _ = validate_row(row)
            assert "is not a date" in " ".join(str(e) for e in errors), row


def test_headings_merged_down_over_two_rows_are_one_row_of_headings(app, tmp_path):
    """A form's habit: each heading merged over two rows. The row below them stays empty (a
    copy of every heading there was refused as a second row of headings)."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["ngày tiếp nhận", "giới tính", "họ tên"])
    sheet.append([None, None, None])
    sheet.append([datetime(2024, 3, 15), "Nữ", "Chị Năm"])
    for column in "ABC":
        sheet.merge_cells(f"{column}1:{column}2")
    path = tmp_path / "hai-dong.xlsx"
    book.save(path)
    with app.app_context():
        assert [(n, row["họ tên"]) for n, row in read_rows(path)] == [(3, "Chị Năm")]
