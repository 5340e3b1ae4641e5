"""Bringing an old register in: check every row of a CSV, XLSX or JSON-lines file in plain
words, then save each valid, new row through the intake service, so an imported call and case
are sealed, indexed and audited exactly as one typed into the intake form. See docs/import.md.

The format itself (columns, values, reading files, checking a row) is in app/cases/register/.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import SQLAlchemyError

from app import audit
from app.auth.models import User
from app.cases.import_run import Checked, Report, Run
from app.cases.register.files import RegisterError, read_rows
from app.cases.register.rows import validate_row
from app.crypto.datakeys import keyring
from app.extensions import db

__all__ = [
    "ImportRefused",
    "RegisterError",
    "Report",
    "check_may_import",
    "import_checked",
    "import_rows",
    "read_rows",
    "validate_row",
]

# Imported calls and cases are recorded as the account's own, which makes each case one it may
# see: only a supervisor, who sees the organisation's cases already, may import.
IMPORT_ROLES = ("supervisor",)


class ImportRefused(Exception):
    """The account may not import; the message says why."""


def check_may_import(by: User) -> None:
    """Refuse, and audit the refusal, unless the account is an active supervisor of an active
    organisation: imported cases are opened by them, in their organisation."""
    if by.active and by.role in IMPORT_ROLES and by.organisation.active:
        return
    audit.record("denied", user=by, object_type="register", detail="import")
    db.session.commit()
    raise ImportRefused(
        _l(
            "Only an active supervisor account can import cases; %(email)s cannot.",
            email=by.email,
        )
    )


def import_rows(
    rows: Iterable[tuple[int, dict]],
    *,
    by: User,
    dry_run: bool = False,
    batch_size: int = 500,
    progress: Callable[[int], None] | None = None,
    file_digest: str | None = None,
    bulk: bool = True,
    keep: int = 0,
    notes: list | None = None,
) -> Report:
    """Check every row; unless a dry run, save the valid, new ones in batches (one commit each)
    and write one "import" audit entry for the run. A dry run writes nothing at all.

    `bulk` writes each batch with the batch writer (app/cases/bulk.py: one multi-row insert per
    table); bulk=False saves row by row through save_intake. Both write the same records.
    A dry run with `keep` keeps up to that many checked rows in the report, so that
    import_checked can save them without reading and checking the file again. `notes`: what
    read_rows said of the file as a whole, filled as the rows are read (warnings, first)."""
    if keep and not dry_run:
        raise ValueError("keep= is for a dry run, whose rows import_checked saves")
    run = Run(by=by, dry_run=dry_run, batch_size=batch_size, bulk=bulk, keep=keep)
    if dry_run and keep:
        run.report.checked = []
    checked = (run.check(number, row) for number, row in rows)
    return _drive(run, checked, progress=progress, file_digest=file_digest, notes=notes)


def import_checked(
    checked: list[Checked],
    *,
    by: User,
    batch_size: int = 500,
    progress: Callable[[int], None] | None = None,
    file_digest: str | None = None,
    bulk: bool = True,
    notes: list | None = None,
) -> Report:
    """Save the rows a dry run of import_rows kept, as import_rows would after reading and
    checking the same file again: the same report, batches, audit entries and records."""
    run = Run(by=by, dry_run=False, batch_size=batch_size, bulk=bulk)
    return _drive(run, iter(checked), progress=progress, file_digest=file_digest, notes=notes)


def _drive(run: Run, checked: Iterator[Checked], *, progress, file_digest, notes) -> Report:
    dry_run = run.dry_run
    # Everything alive now (the app, and the rows a dry run kept) is set aside from the garbage
    # collector for the run: its full collections would otherwise walk those objects again and
    # again (a fifth of the time of saving 20,000 kept rows).
    gc.freeze()
    try:
        with Interrupts() if not dry_run else contextlib.nullcontext() as interrupts:
            for row in checked:
                run.take(row)
                if progress:
                    progress(1)
                if interrupts is not None:
                    interrupts.check()  # between rows: never inside a database call
            run.save_pending()
        run.report.add_file_notes(notes or ())
    except BaseException:
        if not dry_run:  # the batches committed so far stay, and the run says so
            db.session.rollback()
            with contextlib.suppress(SQLAlchemyError):
                run.audit(file_digest, interrupted=True)
        raise
    finally:
        gc.unfreeze()
    if not dry_run:
        run.audit(file_digest)
    return run.report


class Interrupts:
    """While an import saves: a first Ctrl-C lets the batch being written finish and stops
    the run at the next check() (a KeyboardInterrupt raised there, outside any database call:
    one raised inside SQLite's executemany could leave a connection holding the write lock, so
    that the run's `interrupted` audit entry could not be written); a second one stops at once.
    Only in the main thread, where Python delivers signals."""

    def __init__(self):
        self.asked = False
        self.previous = None

    def __enter__(self) -> Interrupts:
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._ask)
        return self

    def _ask(self, signum, frame) -> None:
        if self.asked:
            raise KeyboardInterrupt
        self.asked = True

    def check(self) -> None:
        if self.asked:
            raise KeyboardInterrupt

    def __exit__(self, *exc) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


def digest_of(path: str | Path) -> str:
    """The file's fingerprint, to tie the audit entry to the file without naming it: its
    SHA-256 keyed under the installation's lasting key (an HMAC). A plain SHA-256 of a small
    register, read from a shared audit export, gave its phone numbers back to anyone guessing
    them against the rest of the file, which the documented headings and the clear codes
    tell. The same file gives the same fingerprint in this installation."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return keyring().lasting_hash(digest.hexdigest(), purpose="import-file")
