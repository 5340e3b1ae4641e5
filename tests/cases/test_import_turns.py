"""The register import's rows saved by two processes taking turns (app/turns.py): the same
records, numbers and audit chain as one process writes, refusals reported from either process,
and a failure in either one stopping both with every saved batch counted."""

import contextlib
import os
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app import audit, turns
from app.audit import AuditEntry
from app.calls.models import Call
from app.cases import bulk, importer
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

BATCH = 40  # the 315 rows of the register fixture: 8 batches, 4 in each process


def checked_rows(user, rows):
    report = importer.import_rows(rows_of(rows), by=user, dry_run=True, keep=len(rows))
    assert report.checked is not None
    return report.checked


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
    one, two = make_user("operator"), make_user("operator")
    single, old = import_as(one, register, bulk_write=True, batch_size=BATCH)
    checked = checked_rows(two, register)
    before, start = everything(), utcnow()
    saved = importer.import_checked(checked, by=two, batch_size=BATCH, processes=2)
    new = Written(before, everything(), two, (start, utcnow()))
    assert saved.detail() == single.detail()
    assert (saved.errors, saved.warnings, saved.failed) == (single.errors, single.warnings, [])
    assert_same(old, new)  # the same rows, and the same case numbers for the same rows
    assert audit.verify().ok


def test_the_batches_are_written_in_two_processes_in_turn(app, make_user, register, tmp_path):  # noqa: F811
    user = make_user("operator")
    checked = checked_rows(user, register)
    log = tmp_path / "writers.txt"
    real = bulk.Batch.write

    def noting_the_writer(self):
        with log.open("a") as out:  # a file: the child's writes are seen here too
            out.write(f"{os.getpid()} {self.written[0].call_id}\n")
        return real(self)

    bulk.Batch.write = noting_the_writer
    try:
        saved = importer.import_checked(checked, by=user, batch_size=BATCH, processes=2)
    finally:
        bulk.Batch.write = real
    writers = [line.split()[0] for line in log.read_text().splitlines()]
    assert len(writers) == 8
    assert writers[0::2] == [str(os.getpid())] * 4  # this process: batches 0, 2, 4, 6
    assert len(set(writers[1::2])) == 1 and writers[1] != writers[0]  # the child: 1, 3, 5, 7
    assert saved.written == calls_of(user) == 315
    case_numbers = db.session.execute(select(Case.number).order_by(Case.number)).scalars().all()
    prefix = f"{user.organisation.code}-{utcnow().year}-"
    assert case_numbers == [f"{prefix}{n:06d}" for n in range(1, len(case_numbers) + 1)]


def test_rows_refused_in_either_process_cost_only_themselves(
    app,
    make_user,
    register,  # noqa: F811
    monkeypatch,
):
    user = make_user("operator")
    real = importer.validate_row
    # A row in a batch of each process (rows 52 and 132 of the file: batches 1 and 3) is given
    # no channel, a NOT NULL column: the database refuses it.
    refused = {register[50]["external_id"]: 52, register[130]["external_id"]: 132}

    def channel_missing(row):
        intake, errors, notes = real(row)
        if intake is not None and intake.external_id in refused:
            intake.channel = None
        return intake, errors, notes

    monkeypatch.setattr(importer, "validate_row", channel_missing)
    checked = checked_rows(user, register)
    saved = importer.import_checked(checked, by=user, batch_size=BATCH, processes=2)
    assert [p.row for p in saved.failed] == sorted(refused.values())
    assert all("IntegrityError" in str(p.message) for p in saved.failed)
    assert (saved.written, saved.skipped) == (313, 2)
    assert calls_of(user) == 313
    assert audit.verify().ok


@pytest.mark.parametrize(
    ("in_child", "at", "error", "raised", "committed"),
    [
        # The child's second batch (batch 3) fails: batches 0, 1 and 2 stay, nothing after.
        (True, 2, RuntimeError("the disk is full"), turns.TurnsFailed, 3),
        # Ctrl-C here in this process's third batch (batch 4): 0 to 3 stay (0 and 2 written
        # here, 1 and 3 by the child), and the child, stopped, writes nothing more.
        (False, 3, KeyboardInterrupt(), KeyboardInterrupt, 4),
    ],
)
def test_a_failure_in_either_process_stops_both_and_every_saved_batch_is_counted(
    app,
    make_user,
    register,  # noqa: F811
    in_child,
    at,
    error,
    raised,
    committed,
):
    user = make_user("operator")
    checked = checked_rows(user, register)
    with failing_write(at, error, in_child=in_child):
        with pytest.raises(raised):
            importer.import_checked(checked, by=user, batch_size=BATCH, processes=2)
    assert calls_of(user) == committed * BATCH
    detail = import_entry(user)
    assert f"written={committed * BATCH} " in detail and detail.endswith(" interrupted")
    assert audit.verify().ok


def test_a_small_file_is_saved_by_one_process(app, make_user, register, monkeypatch):  # noqa: F811
    user = make_user("operator")
    checked = checked_rows(user, register)

    def no_fork(*args, **kwargs):
        raise AssertionError("two processes for fewer than four batches")

    monkeypatch.setattr(turns, "in_turns", no_fork)
    saved = importer.import_checked(checked, by=user, batch_size=100, processes=2)
    assert saved.written == calls_of(user) == 315


def test_the_command_saves_a_register_in_two_processes(app, make_user, tmp_path):
    user = make_user("operator")
    path = tmp_path / "register.csv"
    write_csv(path, generated_rows(240, seed=11))
    result = run(app, path, "--as", user.email, "--batch-size", "50", "--lang", "en")
    assert result.exit_code == 0, result.output
    assert "Rows read: 240; written: 240" in result.output
    assert calls_of(user) == 240
    assert import_entry(user).startswith("read=240 written=240 ")
    assert audit.verify().ok
    again = run(app, path, "--as", user.email, "--batch-size", "50", "--processes", "1")
    assert again.exit_code == 0 and calls_of(user) == 240  # nothing twice
