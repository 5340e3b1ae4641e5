"""Trust-core figures: sealing and opening a case, phone lookups among 1,000,000 calls, key
rotation per 100,000 cases and audit verification per 1,000,000 entries.

Run with `make bench` (SQLite in a temporary directory), or with a PostgreSQL database:
    .venv/bin/python bench/crypto.py --database postgresql+psycopg://user@host/emptydb
The database is emptied first. Prints one table; figures go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402
from flask import current_app  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import String, Uuid, func, insert, select, text  # noqa: E402
from sqlalchemy.orm import Mapped, mapped_column  # noqa: E402
from sqlalchemy_utils import StringEncryptedType  # noqa: E402
from sqlalchemy_utils.types.encrypted.encrypted_type import AesGcmEngine  # noqa: E402
from uuid6 import uuid7  # noqa: E402

from app import audit, create_app  # noqa: E402
from app.admin import services as admin_services  # noqa: E402
from app.auditlog.verify import verify  # noqa: E402
from app.calls import services as calls  # noqa: E402
from app.calls.models import Call  # noqa: E402
from app.crypto import management, write_new_key_file  # noqa: E402
from app.crypto.blind import BlindIndex, normalise_phone  # noqa: E402
from app.crypto.datakeys import (  # noqa: E402
    KEY_HOLDERS,
    KeyHolder,
    SealedBytes,
    SealedField,
    SealedModel,
    associated_data,
    keyring,
)
from app.crypto.keyring import seal_bytes  # noqa: E402
from app.extensions import db  # noqa: E402

FIELDS = [f"f{n}" for n in range(10)]
VALUES = {
    "f0": "Nguyễn Thị Minh Hoa",
    "f1": "Hoa",
    "f2": "0912 345 678",
    "f3": "0987 654 321",
    "f4": "Số 12 ngõ 34 phố Hoàng Hoa Thám, phường Ngọc Hà, Hà Nội",
    "f5": "Chỉ gọi từ 9 đến 11 giờ sáng, không để lại lời nhắn, dùng số của chị gái.",
    "f6": "Trần Văn Bình",
    "f7": "Chồng",
    "f8": "001203004005",
    "f9": ("Chị kể rằng chồng uống rượu thường xuyên, tối qua đánh chị và đe doạ con. " * 5),
}
OTHER_KEY = os.urandom(32).hex()


class BenchOurs(KeyHolder, SealedModel, db.Model):
    """Ten sealed fields under a data key of its own (a case)."""

    __tablename__ = "bench_ours"
    id: Mapped[object] = mapped_column(Uuid, primary_key=True)

    def sealing_key(self) -> KeyHolder:
        """The record holds its own key."""
        return self


for _name in FIELDS:
    setattr(BenchOurs, f"{_name}_sealed", mapped_column(SealedBytes, nullable=True))
    field = SealedField()
    field.__set_name__(BenchOurs, _name)
    setattr(BenchOurs, _name, field)


class BenchTheirs(db.Model):
    """The same ten fields with sqlalchemy-utils StringEncryptedType and AesGcmEngine."""

    __tablename__ = "bench_theirs"
    id: Mapped[int] = mapped_column(primary_key=True)


for _name in FIELDS:
    setattr(
        BenchTheirs,
        _name,
        mapped_column(StringEncryptedType(String, OTHER_KEY, AesGcmEngine), nullable=True),
    )


def percentile(samples: list[float], p: int) -> float:
    """The p-th percentile."""
    return statistics.quantiles(samples, n=100)[p - 1]


def fresh_app(url: str, tmp: str):
    """An app on an emptied database with its own key file."""
    keys = Path(tmp) / "keys.json"
    write_new_key_file(keys)
    app = create_app(
        "development",
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "KEY_FILE": str(keys),
            "SECRET_KEY": os.urandom(16).hex(),
            "STARTUP_CHECKS": False,
        },
    )
    app.logger.disabled = True
    with app.app_context(), db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    with app.app_context():
        upgrade()
        BenchOurs.__table__.create(db.engine)
        BenchTheirs.__table__.create(db.engine)
    return app


def seal_open(n: int) -> list[str]:
    """Records per second written (sealed) and read (opened), ours against sqlalchemy-utils."""
    rows = []
    for label, make in (
        (
            "Điểm Tựa: per-record data key, bound associated data",
            lambda: BenchOurs(**VALUES),
        ),
        (
            "sqlalchemy-utils StringEncryptedType + AesGcmEngine, one app key",
            lambda: BenchTheirs(**VALUES),
        ),
    ):
        model = type(make())
        db.session.rollback()
        start = time.perf_counter()
        for i in range(n):
            db.session.add(make())
            if i % 100 == 99:
                db.session.commit()
        db.session.commit()
        write = n / (time.perf_counter() - start)
        db.session.expunge_all()
        start = time.perf_counter()
        opened = 0
        for record in db.session.execute(select(model)).scalars():
            opened += sum(len(getattr(record, f)) for f in FIELDS)
        read = n / (time.perf_counter() - start)
        db.session.expunge_all()
        rows.append(f"| {label} | {write:,.0f} | {read:,.0f} |")
    return rows


def bulk_calls(total: int, org_id: int, user_id: int) -> list[str]:
    """Insert `total` calls the way log_call stores them (own key, sealed number, digest)."""
    ring, bits = keyring(), current_app.config["BLIND_INDEX_BITS"]
    distinct = [f"09{random.randrange(10**8):08d}" for _ in range(max(1, total * 2 // 5))]
    now, batch = datetime.now(UTC), 20_000
    for start in range(0, total, batch):
        rows, digests = [], []
        for _ in range(min(batch, total - start)):
            phone, raw, key_id, call_id = random.choice(distinct), os.urandom(32), uuid7(), uuid7()
            kek, wrapped = ring.wrap(raw, data_key_id=key_id.int)
            sealed = seal_bytes(
                AESGCM(raw),
                phone.encode(),
                associated_data("call", "caller_phone", call_id, key_id),
            )
            rows.append(
                {
                    "id": call_id,
                    "organisation_id": org_id,
                    "taken_by_id": user_id,
                    "started_at": now,
                    "channel": "phone",
                    "caller_type": "survivor",
                    "reason": "counselling",
                    "key_id": key_id,
                    "key_kek_id": kek,
                    "key_wrapped": wrapped,
                    "caller_phone_sealed": sealed,
                }
            )
            digests.append(
                {
                    "field": "phone",
                    "index_key_id": ring.active_index_id,
                    "digest": ring.index_digest("phone", normalise_phone(phone), bits=bits),
                    "owner_type": "call",
                    "owner_id": call_id,
                }
            )
        db.session.execute(insert(Call), rows)
        db.session.execute(insert(BlindIndex), digests)
        db.session.commit()
    return distinct


def spellings(number: str) -> list[str]:
    """The ways a caller's number reaches the hotline."""
    rest = number[1:]
    return [
        number,
        f"+84 {rest[:3]} {rest[3:6]} {rest[6:]}",
        f"84{rest}",
        f"{number[:4]}.{number[4:7]}.{number[7:]}",
    ]


