"""Bringing old registers in: `flask cases import` on the sample files of docs/samples/."""

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.audit import AuditEntry
from app.auditlog import verify as chain
from app.calls.models import Call
from app.cases import import_run, importer
from app.cases.importer import read_rows, validate_row
from app.cases.models import Case, CaseEvent, RiskAssessment, Task
from app.cases.register.columns import column_of
from app.cases.register.values import read_date
from app.clock import utcnow
from app.extensions import db
from tests.crypto.test_raw_database import _raw_bytes

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"
XLSX = SAMPLES / "register-sample.xlsx"
CSV = SAMPLES / "register-sample.csv"
XLS = SAMPLES / "register-sample.xls"  # Excel 97-2003
ODS = SAMPLES / "register-sample.ods"  # LibreOffice Calc
BAD = SAMPLES / "register-with-errors.xlsx"
SEALED_COLUMNS = ("external_id", "survivor_name", "phone", "address", "safe_contact", "summary")


@pytest.fixture
def head(make_user):
    """A hotline's supervisor: the account the registers are imported as."""
    return make_user("supervisor")


def run(app, *args):
    """`flask cases import ...` through the CLI runner, in the app's own context."""
    with app.app_context():
        return app.test_cli_runner().invoke(args=["cases", "import", *map(str, args)])


def count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def snapshot() -> dict:
    """Every row of every table, to show that nothing at all changed."""
    db.session.expire_all()
    return {
        table.name: sorted(map(repr, db.session.execute(table.select()).all()))
        for table in db.metadata.sorted_tables
    }


def sample_intakes(path: Path) -> list:
    return [validate_row(row)[0] for _, row in read_rows(path)]


def test_the_sample_register_imports(app, head):
    result = run(app, XLSX, "--as", head.email, "--lang", "en")
    assert result.exit_code == 0, result.output
    assert "Rows read: 15; written: 15; closed as in the register: 4" in result.output
    assert count(Call) == 15 and count(Case) == 11  # four calls opened no case
    first = db.session.execute(select(Case).order_by(Case.number)).scalars().first()
    assert first.survivor_name == "Nguyễn Thị Mẫu Một" and first.survivor_sex == "female"
    assert (first.province_code, first.commune_code) == ("01", "00004")  # Hà Nội, Ba Đình
    assert first.summary.split("\n")[0].endswith(": HN-2023-001")  # the old id, first
    assert first.opened_at == datetime(2023, 3, 15, 1, 40, tzinfo=UTC)  # 08:40 in Hà Nội
    assert first.calls[0].started_at == first.opened_at
    assert first.calls[0].caller_phone == "0900 000 001"  # the survivor called: indexed too
    assert first.incidents[0].acts == "a_beating b_insults"
    assert first.perpetrators[0].relationship_code == "intimate_partner"
    assert (first.risk_level, first.assessments[0].computed_level) == ("high", "low")
    assert first.assessments[0].reason == "Risk level as recorded in the old register."
    assert first.services_wanted == "counselling legal"
    actions = db.session.execute(select(AuditEntry.action, AuditEntry.object_type)).all()
    assert actions.count(("create", "case")) == 11 and actions.count(("create", "call")) == 15
    assert actions.count(("import", "register")) == 1
    assert chain.verify().ok  # batches keep the audit chain whole


def test_a_closed_case_is_closed_as_an_import_with_its_event(app, head):
    run(app, XLSX, "--as", head.email)
    closed = db.session.execute(select(Case).where(Case.status == "closed")).scalars().all()
    assert len(closed) == 4
    case = next(c for c in closed if c.summary.split("\n")[0].endswith(": HN-2023-001"))
    assert case.closed_at == datetime(2023, 4, 29, 17, tzinfo=UTC)  # 30/04/2023 in Hà Nội
    event = next(e for e in case.events if e.kind == "status")
    assert (event.from_value, event.to_value, event.by_id) == ("open", "closed", head.id)
    with force_locale("vi"):  # the default language of the command, stored as said
        said = str(_l("Imported from the old register, where the case was: %(status)s.",
                      status=_l("Closed")))  # fmt: skip
    assert event.reason == said
    assert all(task.done_at is not None for task in case.tasks)  # no stale work left open
    assert {(t.ended_by, t.done_by_id) for t in case.tasks} == {("closed", None)}
    assert case.tasks, "a high risk case plans a safety review; closed with the case"
    status = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "status", AuditEntry.case_id == case.id)
    ).scalar_one()
    assert status.detail == "open>closed import"
    in_support = db.session.execute(select(func.count()).where(Case.status == "in_support"))
    assert in_support.scalar_one() == 2
    no_date = next(c for c in closed if "HN-2023-006" in c.summary)
    assert no_date.closed_at == no_date.opened_at  # no closing date: the call's date


