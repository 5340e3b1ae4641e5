"""Write the sample registers of docs/samples/ (made-up people only), and make registers of any
size for bench/import.py.

    .venv/bin/python bench/make_import_samples.py      # rebuilds docs/samples/*

register-sample.xlsx has Vietnamese headings under a title row, as many hotlines keep them;
register-sample.csv holds the same rows with the English column names; register-with-errors.xlsx
is the same register with three mistakes (rows 6, 11 and 16) for the dry-run demonstration.
register-sample.xls (Excel 97-2003) and register-sample.ods (LibreOffice Calc) hold the XLSX's
rows as those programs save them; the app reads them with calamine, but writing them needs two
libraries the app does not use, so they are rebuilt only where they are installed:
    .venv/bin/pip install --target /tmp/legacy xlwt==1.3.0 odfpy==1.4.1
    PYTHONPATH=/tmp/legacy .venv/bin/python bench/make_import_samples.py
"""

# ruff: noqa: E501  (the sample register below is a table: one row a line reads best)

from __future__ import annotations

import csv
import json
import random
import shutil
import tempfile
from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook, load_workbook

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "docs" / "samples"
TITLE = "SỔ TIẾP NHẬN CUỘC GỌI - DỮ LIỆU MẪU (người hư cấu, không có thật)"
# The columns the samples use, in order: English name, Vietnamese heading.
HEADINGS = {
    "external_id": "mã cũ",
    "date": "ngày tiếp nhận",
    "time": "giờ tiếp nhận",
    "channel": "kênh tiếp nhận",
    "caller_type": "người gọi",
    "reason": "lý do gọi",
    "survivor_name": "họ tên",
    "phone": "số điện thoại",
    "sex": "giới tính",
    "age": "tuổi",
    "birth_date": "ngày sinh",
    "province": "tỉnh/thành phố",
    "commune": "xã/phường",
    "address": "địa chỉ",
    "acts": "hành vi bạo lực",
    "perpetrator_relationship": "quan hệ với người gây bạo lực",
    "perpetrator_sex": "giới tính người gây bạo lực",
    "risk": "mức độ nguy cơ",
    "services": "dịch vụ",
    "safe_contact": "liên hệ an toàn",
    "summary": "tóm tắt",
    "status": "trạng thái",
    "closed_on": "ngày đóng ca",
}
D = date
# Made-up people: every name carries "Mẫu" (sample); numbers are in the unused 0900 000 0xx range.
SAMPLE_ROWS = [
    dict(external_id="HN-2023-001", date=D(2023, 3, 15), time="08:40", channel="Điện thoại", caller_type="Nạn nhân", reason="Báo bạo lực", survivor_name="Nguyễn Thị Mẫu Một", phone="0900 000 001", sex="Nữ", age=34, province="Hà Nội", commune="Phường Ba Đình", address="Số 1 ngõ Thử Nghiệm", acts="a; b", perpetrator_relationship="Chồng", perpetrator_sex="Nam", risk="Cao", services="tư vấn tâm lý; pháp lý", safe_contact="Chỉ gọi 9-11 giờ sáng, không để lại lời nhắn", summary="Chồng say rượu đánh chị (chuyện hư cấu).", status="Đã đóng", closed_on=D(2023, 4, 30)),
    dict(external_id="HN-2023-002", date=D(2023, 5, 2), time="21:15", channel="Zalo", caller_type="Người thân", reason="báo bạo lực", survivor_name="Trần Thị Mẫu Hai", phone="0900000002", sex="female", birth_date=D(1990, 8, 12), province="ha noi", commune="Phường Hoàn Kiếm", acts="đánh đập, chửi bới", perpetrator_relationship="husband", perpetrator_sex="male", risk="rất cao", services="y tế", safe_contact="Gọi qua số của chị gái", summary="Em gái gọi hộ (chuyện hư cấu).", status="Đang mở"),
    dict(external_id="HN-2023-003", date=D(2023, 6, 10), channel="Điện thoại", caller_type="Trẻ tự gọi", reason="Báo bạo lực", survivor_name="Lê Văn Mẫu Ba", sex="Nam", age=12, province="Hà Nội", commune="Quận Cầu Giấy cũ", acts="a", perpetrator_relationship="Bố dượng", perpetrator_sex="Nam", risk="Trung bình", services="Bảo vệ trẻ em", summary="Em bị bố dượng đánh (chuyện hư cấu).", status="Đang hỗ trợ"),
    dict(external_id="HN-2023-004", date=D(2023, 7, 20), channel="Điện thoại", caller_type="Nạn nhân", reason="Tư vấn", survivor_name="Phạm Thị Mẫu Bốn", phone="0900000004", summary="Hỏi về thủ tục ly hôn (chuyện hư cấu)."),
    dict(external_id="HN-2023-005", date=D(2023, 8, 1), channel="Điện thoại", caller_type="Giấu tên", reason="Im lặng"),
    dict(external_id="HN-2023-006", date=D(2023, 9, 14), channel="Facebook", caller_type="Nạn nhân", reason="Báo bạo lực", survivor_name="Hoàng Thị Mẫu Sáu", sex="Nữ", age=45, province="Sóc Trăng", acts="m_property; n_economic_control", perpetrator_relationship="Chồng cũ", perpetrator_sex="Nam", risk="Thấp", services="trợ giúp xã hội", summary="Chồng cũ chiếm nhà (chuyện hư cấu).", status="Đã đóng"),
    dict(external_id="HN-2023-007", date=D(2023, 10, 3), time="14h30", channel="Điện thoại", caller_type="Hàng xóm", reason="Báo bạo lực", survivor_name="Vũ Thị Mẫu Bảy", phone="0900000007", sex="F", age=67, province="79", commune="Phường Sài Gòn", acts="e_isolation", perpetrator_relationship="Con trai", perpetrator_sex="Nam", risk="medium", services="counselling", summary="Con trai không cho bà gặp ai (chuyện hư cấu)."),
    dict(external_id="HN-2023-008", date=D(2023, 11, 25), channel="Trực tiếp", caller_type="Nạn nhân", reason="Báo bạo lực", survivor_name="Đỗ Thị Mẫu Tám", phone="0900000008", sex="Nữ", age=28, province="Quảng Ninh", commune="Phường Hạ Long", acts="i; k", perpetrator_relationship="Người yêu", perpetrator_sex="Nam", risk="Nghiêm trọng", services="nhà tạm lánh; công an", safe_contact="Không gọi sau 18 giờ", summary="Cần chỗ tạm lánh (chuyện hư cấu).", status="Đang hỗ trợ"),
    dict(external_id="HN-2024-009", date=D(2024, 1, 5), channel="Điện thoại", caller_type="Giáo viên", reason="Báo bạo lực", survivor_name="Bùi Văn Mẫu Chín", sex="Nam", age=9, province="Hà Nội", commune="Phường Đống Đa", acts="d_neglect", perpetrator_relationship="Mẹ", perpetrator_sex="Nữ", risk="Cao", services="Bảo vệ trẻ em", summary="Cô giáo báo em bị bỏ mặc (chuyện hư cấu)."),
    dict(external_id="HN-2024-010", date=D(2024, 2, 18), channel="SMS", caller_type="Nạn nhân", reason="Nhầm số"),
    dict(external_id="HN-2024-011", date=D(2024, 3, 8), channel="Điện thoại", caller_type="Nạn nhân", reason="Báo bạo lực", survivor_name="Ngô Thị Mẫu Mười Một", phone="0900000011", sex="Nữ", age=39, province="Huế", commune="Phường Vỹ Dạ", acts="b; c", perpetrator_relationship="Mẹ chồng", perpetrator_sex="Nữ", risk="Trung bình", services="Tư vấn", summary="Mẹ chồng lăng mạ (chuyện hư cấu).", status="Đã đóng", closed_on=D(2024, 3, 30)),
    dict(external_id="HN-2024-012", date=D(2024, 4, 22), channel="Điện thoại", caller_type="Nạn nhân", reason="Báo bạo lực", survivor_name="Dương Thị Mẫu Mười Hai", phone="0900000012", sex="Nữ", age=52, province="Đà Nẵng", commune="Phường Hải Châu", acts="p_eviction", perpetrator_relationship="Chồng", perpetrator_sex="Nam", risk="Thấp", summary="Bị đuổi ra khỏi nhà (chuyện hư cấu)."),
    dict(external_id="HN-2024-013", date=D(2024, 5, 30), channel="Thư", caller_type="Cơ quan", reason="Violence report", survivor_name="Lý Thị Mẫu Mười Ba", sex="other", age=23, province="Cần Thơ", commune="Phường Ninh Kiều", acts="a; i", perpetrator_relationship="stranger", perpetrator_sex="male", risk="high", services="health; police", summary="Công an xã chuyển tin (chuyện hư cấu).", status="closed", closed_on=D(2024, 7, 15)),
    dict(external_id="HN-2024-014", date=D(2024, 6, 11), channel="Điện thoại", caller_type="Nạn nhân", reason="Hỏi thông tin"),
    dict(external_id="HN-2024-015", date=D(2024, 7, 19), channel="Điện thoại", caller_type="Nạn nhân", reason="Báo bạo lực", survivor_name="Mai Thị Mẫu Mười Lăm", phone="0900000015", sex="nữ", age=31, province="Hải Phòng", commune="Xã Không Có Thật", acts="h_disclosure", perpetrator_relationship="Chồng", perpetrator_sex="Nam", summary="Chồng tung chuyện riêng lên mạng (chuyện hư cấu)."),
]  # fmt: skip
# The three mistakes of register-with-errors.xlsx: sample row index -> (column, bad value).
MISTAKES = {2: ("sex", "nam nữ"), 7: ("date", "31/02/2024"), 12: ("acts", "thể chất")}
FIRST_DATA_ROW = 4  # title, blank row, headings, then the rows


