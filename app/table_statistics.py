"""PostgreSQL's table statistics around a bulk load: its estimate of a table's rows, and ANALYZE
once a table has grown (the register import keeps them fresh as it writes: app/cases/import_run.py).
SQLite keeps its own (app/sqlite.py), so both are no-ops there."""

from __future__ import annotations

from sqlalchemy import Table, text

from app.extensions import db


def estimated_rows(table: Table) -> int:
    """PostgreSQL's own estimate of a table's rows (0 for a table never analysed), or 0 on
    other databases."""
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        return 0
    estimate = connection.execute(
        text("SELECT reltuples FROM pg_class WHERE oid = CAST(:name AS regclass)"),
        {"name": table.name},
    ).scalar()
    return max(int(estimate or 0), 0)


def analyse(tables: list[Table]) -> None:
    """Refresh PostgreSQL's statistics of tables that grew in bulk, in the caller's transaction
    (which commits it, so the new statistics and plans reach every connection).

    A plan made while a table was nearly empty (psycopg prepares a statement run five times,
    and the server may then keep one generic plan) goes on reading the whole table as it grows:
    the import's check of 500 intake keys took 130 ms a batch instead of 1 ms once the first
    20,000 rows were in. ANALYZE gives the planner the new sizes and makes it plan again
    (PostgreSQL's advice after a bulk load); autovacuum would do it too, but only a minute or
    so later. SQLite plans every statement afresh (and keeps its statistics, app/sqlite.py).
    """
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        return
    preparer = connection.dialect.identifier_preparer
    names = ", ".join(preparer.format_table(table) for table in tables)
    connection.execute(text(f"ANALYZE {names}"))
