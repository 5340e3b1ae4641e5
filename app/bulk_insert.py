"""Many rows into one table at once, in the session's transaction: with COPY on PostgreSQL, so
the server loads them as one stream instead of executing an INSERT a row, and with one prepared
INSERT executed for every row (executemany) elsewhere. Either way each value goes through the
bind processing SQLAlchemy gives its column (a SealedBytes column still refuses clear text, a
UTCDateTime still refuses a naive time), so both write the same values. Used by the batch
writer (app/cases/bulk.py) and the audit log's record_many.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import Table, insert, text
from sqlalchemy.exc import DBAPIError, StatementError

from app.extensions import db

# From this many rows, PostgreSQL is given them with COPY (below it, INSERTs cost no more).
COPY_FROM = 20


def insert_rows(table: Table, rows: list[dict]) -> None:
    """Insert `rows` (dictionaries by column key, every row with the same keys) into `table`."""
    if not rows:
        return
    connection = db.session.connection()
    if connection.dialect.name == "postgresql" and len(rows) >= COPY_FROM:
        _copy(connection, table, rows)
    else:
        connection.execute(insert(table), rows)


@cache
def _copy_plan(table: Table, keys: tuple[str, ...], dialect) -> tuple[str, list]:
    """The COPY statement for these columns, and each column's bind processor."""
    preparer = dialect.identifier_preparer
    columns = [table.c[key] for key in keys]
    names = ", ".join(preparer.format_column(column) for column in columns)
    processors = [column.type.dialect_impl(dialect).bind_processor(dialect) for column in columns]
    return f"COPY {preparer.format_table(table)} ({names}) FROM STDIN", processors


def _copy(connection, table: Table, rows: list[dict]) -> None:
    """COPY through psycopg itself, its errors raised as SQLAlchemy's (a refused row as an
    IntegrityError, a value a bind processor refuses as a StatementError), as an INSERT
    through SQLAlchemy would raise them, so callers catch the same things either way. Unlike a
    refused INSERT's value, any error here leaves PostgreSQL's transaction aborted: the caller
    rolls back (save_intake and the importer do)."""
    dialect = connection.dialect
    keys = tuple(rows[0])
    sql, processors = _copy_plan(table, keys, dialect)
    plan = list(zip(keys, processors, strict=True))
    driver = connection.connection.driver_connection  # psycopg's connection
    try:
        with driver.cursor() as cursor, cursor.copy(sql) as copy:
            for row in rows:
                try:
                    values = [row[k] if process is None else process(row[k]) for k, process in plan]
                except (TypeError, ValueError) as exc:
                    raise StatementError(str(exc), sql, None, exc) from exc
                copy.write_row(values)
    except dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(
            sql, None, exc, dialect.loaded_dbapi.Error, dialect=dialect
        ) from exc


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
