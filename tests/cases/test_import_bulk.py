"""The batch writer (app/cases/bulk.py) writes what saving row by row through save_intake
writes: one register imported both ways, into two organisations, compared table by table."""

import gc
import re
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app import audit
from app.auditlog import verify as chain
from app.calls.intake import Intake, Survivor, save_intake
from app.calls.models import Call
from app.calls.services import calls_from_number
from app.cases import bulk, import_run, importer
from app.cases.casework import ConsentData, IncidentData
from app.cases.importer import read_rows
from app.cases.models import Case
from app.cases.register.rows import ImportedIntake
from app.clock import utcnow
from app.crypto.datakeys import SealedField
from app.extensions import db
from tests.cases.test_import import XLSX

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from make_import_samples import generated_rows, write_csv  # noqa: E402

# Keys, raw sealed bytes and hashes differ between any two writes; what they hold is compared,
# and for the data-key columns whether the row holds a key at all (a call inside a case has
# none of its own; a case and a call without a case have one).
IGNORED = {"hash", "prev_hash"}
KEY_COLUMNS = {"key_id", "key_kek_id", "key_wrapped"}
# A case's version counts the UPDATEs of its row: row by row, the unit of work inserts a case and
# updates it one to three times as it flushes (depending on where the row falls in its batch);
# the batch writer inserts it once. Either way a later edit starts from the version it reads.
WRITE_COUNTERS = {("case_record", "version")}
NOT_PER_IMPORT = {"kek_record", "audit_head"}  # once per database; the chain is verified instead
WRITE_TIME_OFFSETS = (timedelta(0), timedelta(hours=12), timedelta(hours=24), timedelta(hours=72))
CUT_UUID = re.compile(r":[0-9a-f-]{1,35}$")
UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture
def register(tmp_path) -> list[dict]:
    """The sample register's rows and 300 generated ones (children, every risk level and
    status, calls that open no case), as one CSV."""
    path = tmp_path / "register.csv"
    write_csv(path, generated_rows(300, seed=7))
    rows = [row for _, row in read_rows(XLSX)] + [row for _, row in read_rows(path)]
    return rows


def rows_of(rows):
    return enumerate(rows, start=2)


def mappers() -> dict:
    return {m.local_table.name: m for m in db.Model.registry.mappers}


def everything() -> dict[str, dict]:
    """Every row of every table, by table and primary key, as stored."""
    db.session.expire_all()
    found = {}
    for table in db.metadata.sorted_tables:
        keys = [c.name for c in table.primary_key.columns]
        found[table.name] = {
            tuple(row._mapping[k] for k in keys): row for row in db.session.execute(table.select())
        }
    return found


