"""`flask cases import` in two processes (app/turns.py): this one and a child forked from it
both read the file; the file's rows are cut into blocks of `batch_size` rows, and each process
checks the blocks of its side (block b: side b % 2). The check's report is put together here in
the file's order (errors, warnings, rows found twice), exactly as one process would have it,
before anything is written. Then each process saves the valid rows of its own blocks, one block
a turn, in the file's order: case numbers follow the rows and the audit chain reads in order, as
when one process imports. A block is one transaction (its rows: up to `batch_size`).

Neither process sends the other its rows: the child sends only what the report needs of each
row it checked (number, intake key, messages), and hears back which of its rows to save. The
rows in clear stay in the memory of the process that read them, as with one process.

    job = ImportInTurns(read, by=user, batch_size=500, keep=20_000)
    report = job.check(read())   # the whole file checked; its problems listed
    done = job.save(progress=..., file_digest=...)   # or job.close(): nothing written
    # job.kept is False for a file of more than `keep` rows: close(), then save as one process
"""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Callable, Iterable

from sqlalchemy.exc import SQLAlchemyError

from app import turns
from app.auth.models import User
from app.bulk_insert import BindError
from app.calls.intake import IntakeError
from app.cases import bulk as bulk_writer
from app.cases.import_run import Checked, Found, Problem, Report, Run, statistics_plan
from app.cases.importer import Interrupts
from app.cases.services import CaseError
from app.crypto.fingerprints import keep_fingerprints
from app.extensions import db
from app.table_statistics import analyse


