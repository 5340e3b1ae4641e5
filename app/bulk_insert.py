"""Many rows at once, in the session's transaction.

`insert_rows` writes one table's rows: with binary COPY on PostgreSQL, so the server loads them
as one stream instead of executing an INSERT a row, and with one prepared INSERT executed for
every row (executemany) elsewhere. `write_together` writes the rows of several tables and a few more
statements (the audit head's new hash, a draft deleted) in as few trips to the database as it
allows: on PostgreSQL, when no table has many rows, one statement whose parts are data-modifying
WITH queries (one round trip for a whole intake, where an INSERT a table took a dozen); else
table by table as `insert_rows` does, then the statements. Either way each value goes through
the bind processing SQLAlchemy gives its column (a SealedBytes column still refuses clear text,
a UTCDateTime still refuses a naive time), so every path writes the same values, and every
statement goes through SQLAlchemy's connection (its events, its errors). Used by the batch
writer (app/cases/bulk.py) and the audit log's record_many.
"""

from __future__ import annotations

import itertools
import struct
from dataclasses import dataclass
from functools import cache, lru_cache

import psycopg
from sqlalchemy import Column, Table, insert
from sqlalchemy.exc import DBAPIError, StatementError

from app.extensions import db

# From this many rows, PostgreSQL is given them with COPY (below it, INSERTs cost no more).
COPY_FROM = 20
# At most this many values in one statement written by write_together (PostgreSQL takes 65,535).
MOST_VALUES = 20_000


class BindError(StatementError):
    """A value its column's bind processing refuses (a StatementError, as SQLAlchemy raises
    it): told apart from the database's own errors, which are StatementErrors too."""


class Bound:
    """A table's rows with their bind processing done ahead, column by column, for an insert
    that then only sends them: the import builds a batch while the other process writes
    (app/turns.py), so the work done here is off the write's turn. A column known only later
    (a case's number, given in the write's turn) is filled in with fill()."""

    def __init__(self, table: Table, rows: list[dict], processors: list, sql: str):
        self.table, self.keys, self.processors, self.sql = table, tuple(rows[0]), processors, sql
        self.columns = _processed_columns(rows, self.keys, processors, sql)
        self.count = len(rows)

    def __len__(self) -> int:
        return self.count

    def fill(self, key: str, values: list) -> None:
        """Give column `key` these values (one a row, in the rows' order)."""
        index = self.keys.index(key)
        rows = [{key: value} for value in values]  # processed as a column of rows is
        (column,) = _processed_columns(rows, (key,), [self.processors[index]], self.sql)
        self.columns[index] = column

    def values(self) -> list[tuple]:
        """The rows' values as the driver takes them."""
        return list(zip(*self.columns, strict=True))


def bind(table: Table, rows: list[dict], dialect) -> Bound | list[dict]:
    """`rows` bound ahead (Bound), as insert_rows and write_together would bind them; the rows
    as they are when the table takes them only through SQLAlchemy's own INSERT (a default
    made in Python). A value its column's bind processing refuses (clear text in a sealed
    column, a time without its zone) raises BindError here, as the insert would."""
    keys = tuple(rows[0]) if rows else ()
    plan = _plan(table, keys, dialect) if rows else None
    return rows if plan is None else Bound(table, rows, plan[1], plan[0])


Rows = list[dict] | Bound


def insert_rows(table: Table, rows: Rows) -> None:
    """Insert `rows` (dictionaries by column key, every row with the same keys; or rows bound
    ahead) into `table`."""
    if not rows:
        return
    connection = db.session.connection()
    dialect = connection.dialect
    if dialect.name == "postgresql" and len(rows) >= COPY_FROM:
        _copy(connection, table, rows)
        return
    keys = _keys(rows)
    plan = _plan(table, keys, dialect)
    if plan is None:  # a column left out has a default made in Python, which only
        connection.execute(insert(table), rows)  # SQLAlchemy's own INSERT applies
        return
    sql, processors = plan
    sql += _placeholders(len(keys), _mark(dialect))
    if isinstance(rows, Bound):
        values = rows.values()
        connection.exec_driver_sql(sql, values[0] if len(values) == 1 else values)
    elif len(rows) == 1:
        connection.exec_driver_sql(sql, tuple(_processed(rows[0], keys, processors, sql)))
    else:
        connection.exec_driver_sql(sql, _processed_rows(rows, keys, processors, sql))


def _keys(rows: Rows) -> tuple[str, ...]:
    return rows.keys if isinstance(rows, Bound) else tuple(rows[0])


@dataclass(frozen=True)
class Statement:
    """A statement for write_together: SQL with `{}` where each value goes, and the values with
    the column each is bound as (whose bind processing it gets)."""

    sql: str
    values: tuple[tuple[Column, object], ...]