def lookups(distinct: list[str], count: int) -> tuple[list[float], int]:
    """Milliseconds per blind-index lookup of a random known number in a random spelling."""
    samples, found = [], 0
    for _ in range(count):
        wanted = random.choice(spellings(random.choice(distinct)))
        start = time.perf_counter()
        found += len(calls.calls_from_number(wanted, organisation_id=1))
        samples.append((time.perf_counter() - start) * 1000)
        db.session.expunge_all()
    return samples, found


def decrypt_and_compare(number: str) -> tuple[float, int]:
    """Seconds to find a number by opening every stored call: the approach without an index."""
    wanted, matches = normalise_phone(number), 0
    ring = keyring()
    start = time.perf_counter()
    stmt = select(
        Call.id, Call.caller_phone_sealed, Call.key_id, Call.key_kek_id, Call.key_wrapped
    ).execution_options(yield_per=20_000)
    from app.crypto.keyring import open_bytes

    for call_id, sealed, key_id, kek, wrapped in db.session.execute(stmt):
        aead = AESGCM(ring.unwrap(kek, wrapped, data_key_id=key_id.int))
        value = open_bytes(aead, sealed, associated_data("call", "caller_phone", call_id, key_id))
        matches += normalise_phone(value.decode()) == wanted
    return time.perf_counter() - start, matches