class ImportInTurns:
    """One import run by two processes: check() and then save() or close()."""

    def __init__(
        self,
        read: Callable[[], Iterable[tuple[int, dict]]],
        *,
        by: User,
        batch_size: int,
        keep: int,
        notes: list | None = None,
    ):
        self.read, self.batch_size, self.keep = read, batch_size, keep
        self.notes = notes  # what this process's reading says of the file (read_rows)
        self.by_id = by.id
        self.run = Run(by=by, dry_run=False, batch_size=batch_size)
        self.mine: dict[int, list[Checked]] = {}  # this process's blocks, as checked
        self.to_save: set[int] = set()  # row numbers
        self.sizes: list[int] = []  # rows to save, per block
        self.analyse_after: set[int] = set()
        self.accounts: dict[int, User] = {}
        self.saved = False
        self.kept = True  # every row of the file kept as checked, ready to save
        self.interrupts: Interrupts | None = None  # Ctrl-C while saving (this process)
        keep_fingerprints()  # before the fork: both processes' data keys are on record
        db.session.commit()
        self.pair = turns.Pair(self._child)

    def check(self, rows: Iterable[tuple[int, dict]]) -> Report:
        """Check this process's blocks of `rows` (the file, read here: through a progress bar,
        say), hear the child's findings, and put the report together. When the file has more
        than `keep` rows, `kept` is False: close() then, and save as one process does (reading
        the file again)."""
        try:
            mine = self._check(rows, side=0)
        finally:
            gc.unfreeze()
        theirs, kept = self.pair.hear()
        self.kept = self.kept and kept
        found = sorted(mine + theirs, key=lambda row: row.number)
        self.sizes = [0] * -(-len(found) // self.batch_size)
        for index, row in enumerate(found):
            if self.run.tally(row):
                self.to_save.add(row.number)
                self.sizes[index // self.batch_size] += 1
        self.analyse_after = statistics_plan(self.sizes)
        self.run.report.add_file_notes(self.notes or ())
        return self.run.report

    def save(
        self, *, progress: Callable[[int], None] | None = None, file_digest: str | None = None
    ) -> Report:
        """Save the valid rows, the blocks in turn, and write the run's audit entry."""
        if not self.kept:
            raise ValueError("more rows than were kept: close(), and import as one process")
        report, run = self.run.report, self.run
        self.saved = True
        gc.freeze()  # as for one process (importer._drive)
        try:
            with self.pair, Interrupts() as self.interrupts:  # an error stops the child
                self.pair.tell((self.to_save, self.sizes, self.analyse_after))
                if progress:
                    progress(report.read - len(self.to_save))  # rows left out: done with
                self.pair.take_turns(
                    range(len(self.sizes)), self._prepare, self._write, self._done(progress)
                )
        except BaseException:
            db.session.rollback()
            run.by = self._account()
            with contextlib.suppress(SQLAlchemyError):
                run.audit(file_digest, interrupted=True)
            raise
        finally:
            gc.unfreeze()
            report.failed.sort(key=lambda problem: problem.row)
        run.by = self._account()
        run.audit(file_digest)
        return report

    def close(self) -> None:
        """Write nothing (unless save() ran): the child is stopped, wherever it is, and
        reaped. Never raises, so an error on its way (a file that cannot be read, Ctrl-C) is
        the one the caller sees."""
        if self.saved:
            return
        self.saved = True
        with contextlib.suppress(Exception):
            self.pair.stop_child()

    def _child(self, pair: turns.Pair) -> None:
        self.pair = pair  # forked while the parent was still making it
        found = self._check(self.read(), side=1)
        pair.tell((found, self.kept))
        plan = pair.hear()
        if plan is None:
            return
        self.to_save, self.sizes, self.analyse_after = plan
        gc.freeze()  # the rows kept here, set aside from the collector (as in the parent)
        pair.take_turns(range(len(self.sizes)), self._prepare, self._write)

    def _check(self, rows: Iterable[tuple[int, dict]], *, side: int) -> list[Found]:
        """Check the rows of this side's blocks, keeping them (up to `keep` rows in the file);
        what the report needs of each (in words, for the child's)."""
        found, count = [], 0
        for index, (number, row) in enumerate(rows):
            count += 1
            block = index // self.batch_size
            if index % self.batch_size == 0:
                self.pair.stopped_yet()  # the child stops checking when the parent stops
                # Everything alive now (the rows kept so far among it) set aside from the
                # collector, whose full collections would otherwise walk the kept rows again
                # and again as they grow; handed back when check() ends (in the child, frozen
                # again to save).
                gc.freeze()
            if block % 2 != side:
                continue
            checked = self.run.check(number, row)
            if count <= self.keep:
                self.mine.setdefault(block, []).append(checked)
            found.append(Found.of(checked) if side == 0 else Found.of(checked).sent())
        if count > self.keep:
            self.kept = False
            self.mine.clear()
        return found

    def _account(self) -> User:
        """The importing account in this process's own session."""
        pid = os.getpid()
        if pid not in self.accounts:
            self.accounts[pid] = db.session.get(User, self.by_id)
        return self.accounts[pid]

    def _prepare(self, block: int) -> tuple[list, bulk_writer.Batch | None]:
        """The block's rows to save, built and sealed (outside the turn). First, when this
        process's block before it grew the tables enough, their statistics are refreshed
        (PostgreSQL: import_run.Run._keep_statistics), here too outside the turn: ANALYZE lets
        the other process insert meanwhile."""
        if self.interrupts is not None:
            self.interrupts.check()  # Ctrl-C here: between this process's blocks
        if block - 2 in self.analyse_after:
            analyse(bulk_writer.READ_WHILE_WRITING)
            db.session.commit()
        rows = self.mine.pop(block, [])  # kept only as long as needed
        intakes = [c.intake for c in rows if c.number in self.to_save]
        if not intakes:
            return intakes, None
        try:
            return intakes, bulk_writer.prepare_batch(intakes, by=self._account(), bound=True)
        except (IntakeError, CaseError, BindError):
            return intakes, None  # written row by row, each refusal reported

    def _write(self, block: int, prepared: tuple) -> tuple:
        """Write the block in this process's turn: the counts and refusals, in words."""
        intakes, batch = prepared
        job = Run(by=self._account(), dry_run=False, batch_size=self.batch_size, planned=True)
        try:
            if intakes:
                job.save_batch(intakes, batch)
        except BaseException as error:  # rows saved one by one before it stay: counted
            error.partial_result = _outcome(job.report)
            raise
        return _outcome(job.report)

    def _done(self, progress) -> Callable[[int, tuple], None]:
        report = self.run.report

        def done(block: int, outcome: tuple) -> None:
            written, closed, duplicates, skipped, failed = outcome
            report.written += written
            report.closed += closed
            report.duplicates += duplicates
            report.skipped += skipped
            report.failed += [Problem(row, message) for row, message in failed]
            if progress:
                progress(self.sizes[block])

        return done


def _outcome(done: Report) -> tuple:
    """What a block's save did, to count in the run's report (the refusals in words)."""
    failed = [(problem.row, str(problem.message)) for problem in done.failed]
    return done.written, done.closed, done.duplicates, done.skipped, failed