@pytest.mark.parametrize(
    ("lang", "preface", "reason"),
    [
        ("vi", "Mã trong sổ cũ: HN-202", "Mức độ nguy cơ theo sổ cũ."),
        ("en", "Old register id: HN-202", "Risk level as recorded in the old register."),
    ],
)
def test_the_words_an_import_writes_are_in_the_language_of_the_run(
    app, head, lang, preface, reason
):
    """Translated once per language for the whole run (rows.translated), in each language."""
    run(app, XLSX, "--as", head.email, "--lang", lang)
    summaries = [case.summary for case in db.session.execute(select(Case)).scalars()]
    assert len(summaries) == 11 and not [s for s in summaries if not s.startswith(preface)]
    assessments = db.session.execute(select(RiskAssessment)).scalars()
    reasons = {assessment.reason for assessment in assessments if assessment.reason}
    assert reasons and all(r.startswith(reason) for r in reasons)


def test_an_old_district_keeps_the_province_and_goes_into_the_sealed_address(app, head):
    result = run(app, XLSX, "--as", head.email, "--lang", "en")
    assert "Row 6, column 'xã/phường': 'xxxx xxx xxxx xx' is not a commune" in result.output
    case = next(c for c in db.session.execute(select(Case)).scalars() if "HN-2023-003" in c.summary)
    assert (case.province_code, case.commune_code) == ("01", None)
    assert case.survivor_address == "Quận Cầu Giấy cũ"
    assert case.is_child and case.status == "in_support"


def test_no_planted_value_is_in_clear_in_the_raw_database(app, head, tmp_path):
    planted = set()
    for _, row in read_rows(XLSX):
        for heading, value in row.items():
            if column_of(heading) in SEALED_COLUMNS:
                planted.add(str(value))
    # and pieces of them: no plaintext fragment or index of any kind
    planted |= {"Xã Không Có Thật", "+84900000001", "900000001", "Mẫu Mười", "hư cấu"}
    assert len(planted) > 40
    assert run(app, XLSX, "--as", head.email).exit_code == 0
    raw = _raw_bytes(tmp_path)
    for value in planted:
        for encoding in ("utf-8", "utf-16-le"):
            assert value.encode(encoding) not in raw, f"{value!r} found in clear ({encoding})"
    assert "Tổ chức thử".encode() in raw  # the search does see what is stored in clear


def test_a_dry_run_names_every_bad_row_and_writes_nothing(app, head):
    before = snapshot()
    result = run(app, BAD, "--as", head.email, "--dry-run", "--lang", "en")
    assert result.exit_code == 1
    out = result.output
    assert "Row 6, column 'giới tính': 'nam nữ' is not a sex we know; use Female, Male" in out
    assert "Row 11, column 'ngày tiếp nhận': '31/02/2024' is not a date" in out
    assert "Row 16, column 'hành vi bạo lực': 'thể chất' is a form of violence" in out
    assert out.count("  Row ") == 5  # 3 errors, and 2 warnings about good rows
    assert "Dry run: nothing was written." in out
    assert "to be written: 12" in out and "skipped because of errors: 3" in out
    assert snapshot() == before  # not a row changed, the audit log and its head included


def test_the_import_skips_bad_rows_and_writes_the_good_ones(app, head):
    result = run(app, BAD, "--as", head.email, "--lang", "en")
    assert result.exit_code == 1  # some rows were left out
    assert "Row 11, column 'ngày tiếp nhận'" in result.output
    assert count(Call) == 12
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "import")).scalar_one()
    assert entry.detail.startswith("read=15 written=12 skipped=3 duplicates=0 warnings=2")
    assert entry.user_id == head.id and entry.object_type == "register"


def test_importing_again_creates_no_duplicates(app, head):
    assert run(app, XLSX, "--as", head.email).exit_code == 0
    before = (count(Call), count(Case), count(Task), count(CaseEvent))
    again = run(app, XLSX, "--as", head.email, "--lang", "en")
    assert again.exit_code == 0
    assert "written: 0" in again.output and "already imported: 15" in again.output
    same_rows_as_csv = run(app, CSV, "--as", head.email, "--lang", "en")
    assert "already imported: 15" in same_rows_as_csv.output
    assert (count(Call), count(Case), count(Task), count(CaseEvent)) == before
    imports = db.session.execute(select(func.count()).where(AuditEntry.action == "import"))
    assert imports.scalar_one() == 3  # one entry per run, even a run that wrote nothing


def test_another_supervisor_of_the_organisation_finds_the_rows_imported(app, head, make_user):
    colleague = make_user("supervisor", organisation=head.organisation)
    run(app, XLSX, "--as", head.email)
    result = run(app, XLSX, "--as", colleague.email, "--lang", "en")
    assert result.exit_code == 0 and "already imported: 15" in result.output
    other_hotline = make_user("supervisor")
    assert "written: 15" in run(app, XLSX, "--as", other_hotline.email, "--lang", "en").output


