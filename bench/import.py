"""Register import figures: N made-up rows (default 20,000) written to a temporary XLSX (or CSV),
checked and imported into a fresh database the way `flask cases import` does, in rows per second.

    .venv/bin/python bench/import.py                      # SQLite in a temporary directory
    .venv/bin/python bench/import.py --rows 2000 --profile
    .venv/bin/python bench/import.py --format csv --row-by-row
    .venv/bin/python bench/import.py --database postgresql+psycopg://user@host/emptydb

Each save goes into its own organisation: one pass that reads, checks and saves (import_rows);
the rows kept by the check saved from memory (import_checked), as the command does with
`--processes 1`; and, where two processes may run (Linux, two CPUs), the command's own way: two
processes each check half the file and save their rows in turn (app/cases/import_turns.py).

The PostgreSQL database is emptied first. Prints one table; figures go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from flask_migrate import upgrade  # noqa: E402
from make_import_samples import generated_rows, write_csv, write_xlsx  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402

from app import create_app, turns  # noqa: E402
from app.admin import services as admin_services  # noqa: E402
from app.calls.models import Call  # noqa: E402
from app.cases.import_turns import ImportInTurns  # noqa: E402
from app.cases.importer import import_checked, import_rows, read_rows  # noqa: E402
from app.crypto import write_new_key_file  # noqa: E402
from app.extensions import db  # noqa: E402
from app.places.services import load_places  # noqa: E402


def fresh_app(url: str, tmp: str):
    """An app on an emptied, migrated database with its own key file and the place list."""
    keys = Path(tmp) / "keys.json"
    write_new_key_file(keys)
    app = create_app(
        "testing",
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "KEY_FILE": str(keys),
            "SECRET_KEY": os.urandom(16).hex(),
            "STARTUP_CHECKS": False,
        },
    )
    app.logger.disabled = True
    with app.app_context():
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()
        load_places()
    return app


def importer(n: int = 1):
    """A supervisor the cases are imported by, in an organisation of its own."""
    org = admin_services.create_organisation(
        by=None, name=f"Tổng đài Mẫu {n}", code=f"BM{n}", kind="hotline"
    )
    user, _ = admin_services.create_user(
        by=None,
        email=f"nhap{n}@example.org",
        full_name="Người nhập mẫu",
        role="supervisor",
        organisation=org,
        password="a calm river at dawn, benchmark",
        language="vi",
    )
    return user


def main() -> None:
    """Generate, check, import; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--database", help="SQLAlchemy URL of an empty database to use")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--format", choices=("xlsx", "csv"), default="xlsx")
    parser.add_argument(
        "--row-by-row",
        action="store_true",
        help="save through save_intake (import_rows bulk=False)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the saving of the kept rows; top 30"
    )
    args = parser.parse_args()
    bulk = not args.row_by_row
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite:///{tmp}/import.sqlite3"
        app = fresh_app(url, tmp)
        path = Path(tmp) / f"register.{args.format}"
        rows = generated_rows(args.rows)
        write_xlsx(path, rows, title=None) if args.format == "xlsx" else write_csv(path, rows)
        del rows
        with app.app_context():
            first, second, third = importer(1), importer(2), importer(3)
            timed = Timer()
            two = None
            if not args.row_by_row and turns.available():
                # First, while this process holds no more than the command's would: the rows
                # the steps below keep are copied into the child and walked by the collector.
                with timed("two processes: check, then save (the command)"):
                    two = in_two_processes(path, third, args.batch_size, args.rows)
            with timed("read and check every row (dry run)"):
                checked = import_rows(read_rows(path), by=second, dry_run=True, keep=args.rows)
            with timed("read, check and save in one pass"):
                done = import_rows(read_rows(path), by=first, batch_size=args.batch_size, bulk=bulk)
            profile = cProfile.Profile() if args.profile else None
            with timed("save the rows the check kept"):
                if profile:
                    profile.enable()
                kept = import_checked(
                    checked.checked, by=second, batch_size=args.batch_size, bulk=bulk
                )
                if profile:
                    profile.disable()
            calls = db.session.execute(select(func.count()).select_from(Call)).scalar_one()
            dialect = db.engine.dialect.name
            db.engine.dispose()
    how = "row by row (save_intake)" if args.row_by_row else "batch writer"
    print(
        f"Register import, {args.rows:,} rows, {args.format.upper()}, {dialect}, "
        f"batches of {args.batch_size}, {how}"
    )
    print(f"{'step':48} {'seconds':>9} {'rows/s':>9} {'CPU s':>9} {'rows/CPU s':>11}")
    command = timed.figures[:1] if two else []
    check, one_pass, save = timed.figures[len(command) :]
    as_run = (
        "one process: check, then save the kept rows",
        check[1] + save[1],
        check[2] + save[2],
    )
    for label, seconds, cpu_s in (check, one_pass, save, as_run, *command):
        rate, cpu_rate = args.rows / seconds, args.rows / cpu_s
        print(f"{label:48} {seconds:9.1f} {rate:9.0f} {cpu_s:9.1f} {cpu_rate:11.0f}")
    print(
        f"written {done.written:,}, {kept.written:,} and {two.written if two else 0:,}, closed "
        f"{done.closed:,}, skipped {done.skipped:,}, warnings {len(done.warnings):,}; calls in "
        f"the database {calls:,} (CPU s: this process only)"
    )
    if profile:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(30)
        pstats.Stats(profile).sort_stats("tottime").print_stats(30)


def in_two_processes(path: Path, by, batch_size: int, keep: int):
    """As `flask cases import` runs: two processes check, then save (app/cases/import_turns.py)."""
    job = ImportInTurns(lambda: read_rows(path), by=by, batch_size=batch_size, keep=keep)
    try:
        job.check(read_rows(path))
        return job.save()
    finally:
        job.close()


class Timer:
    """Wall clock and CPU seconds of each timed step."""

    def __init__(self):
        self.figures: list[tuple[str, float, float]] = []

    @contextlib.contextmanager
    def __call__(self, label: str):
        started, cpu = time.perf_counter(), time.process_time()
        yield
        self.figures.append((label, time.perf_counter() - started, time.process_time() - cpu))


if __name__ == "__main__":
    main()
