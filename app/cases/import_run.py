"""One import run: its report, the checking of each row, and the writing of its batches (with
the batch writer, or row by row through save_intake), with the statistics PostgreSQL plans by
kept fresh as the tables grow. Driven by app/cases/importer.py (one process) and
app/cases/import_turns.py (two)."""

from __future__ import annotations

import gc
import re
import uuid
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from app import audit
from app.auth.labels import CASE_STATUS_LABELS
from app.auth.models import User
from app.calls.intake import IntakeError, save_intake
from app.calls.models import Call
from app.cases import bulk as bulk_writer
from app.cases.register.cells import shape
from app.cases.register.files import unknown_columns
from app.cases.register.positions import RowAt
from app.cases.register.rows import ImportedIntake, validate_row
from app.cases.services import CaseError, audit_case, end_tasks, record_event
from app.clock import LOCAL, local_midnight, utcnow
from app.crypto.datakeys import keyring
from app.extensions import db
from app.form_fields import printable
from app.table_statistics import analyse, estimated_rows

LONG_NUMBER = re.compile(r"\d[\d .\-]{5,}")  # six digits or more: a phone, an id


@dataclass
class Problem:
    """One thing wrong (or worth knowing) about a row; row 0 is the file as a whole."""

    row: int
    message: object


@dataclass
class Report:
    """What a run found and did (in a dry run, `written` counts the rows that would be)."""

    read: int = 0
    written: int = 0
    skipped: int = 0
    duplicates: int = 0
    closed: int = 0
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    failed: list[Problem] = field(default_factory=list)  # valid rows the database refused
    # A dry run asked to keep them: each row as checked, for import_checked (None when the
    # file had more rows than it was asked to keep).
    checked: list[Checked] | None = field(default=None, repr=False)

    def add_file_notes(self, notes) -> None:
        """Warnings about the file as a whole (a sheet not read), first among the warnings."""
        self.warnings[:0] = [Problem(0, note) for note in notes]

    def detail(self) -> str:
        """The counts, for the run's audit entry."""
        return (
            f"read={self.read} written={self.written} skipped={self.skipped} "
            f"duplicates={self.duplicates} warnings={len(self.warnings)} closed={self.closed}"
        )


@dataclass
class Checked:
    """One row as the check found it: the intake (None when an error keeps it out), its
    errors and warnings, and the warnings about unknown columns it was the first to have."""

    number: int
    intake: ImportedIntake | None
    errors: list
    notes: list
    unknown: list[str]


@dataclass
class Found:
    """What the report needs of a checked row: its number, intake key (None when an error
    keeps it out), errors, warnings, the unknown columns it was the first to have, and whether
    it has an old id (which a duplicate's warning names)."""

    number: int
    key: uuid.UUID | None
    errors: list
    notes: list
    unknown: list[str]
    old_id: bool

    @classmethod
    def of(cls, checked: Checked) -> Found:
        intake = checked.intake
        return cls(
            checked.number,
            intake.intake_key if intake is not None else None,
            checked.errors,
            checked.notes,
            checked.unknown,
            bool(intake is not None and intake.external_id),
        )

    def sent(self) -> Found:
        """This row's findings with the messages in words, to go to another process."""
        return Found(
            self.number,
            self.key,
            [str(m) for m in self.errors],
            [str(m) for m in self.notes],
            self.unknown,
            self.old_id,
        )


def row_key(intake: ImportedIntake, organisation_id: int) -> uuid.UUID:
    """The row's intake key: a keyed hash of the organisation and the old id (or the whole row),
    so importing the same register again finds the calls it made the first time, under a key no
    blind-index rebuild changes."""
    digest = keyring().lasting_hash(
        f"{organisation_id}|{intake.key_basis}", purpose="register-import"
    )
    return uuid.UUID(digest[:32])


def earlier_row_keys(intake: ImportedIntake, organisation_id: int) -> list[uuid.UUID]:
    """The keys the row had in earlier imports (before 7 December 2026, keyed under the
    blind-index keys in the file; a date cell of Excel's count of days keyed as the number;
    before 8 December, a time of 00:00 after a date keyed as a time: Cells.earlier_key_bases),
    so registers imported then are still found."""
    ring, purpose = keyring(), "register-import"
    digests = ring.keyed_hashes(f"{organisation_id}|{intake.key_basis}", purpose=purpose)
    for basis in intake.earlier_bases:  # under the lasting key too: imported since 7 December
        text = f"{organisation_id}|{basis}"
        digests += [
            *ring.keyed_hashes(text, purpose=purpose),
            ring.lasting_hash(text, purpose=purpose),
        ]
    return [uuid.UUID(digest[:32]) for digest in digests]


