"""Register cells as people fill them in: the law's letters, cells saying nothing, a cell with
two phone numbers, a very long cell, a call later today, headings holding a number."""

import json
from datetime import UTC, date, datetime

import pytest
from flask_babel import force_locale

from app.cases.importer import validate_row
from tests.cases.test_import import run


@pytest.fixture
def head(make_user):
    return make_user("supervisor")


def shown(errors) -> str:
    with force_locale("en"):
        return " ".join(str(e) for e in errors)


def test_every_letter_of_the_law_names_its_act(app):
    """`d` is neglect and `đ` (or `dd`) discrimination: `d` is not refused as two acts."""
    letters = "a b c d đ dd e g h i k l m n o p".split()
    with app.app_context():
        for letter in letters:
            intake, errors, _ = validate_row({"ngày tiếp nhận": "15/03/2024", "hành vi": letter})
            assert errors == [], (letter, shown(errors))
        intake, errors, _ = validate_row({"ngày tiếp nhận": "15/03/2024", "hành vi": "a; D; đ"})
    assert errors == []
    assert intake.incident.acts == ["a_beating", "d_neglect", "dd_discrimination"]


@pytest.mark.parametrize(
    "column", ["có vũ khí", "giới tính", "dịch vụ", "quan hệ", "trạng thái", "hành vi"]
)
@pytest.mark.parametrize("said", ["-", "không có", "Không có"])
def test_a_coded_cell_saying_nothing_is_empty_not_an_error(app, column, said):
    with app.app_context():
        intake, errors, _ = validate_row({"ngày tiếp nhận": "15/03/2024", column: said})
    assert errors == [], shown(errors)
    assert intake is not None and intake.open_case  # a violence report, by default


def test_no_weapon_written_as_khong_co_is_a_no(app):
    with app.app_context():
        intake, errors, _ = validate_row(
            {"ngày tiếp nhận": "15/03/2024", "quan hệ": "chồng", "có vũ khí": "không có"}
        )
    assert errors == [] and intake.perpetrator.weapon_access == "no"


@pytest.mark.parametrize(
    "cell",
    [
        "0912 345 678 / 0987 654 321",
        "0912345678, 0987654321",
        "0912345678 0987654321",
        "0912 345 678 0987 654 321",  # spaces alone between them: no number the matcher finds
    ],
)
def test_two_phone_numbers_in_one_cell_are_refused_by_shape(app, cell):
    """Stored as one, neither number would ever be found again (search, repeat caller)."""
    with app.app_context():
        intake, errors, _ = validate_row({"ngày tiếp nhận": "15/03/2024", "sđt": cell})
        text = shown(errors)
    assert intake is None
    assert "holds more than one phone number" in text
    assert "0912" not in text and "9999" in text


def test_a_number_with_a_word_beside_it_finds_the_same_caller():
    """At the intake a note beside the number ("(chị gái)") does not hide the number."""
    from app.crypto.blind import holds_several_numbers, normalise_phone

    for typed in ("0912 345 678 (chị gái)", "sđt 0912.345.678", "0912345678 - nhà"):
        assert normalise_phone(typed) == "+84912345678", typed
        assert not holds_several_numbers(typed)
    assert holds_several_numbers("0912345678 hoặc 0987654321")
    assert holds_several_numbers("0912 345 678 0987 654 321")
    # One number with an extension has more than 15 digits, and is one number.
    assert not holds_several_numbers("+84 24 3826 1234 ext 12345")


def test_a_huge_csv_cell_is_that_rows_problem_not_the_files(app, head, tmp_path):
    path = tmp_path / "dai.csv"
    path.write_text(
        f"ngày tiếp nhận,giới tính,tóm tắt\n16/03/2024,Nữ,{'a' * 200_000}\n17/03/2024,Nữ,ngắn\n",
        encoding="utf-8",
    )
    result = run(app, path, "--as", head.email, "--dry-run", "--lang", "en")
    assert "Row 2, column 'tóm tắt' holds more than 20000 characters" in result.output
    assert "to be written: 1;" in result.output
    assert "UTF-8" not in result.output