def write_xlsx(path: Path, rows: list[dict], *, title: str | None = TITLE) -> None:
    """An Excel register with Vietnamese headings; dates as real date cells."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Sổ tiếp nhận")
    if title:
        sheet.append([title])
        sheet.append([])
    sheet.append(list(HEADINGS.values()))
    for row in rows:
        sheet.append([_cell(row.get(name)) for name in HEADINGS])
    book.save(path)


def write_xls(path: Path, rows: list[dict], *, title: str | None = TITLE) -> None:
    """The XLSX register as Excel 97-2003 saves it (xlwt), dates as date cells."""
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("So tiep nhan")
    as_date = xlwt.easyxf(num_format_str="DD/MM/YYYY")
    lines = ([[title], []] if title else []) + [list(HEADINGS.values())]
    lines += [[row.get(name) for name in HEADINGS] for row in rows]
    for r, values in enumerate(lines):
        for c, value in enumerate(values):
            if isinstance(value, date):
                sheet.write(r, c, _cell(value), as_date)
            elif value not in (None, ""):
                sheet.write(r, c, value)
    book.save(str(path))


def write_ods(path: Path, rows: list[dict], *, title: str | None = TITLE) -> None:
    """The XLSX register as LibreOffice Calc saves it (odfpy), dates as date cells."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    table = Table(name="Sổ tiếp nhận")
    lines = ([[title], []] if title else []) + [list(HEADINGS.values())]
    lines += [[row.get(name) for name in HEADINGS] for row in rows]
    for values in lines:
        line = TableRow()
        for value in values:
            if isinstance(value, date):
                cell = TableCell(valuetype="date", datevalue=value.isoformat())
                cell.addElement(P(text=value.strftime("%d/%m/%Y")))
            elif isinstance(value, int):
                cell = TableCell(valuetype="float", value=value)
                cell.addElement(P(text=str(value)))
            elif value not in (None, ""):
                cell = TableCell(valuetype="string")
                cell.addElement(P(text=str(value)))
            else:
                cell = TableCell()
            line.addElement(cell)
        table.addElement(line)
    doc.spreadsheet.addElement(table)
    doc.save(str(path))