class Written:
    """What one import added or changed, with the sealed values opened, ready to compare."""

    def __init__(self, before: dict, after: dict, user, window: tuple[datetime, datetime]):
        self.user, self.window = user, window
        self.rows = {
            name: [row for key, row in rows.items() if before[name].get(key) != row]
            for name, rows in after.items()
            if name not in NOT_PER_IMPORT
        }
        self.labels: dict[uuid.UUID, str] = {}
        self.opened = 0
        cases = sorted(self.rows["case_record"], key=lambda r: r.number)
        for row in cases:
            self.labels[row.id] = "case " + row.number.split("-", 1)[1]
        # Then every other row with an id is known by its content (its case by its label).
        for name, rows in self.rows.items():
            if name in ("case_record", "audit_entry"):
                continue
            for row in rows:
                if isinstance(getattr(row, "id", None), uuid.UUID):
                    self.labels[row.id] = f"{name} {self.values(name, row, keep_id=False)}"

    def values(self, name: str, row, *, keep_id: bool = True) -> tuple:
        table = db.metadata.tables[name]
        mapper = mappers().get(name)
        obj = None
        out = []
        for column in table.columns:
            value = row._mapping[column.name]
            numbered = column.primary_key and isinstance(value, int)  # the database's count
            if column.name in IGNORED or (column.primary_key and not keep_id) or numbered:
                continue
            if column.name in KEY_COLUMNS:
                out.append((column.name, value is not None))
                continue
            if column.name.endswith("_sealed"):
                field = column.name[: -len("_sealed")]
                if value is not None and isinstance(getattr(mapper.class_, field), SealedField):
                    obj = obj or db.session.get(mapper.class_, row.id)
                    value = getattr(obj, field)  # opens, or raises
                    self.opened += 1
                out.append((field, value))
                continue
            if (name, column.name) in WRITE_COUNTERS:
                assert isinstance(value, int) and value >= 1
                value = "counted"
            out.append((column.name, self.plain(column, value)))
        return tuple(out)

    def plain(self, column, value):
        targets = {fk.column.table.name for fk in column.foreign_keys}
        if value is None:
            return None
        if "user_account" in targets or column.name == "user_id":
            return "the importer" if value == self.user.id else value
        if "organisation" in targets or column.name == "organisation_id":
            return "its organisation" if value == self.user.organisation_id else value
        if isinstance(value, uuid.UUID):
            if column.name == "intake_key":
                return "a key"
            return self.labels.get(value, "unknown id") if column.primary_key else self.label(value)
        if isinstance(value, datetime):
            start, end = self.window
            for offset in WRITE_TIME_OFFSETS:
                if start <= value - offset <= end:
                    return f"the time of the write + {offset}"
            return value
        if isinstance(value, str):
            if column.name == "number":
                return value.split("-", 1)[1]
            value = UUID_TEXT.sub(lambda m: self.label(uuid.UUID(m.group())), value)
            return CUT_UUID.sub(":(an id cut at 200 characters)", value)
        return value

    def label(self, value: uuid.UUID) -> str:
        return self.labels.get(value, "unknown id")

    def tables(self) -> dict[str, list]:
        """Every table's new rows, normalised, in a stable order (the audit log in its own)."""
        out = {}
        for name, rows in self.rows.items():
            if name == "audit_entry":
                rows = sorted(rows, key=lambda r: r.id)
                out[name] = [self.values(name, r, keep_id=False) for r in rows]
            else:
                out[name] = sorted(map(repr, (self.values(name, r) for r in rows)))
        return out


def assert_same(old: Written, new: Written) -> None:
    """Every table's rows alike, row by row and field by field."""
    old_tables, new_tables = old.tables(), new.tables()
    assert old_tables.keys() == new_tables.keys()
    for name in old_tables:
        assert len(new_tables[name]) == len(old_tables[name]), name
        for was, now in zip(old_tables[name], new_tables[name], strict=True):
            assert now == was, name


def import_as(user, rows, *, bulk_write: bool, batch_size: int = 40):
    before = everything()
    start = utcnow()
    report = importer.import_rows(rows_of(rows), by=user, bulk=bulk_write, batch_size=batch_size)
    end = utcnow()
    return report, Written(before, everything(), user, (start, end))


def test_the_batch_writer_writes_what_saving_row_by_row_writes(app, make_user, register):
    one_by_one, batched = make_user("supervisor"), make_user("supervisor")
    first, old = import_as(one_by_one, register, bulk_write=False)
    second, new = import_as(batched, register, bulk_write=True)
    assert (first.read, first.written, first.skipped) == (315, 315, 0)
    assert (second.read, second.written, second.closed) == (first.read, 315, first.closed)
    assert second.warnings == first.warnings and not second.failed
    assert_same(old, new)
    # Not trivially equal: the interesting tables were filled, and every sealed value opened.
    counts = {name: len(rows) for name, rows in new.rows.items()}
    assert counts["call"] == 315 and counts["case_record"] > 250
    assert min(counts[n] for n in ("incident", "perpetrator", "risk_assessment", "task")) > 100
    assert counts["case_event"] > 100 and counts["blind_index"] > 500
    assert counts["audit_entry"] == counts["call"] + counts["case_record"] + 1 + sum(
        1 for r in new.rows["case_event"] if r.kind == "status"
    )
    assert new.opened == old.opened > 2000
    assert chain.verify().ok