def test_csv_and_json_lines_read_the_same_as_excel(app, tmp_path):
    jsonl = tmp_path / "register.jsonl"
    with jsonl.open("w", encoding="utf-8") as handle:
        for _, row in read_rows(CSV):
            if "age" in row:
                row["age"] = int(row["age"])  # JSON numbers and lists are read too
            if "acts" in row:
                row["acts"] = [a.strip() for a in row["acts"].replace(",", ";").split(";")]
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    with app.app_context():
        excel, csv, lines = (sample_intakes(p) for p in (XLSX, CSV, jsonl))
        old_excel, calc = sample_intakes(XLS), sample_intakes(ODS)
    assert len(excel) == 15 and all(excel)
    assert excel == csv == lines  # the same intakes, down to the basis of their keys
    assert old_excel == calc == excel  # Excel 97-2003 and LibreOffice Calc too


def test_an_excel_97_register_imports_like_the_xlsx(app, head):
    result = run(app, XLS, "--as", head.email, "--lang", "en")
    assert result.exit_code == 0, result.output
    assert "Rows read: 15; written: 15; closed as in the register: 4" in result.output
    assert count(Call) == 15 and count(Case) == 11


@pytest.mark.parametrize(
    "typed, code",
    [("Nữ", "female"), ("nu", "female"), ("NỮ", "female"), ("F", "female"), ("female", "female"),
     ("Female", "female"), ("Nam", "male"), ("male", "male"), ("m", "male"),
     ("Khác", "other"), ("Other", "other"), ("Không rõ", "unknown"), ("unknown", "unknown")],
)  # fmt: skip
def test_sex_by_code_or_label_in_either_language(app, typed, code):
    with app.app_context():
        intake, errors, _ = validate_row({"ngày tiếp nhận": "01/02/2024", "giới tính": typed})
    assert errors == [] and intake.survivor.sex == code


def test_vietnamese_and_english_labels_give_the_same_codes(app):
    vietnamese = {
        "ngày tiếp nhận": "01/02/2024", "kênh tiếp nhận": "Điện thoại", "người gọi": "Người thân",
        "giới tính": "Nữ", "quan hệ với người gây bạo lực": "chồng", "mức độ nguy cơ": "rất cao",
        "dịch vụ": "tư vấn tâm lý; pháp lý", "hành vi bạo lực": "đánh đập, xúc phạm",
        "trạng thái": "đang hỗ trợ", "tỉnh/thành phố": "TP. Hồ Chí Minh", "xã/phường": "P. Sài Gòn",
    }  # fmt: skip
    english = {
        "date": "2024-02-01", "channel": "phone", "caller_type": "A relative", "sex": "female",
        "perpetrator_relationship": "Intimate partner", "risk": "Severe",
        "services": "Psychological counselling, Legal aid", "acts": "a_beating; b_insults",
        "status": "In support", "province": "79", "commune": "26740",
    }  # fmt: skip
    with app.app_context():
        (vi, vi_errors, _), (en, en_errors, _) = validate_row(vietnamese), validate_row(english)
    assert vi_errors == en_errors == []
    assert (vi.survivor.sex, vi.perpetrator.relationship, vi.risk_raised_to) == (
        "female",
        "intimate_partner",
        "severe",
    )
    assert (vi.services_wanted, vi.incident.acts, vi.status) == (
        ["counselling", "legal"],
        ["a_beating", "b_insults"],
        "in_support",
    )
    assert (vi.survivor.province_code, vi.survivor.commune_code) == ("79", "26740")
    for name in ("channel", "caller_type", "survivor", "perpetrator", "incident", "status"):
        assert getattr(vi, name) == getattr(en, name), name
    assert vi.started_at == en.started_at


def test_a_bad_value_is_named_with_its_column_and_what_to_use(app):
    with app.app_context(), force_locale("en"):
        intake, errors, _ = validate_row(
            {"ngày tiếp nhận": "01/02/2024", "giới tính": "nam nữ", "tuổi": "ba mươi"}
        )
        shown = [str(e) for e in errors]
    assert intake is None
    assert shown == [
        "column 'giới tính': 'nam nữ' is not a sex we know; use Female, Male, Other or Unknown",
        "column 'tuổi': 'xx xxxx' is not an age in years; write a whole number such as 35.",
    ]


def test_an_age_the_date_of_birth_contradicts_is_the_row_s_error(app):
    """Age 30 beside a date of birth making her 8 on the call's day: one is a slip, and the
    age decided the child-protection path. One more than the date gives (counted by the
    year) is taken, and the date decides."""
    with app.app_context(), force_locale("en"):
        intake, errors, _ = validate_row(
            {"ngày tiếp nhận": "15/03/2024", "tuổi": "30", "ngày sinh": "01/01/2016"}
        )
        shown = [str(e) for e in errors]
        assert intake is None
        assert shown == [
            "column 'tuổi': '99' does not match the date of birth (8 on the day of the call)."
        ]
        intake, errors, _ = validate_row(
            {"ngày tiếp nhận": "15/03/2024", "tuổi": "9", "ngày sinh": "01/06/2015"}
        )
    assert errors == [] and intake.survivor.age == 9


