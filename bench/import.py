"""Register import figures: N made-up rows (default 20,000) written to a temporary XLSX, checked
and imported into a fresh database the way `flask cases import` does, in rows per second.

    .venv/bin/python bench/import.py                      # SQLite in a temporary directory
    .venv/bin/python bench/import.py --rows 2000 --profile
    .venv/bin/python bench/import.py --database postgresql+psycopg://user@host/emptydb

The PostgreSQL database is emptied first. Prints one table; figures go to docs/performance.md.
"""

from __future__ import annotations

import argparse
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
from make_import_samples import generated_rows, write_xlsx  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402

from app import create_app  # noqa: E402
from app.admin import services as admin_services  # noqa: E402
from app.calls.models import Call  # noqa: E402
from app.cases.importer import import_rows, read_rows  # noqa: E402
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


def operator():
    """The account the cases are imported by."""
    org = admin_services.create_organisation(
        by=None, name="Tổng đài Mẫu", code="BM", kind="hotline"
    )
    user, _ = admin_services.create_user(
        by=None,
        email="nhap@example.org",
        full_name="Người nhập mẫu",
        role="operator",
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
    parser.add_argument("--profile", action="store_true", help="cProfile the import; top 30")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite:///{tmp}/import.sqlite3"
        app = fresh_app(url, tmp)
        path = Path(tmp) / "register.xlsx"
        write_xlsx(path, generated_rows(args.rows), title=None)
        with app.app_context():
            user = operator()
            started, cpu = time.perf_counter(), time.process_time()
            checked = import_rows(read_rows(path), by=user, dry_run=True)
            check_s, check_cpu = time.perf_counter() - started, time.process_time() - cpu
            profile = cProfile.Profile() if args.profile else None
            if profile:
                profile.enable()
            started, cpu = time.perf_counter(), time.process_time()
            done = import_rows(read_rows(path), by=user, batch_size=args.batch_size)
            write_s, write_cpu = time.perf_counter() - started, time.process_time() - cpu
            if profile:
                profile.disable()
            calls = db.session.execute(select(func.count()).select_from(Call)).scalar_one()
            dialect = db.engine.dialect.name
            db.engine.dispose()
    print(f"Register import, {args.rows:,} rows, {dialect}, batches of {args.batch_size}")
    print(f"{'step':44} {'seconds':>9} {'rows/s':>9} {'CPU s':>9} {'rows/CPU s':>11}")
    for label, seconds, cpu_s in (
        ("read and check every row (dry run)", check_s, check_cpu),
        ("read, check and save (the import)", write_s, write_cpu),
        ("both passes, as `flask cases import` runs", check_s + write_s, check_cpu + write_cpu),
    ):
        rate, cpu_rate = args.rows / seconds, args.rows / cpu_s
        print(f"{label:44} {seconds:9.1f} {rate:9.0f} {cpu_s:9.1f} {cpu_rate:11.0f}")
    print(
        f"written {done.written:,}, closed {done.closed:,}, skipped {done.skipped:,}, "
        f"warnings {len(done.warnings):,}; calls in the database {calls:,} "
        f"(checked: {checked.written:,} to write)"
    )
    if profile:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(30)


if __name__ == "__main__":
    main()