def _cell(value):
    return datetime(value.year, value.month, value.day) if type(value) is date else value


def write_csv(path: Path, rows: list[dict]) -> None:
    """A CSV register (UTF-8 with BOM, as Excel writes it) with the English column names."""
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(list(HEADINGS))
        for row in rows:
            writer.writerow([_text(row.get(name)) for name in HEADINGS])


def write_jsonl(path: Path, rows: list[dict]) -> None:
    """A JSON-lines register: one object per line, English names, dates as dd/mm/yyyy."""
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            fields = {k: _text(v) for k, v in row.items() if v not in (None, "")}
            handle.write(json.dumps(fields, ensure_ascii=False) + "\n")


def _text(value) -> str:
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return "" if value is None else str(value)


def rows_with_mistakes() -> list[dict]:
    """The sample rows with the three mistakes put in."""
    rows = [dict(row) for row in SAMPLE_ROWS]
    for index, (name, value) in MISTAKES.items():
        rows[index][name] = value
    return rows


PROVINCES = {
    "Hà Nội": ["Phường Ba Đình", "Phường Hoàn Kiếm", "Phường Đống Đa", "Xã Sóc Sơn", ""],
    "Hồ Chí Minh": ["Phường Sài Gòn", "Phường Bến Thành", "Phường Cầu Kiệu", ""],
    "Đà Nẵng": ["Phường Hải Châu", "Phường Thanh Khê", ""],
    "Cần Thơ": ["Phường Ninh Kiều", "Phường Cái Răng", ""],
    "Quảng Ninh": ["Phường Hạ Long", "Phường Bãi Cháy", "Quận cũ Thử"],
    "Sóc Trăng": [""],
}
ACTS = ["a", "b", "a; b", "đánh đập, chửi bới", "e_isolation", "m_property", "i", "d_neglect"]
RELATIONSHIPS = ["Chồng", "Chồng cũ", "Bố", "Mẹ chồng", "Con trai", "Người yêu", "Hàng xóm"]
RISKS = ["Thấp", "Trung bình", "Cao", "Rất cao", ""]
STATUSES = ["Đang mở", "Đang mở", "Đang hỗ trợ", "Đã đóng"]


