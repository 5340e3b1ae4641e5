"""`flask cases import FILE --as EMAIL`: bring an old register in (see docs/import.md).

Every row is checked first and every problem listed in plain words; a dry run stops there and
writes nothing. Otherwise the valid, new rows are saved in batches, rows with errors skipped.
"""

from __future__ import annotations

import itertools
import os
import sys
import time

import click
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from app import turns
from app.auth.models import User
from app.cases.import_turns import ImportInTurns
from app.cases.importer import (
    ImportRefused,
    RegisterError,
    Report,
    check_may_import,
    digest_of,
    import_checked,
    import_rows,
    read_rows,
)
from app.cases.register.positions import RowAt
from app.extensions import db

# Up to this many rows, the rows checked first are kept in memory and saved from there (about
# 7 KB a row measured with generated rows, so some 150 MB, more with long narratives; they are
# people's data in clear in the process's memory for the run); a longer file is read and
# checked again while it is saved.
KEEP_CHECKED_ROWS = 20_000

cases_cli = click.Group("cases", help="Case records: bringing old registers in.")


class Refused(click.ClickException):
    """A refusal said wholly in the run's language, its "Error:" too (click's own is English).
    Made inside the run's locale."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.prefix = _("Error:")

    def show(self, file=None) -> None:
        click.echo(f"{self.prefix} {self.format_message()}", file=file, err=file is None)


@cases_cli.command("import")
@click.argument("path", metavar="FILE", type=click.Path())  # checked in the run's language
@click.option(
    "--as",
    "email",
    metavar="EMAIL",
    help="The active supervisor who opens the cases, in their organisation.",
)
@click.option("--dry-run", is_flag=True, help="Check every row and report; write nothing.")
@click.option(
    "--lang",
    type=click.Choice(["vi", "en"]),
    default="vi",
    show_default=True,
    help="Language of the messages.",
)
@click.option("--limit", type=click.IntRange(min=1), help="Read only the first N rows.")
@click.option(
    "--batch-size", type=click.IntRange(1, 10_000), default=500, show_default=True,
    help="Rows saved per transaction.",
)  # fmt: skip
@click.option(
    "--processes", type=click.IntRange(1, 2), default=2, show_default=True,
    help="Save with two processes taking turns (Linux, two CPUs or more); 1 for one.",
)  # fmt: skip
def import_command(path, email, dry_run, lang, limit, batch_size, processes):
    """Import a register (.xlsx, .xlsm, .xls, .ods, .csv, .tsv, .jsonl), a row per call or case."""
    with force_locale(lang):
        if not os.path.exists(path):
            raise Refused(_("There is no file %(path)s: check its name and folder.", path=path))
        if os.path.isdir(path):
            raise Refused(_("%(path)s is a folder: give the register's file.", path=path))
        if not (email or "").strip():
            raise Refused(_("Say who imports the register: --as and a supervisor's email."))
        user = db.session.execute(
            select(User).where(func.lower(User.email) == email.strip().lower())
        ).scalar_one_or_none()
        if user is None:
            raise Refused(_("No account with the email %(email)s.", email=email))
        try:
            check_may_import(user)
            failed = _run(
                path,
                user,
                dry_run=dry_run,
                limit=limit,
                batch_size=batch_size,
                processes=processes,
            )
        except (ImportRefused, RegisterError) as exc:
            raise Refused(str(exc)) from exc
        except turns.TurnsFailed as exc:  # the second process's error: its traceback on the
            click.echo(exc.details, err=True)  # terminal, as one process's own would be (not
            raise Refused(str(exc)) from exc  # the log: it may quote a value)
    if failed:
        click.get_current_context().exit(1)


def _run(
    path: str, user: User, *, dry_run: bool, limit: int | None, batch_size: int, processes: int
) -> bool:
    """Check, then (unless a dry run) save; True when some rows were left out by errors."""
    began = time.perf_counter()
    notes: list = []  # what the reading says of the file as a whole: a sheet not read
    rows = lambda: itertools.islice(read_rows(path, notes), limit)  # noqa: E731  (may read twice)
    err = sys.stderr  # the bar on stderr; messages and the summary on stdout
    digest = digest_of(path)  # before reading: the audit entry names the file that was checked
    two = not dry_run and processes > 1 and turns.available()
    job = (
        ImportInTurns(rows, by=user, batch_size=batch_size, keep=KEEP_CHECKED_ROWS, notes=notes)
        if two
        else None
    )
    try:
        with click.progressbar(
            rows(), label=_("Checking the rows"), file=err, show_pos=True
        ) as bar:
            if job is not None:  # this process and a second one check half the rows each
                checked = job.check(bar)
            else:
                checked = import_rows(
                    bar,
                    by=user,
                    dry_run=True,
                    batch_size=batch_size,
                    keep=KEEP_CHECKED_ROWS,
                    notes=notes,
                )
        _print_problems(checked.errors, _("Errors (these rows are not imported):"))
        _print_problems(checked.warnings, _("Warnings (these rows are imported as said):"))
        if dry_run:
            click.echo(_("Dry run: nothing was written."))
            _print_summary(checked, _("to be written: %(n)d", n=checked.written))
            return bool(checked.errors)
        with click.progressbar(
            length=max(checked.read, 1), label=_("Saving"), file=err, show_pos=True
        ) as bar:
            done = _save(job, checked, rows, user, batch_size, bar.update, digest, notes)
    finally:
        if job is not None:
            job.close()
    _print_problems(done.failed, _("Rows the database refused (not imported):"))
    took = time.perf_counter() - began
    _print_summary(done, _("written: %(n)d", n=done.written))
    click.echo(
        _(
            "Time: %(s).1f s (%(rate)d rows a second).",
            s=took,
            rate=done.read / took if took else 0,
        )
    )
    return bool(done.errors or done.failed)


def _save(
    job, checked: Report, rows, user: User, batch_size: int, progress, digest, notes: list
) -> Report:
    """Save the checked rows: by the two processes that checked them, else from the rows kept
    by the check, else reading and checking the file again (more rows than were kept)."""
    if job is not None and job.kept:
        return job.save(progress=progress, file_digest=digest)
    if job is not None:
        job.close()
    if checked.checked is not None:
        return import_checked(
            checked.checked,
            by=user,
            batch_size=batch_size,
            progress=progress,
            file_digest=digest,
            notes=notes,
        )
    return import_rows(
        rows(), by=user, batch_size=batch_size, progress=progress, file_digest=digest, notes=notes
    )


def _print_problems(problems: list, title: str) -> None:
    if not problems:
        return
    click.echo(title)
    for problem in problems:
        if problem.row:
            where = RowAt(problem.row, start=True)
            click.echo("  " + _("%(where)s, %(problem)s", where=where, problem=problem.message))
        else:
            click.echo(f"  {problem.message}")


def _print_summary(report: Report, written: str) -> None:
    click.echo(
        "; ".join(
            [
                _("Rows read: %(n)d", n=report.read),
                written,
                _("closed as in the register: %(n)d", n=report.closed),
                _("skipped because of errors: %(n)d", n=report.skipped),
                _("already imported: %(n)d", n=report.duplicates),
                _("warnings: %(n)d", n=len(report.warnings)),
            ]
        )
        + "."
    )