def test_bulk_imported_cases_are_numbered_found_and_not_imported_twice(app, make_user, register):
    user = make_user("supervisor")
    report = importer.import_rows(rows_of(register), by=user, batch_size=64)
    assert report.written == 315
    numbers = db.session.execute(select(Case.number).order_by(Case.number)).scalars().all()
    code = user.organisation.code
    year = utcnow().year
    assert numbers == [f"{code}-{year}-{n:06d}" for n in range(1, len(numbers) + 1)]
    for phone in ("0900000113", "+84 900 000 250", "090-000-0299"):  # generated rows
        found = calls_from_number(phone, organisation_id=user.organisation_id)
        assert len(found) == 1, phone
        assert found[0].taken_by_id == user.id
    found = calls_from_number("+84900000008", organisation_id=user.organisation_id)
    assert any(c.case and "HN-2023-008" in c.case.summary for c in found)  # the sample's row
    assert not calls_from_number("0900000113", organisation_id=user.organisation_id + 1)
    again = importer.import_rows(rows_of(register), by=user, batch_size=64)
    assert (again.written, again.duplicates, again.read) == (0, 315, 315)
    assert db.session.execute(select(func.count()).select_from(Call)).scalar_one() == 315
    assert chain.verify().ok
    times = db.session.execute(select(audit.AuditEntry.at).order_by(audit.AuditEntry.id))
    times = times.scalars().all()
    assert times == sorted(times)  # timed when chained, so the log reads in order


def test_a_row_the_database_refuses_in_a_batch_costs_only_itself(app, make_user, monkeypatch):
    user = make_user("supervisor")
    real = import_run.validate_row

    def channel_missing(row):  # a NOT NULL column left empty: the database refuses the insert
        intake, errors, notes = real(row)
        if intake is not None and intake.external_id == "HN-2023-007":
            intake.channel = None
        return intake, errors, notes

    monkeypatch.setattr(import_run, "validate_row", channel_missing)
    report = importer.import_rows(read_rows(XLSX), by=user, batch_size=5)
    assert (report.written, report.skipped) == (14, 1)
    assert [p.row for p in report.failed] == [10]
    assert "IntegrityError" in str(report.failed[0].message)
    assert db.session.execute(select(func.count()).select_from(Call)).scalar_one() == 14
    assert chain.verify().ok  # the refused batch left no entry and no gap in the chain


def test_intake_parts_the_register_has_no_column_for_are_written_alike(app, make_user):
    """Consent, counselling, a follow-up, emergency steps, danger signs and flags: what the
    intake form says and a register does not, written the same way by both paths."""

    def intakes():
        return [
            ImportedIntake(
                reason="violence_report",
                intake_key=uuid.uuid4(),
                started_at=datetime(2024, 5, n + 1, 3, tzinfo=UTC),
                caller_phone=f"090000{n:04d}",
                danger=["child_involved", "injured"] if n % 2 else ["danger_now"],
                flags=["repeat"],
                outcomes=["referred"],
                emergency=[("called_113", datetime(2024, 5, n + 1, 3, 5, tzinfo=UTC))],
                survivor=Survivor(name=f"Người Mẫu {n}", age_band="unknown"),
                incident=IncidentData(acts=["a_beating"], description="chuyện hư cấu"),
                risk_answers=["strangulation", "threats_to_kill"] if n % 3 else ["escalating"],
                consents=[ConsentData(service="counselling", granted=True, share_data=True)],
                counselling=f"Tư vấn lần {n}",
                follow_up_at=datetime(2024, 6, 1, tzinfo=UTC),
                status=("open", "closed", "in_support")[n % 3],
            )
            for n in range(6)
        ]

    results = []
    for user, write in (
        (make_user("supervisor"), lambda batch, by: [import_run.save_row(i, by=by) for i in batch]),
        (
            make_user("supervisor"),
            lambda batch, by: [w.outcome for w in bulk.write_batch(batch, by=by)],
        ),
    ):
        before, start = everything(), utcnow()
        outcomes = write(intakes(), user)
        db.session.commit()
        results.append((outcomes, Written(before, everything(), user, (start, utcnow()))))
    (old_outcomes, old), (new_outcomes, new) = results
    assert new_outcomes == old_outcomes == ["created", "closed", "created"] * 2
    assert_same(old, new)
    assert {len(new.rows[n]) for n in ("consent", "case_note", "emergency_action")} == {6}
    assert chain.verify().ok


