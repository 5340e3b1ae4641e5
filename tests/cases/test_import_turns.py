"""A register imported by two processes (app/cases/import_turns.py, app/turns.py): each checks
half the file's blocks and saves them in turn. The same report, records, numbers and audit chain
as one process; refusals reported from either process; a failure in either one stops both, with
every saved block counted."""

import contextlib
import gc
import json
import os
import signal
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from app import turns
from app.audit import AuditEntry
from app.auditlog import verify as chain
from app.calls.models import Call
from app.cases import bulk, cli, import_run, importer
from app.cases.import_turns import ImportInTurns
from app.cases.models import Case
from app.clock import utcnow
from app.extensions import db
from tests.cases.test_import import run
from tests.cases.test_import_bulk import (
    Written,
    assert_same,
    everything,
    import_as,
    register,  # noqa: F401  (the fixture)
    rows_of,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from make_import_samples import generated_rows, write_csv  # noqa: E402

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or (os.cpu_count() or 1) < 2,
    reason="two processes take turns only on Linux with two CPUs",
)

BATCH = 40  # the 315 rows of the register fixture: 8 blocks, 4 checked and saved by each


def in_two(user, rows, *, batch_size=BATCH, keep=None, save=True):
    """Check (and save) `rows` as `flask cases import` does with two processes."""
    job = ImportInTurns(
        lambda: rows_of(rows), by=user, batch_size=batch_size, keep=keep or len(rows)
    )
    try:
        checked = job.check(rows_of(rows))
        saved = job.save() if save else None
    finally:
        job.close()
    return job, checked, saved


def problems(report) -> list[tuple[int, str]]:
    return [(p.row, str(p.message)) for p in report.errors + report.warnings]


def calls_of(user) -> int:
    found = select(func.count()).select_from(Call).where(Call.taken_by_id == user.id)
    return db.session.execute(found).scalar_one()


def import_entry(user) -> str:
    entry = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "import", AuditEntry.user_id == user.id)
    ).scalar_one()
    return entry.detail


@contextlib.contextmanager
def failing_write(at: int, error: BaseException, *, in_child: bool):
    """Batch.write raises `error` at the at-th batch written by the child (in_child) or by
    this process (the child inherits the patch, and counts its own batches)."""
    real, parent, seen = bulk.Batch.write, os.getpid(), {"n": 0}

    def write(self):
        if (os.getpid() != parent) == in_child:
            seen["n"] += 1
            if seen["n"] == at:
                raise error
        return real(self)

    bulk.Batch.write = write
    try:
        yield
    finally:
        bulk.Batch.write = real


def test_the_import_can_take_two_processes_here(app):
    assert turns.available()  # Linux with two CPUs and a database file or server


def test_two_processes_write_what_one_writes(app, make_user, register):  # noqa: F811
    one, two = make_user("supervisor"), make_user("supervisor")
    single, old = import_as(one, register, bulk_write=True, batch_size=BATCH)
    before, start = everything(), utcnow()
    _, checked, saved = in_two(two, register)
    new = Written(before, everything(), two, (start, utcnow()))
    assert saved.detail() == single.detail()
    assert problems(saved) == problems(single) and not saved.failed
    assert_same(old, new)  # the same rows, and the same case numbers for the same rows
    assert chain.verify().ok


def test_the_check_in_two_reports_what_one_process_does(app, make_user, register):  # noqa: F811
    """Errors, warnings, unknown columns and rows found twice, wherever they fall."""
    rows = [dict(row) for row in register]
    rows[20]["sex"] = "nam nữ"  # an error in block 0 (this process)
    rows[45]["date"] = "31/02/2024"  # an error in block 1 (the child)
    rows[50]["mystery"] = "?"  # an unknown column, first in block 1, again in block 2
    rows[90]["mystery"] = "?"
    rows[100] = dict(rows[60])  # block 2 repeats a row of block 1
    rows[130] = dict(rows[25])  # block 3 repeats a row of block 0
    one, two = make_user("supervisor"), make_user("supervisor")
    single = importer.import_rows(rows_of(rows), by=one, dry_run=True)
    job, checked, _ = in_two(two, rows, save=False)
    assert gc.get_freeze_count() == 0  # the rows set aside while checking are handed back
    assert (checked.read, checked.skipped, checked.duplicates) == (315, 2, 2)
    assert (single.read, single.skipped, single.duplicates) == (315, 2, 2)
    assert problems(checked) == problems(single)
    assert len(job.to_save) == single.written == 311
    assert calls_of(two) == 0 and import_entry_count(two) == 0  # closed: nothing written