def test_the_audit_entry_s_file_fingerprint_is_keyed(app, head, tmp_path):
    """A plain SHA-256 of a one-row register, read from a shared audit export, gave its phone
    number back to anyone guessing numbers against the rest of the file (the headings are
    documented, the date and codes are in clear on the rows). The fingerprint is keyed."""
    import hashlib

    from app.crypto.datakeys import keyring

    path = tmp_path / "so.csv"
    path.write_bytes(
        "ngày tiếp nhận,giờ tiếp nhận,lý do gọi,số điện thoại,giới tính\r\n"
        "15/03/2024,08:40,Báo bạo lực,0912 345 687,Nữ\r\n".encode()
    )
    assert run(app, path, "--as", head.email, "--processes", "1").exit_code == 0
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "import")).scalar_one()
    shown = entry.detail.split("file=")[1]
    plain = hashlib.sha256(path.read_bytes()).hexdigest()
    assert plain[:16] != shown
    with app.app_context():
        assert shown == keyring().lasting_hash(plain, purpose="import-file")[:16]


def test_a_bad_cell_about_the_person_is_shown_by_its_shape_only(app, head, tmp_path):
    """The report is printed (and often kept in a log): a phone, birth date, ethnicity or place
    cell that is wrong is named by row and column, its value by shape, never in clear."""
    path = tmp_path / "sai.csv"
    path.write_text(
        "ngày tiếp nhận,họ tên,điện thoại,ngày sinh,dân tộc,tỉnh/thành phố,xã/phường,tuổi\n"
        "01/02/2024,Người Mẫu,0912 345 678 (chị Mai),31/02/1990,Kinh Mường Lạ,"
        "Tỉnh Mộng Mơ,Thôn Ba Nhà Bà Tư,ba mươi\n"
    )
    result = run(app, path, "--as", head.email, "--dry-run", "--lang", "en")
    for planted in ("0912", "345 678", "chị Mai", "31/02/1990", "Mường Lạ", "Mộng Mơ", "Bà Tư"):
        assert planted not in result.output, planted
    assert "column 'điện thoại': '9999 999 999 (xxx xxx)' is not a phone number" in result.output
    assert "'99/99/9999' is not a date" in result.output


def test_a_row_without_its_date_is_refused(app):
    with app.app_context(), force_locale("en"):
        intake, errors, _ = validate_row({"họ tên": "Người Mẫu", "giới tính": "Nữ"})
        assert intake is None
        assert [str(e) for e in errors] == [
            "column 'date / ngày tiếp nhận' is empty: every call needs its date."
        ]


def test_an_empty_date_cell_is_named_by_the_file_s_heading(app):
    """The file has the column, its cell empty: the message names it as the file does."""
    with app.app_context(), force_locale("en"):
        _, errors, _ = validate_row({"Ngày gọi": None, "họ tên": "Người Mẫu", "STT": "4"})
        assert [str(e) for e in errors] == [
            "column 'Ngày gọi' is empty: every call needs its date."
        ]


@pytest.mark.parametrize("said", ["-", "không rõ", "n/a"])
def test_a_date_cell_saying_there_is_none_is_refused_not_dated_today(app, said):
    with app.app_context(), force_locale("en"):
        intake, errors, _ = validate_row({"ngày tiếp nhận": said, "họ tên": "Người Mẫu"})
        assert intake is None
        assert [str(e) for e in errors] == [
            "column 'ngày tiếp nhận' is empty: every call needs its date."
        ]


def test_a_child_at_the_call_is_a_child_case_when_imported_years_later(app, head, tmp_path):
    """A 2019 call about a girl born in 2006 (13 then) is a child's case whenever imported."""
    path = tmp_path / "cu.csv"
    path.write_text("ngày tiếp nhận,họ tên,ngày sinh\n10/06/2019,Người Mẫu,01/01/2006\n")
    assert run(app, path, "--as", head.email).exit_code == 0
    with app.app_context():
        case = db.session.execute(select(Case)).scalar_one()
        assert case.is_child and case.survivor_age_band == "under_16"
        # Its tasks are work from the import on, not five years overdue.
        assert case.tasks and all(t.due_at >= utcnow() - timedelta(minutes=5) for t in case.tasks)
        assert case.survivor_age is None  # no age was stated: none is stored as if it were


@pytest.mark.parametrize(
    "cell, expected",
    [("15/03/2024", date(2024, 3, 15)), ("5-3-2024", date(2024, 3, 5)),
     ("15.03.2024 14:30", date(2024, 3, 15)), ("2024-03-15", date(2024, 3, 15)),
     ("15/03/24", date(2024, 3, 15)), (datetime(2024, 3, 15, 9), date(2024, 3, 15)),
     ("31/02/2024", None), ("03/15/2024", None), ("mười lăm", None)],
)  # fmt: skip
def test_dates_are_read_day_first(cell, expected):
    found = read_date(cell)
    assert (found[0] if found else None) == expected