def writes_together(dialect, counts: list[int]) -> bool:
    """Whether write_together sends tables of these row counts as one statement."""
    return dialect.name == "postgresql" and all(count < COPY_FROM for count in counts)


def write_together(parts: list[tuple[Table, Rows]], then: list[Statement] = ()) -> None:
    """Insert each table's rows (parents before children; in a table every row with the same
    keys), then run the statements, in the session's transaction."""
    parts = [(table, rows) for table, rows in parts if rows]
    if not parts and not then:
        return
    connection = db.session.connection()
    dialect = connection.dialect
    plans = None
    if writes_together(dialect, [len(rows) for _, rows in parts]):
        plans = [(_plan(table, _keys(rows), dialect), rows) for table, rows in parts]
        if (
            any(plan is None for plan, _ in plans)
            or sum(len(plan[1]) * len(rows) for plan, rows in plans) >= MOST_VALUES
        ):
            plans = None
    if plans is None:
        for table, rows in parts:
            insert_rows(table, rows)
        for statement in then:
            connection.exec_driver_sql(*_statement(statement, dialect))
        return
    values, shape = [], []
    for (sql, processors), rows in plans:
        keys = _keys(rows)
        if isinstance(rows, Bound):
            for row in rows.values():
                values.extend(row)
        else:
            for row in rows:
                values.extend(_processed(row, keys, processors, sql))
        shape.append((sql, len(keys), len(rows)))
    for statement in then:
        values.extend(_values(statement, dialect))
        shape.append((statement.sql, len(statement.values), 0))
    _execute_raw(connection, _together_sql(tuple(shape)), tuple(values))


@lru_cache(maxsize=512)
def _together_sql(shape: tuple[tuple[str, int, int], ...]) -> str:
    """One statement of WITH parts, in PostgreSQL's own $n placeholders: per part, an INSERT
    (its start, values a row, rows) or a statement (its SQL, values, 0)."""
    numbers = itertools.count(1)
    pieces = []
    for sql, width, rows in shape:
        if rows:
            marks = (
                "(" + ", ".join(f"${next(numbers)}" for _ in range(width)) + ")"
                for _ in range(rows)
            )
            pieces.append(sql + ", ".join(marks))
        else:
            pieces.append(sql.format(*(f"${next(numbers)}" for _ in range(width))))
    # Each part runs once and to its end, though nothing reads it; foreign keys are checked
    # when the whole statement ends, so parents and children may go in together.
    return "WITH " + ", ".join(f"w{n} AS ({piece})" for n, piece in enumerate(pieces)) + " SELECT 1"


def _execute_raw(connection, sql: str, values: tuple) -> None:
    """Run a statement written with PostgreSQL's own $n placeholders through SQLAlchemy (its
    events, its errors), on a psycopg RawCursor: psycopg then sends it as it is, where with
    %s placeholders it would parse the 3 KB text of an intake again on every save (it keeps
    parsed statements only up to 50 values): a third of a millisecond a save."""
    driver = connection.connection.driver_connection
    usual = driver.cursor_factory
    driver.cursor_factory = psycopg.RawCursor
    try:
        connection.exec_driver_sql(sql, values)
    finally:
        driver.cursor_factory = usual


@cache
def _plan(table: Table, keys: tuple[str, ...], dialect) -> tuple[str, list] | None:
    """The start of an INSERT of these columns (up to VALUES) and each column's bind
    processor; None when a column left out has a default made in Python (which only
    SQLAlchemy's own INSERT applies)."""
    left_out = [c for c in table.columns if c.key not in keys]
    if any(c.default is not None and not c.default.is_sequence for c in left_out):
        return None
    target, processors = _columns(table, keys, dialect)
    return f"INSERT INTO {target} VALUES ", processors  # noqa: S608 - our names; values bound


def _columns(table: Table, keys: tuple[str, ...], dialect) -> tuple[str, list]:
    """`table (column, ...)` quoted for the dialect, and each column's bind processor."""
    preparer = dialect.identifier_preparer
    columns = [table.c[key] for key in keys]
    names = ", ".join(preparer.format_column(column) for column in columns)
    processors = [_processor(column, dialect) for column in columns]
    return f"{preparer.format_table(table)} ({names})", processors


@lru_cache(maxsize=256)
def _placeholders(count: int, mark: str) -> str:
    return "(" + ", ".join([mark] * count) + ")"


def _mark(dialect) -> str:
    return "?" if dialect.paramstyle == "qmark" else "%s"


def _processor(column: Column, dialect):
    return column.type.dialect_impl(dialect).bind_processor(dialect)