ANALYSE_FROM = 1000  # rows written by a run into tables that held none, before a first ANALYZE


class Doubling:
    """When an import analyses the tables it reads as it writes: each time the calls stored
    have doubled since they were last analysed, counting from ANALYSE_FROM rows (PostgreSQL's
    plans made while the tables were small then never outlive them)."""

    def __init__(self, table_rows: int):
        self.table_rows = table_rows  # calls stored before the run (PostgreSQL's estimate)
        self.analysed_at = max(table_rows, ANALYSE_FROM // 2)  # calls at the last analysis

    def due(self, written: int) -> bool:
        """Whether to analyse now, `written` rows into the run (and if so, counted as done)."""
        total = self.table_rows + written
        if total < 2 * self.analysed_at:
            return False
        self.analysed_at = total
        return True


def statistics_plan(sizes: list[int]) -> set[int]:
    """After which of batches of these sizes the tables are analysed (PostgreSQL), for batches
    written by two processes (app/cases/import_turns.py); Run._keep_statistics follows the
    same Doubling as it goes."""
    doubling, written, after = Doubling(estimated_rows(Call.__table__)), 0, set()
    for j, size in enumerate(sizes):
        written += size
        if doubling.due(written):
            after.add(j)
    return after


@dataclass
class Run:
    by: User
    dry_run: bool
    batch_size: int
    bulk: bool = True
    keep: int = 0
    report: Report = field(default_factory=Report)
    pending: list[ImportedIntake] = field(default_factory=list)
    first_row: dict[uuid.UUID, int] = field(default_factory=dict)
    headings_seen: set[str] = field(default_factory=set)
    unknown_told: set[str] = field(default_factory=set)
    doubling: Doubling | None = None  # when to analyse the tables next (PostgreSQL)
    planned: bool = False  # one batch of a plan: statistics are kept by the plan

    def check(self, number: int, row: dict) -> Checked:
        """Read one row: its intake (with its number and key), errors and warnings."""
        unknown = list(unknown_columns(h for h in row if h not in self.headings_seen))
        self.headings_seen.update(row)
        intake, errors, notes = validate_row(row)
        if intake is not None:
            intake.row = number
            intake.intake_key = row_key(intake, self.by.organisation_id)
        return Checked(number, intake, errors, notes, unknown)

    def take(self, checked: Checked) -> None:
        report, intake = self.report, checked.intake
        if report.checked is not None:
            if len(report.checked) < self.keep:
                report.checked.append(checked)
                if len(report.checked) % self.batch_size == 0:
                    gc.freeze()  # everything alive, as import_turns does (_drive unfreezes)
            else:
                report.checked = None  # too many to keep: the file is read again
        if self.tally(Found.of(checked)):
            self.pending.append(intake)
            if len(self.pending) >= self.batch_size:
                self.save_pending()

    def tally(self, found: Found) -> bool:
        """Count a checked row in the report: True when it is to be saved (no error, and the
        first row of the file with its intake key)."""
        report, number = self.report, found.number
        report.read += 1
        for heading in found.unknown:
            if heading not in self.unknown_told:
                self.unknown_told.add(heading)
                report.warnings.append(Problem(0, _unknown_column(heading)))
        if found.key is None:  # its warnings would only distract: the row is not imported
            report.errors += [Problem(number, m) for m in found.errors]
            report.skipped += 1
            return False
        report.warnings += [Problem(number, m) for m in found.notes]
        earlier = self.first_row.setdefault(found.key, number)
        if earlier != number:
            report.duplicates += 1
            report.warnings.append(Problem(number, _same_as(found.old_id, earlier)))
            return False
        return True

    def save_pending(self) -> None:
        batch, self.pending = self.pending, []
        if batch:
            self.save_batch(batch)

    def save_batch(
        self, batch: list[ImportedIntake], prepared: bulk_writer.Batch | None = None
    ) -> None:
        """Leave out the rows already stored (by their key, or a key an earlier import gave
        them); write (or, in a dry run, count) the others."""
        organisation_id = self.by.organisation_id
        keys = {i.intake_key: [i.intake_key, *earlier_row_keys(i, organisation_id)] for i in batch}
        every = [key for own in keys.values() for key in own]
        stored = set(
            db.session.execute(select(Call.intake_key).where(Call.intake_key.in_(every))).scalars()
        )
        new = [i for i in batch if stored.isdisjoint(keys[i.intake_key])]
        self.report.duplicates += len(batch) - len(new)
        if self.dry_run:
            self.report.written += len(new)
            self.report.closed += sum(1 for i in new if i.status == "closed")
        elif new:
            self._write(new, prepared if len(new) == len(batch) else None)

    def _keep_statistics(self) -> None:
        """On PostgreSQL, analyse the tables the import reads as it writes (the intake keys
        stored, the foreign keys' parents: bulk.READ_WHILE_WRITING) each time it has doubled
        their size (from ANALYSE_FROM rows), so no plan made while they were small outlives
        it."""
        if self.planned:
            return
        if self.doubling is None:
            self.doubling = Doubling(estimated_rows(Call.__table__))
        if self.doubling.due(self.report.written):
            analyse(bulk_writer.READ_WHILE_WRITING)
            db.session.commit()

    def _write(
        self, batch: list[ImportedIntake], prepared: bulk_writer.Batch | None = None
    ) -> None:
        """Save a batch in one transaction (its rows already built, when `prepared`); if the
        database refuses it, save its rows one by one so a single bad row costs only itself."""
        try:
            if prepared is not None:
                outcomes = [w.outcome for w in prepared.write()]
            elif self.bulk and all(bulk_writer.can_write(i) for i in batch):
                written = bulk_writer.write_batch(batch, by=self.by)
                outcomes = [w.outcome for w in written]
            else:
                outcomes = [save_row(i, by=self.by) for i in batch]
            db.session.commit()
        except (SQLAlchemyError, IntakeError, CaseError) as exc:
            db.session.rollback()
            if len(batch) > 1:
                for intake in batch:
                    self._write([intake])
                return
            if isinstance(exc, IntegrityError) and _stored(batch[0].intake_key):
                self.report.duplicates += 1  # another run saved it meanwhile
            else:
                self.report.skipped += 1
                self.report.failed.append(Problem(batch[0].row, _refused(exc)))
            return
        self.report.written += outcomes.count("created") + outcomes.count("closed")
        self.report.closed += outcomes.count("closed")
        self.report.duplicates += outcomes.count("duplicate")
        self._keep_statistics()

    def audit(self, file_digest: str | None, *, interrupted: bool = False) -> None:
        detail = self.report.detail()
        detail += f" file={file_digest[:16]}" if file_digest else ""
        detail += " interrupted" if interrupted else ""
        audit.record("import", user=self.by, object_type="register", detail=detail)
        db.session.commit()


def _stored(key: uuid.UUID) -> bool:
    return db.session.execute(select(Call.id).where(Call.intake_key == key)).first() is not None


def save_row(intake: ImportedIntake, *, by: User) -> str:
    """Save one valid row in the caller's transaction, through the unit of work (the
    row-by-row mode, bulk=False): "created", "closed" or "duplicate"."""
    saved = save_intake(data=intake, by=by, commit=False, unit_of_work=True)
    if not saved.created:
        return "duplicate"
    case = saved.case
    if case is None:
        return "created"
    case.opened_at = saved.call.started_at  # opened when the register says, not today
    if intake.status != "open":
        _set_status(case, intake, by)
    return "closed" if intake.status == "closed" else "created"


def _set_status(case, intake: ImportedIntake, by: User) -> None:
    """The status the register shows, written as what it is: an import, not a decision taken
    here (see docs/import.md); a closed case's tasks are done with it."""
    old, now = case.status, utcnow()
    case.status = intake.status
    if intake.status == "closed":
        closed_on = intake.closed_on or case.opened_at.astimezone(LOCAL).date()
        # Closed that day, never before the call that opened it (a day has no time).
        case.closed_at = max(local_midnight(closed_on), case.opened_at)
        end_tasks(case, "closed", at=now)
    reason = _l(
        "Imported from the old register, where the case was: %(status)s.",
        status=CASE_STATUS_LABELS[intake.status],
    )
    record_event(case, by=by, kind="status", old=old, new=intake.status, reason=str(reason))
    audit_case("status", case, by, detail=f"{old}>{intake.status} import")


def _unknown_column(heading: str):
    # A heading holding a number (a JSON line's key can be anything) is shown by its shape.
    shown = printable(shape(heading) if LONG_NUMBER.search(heading) else heading)
    return _l(
        "The column '%(column)s' is not one we know; its values were not imported "
        "(see docs/import.md for the column names).",
        column=shown,
    )


def _same_as(old_id: bool, earlier: int):
    if old_id:
        return _l("same old id as %(where)s: it is imported once.", where=RowAt(earlier))
    return _l("the same as %(where)s in every column: it is imported once.", where=RowAt(earlier))


def _refused(exc: Exception):
    if isinstance(exc, IntakeError | CaseError):
        return _l("this row could not be saved: %(why)s", why=exc.args[0] if exc.args else "")
    return _l(
        "the database refused this row (%(kind)s); nothing of it was saved.",
        kind=type(exc).__name__,
    )