def import_entry_count(user) -> int:
    found = select(func.count()).where(AuditEntry.action == "import", AuditEntry.user_id == user.id)
    return db.session.execute(found).scalar_one()


def test_the_blocks_are_saved_in_two_processes_in_turn(app, make_user, register, tmp_path):  # noqa: F811
    user = make_user("supervisor")
    log = tmp_path / "writers.txt"
    real = bulk.Batch.write

    def noting_the_writer(self):
        with log.open("a") as out:  # a file: the child's writes are seen here too
            out.write(f"{os.getpid()}\n")
        return real(self)

    bulk.Batch.write = noting_the_writer
    try:
        _, _, saved = in_two(user, register)
    finally:
        bulk.Batch.write = real
    writers = log.read_text().split()
    assert len(writers) == 8
    assert writers[0::2] == [str(os.getpid())] * 4  # this process: blocks 0, 2, 4, 6
    assert len(set(writers[1::2])) == 1 and writers[1] != writers[0]  # the child: 1, 3, 5, 7
    assert saved.written == calls_of(user) == 315
    numbers = db.session.execute(
        select(Case.number).join(Call, Call.case_id == Case.id).order_by(Call.intake_key)
    )
    prefix = f"{user.organisation.code}-{utcnow().year}-"
    ordered = sorted(numbers.scalars())
    assert ordered == [f"{prefix}{n:06d}" for n in range(1, len(ordered) + 1)]


def no_channel(intake) -> None:
    intake.channel = None  # a NOT NULL column: the database refuses the row


def no_time_zone(intake) -> None:
    # Refused by the column's bind processing, which is done as the block is built
    # (bulk.prepare_batch bound=True), before its turn to be written.
    intake.started_at = intake.started_at.replace(tzinfo=None)


@pytest.mark.parametrize(
    ("spoil", "refusal"), [(no_channel, "IntegrityError"), (no_time_zone, "BindError")]
)
def test_rows_refused_in_either_process_cost_only_themselves(
    app,
    make_user,
    register,  # noqa: F811
    monkeypatch,
    spoil,
    refusal,
):
    user = make_user("supervisor")
    real = import_run.validate_row
    # A row in a block of each process (rows 52 and 132 of the file: blocks 1 and 3) is
    # spoilt so that the database, or the binding of its values, refuses it.
    refused = {register[50]["external_id"]: 52, register[130]["external_id"]: 132}

    def spoilt(row):
        intake, errors, notes = real(row)
        if intake is not None and intake.external_id in refused:
            spoil(intake)
        return intake, errors, notes

    monkeypatch.setattr(import_run, "validate_row", spoilt)
    _, _, saved = in_two(user, register)
    assert [p.row for p in saved.failed] == sorted(refused.values())
    assert all(refusal in str(p.message) for p in saved.failed)
    assert (saved.written, saved.skipped) == (313, 2)
    assert calls_of(user) == 313
    assert chain.verify().ok


def test_a_database_error_while_a_block_is_built_stops_the_import_with_its_cause(
    app,
    make_user,
    register,  # noqa: F811
    monkeypatch,
):
    """Only a value binding refuses sends a block row by row: an error of the database itself
    (a StatementError too, in SQLAlchemy) while a block is built stops the run, and says so."""
    user, parent = make_user("supervisor"), os.getpid()

    def bind(self):  # this process's first block: the child waits for it to be written
        if os.getpid() == parent:
            db.session.execute(text("SELECT * FROM no_such_table"))

    monkeypatch.setattr(bulk.Batch, "bind", bind)
    with pytest.raises(DBAPIError, match="no_such_table"):
        in_two(user, register)
    db.session.rollback()
    assert calls_of(user) == 0
    assert import_entry(user).startswith("read=315 written=0 ")
    assert import_entry(user).endswith(" interrupted")