@pytest.mark.parametrize(
    "role", ["operator", "case_manager", "admin", "partner", "disabled supervisor"]
)
def test_an_account_that_may_not_import_is_refused(app, make_user, role):
    """Importing records the account as having opened every case, which would make each one
    theirs to see: only a supervisor, who sees the organisation's cases already, imports."""
    user = make_user(role.split()[-1])
    if role.startswith("disabled"):
        user.active = False
        db.session.commit()
    result = run(app, XLSX, "--as", user.email, "--lang", "en")
    assert result.exit_code == 1
    assert "Only an active supervisor account can import cases" in result.output
    assert count(Call) == 0 and count(Case) == 0
    denied = db.session.execute(select(AuditEntry).where(AuditEntry.action == "denied"))
    assert denied.scalar_one().user_id == user.id


def test_an_unknown_account_is_named(app):
    result = run(app, XLSX, "--as", "nobody@example.org", "--lang", "en")
    assert result.exit_code == 1 and "No account with the email nobody@example.org" in result.output


def test_the_first_mistakes_are_told_in_the_run_s_language(app, head, tmp_path):
    """A file name mistyped, a folder, the account forgotten: told in Vietnamese by default
    (click's own words and its "Error:" are English), in English with --lang en."""
    missing = tmp_path / "so-tiep-nhan.xlsx"
    result = run(app, missing, "--as", head.email)
    assert result.exit_code == 1 and "does not exist" not in result.output
    assert f"Lỗi: Không có tệp {missing}" in result.output
    assert "Lỗi: " in run(app, tmp_path, "--as", head.email).output
    forgot = run(app, XLSX)
    assert forgot.exit_code == 1 and "Lỗi: " in forgot.output and "--as" in forgot.output
    english = run(app, missing, "--as", head.email, "--lang", "en")
    assert f"Error: There is no file {missing}: check its name and folder." in english.output
    assert count(Call) == 0


def test_limit_reads_only_the_first_rows(app, head):
    result = run(app, XLSX, "--as", head.email, "--limit", "5", "--lang", "en")
    assert "Rows read: 5; written: 5" in result.output and count(Call) == 5


def test_a_row_the_database_refuses_costs_only_itself(app, head, monkeypatch):
    real = import_run.bulk_writer.write_batch

    def refuse_one(batch, *, by):
        if any(data.external_id == "HN-2023-007" for data in batch):
            raise import_run.IntakeError("refused on purpose")
        return real(batch, by=by)

    monkeypatch.setattr(import_run.bulk_writer, "write_batch", refuse_one)
    # One process (two: tests/cases/test_import_turns.py)
    result = run(app, XLSX, "--as", head.email, "--lang", "en", "--processes", "1")
    assert result.exit_code == 1
    assert "Row 10, this row could not be saved: refused on purpose" in result.output
    assert count(Call) == 14  # the rest of its batch was saved


def test_a_file_that_is_no_register_is_refused_in_plain_words(app, head, tmp_path):
    text = tmp_path / "notes.csv"
    text.write_text("một dòng chữ\nkhông có cột nào\n", encoding="utf-8")
    result = run(app, text, "--as", head.email, "--lang", "en")
    assert result.exit_code == 1 and "No row of headings was found" in result.output
    broken = tmp_path / "register.xls"
    broken.write_bytes(b"\xd0\xcf\x11\xe0")
    result = run(app, broken, "--as", head.email, "--lang", "en")
    assert result.exit_code == 1
    assert "The file cannot be opened as an Excel workbook." in result.output
    other = tmp_path / "register.pdf"
    other.write_bytes(b"%PDF-1.4")
    result = run(app, other, "--as", head.email, "--lang", "en")
    assert "Give a .xlsx, .xls, .ods, .csv or .jsonl (JSON lines) file." in result.output


def test_excel_cells_are_read_as_typed_and_rows_numbered_as_excel_shows_them(app, tmp_path):
    """The workbook is read with calamine: a title row and empty rows and columns before the
    table keep Excel's row numbers; numbers, dates, times and empty cells come as they were
    typed; a file that is no workbook is refused in plain words."""
    from datetime import time

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet["C1"] = "Sổ tiếp nhận 2024"
    headings = ["ngày tiếp nhận", "giờ tiếp nhận", "lý do gọi", "tuổi", "số điện thoại", "họ tên"]
    for column, heading in enumerate(headings, start=3):
        sheet.cell(row=4, column=column, value=heading)
    rows = [
        [datetime(2024, 3, 5), time(14, 30), "Báo bạo lực", 16, 912345678, "Người Mẫu"],
        [date(2024, 3, 6), "09:15", "Tư vấn", 30.5, "0912 000 111", None],
        [None, None, None, None, None, None],  # an empty row is skipped, and still counted
        ["07/03/2024", None, "Im lặng", None, None, None],
    ]
    for number, values in enumerate(rows, start=5):
        for column, value in enumerate(values, start=3):
            sheet.cell(row=number, column=column, value=value)
    path = tmp_path / "so.xlsx"
    book.save(path)
    read = list(read_rows(path))
    assert [number for number, _ in read] == [5, 6, 8]
    first, second, last = (row for _, row in read)
    assert first == dict(
        zip(headings, [datetime(2024, 3, 5), time(14, 30), "Báo bạo lực", 16, 912345678,
                       "Người Mẫu"], strict=True)
    )  # fmt: skip
    assert type(first["tuổi"]) is int and type(first["số điện thoại"]) is int
    assert second["ngày tiếp nhận"] == datetime(2024, 3, 6) and second["tuổi"] == 30.5
    assert "họ tên" not in second
    assert last["ngày tiếp nhận"] == "07/03/2024" and last["lý do gọi"] == "Im lặng"
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(importer.RegisterError) as refused, force_locale("en"):
        list(read_rows(broken))
    with force_locale("en"):
        assert str(refused.value) == "The file cannot be opened as an Excel workbook."