def test_the_intake_form_saves_what_the_unit_of_work_would(app, make_user):
    """save_intake writes a new call through the batch writer (a batch of one) and a new case
    with it: the same records, field by field, as through the unit of work; for calls that
    open no case, a child's case with its 12-hour check, a high-risk case, every part told."""

    now = datetime(2025, 3, 8, 2, 30, tzinfo=UTC)  # the same for both writes

    def intakes():
        out = [
            Intake(reason="silent", intake_key=uuid.uuid4(), caller_phone="0912 345 678"),
            Intake(reason="information", intake_key=uuid.uuid4(), channel="zalo"),
        ]
        for n in range(4):
            out.append(
                Intake(
                    reason="violence_report",
                    intake_key=uuid.uuid4(),
                    started_at=now - timedelta(minutes=15),
                    ended_at=now,
                    caller_phone=f"+84 91 000 {n:04d}",
                    caller_name="Chị Mẫu",
                    narrative=f"Lời kể hư cấu {n}",
                    danger=["danger_now", "child_involved"] if n == 1 else ["injured"],
                    outcomes=["counselled", "case_opened"],
                    emergency=[("police_113", now - timedelta(minutes=5))],
                    survivor=Survivor(
                        name=f"Người Mẫu {n}",
                        sex="female",
                        age=13 if n == 2 else None,
                        phone=f"0987 000 {n:03d}",
                        safe_contact="Chỉ gọi buổi sáng",
                        province_code="01",
                    ),
                    summary="Tóm tắt hư cấu",
                    services_wanted=["health", "legal"],
                    incident=IncidentData(acts=["a_beating", "b_insults"], description="mô tả"),
                    risk_answers=["threats_to_kill", "strangulation", "weapon"] if n else [],
                    consents=[
                        ConsentData(service="health", granted=True, share_data=True),
                        ConsentData(service="shelter", granted=False),
                    ],
                    counselling="Kế hoạch an toàn" if n != 3 else None,
                    follow_up_at=now + timedelta(days=2),
                )
            )
        return out

    results = []
    for user, unit_of_work in ((make_user("supervisor"), True), (make_user("supervisor"), False)):
        before, start = everything(), utcnow()
        saved = [save_intake(data=i, by=user, unit_of_work=unit_of_work) for i in intakes()]
        results.append((saved, Written(before, everything(), user, (start, utcnow()))))
    (old_saved, old), (new_saved, new) = results
    assert [s.case_number is None for s in new_saved] == [True, True, False, False, False, False]
    assert [s.case.number for s in new_saved[2:]] == [s.case_number for s in new_saved[2:]]
    assert [s.call.reason for s in new_saved] == [s.call.reason for s in old_saved]
    assert_same(old, new)
    counts = {name: len(rows) for name, rows in new.rows.items()}
    assert counts["call"] == 6 and counts["case_record"] == 4 and counts["consent"] == 8
    assert counts["blind_index"] == 9 and counts["emergency_action"] == 4
    assert {r.kind for r in new.rows["task"]} >= {"child_12h", "notify_commune", "follow_up_call"}
    assert chain.verify().ok


def test_rows_kept_by_the_check_are_saved_as_reading_the_file_again_would(
    app, make_user, register, monkeypatch
):
    """`flask cases import` saves from the rows its check kept, unless there are too many."""
    assert (
        importer.import_rows(rows_of(register), by=make_user(), dry_run=True, keep=314).checked
        is None
    )
    reread_by, kept_by = make_user("supervisor"), make_user("supervisor")
    reread, old = import_as(reread_by, register, bulk_write=True)
    # As the check goes, the rows kept are set aside from the collector a block at a time
    # (its full collections then skip them): once as the run starts, then once a block.
    freezes, real = [], gc.freeze
    monkeypatch.setattr(gc, "freeze", lambda: freezes.append(1) or real())
    checked = importer.import_rows(
        rows_of(register), by=kept_by, dry_run=True, keep=315, batch_size=40
    )
    assert len(checked.checked) == 315
    assert len(freezes) == 1 + 315 // 40
    assert gc.get_freeze_count() == 0  # and handed back when it ends
    before, start = everything(), utcnow()
    saved = importer.import_checked(checked.checked, by=kept_by, batch_size=40)
    new = Written(before, everything(), kept_by, (start, utcnow()))
    assert saved.detail() == reread.detail()
    assert (saved.errors, saved.warnings, saved.failed) == (reread.errors, reread.warnings, [])
    assert_same(old, new)


