"""Many rows at once (app/bulk_insert.py): COPY on PostgreSQL, executemany elsewhere, with the
same checks on every value; statistics refreshed as an import grows the tables."""

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError, StatementError

from app.auditlog import verify as chain
from app.bulk_insert import COPY_FROM, insert_rows
from app.cases import import_run, importer
from app.crypto.blind import BlindIndex
from app.crypto.datakeys import RowKey
from app.extensions import db
from app.table_statistics import analyse
from tests.cases.test_import_bulk import rows_of


def index_rows(n: int, digest: bytes = b"\x01\x02\x03") -> list[dict]:
    return [
        {
            "field": "phone",
            "index_key_id": "ix000001",
            "digest": digest,
            "owner_type": "call",
            "owner_id": uuid.uuid4(),
        }
        for _ in range(n)
    ]


@pytest.mark.parametrize("count", [1, COPY_FROM, COPY_FROM * 3])
def test_rows_are_written_as_given_below_and_above_the_copy_threshold(app, count):
    rows = index_rows(count)
    insert_rows(BlindIndex.__table__, rows)
    db.session.commit()
    stored = db.session.execute(select(BlindIndex.owner_id, BlindIndex.digest)).all()
    assert sorted(stored) == sorted((r["owner_id"], r["digest"]) for r in rows)


@pytest.mark.parametrize("count", [1, COPY_FROM * 2])
def test_a_clear_value_in_a_sealed_column_is_refused_either_way(app, make_user, count):
    from app.cases.models import CaseNote
    from app.cases.services import open_case

    user = make_user("operator")
    case = open_case(by=user, survivor_name="Người Mẫu")
    key = RowKey()
    rows = []
    for n in range(count):
        row_id = uuid.uuid4()
        rows.append(
            {
                "id": row_id,
                "case_id": case.id,
                "author_id": user.id,
                "written_at": datetime.now(UTC),
                "kind": "note",
                "body_sealed": key.seal("case_note", "body", row_id, f"ghi chú {n}"),
            }
        )
    rows[-1]["body_sealed"] = "ghi chú không mã hoá".encode()
    table = CaseNote.__table__
    full = [{c.key: r.get(c.key) for c in table.columns} for r in rows]
    with pytest.raises(StatementError) as refused:  # as SQLAlchemy raises it, COPY or not
        insert_rows(table, full)
    db.session.rollback()
    assert "refusing to store an unsealed value" in str(refused.value)