def generated_rows(n: int, *, seed: int = 2025) -> list[dict]:
    """n made-up register rows, most of them violence reports, for the import benchmark."""
    pick = random.Random(seed)
    rows = []
    for i in range(n):
        day = date(2019, 1, 1).fromordinal(date(2019, 1, 1).toordinal() + pick.randrange(2000))
        if pick.random() < 0.1:
            rows.append(dict(external_id=f"B-{i}", date=day, reason="Tư vấn", phone=_phone(i)))
            continue
        province = pick.choice(list(PROVINCES))
        status = pick.choice(STATUSES)
        rows.append(
            dict(
                external_id=f"B-{i}",
                date=day,
                time=f"{pick.randrange(24):02d}:{pick.randrange(60):02d}",
                channel="Điện thoại",
                caller_type="Nạn nhân",
                reason="Báo bạo lực",
                survivor_name=f"Người Mẫu Số {i}",
                phone=_phone(i),
                sex=pick.choice(["Nữ", "Nữ", "Nữ", "Nam"]),
                age=pick.randrange(8, 80),
                province=province,
                commune=pick.choice(PROVINCES[province]),
                address=f"Số {i} ngõ Mẫu",
                acts=pick.choice(ACTS),
                perpetrator_relationship=pick.choice(RELATIONSHIPS),
                perpetrator_sex="Nam",
                risk=pick.choice(RISKS),
                services=pick.choice(["tư vấn tâm lý", "y tế; pháp lý", ""]),
                safe_contact="Chỉ gọi buổi sáng",
                summary=f"Chuyện hư cấu số {i}.",
                status=status,
                closed_on=day if status == "Đã đóng" else None,
            )  # fmt: skip
        )
    return rows


def _phone(i: int) -> str:
    return f"09{i % 100_000_000:08d}"


def main() -> None:
    """Rebuild the files of docs/samples/, touching only those whose content changed (so
    `make bench`, which runs every script here, leaves the committed files alone)."""
    SAMPLES.mkdir(parents=True, exist_ok=True)
    samples = [
        ("register-sample.xlsx", write_xlsx, SAMPLE_ROWS),
        ("register-sample.csv", write_csv, SAMPLE_ROWS),
        ("register-with-errors.xlsx", write_xlsx, rows_with_mistakes()),
    ]
    for name, write, library in (
        ("register-sample.xls", write_xls, "xlwt"),
        ("register-sample.ods", write_ods, "odf"),
    ):
        try:
            __import__(library)
        except ImportError:
            print(f"{SAMPLES / name} (kept: {library} is not installed, see the docstring)")
            continue
        samples.append((name, write, SAMPLE_ROWS))
    for name, write, rows in samples:
        target = SAMPLES / name
        with tempfile.TemporaryDirectory() as tmp:
            fresh = Path(tmp) / name
            write(fresh, rows)
            if target.exists() and _content(target) == _content(fresh):
                print(f"{target} (unchanged)")
                continue
            shutil.copyfile(fresh, target)
            print(target)


def _content(path: Path) -> list:
    """What a sample holds, whatever the timestamps inside an .xlsx."""
    if path.suffix == ".csv":
        return path.read_bytes().splitlines()
    if path.suffix in (".xls", ".ods"):
        from python_calamine import CalamineWorkbook

        return CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    book = load_workbook(path, read_only=True)
    try:
        return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()


if __name__ == "__main__":
    main()