def _processed(row: dict, keys: tuple[str, ...], processors: list, sql: str) -> list:
    """A row's values as the driver takes them (bind processing applied)."""
    try:
        return [
            row[key] if process is None else process(row[key])
            for key, process in zip(keys, processors, strict=True)
        ]
    except (TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise BindError(str(exc), sql, None, exc) from exc  # a value its column cannot take


def _processed_rows(rows: list[dict], keys: tuple[str, ...], processors: list, sql: str) -> list:
    """Many rows' values as the driver takes them, processed a column at a time (one bind
    processor over a whole column: a third faster for a batch than SQLAlchemy's own
    executemany, which builds and processes each row's parameters in turn)."""
    return list(zip(*_processed_columns(rows, keys, processors, sql), strict=True))


def _processed_columns(
    rows: list[dict], keys: tuple[str, ...], processors: list, sql: str
) -> list[list]:
    try:
        return [
            [row[key] for row in rows] if process is None else [process(row[key]) for row in rows]
            for key, process in zip(keys, processors, strict=True)
        ]
    except (TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise BindError(str(exc), sql, None, exc) from exc  # a value its column cannot take


def _statement(statement: Statement, dialect) -> tuple[str, tuple]:
    """A Statement's SQL in the driver's own placeholders, and its processed values."""
    values = _values(statement, dialect)
    return statement.sql.format(*[_mark(dialect)] * len(values)), values


def _values(statement: Statement, dialect) -> tuple:
    """A Statement's values as the driver takes them (bind processing applied)."""
    values = []
    for column, value in statement.values:
        process = _processor(column, dialect)
        values.append(value if process is None else process(value))
    return tuple(values)


@cache
def _copy_plan(table: Table, keys: tuple[str, ...], dialect) -> tuple[str, list]:
    """The COPY statement for these columns, and each column's bind processor."""
    target, processors = _columns(table, keys, dialect)
    return f"COPY {target} FROM STDIN (FORMAT BINARY)", processors


def _copy(connection, table: Table, rows: Rows) -> None:
    """COPY through psycopg itself, its errors raised as SQLAlchemy's (a refused row as an
    IntegrityError, a value a bind processor refuses as a StatementError), as an INSERT
    through SQLAlchemy would raise them, so callers catch the same things either way. Unlike a
    refused INSERT's value, any error here leaves PostgreSQL's transaction aborted: the caller
    rolls back (save_intake and the importer do)."""
    dialect = connection.dialect
    keys = _keys(rows)
    sql, processors = _copy_plan(table, keys, dialect)
    driver = connection.connection.driver_connection  # psycopg's connection
    try:
        if isinstance(rows, Bound):
            values = rows.values()
        else:
            values = _processed_rows(rows, keys, processors, sql)
        types = _column_types(driver, table, keys)
        _check_ranges(values, types)
        with driver.cursor() as cursor, cursor.copy(sql) as copy:
            copy.set_types(types)
            for row in values:
                copy.write_row(row)
    except (TypeError, AttributeError, ValueError, OverflowError, struct.error) as exc:
        # a value of another type than its column's, which binary COPY cannot send
        raise StatementError(str(exc), sql, None, exc) from exc
    except dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(
            sql, None, exc, dialect.loaded_dbapi.Error, dialect=dialect
        ) from exc


# PostgreSQL's smaller integer types (OID: smallest, largest): psycopg's binary form of an int
# too large for its column would wrap around where the server refuses it in text.
INTEGER_RANGES = {21: (-(2**15), 2**15 - 1), 23: (-(2**31), 2**31 - 1)}
_TYPES: dict[tuple, list[int]] = {}


def _column_types(driver, table: Table, keys: tuple[str, ...]) -> list[int]:
    """The server's type (OID) of each column, read once per process and database: binary
    COPY sends each value in its column's own binary form (a sealed value as its bytes, not as
    hexadecimal text for the server to parse again; a batch's COPY takes 15 % less time)."""
    names = tuple(table.c[key].name for key in keys)
    place = (driver.info.host, driver.info.port, driver.info.dbname, table.schema, table.name)
    found = _TYPES.get((place, names))
    if found is None:
        with driver.cursor() as target:
            target.execute(
                "SELECT attname, atttypid::int FROM pg_attribute WHERE attrelid = %s::regclass"
                " AND attnum > 0 AND NOT attisdropped",
                (f"{table.schema}.{table.name}" if table.schema else table.name,),
            )
            oids = dict(target.fetchall())
        found = _TYPES[(place, names)] = [oids[name] for name in names]
    return found


def _check_ranges(values: list[tuple], types: list[int]) -> None:
    """Refuse an integer its column is too small for, as the server would."""
    for index, oid in enumerate(types):
        if oid in INTEGER_RANGES:
            low, high = INTEGER_RANGES[oid]
            for row in values:
                value = row[index]
                if value is not None and not low <= value <= high:
                    raise OverflowError(f"{value} is out of range for its column")