def test_an_interrupted_import_keeps_its_saved_batches_and_says_so(app, head, monkeypatch):
    real = import_run.bulk_writer.write_batch

    def interrupt(batch, *, by):
        if any(data.external_id == "HN-2023-008" for data in batch):
            raise KeyboardInterrupt
        return real(batch, by=by)

    monkeypatch.setattr(import_run.bulk_writer, "write_batch", interrupt)
    result = run(app, XLSX, "--as", head.email, "--batch-size", "5", "--processes", "1")
    assert result.exit_code != 0
    assert count(Call) == 5  # the first batch was committed, the second rolled back
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "import")).scalar_one()
    assert entry.detail.startswith("read=10 written=5 ") and entry.detail.endswith(" interrupted")


@pytest.mark.parametrize(
    "column, typed, code",
    [("quan hệ", "Chú", "family_other"), ("quan hệ", "chủ", "employer"),
     ("quan hệ", "Bồ", "intimate_partner"), ("quan hệ", "Bố", "parent_caregiver"),
     ("quan hệ", "CHONG", "intimate_partner"),
     ("dấu hiệu nguy cơ", "đe doạ giết", "threats_to_kill"),
     ("dấu hiệu nguy cơ", "đe dọa giết", "threats_to_kill"),
     ("trạng thái", "Đóng", "closed"), ("trạng thái", "dong", "closed")],
)  # fmt: skip
def test_accents_typed_are_kept_and_only_a_value_typed_without_any_is_read_without(
    app, column, typed, code
):
    """ "Chú" (uncle) is not "chủ" (employer), nor "Bồ" (lover) "bố" (father): a word typed
    with accents is matched with them (the tone mark placed either way, "doạ" or "dọa"); one
    typed without any ("CHONG", "dong") is matched without."""
    with app.app_context():
        intake, errors, _ = validate_row({"ngày tiếp nhận": "01/02/2024", column: typed})
    assert errors == []
    found = {
        "quan hệ": lambda: intake.perpetrator.relationship,
        "dấu hiệu nguy cơ": lambda: intake.risk_answers[0],
        "trạng thái": lambda: intake.status,
    }[column]()
    assert found == code


@pytest.mark.parametrize(
    "column, typed",
    [("trạng thái", "Mơ"), ("trạng thái", "Đông"), ("quan hệ", "chu"), ("quan hệ", "Ba")],
)
def test_a_word_with_other_accents_or_two_readings_is_refused_not_guessed(app, column, typed):
    with app.app_context():
        intake, errors, _ = validate_row({"ngày tiếp nhận": "01/02/2024", column: typed})
    assert intake is None and len(errors) == 1


def test_free_text_in_a_coded_or_date_column_is_shown_without_who_it_is_about(app, head, tmp_path):
    """Registers write notes where a code belongs: the report keeps the list's own words, so the
    mistake can be seen, and shows any other word or number by its shape only; a commune that
    is not found is reported without naming the province."""
    path = tmp_path / "ghi-chu.csv"
    path.write_text(
        "ngày tiếp nhận,người gọi,nơi xảy ra,quan hệ,ngày xảy ra,tỉnh/thành phố,xã/phường\n"
        '15/03/2024 - chị Mai 0912345678,"Chị Nguyễn Thị Lan, hàng xóm 0912345678",'
        "Nhà riêng số 12 ngõ 5 Yên Sở,chồng (Trần Văn Bình),32/13/2024,,\n"
        "15/03/2024,,,,,Hải Phòng,Xóm Đồi Lạ\n"
    )
    result = run(app, path, "--as", head.email, "--dry-run", "--lang", "en")
    for planted in ("0912345678", "Mai", "Nguyễn", "Lan", "Yên Sở", "Trần", "Bình", "Đồi Lạ"):
        assert planted not in result.output, planted
    assert "Hải Phòng" not in result.output and "Haiphong" not in result.output
    assert "'99/99/9999 - xxx xxx 9999999999' is not a date" in result.output
    assert "'xxx xxxxxx xxx xxx, xxxx xxx 9999999999' is not a kind of caller" in result.output
    assert "'chồng (xxxx xxx xxxx)' is not a relationship we know" in result.output
    assert "'Nhà xxxxx xx 99 xxx 9 xxx xx' is not a place we know" in result.output
    assert "'32/13/2024' is not a date" in result.output  # shaped as a date: as written
    assert "is not a commune or ward of the province in column 'tỉnh/thành phố'" in result.output