@pytest.mark.parametrize(
    ("in_child", "at", "error", "raised", "committed"),
    [
        # The child's second block (block 3) fails: blocks 0, 1 and 2 stay, nothing after.
        (True, 2, RuntimeError("the disk is full"), turns.TurnsFailed, 3),
        # Ctrl-C here in this process's third block (block 4): 0 to 3 stay (0 and 2 written
        # here, 1 and 3 by the child), and the child, stopped, writes nothing more.
        (False, 3, KeyboardInterrupt(), KeyboardInterrupt, 4),
    ],
)
def test_a_failure_in_either_process_stops_both_and_every_saved_block_is_counted(
    app,
    make_user,
    register,  # noqa: F811
    in_child,
    at,
    error,
    raised,
    committed,
):
    user = make_user("supervisor")
    with failing_write(at, error, in_child=in_child):
        with pytest.raises(raised) as stopped:
            in_two(user, register)
    if in_child:
        assert "the disk is full" in str(stopped.value)  # the child's own error
        assert str(stopped.value).startswith("tiến trình thứ hai của lần nhập đã gặp lỗi")
    assert calls_of(user) == committed * BATCH
    detail = import_entry(user)
    assert detail.startswith(f"read=315 written={committed * BATCH} ")
    assert detail.endswith(" interrupted")
    assert chain.verify().ok


def test_a_file_longer_than_kept_is_saved_by_one_process_reading_it_again(
    app, make_user, tmp_path, monkeypatch
):
    user = make_user("supervisor")
    path = tmp_path / "register.csv"
    write_csv(path, generated_rows(240, seed=5))
    monkeypatch.setattr(cli, "KEEP_CHECKED_ROWS", 100)
    result = run(app, path, "--as", user.email, "--batch-size", "50", "--lang", "en")
    assert result.exit_code == 0, result.output
    assert "Rows read: 240; written: 240" in result.output
    assert calls_of(user) == 240 and chain.verify().ok
    with pytest.raises(ValueError, match="kept"):
        in_two(user, [row for _, row in importer.read_rows(path)], keep=100)


def test_the_command_imports_a_register_in_two_processes(app, make_user, tmp_path):
    user = make_user("supervisor")
    path = tmp_path / "register.csv"
    write_csv(path, generated_rows(240, seed=11))
    result = run(app, path, "--as", user.email, "--batch-size", "50", "--lang", "en")
    assert result.exit_code == 0, result.output
    assert "Rows read: 240; written: 240" in result.output
    assert calls_of(user) == 240
    assert import_entry(user).startswith("read=240 written=240 ")
    assert chain.verify().ok
    again = run(app, path, "--as", user.email, "--processes", "1", "--lang", "en")
    assert again.exit_code == 0 and calls_of(user) == 240  # nothing twice
    assert "Rows read: 240; written: 0" in again.output


def test_a_file_error_found_while_checking_is_said_and_nothing_is_written(app, make_user, tmp_path):
    user = make_user("supervisor")
    lines = [json.dumps(row, default=str) for row in generated_rows(300, seed=2)]
    for broken in (4, 151):  # in a block of this process, then of the child (blocks of 50)
        path = tmp_path / f"register-{broken}.jsonl"
        path.write_text(
            "\n".join("[1, 2]" if n == broken else line for n, line in enumerate(lines, 1)),
            encoding="utf-8",
        )
        result = run(app, path, "--as", user.email, "--batch-size", "50", "--lang", "en")
        assert result.exit_code == 1
        assert f"Line {broken} is not a JSON object." in result.output
        assert calls_of(user) == 0


