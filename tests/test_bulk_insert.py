"""Many rows at once (app/bulk_insert.py): COPY on PostgreSQL, executemany elsewhere, with the
same checks on every value; statistics refreshed as an import grows the tables."""

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from app.bulk_insert import COPY_FROM, analyse, insert_rows
from app.cases import importer
from app.crypto.blind import BlindIndex
from app.crypto.datakeys import RowKey
from app.extensions import db
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
    with pytest.raises(Exception) as refused:  # noqa: PT011 (wrapped differently per database)
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
    monkeypatch.setattr(importer, "ANALYSE_FROM", 50)
    real = importer.analyse
    monkeypatch.setattr(importer, "analyse", lambda tables: (analysed.append(1), real(tables)))
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