def test_an_old_id_saying_none_is_no_id_and_ids_numbered_again_each_year_are_new_rows(
    app, head, tmp_path
):
    path = tmp_path / "so-cu.csv"
    path.write_text(
        "mã cũ,ngày tiếp nhận,lý do,tên người gọi\n"
        "-,01/03/2024,nhầm số,Người Một\n"
        "-,02/03/2024,nhầm số,Người Hai\n"
        "không có,03/03/2024,im lặng,\n"
        "không có,04/03/2024,im lặng,\n"
        "1,05/03/2024,thông tin,Người Ba\n"
        "1,05/03/2025,thông tin,Người Bốn\n"
    )
    first = run(app, path, "--as", head.email, "--lang", "en")
    assert first.exit_code == 0 and "written: 6" in first.output, first.output
    assert not any("Old register id: -" in (c.narrative or "") for c in calls_all())
    again = run(app, path, "--as", head.email, "--lang", "en")
    assert "written: 0" in again.output and "already imported: 6" in again.output


def calls_all() -> list[Call]:
    db.session.expire_all()
    return list(db.session.execute(select(Call)).scalars())


def test_the_same_row_keyed_alike_whether_excel_cells_or_csv_text(app):
    from datetime import time

    with app.app_context():
        excel, _, _ = validate_row(
            {"ngày tiếp nhận": date(2024, 3, 5), "giờ": time(8, 40), "sđt": 912345678,
             "lý do": "Im lặng", "tuổi": 35.0}
        )  # fmt: skip
        csv, _, _ = validate_row(
            {"ngày tiếp nhận": "5/3/2024", "giờ": "8:40", "sđt": "0912 345 678",
             "lý do": "im lặng", "tuổi": "35"}
        )  # fmt: skip
    assert excel.key_basis == csv.key_basis


def test_a_no_or_a_status_alone_opens_no_case_and_what_is_left_out_is_named(app):
    with app.app_context(), force_locale("en"):
        intake, errors, notes = validate_row(
            {"ngày tiếp nhận": "01/03/2024", "lý do": "Nhầm số", "có vũ khí": "không",
             "trạng thái": "Hoàn thành", "ngày đóng ca": "-", "tên người gọi": "A",
             "họ tên": "B", "số điện thoại": "0912 345 678",
             "số điện thoại người gọi": "0988 111 222"}
        )  # fmt: skip
        said = [str(n) for n in notes]
    assert errors == [] and not intake.open_case
    assert len(said) == 1
    for heading in ("có vũ khí", "trạng thái", "ngày đóng ca", "họ tên", "số điện thoại"):
        assert f"'{heading}'" in said[0], heading
    with app.app_context():
        weapon, _, _ = validate_row(
            {"ngày tiếp nhận": "01/03/2024", "lý do": "Nhầm số", "có vũ khí": "có"}
        )
    assert weapon.open_case  # a yes says something of a case


def test_a_case_closed_the_day_of_its_call_is_not_closed_before_it_opened(app, head, tmp_path):
    path = tmp_path / "dong.csv"
    path.write_text(
        "ngày tiếp nhận,giờ,trạng thái,ngày đóng ca\n15/03/2024,14:30,đã đóng,15/03/2024\n"
    )
    assert run(app, path, "--as", head.email).exit_code == 0
    case = db.session.execute(select(Case)).scalar_one()
    assert case.closed_at == case.opened_at == datetime(2024, 3, 15, 7, 30, tzinfo=UTC)


def test_cells_saying_none_seconds_and_impossible_ages_are_read_as_people_write_them(app):
    with app.app_context():
        ok, errors, _ = validate_row(
            {"ngày tiếp nhận": "15/03/2024 14:30:00", "giờ": "-", "tuổi người gây bạo lực": "-"}
        )
        assert errors == []
        assert ok.started_at == datetime(2024, 3, 15, 7, 30, tzinfo=UTC)
        assert ok.perpetrator.age_band == "unknown"
        _, errors, _ = validate_row({"ngày tiếp nhận": "15/03/2024", "tuổi người gây bạo lực": 150})
    assert len(errors) == 1


def test_a_title_line_above_the_headings_does_not_hide_the_separator(app, tmp_path):
    path = tmp_path / "tieu-de.csv"
    path.write_text(
        "Sổ tiếp nhận cuộc gọi năm 2024\nngày tiếp nhận;giới tính;tuổi\n01/02/2024;Nữ;30\n"
    )
    with app.app_context():
        [(_, row)] = list(read_rows(path))
    assert row == {"ngày tiếp nhận": "01/02/2024", "giới tính": "Nữ", "tuổi": "30"}


