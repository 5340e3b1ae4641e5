"""SQLite, the embedded default, kept fit for a register that grows to millions of rows.

Without statistics SQLite's planner guesses that any indexed equality matches ten rows, so a query
for three cases by id within an organisation walks the organisation's index instead of the
primary key: 8 ms instead of 0.1 ms at 20,000 cases, worse as the register grows. SQLite's own
advice is `PRAGMA optimize` on long-lived connections: it runs ANALYZE (bounded here by
`analysis_limit`) on the tables the connection used that have no statistics yet or have grown
many times since. It runs every OPTIMIZE_EVERY check-ins of a pooled connection, and costs a
few milliseconds. When the app starts, tables of more than BIG rows that have no statistics at
all (a database filled before this was here, or by a bulk load) are analysed at once.
PostgreSQL keeps its own statistics (autovacuum); nothing here touches it.

The database runs in write-ahead-log mode (`journal_mode=WAL`, with `synchronous=FULL`, so a
committed record survives a power cut): readers no longer wait for a writer, and a commit syncs
the log once instead of writing and syncing a rollback journal and the database file (a saved
intake's commit fell from 2.1 to 0.8 ms). SQLite keeps two files beside the database,
`<name>-wal` and `<name>-shm`; they are part of it (copy the database with `sqlite3 FILE
".backup COPY"`, never the file alone while the app runs), and the file must be on a local disk.
"""

from __future__ import annotations

import logging
import sqlite3
import time

from sqlalchemy import event, text
from sqlalchemy.engine import Engine

OPTIMIZE_EVERY = 1000
ANALYSIS_LIMIT = 1000  # rows sampled per index: enough for the planner, fast at any size
BIG = 1000

log = logging.getLogger(__name__)


def unicode_lower(engine: Engine) -> None:
    """Give SQLite connections a lower() that knows every letter: SQLite's own changes only
    A to Z, so "ĐỖ VĂN ÁNH" would not match "đỗ văn ánh" in a search or a uniqueness check
    (PostgreSQL's lower() follows the database's locale)."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def add_lower(dbapi_connection, _record) -> None:
        dbapi_connection.create_function("lower", 1, _lower, deterministic=True)


def _lower(value):
    return value.lower() if isinstance(value, str) else value


def keep_statistics(engine: Engine) -> None:
    """Have the engine's SQLite connections write ahead to a log and maintain the planner's
    statistics."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return

    @event.listens_for(engine, "connect")
    def limit_analysis(dbapi_connection, record) -> None:
        write_ahead(dbapi_connection)
        dbapi_connection.execute(f"PRAGMA analysis_limit={ANALYSIS_LIMIT}")
        record.info["diemtua.checkins"] = 0

    @event.listens_for(engine, "first_connect")
    def analyze_unknown_tables(dbapi_connection, _record) -> None:
        try:
            analyze_tables_without_statistics(dbapi_connection)
        except sqlite3.Error as exc:  # busy or read-only: PRAGMA optimize will do it later
            log.debug("ANALYZE at start skipped: %s", exc)

    @event.listens_for(engine, "checkin")
    def optimize(dbapi_connection, record) -> None:
        if dbapi_connection is None:
            return
        seen = record.info.get("diemtua.checkins", 0) + 1
        record.info["diemtua.checkins"] = seen
        if seen % OPTIMIZE_EVERY == 0:
            try:
                dbapi_connection.execute("PRAGMA optimize")
            except sqlite3.Error as exc:  # busy or read-only: the next turn will do it
                log.debug("PRAGMA optimize skipped: %s", exc)


def write_ahead(dbapi_connection) -> None:
    """WAL mode (kept in the file once set) and a full sync at each commit."""
    try:
        dbapi_connection.execute("PRAGMA journal_mode=WAL")
    except sqlite3.Error as exc:  # busy: another connection is switching it; it stays set
        log.debug("journal_mode=WAL skipped: %s", exc)
    dbapi_connection.execute("PRAGMA synchronous=FULL")
    # What a row held is overwritten when the row goes (an erased case's wrapped data key, a
    # draft sent), not left in the page's free space for a copy of the file to find.
    dbapi_connection.execute("PRAGMA secure_delete=ON")


# A checkpoint after an erasure is tried again while readers of that moment finish (requests
# read for milliseconds): every CHECKPOINT_PAUSE seconds, CHECKPOINT_TRIES times in all.
CHECKPOINT_TRIES = 20
CHECKPOINT_PAUSE = 0.05


def forget_old_pages(session) -> bool:
    """After an erasure: the log's pages (which still hold the rows as they were before it) are
    copied into the database and the log emptied, so a copy of the files taken from now on holds
    no earlier version of what the erasure destroyed. True when done; False when a reader still
    needed the old pages after a second of tries (the log's old pages are then overwritten as it
    is reused, and go when the app stops) or the database is not SQLite."""
    if session.get_bind().dialect.name != "sqlite":
        return False
    # Each try never waits: a TRUNCATE checkpoint waits for readers holding the write lock,
    # which would hold up every save meanwhile; with no busy wait it gives up at once, and the
    # pause between tries holds nothing.
    waits = session.execute(text("PRAGMA busy_timeout")).scalar_one()
    session.execute(text("PRAGMA busy_timeout=0"))
    try:
        for attempt in range(CHECKPOINT_TRIES):
            if attempt:
                time.sleep(CHECKPOINT_PAUSE)
            busy, _log, _copied = session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)")).one()
            if not busy:
                break
    except Exception as exc:  # noqa: BLE001 - the erasure is committed; this only tidies
        log.warning("checkpoint after an erasure skipped: %s", type(exc).__name__)
        busy = 1
    finally:
        session.execute(text(f"PRAGMA busy_timeout={int(waits)}"))
        session.commit()  # nothing to commit: the connection goes back to the pool
    if busy:
        log.warning("checkpoint after an erasure gave up: a reader held the log")
    return not busy


def analyze_tables_without_statistics(dbapi_connection) -> list[str]:
    """ANALYZE the tables of more than BIG rows that SQLite has no statistics for; their names."""
    dbapi_connection.execute(f"PRAGMA analysis_limit={ANALYSIS_LIMIT}")
    tables = [
        name
        for (name,) in dbapi_connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    known: set[str] = set()
    if "sqlite_stat1" in {
        name for (name,) in dbapi_connection.execute("SELECT name FROM sqlite_master")
    }:
        known = {name for (name,) in dbapi_connection.execute("SELECT tbl FROM sqlite_stat1")}
    done = []
    for table in tables:
        quoted = '"' + table.replace('"', '""') + '"'
        if table in known:
            continue
        probe = f"SELECT 1 FROM {quoted} LIMIT 1 OFFSET {BIG}"  # noqa: S608 (names from the schema)
        if dbapi_connection.execute(probe).fetchone():
            dbapi_connection.execute(f"ANALYZE {quoted}")
            done.append(table)
    if done:
        dbapi_connection.commit()
        log.info("SQLite planner statistics gathered for %s", ", ".join(done))
    return done