@pytest.mark.parametrize(
    ("in_child", "block_row", "committed"),
    [
        # This process, block 0: the refused row is its 21st, after the 18 saved.
        (False, 20, 18),
        # The child, block 1 (after block 0's 40 rows here): the refused row is its 11th, so
        # 10 rows, the refusal, and 7 more: 17.
        (True, 50, 40 + 17),
    ],
)
def test_rows_saved_one_by_one_before_a_failure_are_counted(
    app,
    make_user,
    register,  # noqa: F811
    monkeypatch,
    in_child,
    block_row,
    committed,
):
    """A block the database refuses is saved row by row; stopped in the middle of that, the
    rows already saved are in the summary and the audit entry."""
    user = make_user("supervisor")
    real = import_run.validate_row
    refused = register[block_row]["external_id"]

    def channel_missing(row):
        intake, errors, notes = real(row)
        if intake is not None and intake.external_id == refused:
            intake.channel = None
        return intake, errors, notes

    monkeypatch.setattr(import_run, "validate_row", channel_missing)
    # That process's writes: the refused block, then its rows one by one; the 20th write
    # stops it.
    with failing_write(20, KeyboardInterrupt(), in_child=in_child):
        with pytest.raises(KeyboardInterrupt if not in_child else turns.TurnsFailed):
            in_two(user, register)
    assert calls_of(user) == committed
    assert f" written={committed} " in f" {import_entry(user)}"


def test_the_child_stops_checking_when_this_process_stops(app, make_user, tmp_path, monkeypatch):
    user = make_user("supervisor")
    path = tmp_path / "register.csv"
    write_csv(path, generated_rows(4000, seed=4))
    seen = tmp_path / "checked-by-the-child.txt"
    parent, real = os.getpid(), import_run.validate_row

    def noting(row):
        if os.getpid() != parent:
            with seen.open("a") as out:
                out.write("x")
        return real(row)

    monkeypatch.setattr(import_run, "validate_row", noting)

    def ctrl_c_after_ten_rows():
        for n, row in enumerate(importer.read_rows(path)):
            if n == 10:
                raise KeyboardInterrupt
            yield row

    job = ImportInTurns(lambda: importer.read_rows(path), by=user, batch_size=100, keep=4000)
    with pytest.raises(KeyboardInterrupt):
        try:
            job.check(ctrl_c_after_ten_rows())
        finally:
            job.close()
    assert not job.pair.child.is_alive()
    checked = len(seen.read_text()) if seen.exists() else 0
    assert checked < 1000  # of its 2,000 rows: it stopped at a block's end
    assert calls_of(user) == 0


@pytest.mark.parametrize("processes", [1, 2])
def test_ctrl_c_while_saving_lets_the_block_being_written_finish(
    app,
    make_user,
    register,  # noqa: F811
    processes,
):
    """Ctrl-C arriving in the middle of a block's write (here: of this process's second
    block) stops the import only once that block is committed, outside any database call."""
    user = make_user("supervisor")
    real, parent, seen = bulk.Batch.write, os.getpid(), {"n": 0}

    def ctrl_c_inside_the_second_write(self):
        if os.getpid() == parent:
            seen["n"] += 1
            if seen["n"] == 2:
                os.kill(parent, signal.SIGINT)  # delivered at once: inside this write
        return real(self)

    bulk.Batch.write = ctrl_c_inside_the_second_write
    try:
        with pytest.raises(KeyboardInterrupt):
            if processes == 2:
                in_two(user, register)
            else:
                checked = importer.import_rows(
                    rows_of(register), by=user, dry_run=True, keep=len(register)
                )
                importer.import_checked(checked.checked, by=user, batch_size=BATCH)
    finally:
        bulk.Batch.write = real
    # With one process batches 0 and 1; with two, blocks 0 to 2 (block 2 the one Ctrl-C came
    # in), and block 3 too if the child had begun it as this process was stopping.
    saved = calls_of(user)
    assert saved in ((3 * BATCH, 4 * BATCH) if processes == 2 else (2 * BATCH,))
    assert f" written={saved} " in f" {import_entry(user)}"
    assert import_entry(user).endswith(" interrupted")
    assert chain.verify().ok