def test_a_json_lines_file_not_in_utf8_is_refused_in_plain_words(app, head, tmp_path):
    path = tmp_path / "cu.jsonl"
    path.write_bytes(b'{"ngay tiep nhan": "01/02/2024", "ho ten": "L\xea Th\xec"}\n')  # Latin-1
    result = run(app, path, "--as", head.email, "--lang", "en")
    assert result.exit_code != 0
    assert "cannot be read: save it as UTF-8" in result.output
    assert "Traceback" not in result.output


def test_headings_on_two_rows_are_refused_and_a_column_without_one_is_reported(app, head, tmp_path):
    merged = tmp_path / "hai-dong.csv"
    merged.write_text(
        "ngày tiếp nhận,giới tính,người gây bạo lực,,\n"
        ",,quan hệ,giới tính người gây bạo lực,tuổi người gây bạo lực\n"
        "01/02/2024,Nữ,chồng,Nam,40\n"
    )
    refused = run(app, merged, "--as", head.email, "--dry-run", "--lang", "en")
    assert refused.exit_code != 0
    assert "Rows 1 and 2 both hold column names" in refused.output
    unnamed = tmp_path / "khong-ten.csv"
    unnamed.write_text("ngày tiếp nhận,giới tính,\n01/02/2024,Nữ,chồng Trần Văn Bình\n")
    told = run(app, unnamed, "--as", head.email, "--dry-run", "--lang", "en")
    assert told.exit_code == 0, told.output
    assert "The column '[C, 3]' is not one we know; its values were not imported" in told.output
    assert "Trần" not in told.output


def test_a_phone_number_in_a_date_or_time_cell_is_shown_by_its_shape(app):
    with app.app_context(), force_locale("en"):
        _, errors, _ = validate_row({"ngày tiếp nhận": "0912 345 678", "giờ": "091.234.5678"})
        shown = " ".join(str(e) for e in errors)
    assert "0912" not in shown and "091.234" not in shown
    assert "'9999 999 999' is not a date" in shown and "'999.999.9999'" in shown


def test_a_semicolon_register_with_commas_in_its_text_is_read(app, tmp_path):
    path = tmp_path / "cham-phay.csv"
    path.write_text(
        "Sổ tiếp nhận, năm 2024\n"
        "ngày tiếp nhận;giới tính;tuổi;tóm tắt\n"
        "01/02/2024;Nữ;30;bị chồng đánh, chửi, đe dọa, đuổi ra khỏi nhà, giữ giấy tờ\n"
    )
    with app.app_context():
        [(_, row)] = list(read_rows(path))
    assert row["giới tính"] == "Nữ" and row["tóm tắt"].startswith("bị chồng đánh, chửi")


def test_a_heading_typed_with_some_accents_only_is_still_known(app):
    assert column_of("Ngay tiếp nhận") == "date" and column_of("So điện thoại") == "phone"


def test_an_x_ticked_in_a_yes_or_no_column_opens_a_case(app):
    with app.app_context():
        intake, errors, _ = validate_row(
            {"ngày tiếp nhận": "01/03/2024", "lý do": "tư vấn", "có vũ khí": "x"}
        )
    assert errors == [] and intake.open_case and intake.perpetrator.weapon_access == "yes"


def test_values_past_the_last_heading_are_reported_not_cut_off(app, head, tmp_path):
    path = tmp_path / "dai.csv"
    path.write_text("ngày tiếp nhận,giới tính\n01/02/2024,Nữ,chồng Trần Văn Bình\n")
    result = run(app, path, "--as", head.email, "--dry-run", "--lang", "en")
    assert "The column '[C, 3]' is not one we know" in result.output
    assert "Trần" not in result.output


def test_a_child_calling_for_themself_is_a_child_case_with_its_helpline_category(
    app, head, tmp_path
):
    """No age in the register: the caller being a child puts the case on the child path, and
    the child helpline category is kept for it (an adult's case has no use for it: no incident
    is made of it alone)."""
    path = tmp_path / "tre.csv"
    path.write_text(
        "ngày tiếp nhận,người gọi,họ tên,nhóm vấn đề của trẻ\n"
        "10/06/2026,trẻ em,Bé Na,bắt nạt\n"
        "11/06/2026,nạn nhân,Chị Hoa,bắt nạt\n"
    )
    assert run(app, path, "--as", head.email).exit_code == 0
    with app.app_context():
        cases = db.session.execute(select(Case).order_by(Case.number)).scalars().all()
        assert [c.is_child for c in cases] == [True, False]
        assert [[i.chi_category for i in c.incidents] for c in cases] == [["bullying"], []]
        assert {t.kind for t in cases[0].tasks} == {"notify_commune"}