def test_a_large_import_refreshes_postgresql_statistics_as_it_grows(app, make_user, monkeypatch):
    """Import 300 rows with analyses from 50 rows: the tables are analysed during the run."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite plans every statement afresh")
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    from make_import_samples import generated_rows

    analysed = []
    monkeypatch.setattr(import_run, "ANALYSE_FROM", 50)
    real = import_run.analyse
    monkeypatch.setattr(import_run, "analyse", lambda tables: (analysed.append(1), real(tables)))
    rows = generated_rows(300, seed=3)
    report = importer.import_rows(rows_of(rows), by=make_user("operator"), batch_size=25)
    assert report.written == 300
    assert len(analysed) >= 3  # at about 50, 100 and 200 rows: each time the tables doubled
    last = db.session.execute(
        text("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'call'")
    ).scalar()
    assert last is not None


def test_analyse_is_harmless_on_sqlite_and_runs_on_postgresql(app):
    insert_rows(BlindIndex.__table__, index_rows(3))
    db.session.commit()
    analyse([BlindIndex.__table__])
    assert db.session.execute(select(BlindIndex.id)).all()


def generated(n: int, seed: int = 5) -> list[dict]:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    from make_import_samples import generated_rows

    return generated_rows(n, seed=seed)


def test_a_refused_row_in_a_large_batch_costs_only_itself(app, make_user, monkeypatch):
    """A batch large enough for COPY on PostgreSQL: the database refuses one row (a NOT NULL
    column left empty), the batch is rolled back and its rows saved one by one."""
    from app.calls.models import Call

    real = import_run.validate_row

    def channel_missing(row):
        intake, errors, notes = real(row)
        if intake is not None and intake.external_id == "B-17":
            intake.channel = None
        return intake, errors, notes

    monkeypatch.setattr(import_run, "validate_row", channel_missing)
    report = importer.import_rows(
        rows_of(generated(COPY_FROM * 3)), by=make_user("operator"), batch_size=COPY_FROM * 3
    )
    assert (report.written, report.skipped) == (COPY_FROM * 3 - 1, 1)
    assert "IntegrityError" in str(report.failed[0].message)
    stored = db.session.execute(select(func.count()).select_from(Call)).scalar_one()
    assert stored == COPY_FROM * 3 - 1


def test_rows_stored_meanwhile_by_another_run_are_counted_once(app, make_user, monkeypatch):
    """A second run whose check of stored keys raced with the first: its batch is refused as
    a whole (an IntegrityError, COPY or not), then each row is found already imported."""
    user = make_user("operator")
    rows = generated(COPY_FROM * 2)
    first = importer.import_rows(rows_of(rows), by=user, batch_size=100)
    assert first.written == COPY_FROM * 2
    real_execute = db.session.execute

    def no_key_found(statement, *args, **kwargs):  # as if the first run had not committed yet
        result = real_execute(statement, *args, **kwargs)
        if "intake_key IN" in str(statement):
            return real_execute(select(text("NULL")).where(text("1 = 0")))
        return result

    monkeypatch.setattr(db.session, "execute", no_key_found)
    second = importer.import_rows(rows_of(rows), by=user, batch_size=100)
    assert (second.written, second.duplicates, second.failed) == (0, COPY_FROM * 2, [])


def test_a_value_of_another_type_in_a_batch_is_refused_before_anything_is_written(app):
    rows = index_rows(COPY_FROM * 2)
    rows[7]["owner_id"] = str(rows[7]["owner_id"])  # text where the column takes a UUID
    with pytest.raises(StatementError):  # SQLite's bind processing; PostgreSQL's binary COPY
        insert_rows(BlindIndex.__table__, rows)
    db.session.rollback()
    assert db.session.execute(select(func.count()).select_from(BlindIndex)).scalar_one() == 0


@pytest.mark.parametrize("points", [2**31, 2**32 + 5, 2**63])
def test_an_integer_too_large_for_its_column_is_refused_not_wrapped(app, make_user, points):
    """Binary COPY would store 2**32 + 5 as 5 in a 4-byte column: refused first."""
    from app.cases.models import RiskAssessment
    from app.cases.services import open_case

    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite keeps any integer as it is given")
    user = make_user("operator")
    case = open_case(by=user, survivor_name="Người Mẫu")
    rows = [
        {
            "id": uuid.uuid4(),
            "case_id": case.id,
            "assessed_at": datetime.now(UTC),
            "assessed_by_id": user.id,
            "answers": "",
            "points": n,
            "computed_level": "low",
            "level": "low",
            "reason_sealed": None,
        }
        for n in range(COPY_FROM * 2)
    ]
    rows[-1]["points"] = points
    with pytest.raises(StatementError, match="out of range|int"):
        insert_rows(RiskAssessment.__table__, rows)
    db.session.rollback()
    assert db.session.execute(select(func.count()).select_from(RiskAssessment)).scalar_one() == 0


def test_copy_reports_a_refused_row_as_sqlalchemy_does(app, make_user):
    rows = index_rows(COPY_FROM * 2)
    rows[5]["owner_type"] = None  # NOT NULL
    with pytest.raises(IntegrityError):
        insert_rows(BlindIndex.__table__, rows)
    db.session.rollback()


def driver_cursor_factory():
    connection = db.session.connection()
    return getattr(connection.connection.driver_connection, "cursor_factory", None)


def test_rows_and_statements_written_together_as_given(app, make_user):
    """Two tables and a statement in one go (one statement on PostgreSQL), after an entry
    `record` made in the same transaction: rows stored, the statement run, the chain whole."""
    from app import audit
    from app.bulk_insert import Statement, write_together
    from app.calls.models import IntakeDraft

    user = make_user("operator")
    usual = driver_cursor_factory()
    audit.record("view", user=user, object_type="case", object_id="before")
    drafts = IntakeDraft.__table__
    gone = Statement("DELETE FROM intake_draft WHERE user_id = {}", ((drafts.c.user_id, user.id),))
    rows = index_rows(3)
    entries = [{"action": "view", "user": user, "object_type": "case", "object_id": "x"}] * 2
    audit.record_many(entries, along=[(BlindIndex.__table__, rows)], then=[gone])
    write_together([], [])  # nothing to write: nothing sent
    db.session.commit()
    stored = db.session.execute(select(BlindIndex.owner_id)).scalars().all()
    assert sorted(stored) == sorted(r["owner_id"] for r in rows)
    assert chain.verify().ok and chain.verify().checked >= 3
    assert driver_cursor_factory() is usual


@pytest.mark.parametrize("fault", ["clear value", "duplicate key"])
def test_a_refused_write_together_raises_as_sqlalchemy_and_leaves_the_driver_as_it_was(
    app, make_user, fault
):
    """A value a column refuses (StatementError) or a key stored twice (IntegrityError), raised
    as SQLAlchemy raises them; after the rollback the connection is as it was and works."""
    from app.bulk_insert import write_together
    from app.cases.models import CaseNote
    from app.cases.services import open_case

    user = make_user("operator")
    case = open_case(by=user, survivor_name="Người Mẫu")
    usual = driver_cursor_factory()
    key, row_id = RowKey(), uuid.uuid4()
    note = {
        "id": row_id,
        "case_id": case.id,
        "author_id": user.id,
        "written_at": datetime.now(UTC),
        "kind": "note",
        "body_sealed": key.seal("case_note", "body", row_id, "ghi chú"),
    }
    if fault == "clear value":
        notes, expected = [{**note, "body_sealed": b"ghi ch\xc3\xba"}], StatementError
    else:
        notes, expected = [note, note], IntegrityError
    with pytest.raises(expected):
        write_together([(BlindIndex.__table__, index_rows(1)), (CaseNote.__table__, notes)])
    db.session.rollback()
    assert driver_cursor_factory() is usual
    assert db.session.execute(select(func.count()).select_from(BlindIndex)).scalar_one() == 0
    assert db.session.execute(select(func.count()).select_from(CaseNote)).scalar_one() == 0


@pytest.mark.parametrize("count", [1, COPY_FROM - 1, COPY_FROM * 3])
def test_rows_bound_ahead_are_written_as_the_same_rows_given_plainly(app, count):
    """Inserted alone (executemany or COPY) and written together (one statement on PostgreSQL
    below COPY_FROM): the same rows stored, with a column filled in after binding."""
    from app.bulk_insert import Bound, bind, write_together

    table = BlindIndex.__table__
    plain, ahead = index_rows(count, b"\x01"), index_rows(count, b"\x02")
    together = index_rows(count, b"\x03")
    insert_rows(table, plain)
    bound = bind(table, ahead, db.engine.dialect)
    assert isinstance(bound, Bound) and len(bound) == count
    owners = [uuid.uuid4() for _ in ahead]
    bound.fill("owner_id", owners)  # known only after binding, as a case's number is
    insert_rows(table, bound)
    write_together([(table, bind(table, together, db.engine.dialect))])
    db.session.commit()
    stored = db.session.execute(select(BlindIndex.owner_id, BlindIndex.digest)).all()
    expected = [(r["owner_id"], b"\x01") for r in plain] + [(o, b"\x02") for o in owners]
    expected += [(r["owner_id"], b"\x03") for r in together]
    assert sorted(stored) == sorted(expected)


def test_a_value_its_column_refuses_is_refused_when_bound(app):
    """Clear text in a sealed column: refused by binding, on either database, as by an insert."""
    from app.bulk_insert import BindError, bind
    from app.cases.models import CaseNote

    key, table = RowKey(), CaseNote.__table__
    notes = []
    for n in range(3):
        row_id = uuid.uuid4()
        body = key.seal("case_note", "body", row_id, f"ghi chú {n}")
        notes.append({"id": row_id, "written_at": datetime.now(UTC), "body_sealed": body})
    rows = [{c.key: note.get(c.key) for c in table.columns} for note in notes]
    bound = bind(table, rows, db.engine.dialect)
    with pytest.raises(BindError, match="unsealed"):
        bound.fill("body_sealed", [b"ghi ch\xc3\xba"] * 3)
    rows[1]["body_sealed"] = "ghi chú không mã hoá".encode()
    with pytest.raises(BindError, match="unsealed"):
        bind(table, rows, db.engine.dialect)