def rotation(count: int, key_file: str) -> float:
    """Seconds for `flask keys rotate` over `count` case keys (on top of what is stored)."""
    ring = keyring()
    for start in range(0, count, 20_000):
        rows = []
        for _ in range(min(20_000, count - start)):
            key_id = uuid7()
            kek, wrapped = ring.wrap(os.urandom(32), data_key_id=key_id.int)
            rows.append(
                {"id": uuid7(), "key_id": key_id, "key_kek_id": kek, "key_wrapped": wrapped}
            )
        db.session.execute(insert(BenchOurs), rows)
        db.session.commit()
    total = sum(
        db.session.execute(
            select(func.count()).select_from(model).where(model.key_wrapped.is_not(None))
        ).scalar_one()
        for model in KEY_HOLDERS
    )
    start = time.perf_counter()
    management.rotate(key_file, start=lambda n: lambda k: None)
    return (time.perf_counter() - start) * 100_000 / total


def chain(count: int) -> float:
    """Seconds for `flask audit verify` over `count` entries."""
    head = db.session.execute(select(audit.AuditHead)).scalar_one()
    prev, seq, now = head.last_hash, head.seq, datetime.now(UTC)
    for start in range(0, count, 20_000):
        rows = []
        for _ in range(min(20_000, count - start)):
            seq += 1
            entry = audit.AuditEntry(
                id=seq,
                at=now,
                user_id=1,
                role="operator",
                organisation_id=1,
                action="view",
                object_type="case",
                object_id=str(uuid7()),
                prev_hash=prev,
                ip="127.0.0.1",
            )
            entry.hash = audit.entry_hash(entry)
            prev = entry.hash
            rows.append({c.name: getattr(entry, c.key) for c in audit.AuditEntry.__table__.c})
        db.session.execute(insert(audit.AuditEntry), rows)
        db.session.commit()
    head = db.session.execute(select(audit.AuditHead)).scalar_one()
    head.seq, head.last_hash = seq, prev
    db.session.commit()
    start = time.perf_counter()
    result = verify()
    took = time.perf_counter() - start
    assert result.ok, result
    return took * 1_000_000 / result.checked


def main() -> None:
    """Run every measure on one database and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", help="SQLAlchemy URL of an empty database")
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--records", type=int, default=2_000)
    parser.add_argument(
        "--only-lookup", action="store_true", help="store the calls and measure lookups only"
    )
    args = parser.parse_args()
    random.seed(2026)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite:///{tmp}/bench.sqlite3"
        app = fresh_app(url, tmp)
        with app.app_context():
            backend = db.engine.dialect.name
            org = admin_services.create_organisation(
                by=None, name="Bench", code="B", kind="hotline"
            )
            user, _ = admin_services.create_user(
                by=None,
                email="bench@example.org",
                full_name="Bench",
                role="operator",
                organisation=org,
                password="a calm river at dawn",
            )
            org_id, user_id = org.id, user.id
            print(f"Database: {backend}")
            if not args.only_lookup:
                print(
                    "| sealing a case of 10 sensitive fields | records/s written | records/s read |"
                )
                print("|---|---|---|")
                for row in seal_open(args.records):
                    print(row)
            start = time.perf_counter()
            distinct = bulk_calls(args.calls, org_id, user_id)
            print(
                f"\nStored {args.calls:,} calls ({len(distinct):,} numbers) in "
                f"{time.perf_counter() - start:.0f} s"
            )
            samples, found = lookups(distinct, 300)
            print("| phone lookup | lookups | median ms | p95 ms |")
            print("|---|---|---|---|")
            print(
                f"| blind index, any spelling, confirmed by opening | {len(samples)} | "
                f"{statistics.median(samples):.2f} | {percentile(samples, 95):.2f} |"
            )
            print(f"(blind-index lookups found {found} calls in all)")
            if args.only_lookup:
                return
            took, matches = decrypt_and_compare(distinct[0])
            print(f"| decrypt-and-compare over every call | 1 | {took * 1000:,.0f} | - |")
            print(f"(the scan for one number found {matches} calls)")
            per_rotation = rotation(100_000, str(Path(tmp) / "keys.json"))
            print(f"\n`flask keys rotate`: {per_rotation:.1f} s per 100,000 data keys")
            per_verify = chain(min(args.calls, 1_000_000))
            print(f"`flask audit verify`: {per_verify:.1f} s per 1,000,000 entries")
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