def test_a_call_later_today_is_refused_as_not_yet_come(app, monkeypatch):
    from app.cases.register import rows

    now = datetime(2026, 3, 15, 3, 0, tzinfo=UTC)  # 10:00 in Vietnam
    monkeypatch.setattr(rows, "utcnow", lambda: now)
    monkeypatch.setattr(rows, "local_today", lambda: date(2026, 3, 15))
    with app.app_context():
        _, errors, _ = validate_row({"ngày tiếp nhận": "15/03/2026", "giờ": "14:30"})
        assert "column 'giờ': 14:30 today is later than now" in shown(errors)
        _, errors, _ = validate_row({"ngày tiếp nhận": "15/03/2026 10:30"})
        assert "column 'ngày tiếp nhận': 10:30 today is later than now" in shown(errors)
        ok, errors, _ = validate_row({"ngày tiếp nhận": "15/03/2026", "giờ": "10:04"})
        assert errors == [] and ok.started_at == datetime(2026, 3, 15, 3, 4, tzinfo=UTC)


def test_an_unknown_heading_holding_a_number_is_shown_by_its_shape(app, head, tmp_path):
    path = tmp_path / "khoa.jsonl"
    path.write_text(
        '{"ngày tiếp nhận": "01/02/2024", "giới tính": "Nữ", "0912 345 678 chị Lan": "x",'
        ' "Cột 2": "y"}\n',
        encoding="utf-8",
    )
    result = run(app, path, "--as", head.email, "--dry-run", "--lang", "en")
    assert result.exit_code == 0, result.output
    assert "0912" not in result.output
    assert "The column '9999 999 999 xxx xxx' is not one we know" in result.output
    assert "The column 'Cột 2' is not one we know" in result.output


def test_a_value_word_that_is_also_a_given_name_is_shown_by_its_shape(app):
    with app.app_context():
        _, errors, _ = validate_row(
            {"ngày tiếp nhận": "15/03/2024", "giới tính": "Nam (Trần Văn Nam)"}
        )
        text = shown(errors)
    assert "'Nam (xxxx xxx xxx)'" in text, text


def test_values_longer_than_the_case_page_takes_are_refused_with_their_column(app):
    """An imported case's name, address or summary longer than its edit page takes blocked
    every later edit of the case, over text no one typed there: the row is refused instead,
    its column named (the unmatched place names added to the address count too, and so does
    the old id's line at the head of the summary)."""
    day = {"ngày tiếp nhận": "15/03/2024", "lý do gọi": "bạo lực"}
    with app.app_context():
        _, errors, _ = validate_row({**day, "họ tên": "N" * 201})
        assert "column 'họ tên' holds more than 200 characters" in shown(errors)
        _, errors, _ = validate_row({**day, "họ tên": "N" * 200})
        assert errors == []
        place = {"tỉnh": "Hà Nội", "xã": "Phường Không Có Thật, Quận Ba Đình"}
        _, errors, _ = validate_row({**day, **place, "địa chỉ": "số " + "9" * 277})
        assert "column 'địa chỉ' holds more than 300 characters" in shown(errors)
        _, errors, _ = validate_row({**day, "mã cũ": "A1", "tóm tắt": "x" * 19_990})
        assert "column 'tóm tắt' holds more than" in shown(errors)
        _, errors, _ = validate_row({**day, "mã cũ": "A1", "tóm tắt": "x" * 19_900})
        assert errors == []
        _, errors, _ = validate_row({**day, "mã cũ": "A" * 101})
        assert "holds more than 100 characters" in shown(errors)
    assert "N" * 20 not in shown(errors)


def test_a_counselling_call_with_its_advice_written_is_a_call_not_a_case(app):
    """A counselling register fills in the advice given for every call: with the reason
    "tư vấn" (or an information call) that column no longer opens a case (each had a case and
    a task to notify the commune); the advice is kept in the call's narrative."""
    with app.app_context(), force_locale("vi"):
        intake, errors, notes = validate_row(
            {
                "ngày tiếp nhận": "15/03/2024",
                "lý do gọi": "tư vấn",
                "tóm tắt": "Hỏi về thủ tục ly hôn",
                "nội dung tư vấn": "Hướng dẫn nộp đơn tại toà án huyện",
            }
        )
    assert errors == [] and notes == [] and not intake.open_case
    assert intake.narrative == (
        "Hỏi về thủ tục ly hôn\nNội dung tư vấn đã thực hiện: Hướng dẫn nộp đơn tại toà án huyện"
    )
    with app.app_context():
        report, errors, _ = validate_row(
            {"ngày tiếp nhận": "15/03/2024", "lý do gọi": "tư vấn", "hành vi": "a"}
        )
    assert errors == [] and report.open_case  # what only a case has still opens one