def test_numbers_taken_in_blocks_and_one_at_a_time_follow_each_other(app, make_user, tmp_path):
    user = make_user("supervisor")
    importer.import_rows(read_rows(XLSX), by=user, batch_size=4)  # 11 cases, in 4 blocks
    typed = save_intake(data=Intake(reason="violence_report"), by=user)  # the intake form's way
    path = tmp_path / "more.csv"
    write_csv(path, generated_rows(30, seed=3))
    importer.import_rows(read_rows(path), by=user, batch_size=7)
    prefix = f"{user.organisation.code}-{utcnow().year}-"
    numbers = db.session.execute(select(Case.number).order_by(Case.opened_at)).scalars().all()
    assert typed.case.number == prefix + "000012"
    assert sorted(numbers) == [f"{prefix}{n:06d}" for n in range(1, len(numbers) + 1)]
    assert len(numbers) > 30


def test_kept_rows_are_only_for_a_dry_run(make_user):
    with pytest.raises(ValueError, match="dry run"):
        importer.import_rows([], by=make_user("supervisor"), keep=10)


def test_an_import_batch_locks_the_audit_head_only_once_its_rows_are_in(
    app, make_user, register, monkeypatch
):
    """The audit head, which every audited action waits for, is moved after a batch's records
    are written (on PostgreSQL they go by COPY), not before them and held through them."""
    from sqlalchemy import event

    from app import bulk_insert

    seen: list[str] = []

    def statement(_conn, _cursor, text, *_args):
        found = re.match(r'\s*(?:INSERT INTO|UPDATE)\s+"?(\w+)', text)
        if found:
            seen.append(found.group(1))

    real_copy = bulk_insert._copy

    def copy(connection, table, rows):  # COPY goes through psycopg itself, unseen by events
        seen.append(table.name)
        return real_copy(connection, table, rows)

    monkeypatch.setattr(bulk_insert, "_copy", copy)
    user, engine = make_user("supervisor"), db.engine
    event.listen(engine, "before_cursor_execute", statement)
    try:
        report = importer.import_rows(rows_of(register[:60]), by=user, batch_size=60)
    finally:
        event.remove(engine, "before_cursor_execute", statement)
    assert report.written == 60
    head = seen.index("audit_head")
    written = [i for i, name in enumerate(seen) if name in ("call", "case_record", "task")]
    assert written and max(written) < head, seen


def test_the_check_normalises_the_numbers_and_the_save_only_hashes_them(
    app, make_user, monkeypatch
):
    """The numbers are parsed while checking (in parallel, with two processes); saving the
    kept rows parses none again, and each is still found in any spelling."""
    from app.crypto import blind

    user = make_user("supervisor")
    rows = generated_rows(60, seed=11)
    rows[0].update(reason="violence_report", caller_type="relative", status="open", closed_on="")
    rows[0].update(caller_phone="0912.345.678", phone="(+84) 987 654 321")
    checked = importer.import_rows(rows_of(rows), by=user, dry_run=True, keep=60)
    first = checked.checked[0].intake
    assert checked.checked[0].errors == []
    assert first.phones == {"0912.345.678": "+84912345678", "(+84) 987 654 321": "+84987654321"}
    parsed, real = [], blind.NORMALISERS["phone"]
    monkeypatch.setitem(blind.NORMALISERS, "phone", lambda raw: parsed.append(raw) or real(raw))
    saved = importer.import_checked(checked.checked, by=user, batch_size=40)
    assert saved.written == 60 and parsed == []
    monkeypatch.undo()
    call = db.session.execute(select(Call).where(Call.intake_key == first.intake_key)).scalar_one()
    found = calls_from_number("+84 912 345 678", organisation_id=user.organisation_id)
    assert [c.id for c in found] == [call.id]
    assert blind.candidates(field="phone", raw="0987654321", owner_type="case") == [call.case_id]
