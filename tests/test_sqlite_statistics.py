"""SQLite keeps planner statistics (app/sqlite.py): without them its planner walks an
organisation's whole index to find three cases by id."""

import sqlite3

import pytest

from app.sqlite import BIG, analyze_tables_without_statistics


def filled(path, rows: int) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE big (id INTEGER PRIMARY KEY, org INTEGER)")
        conn.execute("CREATE INDEX ix_big_org ON big (org)")
        conn.execute("CREATE TABLE small (id INTEGER PRIMARY KEY, org INTEGER)")
        conn.execute("CREATE INDEX ix_small_org ON small (org)")
        conn.executemany("INSERT INTO big (org) VALUES (?)", [(i % 3,) for i in range(rows)])
        conn.executemany("INSERT INTO small (org) VALUES (?)", [(1,), (2,)])


def plan(conn) -> str:
    rows = conn.execute(
        "EXPLAIN QUERY PLAN SELECT id FROM big WHERE id IN (5, 6, 7) AND org = 1"
    ).fetchall()
    return " ".join(str(r[-1]) for r in rows)


def test_large_tables_without_statistics_are_analysed_and_the_plan_follows(tmp_path):
    path = tmp_path / "db.sqlite3"
    filled(path, BIG * 5)
    conn = sqlite3.connect(path)
    assert "ix_big_org" in plan(conn)  # the planner's blind guess
    assert analyze_tables_without_statistics(conn) == ["big"]  # small tables are left alone
    conn.close()
    conn = sqlite3.connect(path)
    assert "ix_big_org" not in plan(conn) and "PRIMARY KEY" in plan(conn)
    assert analyze_tables_without_statistics(conn) == []  # known tables are not redone
    conn.close()


def test_the_app_gathers_them_when_it_starts(tmp_path, make_app, app_config):
    if not app_config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("PostgreSQL keeps its own statistics")
    path = tmp_path / "app.sqlite3"
    filled(path, BIG * 2)
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}", STARTUP_CHECKS=False)
    from app.extensions import db

    with app.app_context(), db.engine.connect() as conn:
        tables = conn.exec_driver_sql("SELECT DISTINCT tbl FROM sqlite_stat1").scalars().all()
    assert tables == ["big"]


def test_the_app_writes_ahead_to_a_log_and_syncs_every_commit(tmp_path, make_app, app_config):
    """WAL mode (readers do not wait for a writer; one sync a commit) with synchronous=FULL,
    so a committed record survives a power cut."""
    if not app_config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite only")
    path = tmp_path / "app.sqlite3"
    filled(path, 10)
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}", STARTUP_CHECKS=False)
    from app.extensions import db

    with app.app_context(), db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        conn.exec_driver_sql("INSERT INTO big (org) VALUES (1)")
        conn.commit()
        assert (tmp_path / "app.sqlite3-wal").exists()
    with sqlite3.connect(path) as other:  # the mode is kept in the file itself
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