@pytest.mark.parametrize(
    "column, said",
    [("bối cảnh", "không"), ("nhóm vấn đề của trẻ", "không phải bạo lực"), ("loại gbv", "non_gbv")],
)
def test_a_classification_saying_none_or_not_violence_opens_no_case(app, column, said):
    """A register that tags every call with its GBVIMS context, type or child category says
    "none" or "not violence" of an advice call: that is no case (nor a task to notify the
    commune), as a cell answering no is not."""
    with app.app_context():
        intake, errors, _ = validate_row(
            {"ngày tiếp nhận": "15/03/2024", "lý do gọi": "tư vấn", "họ tên": "A", column: said}
        )
    assert errors == [] and not intake.open_case


@pytest.mark.parametrize("column", ["ngày xảy ra", "ngày đóng ca", "ngày tiếp nhận"])
def test_a_year_outside_any_record_is_an_error_of_its_column(app, column):
    """15/03/1024 for 2024: the intake and the case page refuse a year outside 1900 to 2100,
    so the import does too, naming the column, rather than storing it."""
    row = {"ngày tiếp nhận": "20/03/2024", "họ tên": "A", "hành vi bạo lực": "a"}
    row.update({"trạng thái": "đã đóng"} if column == "ngày đóng ca" else {})
    row[column] = "15/03/1024"
    with app.app_context():
        intake, errors, _ = validate_row(row)
    assert intake is None
    assert f"column '{column}': the year of '15/03/1024' is not between 1900 and 2100" in shown(
        errors
    )


def test_nan_and_infinity_in_json_lines_are_empty_cells_not_a_crash(app, head, tmp_path):
    """Python's json (and pandas through it) writes NaN for an empty cell: it is one, and a
    row without its date is that row's error, named, while the others are written."""
    path = tmp_path / "pandas.jsonl"
    path.write_text(
        '{"date": "15/03/2024", "name": "A", "age": NaN}\n'
        '{"date": NaN, "name": "B"}\n'
        '{"date": Infinity, "name": "C"}\n'
        '{"date": 1e400, "name": "D"}\n',
        encoding="utf-8",
    )
    result = run(app, path, "--as", head.email, "--lang", "en")
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Rows read: 4; written: 1" in result.output
    for line in (2, 3):
        assert f"Row {line}, column 'date / ngày tiếp nhận' is empty" in result.output
    assert "Row 4, column 'date': 'xxx' is not a date" in result.output  # shown by its shape


def test_a_heading_cannot_forge_or_hide_a_line_of_the_report(app, head, tmp_path):
    """A JSON key holding a line break would print a report line of its own ("Row 999,
    everything imported fine"); a CSV heading holding a terminal's escapes would erase the
    error lines above it: each such character is shown as "?"."""
    lines = tmp_path / "so.jsonl"
    forged = "x\n  Row 999, everything imported fine"
    lines.write_text(
        json.dumps({"date": "15/03/2024", "reason": "counselling", forged: "1"}) + "\n",
        encoding="utf-8",
    )
    report = run(app, lines, "--as", head.email, "--lang", "en", "--dry-run").output
    assert not any(line.startswith("  Row 999") for line in report.splitlines()), report
    assert "x?  Row 999" in report
    sheet = tmp_path / "so.csv"
    sheet.write_text(
        "ngày tiếp nhận,giới tính,\x1b[1A\x1b[2K\n31/02/2024,nam nữ,1\n", encoding="utf-8"
    )
    with app.app_context():
        result = app.test_cli_runner().invoke(
            args=["cases", "import", str(sheet), "--as", head.email, "--dry-run"], color=True
        )
    assert "\x1b" not in result.output and "?[1A?[2K" in result.output
    numbered = tmp_path / "so2.jsonl"  # a heading holding a number is shown by its shape
    numbered.write_text(
        json.dumps({"date": "15/03/2024", "0912345678\r\x1b[2K\u202e": "1"}) + "\n",
        encoding="utf-8",
    )
    shown = run(app, numbered, "--as", head.email, "--lang", "en", "--dry-run").output
    assert "'9999999999??[9x?'" in shown and "\r" not in shown and "\u202e" not in shown
