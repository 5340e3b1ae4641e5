"""Intake figures: the server time to save a violence intake through the real page, next to a bare
endpoint on the same stack, and the repeat-caller panel, with many cases and calls stored.

`make bench` runs it on SQLite in a temporary directory with 1,000,000 cases and 3,000,000 calls
(the fill takes about 15 minutes on 2 cores and 4 GB of disk); smaller, kept, or on PostgreSQL:
    .venv/bin/python bench/intake.py --cases 100000 --calls 300000
    .venv/bin/python bench/intake.py --keep /tmp/intake-sqlite
    .venv/bin/python bench/intake.py --database postgresql+psycopg://user@host/emptydb \
        --keep /tmp/intake-pg
The database is emptied and filled first, unless --keep names a folder from an earlier run with
the same database and sizes (it holds the key file and, for SQLite, the database), so measuring
again does not refill. Filler rows are written in bulk with placeholder sealed values and random
blind-index digests, never through the sealing code; every measured request runs the real code,
signed in as an operator through the Flask test client; each figure is the time the app takes from
the WSGI call to the response (server time: no network, no client-side form encoding). CSRF checks
are off in the bench app. The measured app is started after the fill, as a server would be, so
on SQLite it gathers planner statistics for the filled tables at start (see app/sqlite.py).
Prints two tables (the intake, then the work queues of bench/_queues.py); figures go to
docs/performance.md.
"""

from __future__ import annotations

import argparse
import bisect
import cProfile
import itertools
import json
import os
import platform
import pstats
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import _queues as queues  # noqa: E402 (bench/, beside this script)
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import (  # noqa: E402
    Column,
    DateTime,
    Integer,
    MetaData,
    Table,
    event,
    insert,
    select,
    text,
)
from sqlalchemy.engine import make_url  # noqa: E402

from app import classifications as c  # noqa: E402
from app import create_app  # noqa: E402
from app.admin import services as admin_services  # noqa: E402
from app.auth.access import roles_required  # noqa: E402
from app.auth.models import User  # noqa: E402
from app.calls.intake import Intake, Survivor, save_intake  # noqa: E402
from app.calls.models import Call  # noqa: E402
from app.cases.casework import CHILD_SERIOUS_WINDOW  # noqa: E402
from app.cases.models import Case, CaseCounter, Task  # noqa: E402
from app.crypto import write_new_key_file  # noqa: E402
from app.crypto.blind import BlindIndex, digest_for  # noqa: E402
from app.crypto.datakeys import MIN_SEALED_LENGTH, keyring, new_id  # noqa: E402
from app.crypto.keyring import NONCE_BYTES, SEALED_MAGIC  # noqa: E402
from app.extensions import db  # noqa: E402
from app.places.models import Place  # noqa: E402
from app.places.services import load_places  # noqa: E402

PASSWORD = "a calm river at dawn"  # noqa: S105 - throwaway benchmark accounts
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
FORM_TIME = "%d/%m/%Y %H:%M"
TAG_BYTES = 16
YEARS = 3
CHUNK = 20_000
# Organisations sharing the installation, with their part of the stored cases and calls; the
# measured operator works for the first.
ORGS = (("HN", "Đường dây Hà Nội", 0.5), ("HCM", "Đường dây TP HCM", 0.25))
ORGS += (("DN", "Đường dây Đà Nẵng", 0.15), ("CT", "Đường dây Cần Thơ", 0.10))
OPERATORS_PER_ORG, MANAGERS_PER_ORG = 4, 2  # case managers: at least; see managers_for
# About a tenth of the stored cases is active (the status draws below); a case manager holds some
# 60 of them, so a hotline of 500,000 cases has some 850 case managers.
ACTIVE_SHARE, ACTIVE_PER_MANAGER = 0.102, 60
REPEAT_NUMBER = "0913 579 246"  # the repeat caller of the panel measure: 5 calls in 3 cases
BARE = Table(
    "bench_bare",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("at", DateTime),
)
# Bytes of plain text behind each filler sealed value (Vietnamese text is ~1.3 bytes a letter).
CASE_SEALED = {
    "survivor_name": (22, 1.0),
    "survivor_phone": (12, 0.5),
    "survivor_address": (75, 0.6),
    "survivor_birth_date": (10, 0.2),
    "survivor_age": (2, 0.5),
    "disability": (6, 0.3),
    "ethnicity": (2, 0.4),
    "safe_contact": (85, 0.5),
    "summary": (380, 0.8),
}


def sealed_blob(plain_bytes: int) -> bytes:
    """A placeholder with the shape of a sealed value: format byte, nonce, ciphertext, tag."""
    blob = SEALED_MAGIC + random.randbytes(NONCE_BYTES + plain_bytes + TAG_BYTES)
    assert len(blob) >= MIN_SEALED_LENGTH
    return blob


def maybe_sealed(plain_bytes: int, share: float) -> bytes | None:
    """A placeholder sealed value for `share` of the rows, else None (not told)."""
    if random.random() >= share:
        return None
    return sealed_blob(max(1, int(plain_bytes * random.uniform(0.6, 1.4))))


class Draw:
    """Codes drawn by weight (quicker than random.choices for millions of draws)."""

    def __init__(self, weights: dict):
        self.codes, self.bounds = list(weights), list(itertools.accumulate(weights.values()))

    def __call__(self):
        return self.codes[bisect.bisect(self.bounds, random.random() * self.bounds[-1])]


# A case's status by its age: most close within months.
NEW_STATUS = Draw({"open": 25, "in_support": 55, "pending_closure": 10, "closed": 10})  # < 60 days
MONTHS_STATUS = Draw(
    {"closed": 70, "in_support": 24, "pending_closure": 4, "open": 1, "erased": 1}
)  # 60 to 180 days
OLD_STATUS = Draw(
    {"closed": 96, "in_support": 1.5, "pending_closure": 0.5, "open": 0.5, "erased": 1.5}
)
ACTIVE = {"open", "in_support", "pending_closure"}
AGE_BAND = Draw({"under_16": 20, "16_59": 65, "60_plus": 8, "unknown": 7})
SEX = Draw({"female": 80, "male": 12, "other": 1, "unknown": 7})
RISK = Draw({None: 15, "low": 35, "medium": 25, "high": 17, "severe": 8})
CHANNEL = Draw({"phone": 85, "zalo": 8, "facebook": 4, "sms": 1, "walk_in": 2})
CALLER = Draw({"survivor": 60, "relative": 15, "neighbour": 8, "child_self": 7, "other": 10})
LONE_REASON = Draw(
    {"silent": 30, "counselling": 25, "information": 25, "prank": 10, "wrong_number": 10}
)
LONE_OUTCOME = Draw({"no_action": 50, "counselled": 30, "informed": 20})


def time_ordered_id() -> uuid.UUID:
    """A UUIDv7 like the app's ids (time first, then random bits), made without uuid6's
    per-call overhead."""
    ms = time.time_ns() // 1_000_000
    return uuid.UUID(
        int=(ms << 80)
        | (0x7 << 76)
        | (random.getrandbits(12) << 64)
        | (0b10 << 62)
        | random.getrandbits(62)
    )


def some(codes, most: int) -> str:
    """Up to `most` distinct codes, space-separated, as the clear code columns store them."""
    return " ".join(random.sample(list(codes), random.randint(0, most)))


class Filler:
    """Writes the stored cases, calls and blind-index digests in bulk, one transaction a chunk."""

    def __init__(self, orgs: list[dict], now: datetime, reserved: set[bytes]):
        self.orgs, self.now, self.reserved = orgs, now, reserved
        self.start = now - timedelta(days=365 * YEARS)
        ring = keyring()
        self.kek_id, self.index_id = ring.active_kek_id, ring.active_index_id
        self.digest_bytes = len(digest_for("phone", "0900 000 000"))
        self.postgres = db.engine.dialect.name == "postgresql"
        places = db.session.execute(select(Place.code, Place.province_code)).all()
        db.session.rollback()  # no transaction left open while the fill runs
        self.provinces = sorted(code for code, parent in places if parent is None)
        self.communes: dict[str, list[str]] = {}
        for code, parent in places:
            if parent is not None:
                self.communes.setdefault(parent, []).append(code)
        self.org_draw = Draw({n: org["share"] for n, org in enumerate(orgs)})
        self.counters: dict[tuple[int, int], int] = {}
        # What the calls need to know of each case: id, organisation, opener, time, digest.
        self.cases: list[tuple] = []

    def org(self) -> dict:
        """An organisation, drawn by its share of the work."""
        return self.orgs[self.org_draw()]

    def digest(self) -> bytes:
        """A random digest of the configured size, never one the measured lookups use."""
        while True:
            value = random.randbytes(self.digest_bytes)
            if value not in self.reserved:
                return value

    def key_columns(self) -> dict:
        """A placeholder data key: an id and a wrapped 32-byte key under the active KEK."""
        return {
            "key_id": time_ordered_id(),
            "key_kek_id": self.kek_id,
            "key_wrapped": sealed_blob(32),
            "key_destroyed_at": None,
        }

    def moment(self, after: datetime | None = None) -> datetime:
        """A time in the last three years (or between `after` and now)."""
        low = after or self.start
        return low + (self.now - low) * random.random()

    def fill(self, cases: int, calls: int) -> None:
        """Cases first (calls point at them), then calls; then the case-number counters."""
        with db.engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                # This connection only: no fsync per chunk, and the indexes kept in memory.
                conn.exec_driver_sql("PRAGMA synchronous=OFF")
                conn.exec_driver_sql("PRAGMA cache_size=-1000000")
                conn.commit()
            self.write(conn, self.case_rows(cases))
            self.write(conn, self.call_rows(calls))
        counters = [
            {"organisation_id": org, "year": year, "last": last}
            for (org, year), last in self.counters.items()
        ]
        with db.engine.begin() as conn:
            conn.execute(insert(CaseCounter), counters)
        db.engine.dispose()

    def write(self, conn, chunks) -> None:
        """Each chunk of (table, rows) pairs in one transaction: COPY on PostgreSQL, else an
        executemany through SQLAlchemy Core."""
        for parts in chunks:
            with conn.begin():
                for table, rows in parts:
                    if not rows:
                        continue
                    if self.postgres:
                        copy_rows(conn, table, rows)
                    else:
                        conn.execute(insert(table), rows)

    def case_rows(self, total: int):
        """Chunks of cases in the order they were opened, numbered per organisation and year."""
        moments = sorted(self.moment() for _ in range(total))
        for begin in range(0, total, CHUNK):
            rows, digests = [], []
            for opened in moments[begin : begin + CHUNK]:
                org = self.org()
                row = self.case_row(org, opened)
                rows.append(row)
                # An erased case's digests were removed with it: its calls are not indexed.
                digest = None if row["status"] == "erased" else self.digest()
                self.cases.append((row["id"], org, row["opened_by_id"], opened, digest))
                if row["survivor_phone_sealed"] is not None:
                    digests.append(self.index_row(digest, "case", row["id"]))
            tasks = [task for row in rows for task in self.task_rows(row)]
            yield [(Case.__table__, rows), (BlindIndex.__table__, digests), (Task.__table__, tasks)]

    def task_rows(self, case: dict) -> list[dict]:
        """An active case's open follow-up (one in ten overdue) and, for a child, the commune
        still to be notified at times; a closed case's follow-up, done; a child at high or
        severe risk, the 12-hour check, done within its 12 hours, but open for a case opened
        in the last 12 hours and missed (still open) for one active case in fifty."""
        status, opened = case["status"], case["opened_at"]
        base = {
            "case_id": case["id"],
            "organisation_id": case["organisation_id"],
            "created_at": opened,
            "created_by_id": case["opened_by_id"],
            "assigned_to_id": case["assigned_to_id"],
            "done_at": None,
            "done_by_id": None,
            "note_sealed": None,
        }
        tasks = []
        if status in ACTIVE and random.random() < 0.8:
            due = self.now + timedelta(days=random.uniform(-2.5, 22.5))
            tasks.append(base | {"id": time_ordered_id(), "kind": "follow_up_call", "due_at": due})
        if status in ACTIVE and case["is_child"] and random.random() < 0.1:
            tasks.append(
                base | {"id": time_ordered_id(), "kind": "notify_commune", "due_at": opened}
            )
        if case["is_child"] and case["risk_level"] in ("high", "severe") and status != "erased":
            due = opened + CHILD_SERIOUS_WINDOW
            missed = status in ACTIVE and random.random() < 0.02
            done = None if due > self.now or missed else opened + (due - opened) * random.random()
            tasks.append(
                base
                | {"id": time_ordered_id(), "kind": "child_12h", "due_at": due}
                | {"done_at": done, "done_by_id": None if done is None else case["opened_by_id"]}
            )
        if status == "closed" and random.random() < 0.3:
            done = case["closed_at"]
            tasks.append(
                base
                | {"id": time_ordered_id(), "kind": "follow_up_call", "due_at": done}
                | {"done_at": done, "done_by_id": case["assigned_to_id"] or case["opened_by_id"]}
            )
        return tasks

    def case_row(self, org: dict, opened: datetime) -> dict:
        """One case's clear columns, with placeholder sealed values and data key."""
        key = (org["id"], opened.year)
        self.counters[key] = self.counters.get(key, 0) + 1
        age_days = (self.now - opened).days
        status = (
            NEW_STATUS if age_days < 60 else MONTHS_STATUS if age_days < 180 else OLD_STATUS
        )()
        band = AGE_BAND()
        province = random.choice(self.provinces) if random.random() < 0.9 else None
        communes = self.communes.get(province or "", [])
        row = {
            "id": time_ordered_id(),
            "number": f"{org['code']}-{opened.year}-{self.counters[key]:06d}",
            "organisation_id": org["id"],
            "opened_by_id": random.choice(org["operators"]),
            "assigned_to_id": random.choice(org["managers"])
            if status != "open" or random.random() < 0.3
            else None,
            "status": status,
            "opened_at": opened,
            "updated_at": self.moment(opened),
            "closed_at": self.moment(opened) if status in ("closed", "erased") else None,
            "erased_at": self.moment(opened) if status == "erased" else None,
            "version": random.randint(1, 7),
            "survivor_sex": SEX(),
            "survivor_age_band": band,
            "is_child": band == "under_16",
            "risk_level": RISK(),
            "province_code": province,
            "commune_code": random.choice(communes) if communes and random.random() < 0.7 else None,
            "services_wanted": some(c.SERVICES, 3),
        }
        erased = status == "erased"
        for name, (size, share) in CASE_SEALED.items():
            row[f"{name}_sealed"] = None if erased else maybe_sealed(size, share)
        row.update(self.key_columns())
        if erased:
            row.update(key_kek_id=None, key_wrapped=None, key_destroyed_at=row["erased_at"])
        return row

    def call_rows(self, total: int):
        """Chunks of calls: one that opened each case, follow-ups on half as many cases, and
        the rest calls without a case (silent, information, counselling...) under their own key."""
        opening = min(total, len(self.cases))
        follow_ups = min(total - opening, len(self.cases) // 2)
        pool = [self.digest() for _ in range(max(1, (total - opening - follow_ups) * 2 // 5))]
        for begin in range(0, total, CHUNK):
            rows, digests = [], []
            for n in range(begin, min(total, begin + CHUNK)):
                if n < opening:
                    row, digest = self.case_call(self.cases[n], "violence_report")
                elif n < opening + follow_ups:
                    row, digest = self.case_call(random.choice(self.cases), "follow_up")
                else:
                    org = self.org()
                    row, digest = self.lone_call(org), random.choice(pool)
                rows.append(row)
                if row["caller_phone_sealed"] is not None and digest is not None:
                    digests.append(self.index_row(digest, "call", row["id"]))
            yield [(Call.__table__, rows), (BlindIndex.__table__, digests)]

    def case_call(self, case: tuple, reason: str) -> tuple[dict, bytes | None]:
        """A call sealed under its case's key (so it holds no key of its own)."""
        case_id, org, opener, opened, digest = case
        if reason == "violence_report":
            started = opened - timedelta(minutes=random.randint(2, 40))
        else:
            started = min(self.now, opened + timedelta(days=random.uniform(1, 90)))
        row = self.call_row(org, started, reason)
        row.update(
            case_id=case_id,
            taken_by_id=opener if reason == "violence_report" else row["taken_by_id"],
            danger=some(c.DANGER_QUESTIONS, 2),
            outcomes="counselled case_opened " + some(("referred", "emergency", "call_back"), 2),
            caller_phone_sealed=maybe_sealed(12, 0.92),
            caller_name_sealed=maybe_sealed(20, 0.5),
            narrative_sealed=maybe_sealed(600, 0.8),
        )
        row.update(key_id=None, key_kek_id=None, key_wrapped=None, key_destroyed_at=None)
        return row, digest

    def lone_call(self, org: dict) -> dict:
        """A call that opened no case, sealed under its own data key."""
        reason = LONE_REASON()
        row = self.call_row(org, self.moment(), reason)
        row.update(
            outcomes=LONE_OUTCOME(),
            caller_phone_sealed=maybe_sealed(12, 0.85),
            caller_name_sealed=maybe_sealed(20, 0.2),
            narrative_sealed=maybe_sealed(150, 0.3),
        )
        row.update(self.key_columns())
        return row

    def call_row(self, org: dict, started: datetime, reason: str) -> dict:
        """The clear columns every call has."""
        return {
            "id": time_ordered_id(),
            "organisation_id": org["id"],
            "taken_by_id": random.choice(org["operators"]),
            "started_at": started,
            "ended_at": started + timedelta(seconds=random.randint(20, 2400)),
            "channel": CHANNEL(),
            "caller_type": CALLER(),
            "reason": reason,
            "case_id": None,
            "danger": "",
            "outcomes": "",
            "flags": "high_risk" if random.random() < 0.05 else "",
            "intake_key": time_ordered_id() if random.random() < 0.85 else None,
            "line_id": None,
        }

    def index_row(self, digest: bytes, owner_type: str, owner_id: uuid.UUID) -> dict:
        """One blind-index row for a phone number."""
        return {
            "field": "phone",
            "index_key_id": self.index_id,
            "digest": digest,
            "owner_type": owner_type,
            "owner_id": owner_id,
        }


def copy_rows(conn, table: Table, rows: list[dict]) -> None:
    """COPY rows into a PostgreSQL table through psycopg (times are UTC; the column keeps them
    without a zone, so the offset psycopg writes is dropped by the server)."""
    from psycopg import sql

    names = list(rows[0])
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, names))
    )
    raw = conn.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([row[name] for name in names])


def build_app(url: str, folder: Path):
    """The bench app: its own key file, CSRF off, and the bare endpoint registered here only."""
    keys = folder / "keys.json"
    if not keys.exists():
        write_new_key_file(keys)
    app = create_app(
        "testing",
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "KEY_FILE": str(keys),
            "SECRET_KEY": os.urandom(16).hex(),
            "STARTUP_CHECKS": False,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_STORAGE_URI": "memory://",
        },
    )
    app.logger.disabled = True

    @roles_required("operator", "supervisor")
    def bare():
        """One row inserted and committed: the floor under any write on this stack."""
        db.session.execute(insert(BARE).values(at=datetime.now(UTC).replace(tzinfo=None)))
        db.session.commit()
        return "", 204

    app.add_url_rule("/bench/bare", "bench_bare", bare, methods=["POST"])
    return app


def empty_database() -> None:
    """Start from nothing: every table dropped (the schema is rebuilt by the migrations)."""
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    db.drop_all()
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        conn.execute(text("DROP TABLE IF EXISTS bench_bare"))


def managers_for(cases: int, share: float) -> int:
    """Case managers of a hotline holding `share` of the stored cases."""
    return max(MANAGERS_PER_ORG, round(cases * share * ACTIVE_SHARE / ACTIVE_PER_MANAGER))


def people(cases: int) -> list[dict]:
    """The organisations through the admin services, the measured operator through them too;
    the other staff (operators, case managers, a supervisor) share that account's password
    hash (one argon2 hash, not thousands)."""
    orgs, bench = [], None
    for code, name, share in ORGS:
        org = admin_services.create_organisation(by=None, name=name, code=code, kind="hotline")
        if bench is None:
            bench, _ = admin_services.create_user(
                by=None,
                email="bench@example.org",
                full_name="Bench operator",
                role="operator",
                organisation=org,
                password=PASSWORD,
            )
        staff = {"operator": [], "case_manager": [], "supervisor": []}
        for role, count in (
            ("operator", OPERATORS_PER_ORG),
            ("case_manager", managers_for(cases, share)),
            ("supervisor", 1),
        ):
            for i in range(count):
                if bench.organisation_id == org.id and role == "operator" and i == 0:
                    staff[role].append(bench.id)
                    continue
                user = User(
                    email=f"{role}{i}.{code.lower()}@example.org",
                    full_name=f"Bench {role} {i}",
                    role=role,
                    organisation_id=org.id,
                    password_hash=bench.password_hash,
                )
                db.session.add(user)
                db.session.flush()
                staff[role].append(user.id)
        db.session.commit()
        orgs.append(
            {"id": org.id, "code": code, "share": share}
            | {"operators": staff["operator"], "managers": staff["case_manager"]}
        )
    return orgs


def prepare(args, url: str, folder: Path) -> float | None:
    """Fill the database unless --keep holds one filled with the same sizes; the fill time."""
    state_file = folder / "state.json"
    wanted = {
        "database": make_url(url).render_as_string(hide_password=True),
        "cases": args.cases,
        "calls": args.calls,
        "filler": 2,  # 2: statuses by age, tasks, case managers by workload, a supervisor
    }
    if state_file.exists() and json.loads(state_file.read_text()) == wanted:
        return None
    state_file.unlink(missing_ok=True)
    empty_database()
    upgrade()
    load_places()
    BARE.create(db.engine)
    orgs = people(args.cases)
    reserved = {digest_for("phone", REPEAT_NUMBER)}
    start = time.perf_counter()
    Filler(orgs, datetime.now(UTC), reserved).fill(args.cases, args.calls)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if conn.dialect.name == "postgresql":
            # What autovacuum would have done by then: statistics and the visibility map.
            conn.execute(text("VACUUM ANALYZE"))
    took = time.perf_counter() - start
    repeat_caller(db.session.execute(select(User).filter_by(email="bench@example.org")).scalar())
    state_file.write_text(json.dumps(wanted))
    return took


def repeat_caller(user: User) -> None:
    """Five calls from one number through save_intake: two cases with a follow-up each, a
    third case, and a silent call."""
    started = datetime.now(UTC) - timedelta(days=40)
    first = None
    for n, reason in enumerate(
        ("violence_report", "follow_up", "violence_report", "silent", "violence_report")
    ):
        data = Intake(
            reason=reason,
            intake_key=uuid.uuid4(),
            started_at=started + timedelta(days=8 * n),
            caller_phone=REPEAT_NUMBER,
            narrative="Chị gọi lại, kể chồng vẫn đe doạ.",
            case_id=first.id if reason == "follow_up" else None,
            survivor=Survivor(
                name=f"Người gọi lại {n}",
                sex="female",
                age=31,
                safe_contact="Chỉ gọi buổi sáng, không để lại lời nhắn.",
            ),
            risk_answers=["escalating", "threats_to_kill"],
        )
        saved = save_intake(data=data, by=user)
        first = first or saved.case


def intake_form(n: int, commune: str) -> dict:
    """A full violence intake as the page posts it: call, new case, incident, perpetrator, risk,
    consent, emergency actions, counselling and a call back; one in five is about a child."""
    now = datetime.now(LOCAL)
    child = n % 5 == 4
    form = {
        "intake_key": str(new_id()),  # as the intake page makes it
        "started_at": (now - timedelta(minutes=14)).strftime(FORM_TIME),
        "ended_at": now.strftime(FORM_TIME),
        "channel": "phone",
        "caller_type": "child_self" if child else "survivor",
        "caller_phone": f"09{random.randrange(10**8):08d}",
        "caller_name": "Chị Lan",
        "reason": "violence_report",
        "outcomes": ["counselled", "emergency", "case_opened", "call_back"],
        "narrative": "Chị kể chồng uống rượu, tối qua đánh chị và đe doạ con. " * 6,
        "danger": ["danger_now", "injured"] + (["child_involved"] if child else []),
        "emergency": ["police_113", "commune_chair"],
        "emergency_time_police_113": (now - timedelta(minutes=9)).strftime(FORM_TIME),
        "survivor_name": "Nguyễn Thị Lan",
        "survivor_sex": "female",
        "survivor_age": "13" if child else "34",
        "survivor_age_band": "unknown",
        "disability": "none",
        "ethnicity": "01",
        "survivor_phone": f"09{random.randrange(10**8):08d}",
        "survivor_address": "Số 12 ngõ 34 phố Hoàng Hoa Thám, phường Ngọc Hà, Hà Nội",
        "province_code": "01",
        "commune_code": commune,
        "safe_contact": "Chỉ gọi từ 9 đến 11 giờ sáng, không để lại lời nhắn.",
        "summary": "Bạo lực thể chất lặp lại từ chồng, có đe doạ giết; con 7 tuổi chứng kiến. " * 3,
        "services_wanted": ["health", "legal", "shelter"],
        "incident_date": (now - timedelta(days=1)).strftime("%d/%m/%Y"),
        "place_type": "home",
        "acts": ["a_beating", "b_insults", "c_forced_witness"],
        "gbv_type": "physical_assault",
        "gbv_context": "intimate_partner",
        "chi_category": "physical" if child else "",
        "incident_description": "Bị đánh vào mặt và tay, bị đẩy ngã; con chứng kiến. " * 3,
        "perpetrator_relationship": "parent_caregiver" if child else "intimate_partner",
        "perpetrator_sex": "male",
        "perpetrator_age_band": "26_40",
        "perpetrator_alcohol": "yes",
        "perpetrator_weapon": "no",
        "perpetrator_earlier": "yes",
        "perpetrator_name": "Trần Văn Bình",
        "risk_answers": ["escalating", "threats_to_kill", "substance", "fears_death"],
        "risk_raised_to": "",
        "consent_services": ["health", "legal"],
        "consent_refused": ["shelter"],
        "consent_share": "yes",
        "consent_given_by": "child_and_guardian" if child else "survivor",
        "child_assent": "yes" if child else "unknown",
        "guardian_consent": "yes" if child else "unknown",
        "counselling": "Lập kế hoạch an toàn, số 111 và 113, nơi trú ẩn gần nhất. " * 2,
        "follow_up_at": (now + timedelta(days=2)).strftime(FORM_TIME),
    }
    return form


class ServerClock:
    """Times the app's own handling of each request, from the WSGI call until the response is
    handed back (request and app contexts torn down), as a server's request log would: the
    test client's own work of encoding the form and reading the response is left out (about
    0.4 ms of a 60-field intake, a few microseconds of the bare request)."""

    def __init__(self, app):
        self.inner, self.last = app.wsgi_app, 0.0
        app.wsgi_app = self

    def __call__(self, environ, start_response):
        start = time.perf_counter()
        try:
            return self.inner(environ, start_response)
        finally:
            self.last = (time.perf_counter() - start) * 1000

    def timed(self, fn) -> float:
        """The server milliseconds of the last request fn makes."""
        self.last = -1.0
        fn()
        assert self.last >= 0, "fn made no request"
        return self.last


def with_its_draft(client, form: dict) -> dict:
    """The intake as the page saves it: its draft autosaved first (untimed), the form naming
    that draft's copy, so the save checks that no other page's copy landed since and deletes
    the draft in its transaction, as every save from the page does."""
    answer = client.post(
        "/calls/drafts",
        json={"intake_key": form["intake_key"], "revision": 0, "page": "bench", "fields": form},
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    return form | {"draft_revision": str(answer.json["revision"]), "draft_page": "bench"}


def measure(
    client, commune: str, saves: int, lookups: int, drafts: bool = True
) -> dict[str, list[float]]:
    """Saves and bare requests in turn (so load from others hits both alike), then lookups.
    No app context is pushed here: each request gets its own, as in a server."""
    counter = {"n": 0}
    clock = ServerClock(client.application)

    def save():
        form = intake_form(counter["n"], commune)
        if drafts:
            form = with_its_draft(client, form)  # its own request, before the timed one
        response = client.post("/calls/new", data=form)
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        assert "/cases/" in response.location, response.location
        counter["n"] += 1

    def bare():
        assert client.post("/bench/bare").status_code == 204

    def lookup():
        response = client.post("/calls/lookup", data={"phone": random.choice(spellings())})
        assert 'data-panel-calls="5"' in response.get_data(as_text=True)

    samples = {"save": [], "bare": [], "lookup": []}
    for _ in range(5):  # warm-up: templates compiled, caches and pools filled
        save()
        bare()
        lookup()
    for _ in range(saves):
        samples["save"].append(clock.timed(save))
        samples["bare"].append(clock.timed(bare))
    for _ in range(lookups):
        samples["lookup"].append(clock.timed(lookup))
    return samples


def spellings() -> list[str]:
    """The ways the repeat caller's number reaches the hotline."""
    digits = "".join(ch for ch in REPEAT_NUMBER if ch.isdigit())
    return [REPEAT_NUMBER, digits, f"+84 {digits[1:]}", f"84{digits[1:]}"]


def statements_per_request(engine, client, url: str, data: dict) -> int:
    """SQL statements one request sends (session, user, the work itself, the audit)."""
    count = {"n": 0}

    def seen(*_args):
        count["n"] += 1

    event.listen(engine, "before_cursor_execute", seen)
    try:
        client.post(url, data=data)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    return count["n"]


def profile(client, commune: str, runs: int, top: int, drafts: bool = True) -> None:
    """cProfile over a few saves (as measured: with their drafts, unless --no-drafts), then a
    few panel lookups: where the server's time goes."""

    def form(n: int) -> dict:
        made = intake_form(n, commune)
        return with_its_draft(client, made) if drafts else made  # the draft's request unprofiled

    for label, prepare, request in (
        ("save", form, lambda data: client.post("/calls/new", data=data)),
        (
            "lookup",
            lambda n: None,
            lambda _: client.post("/calls/lookup", data={"phone": REPEAT_NUMBER}),
        ),
    ):
        profiler = cProfile.Profile()
        for n in range(runs):
            data = prepare(n)
            profiler.enable()
            request(data)
            profiler.disable()
        print(f"== profile of {runs} requests: {label}")
        stats = pstats.Stats(profiler).strip_dirs()
        stats.sort_stats("cumulative").print_stats(top)
        stats.sort_stats("tottime").print_stats(top)


def percentile(samples: list[float], p: int) -> float:
    """The p-th percentile."""
    return statistics.quantiles(samples, n=100)[p - 1]


def row(name: str, samples: list[float]) -> str:
    """One table row: requests, median, p95 and requests per second."""
    rate = len(samples) / (sum(samples) / 1000)
    return (
        f"| {name} | {len(samples)} | {statistics.median(samples):.2f} | "
        f"{percentile(samples, 95):.2f} | {rate:,.1f} |"
    )


def cpu_model() -> str:
    """The processor's name, where Linux tells it."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def planner_statistics() -> str:
    """Say what planner statistics the database has."""
    with db.engine.connect() as conn:
        if conn.dialect.name != "sqlite":
            return "statistics from VACUUM ANALYZE after the fill"
        tables = (
            conn.exec_driver_sql(
                "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'"
            ).scalar()
            and conn.exec_driver_sql("SELECT count(DISTINCT tbl) FROM sqlite_stat1").scalar()
        )
    if tables:
        return (
            f"planner statistics for {tables} tables, gathered by the app at start (app/sqlite.py)"
        )
    return "no planner statistics"


def report(setting: str, args, filled: float | None, samples: dict, statements: dict) -> None:
    """Print the table and the goals."""
    stored = f"{args.cases:,} cases and {args.calls:,} calls stored"
    how = f"filled in {filled:.0f} s" if filled is not None else "kept from an earlier run"
    print(f"Machine: {cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"Database: {setting}; {stored} ({how})")
    print("Flask test client, signed-in operator; server time (WSGI call to response); CSRF off.")
    print("| request | requests | median ms | p95 ms | per second |")
    print("|---|---|---|---|---|")
    drafted = "" if args.no_drafts else ", its autosaved draft checked and deleted"
    print(
        row(
            f"POST /calls/new: full violence intake, new case{drafted} (goal p95 < 50 ms)",
            samples["save"],
        )
    )
    print(row("POST /bench/bare: one row inserted and committed", samples["bare"]))
    print(row("POST /calls/lookup: 5 earlier calls, 3 cases (goal p95 < 20 ms)", samples["lookup"]))
    ratio = sum(samples["bare"]) / sum(samples["save"])
    print(f"Saves run at {ratio:.0%} of the bare endpoint's rate (goal: at least 50 %).")
    print(
        f"SQL statements per request: save {statements['save']}, bare {statements['bare']}, "
        f"lookup {statements['lookup']}."
    )


def main() -> None:
    """Fill (or reuse) a database, sign in, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", help="SQLAlchemy URL of a database the bench may empty")
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=3_000_000)
    parser.add_argument("--saves", type=int, default=300)
    parser.add_argument("--lookups", type=int, default=300)
    parser.add_argument("--queue-runs", type=int, default=15, help="times each work list is read")
    parser.add_argument("--keep", type=Path, help="folder keeping the filled database between runs")
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="print the top N of a save's profile"
    )
    parser.add_argument(
        "--no-drafts",
        action="store_true",
        help="save intakes without the draft the page autosaves first, as the bench did up to "
        "commit 13e7415 (docs/performance.md entries up to 2026-12-06 morning)",
    )
    args = parser.parse_args()
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # account creation and sign-in lines
    random.seed(2026)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        url = args.database or f"sqlite:///{folder / 'intake.sqlite3'}"
        filler = build_app(url, folder)
        with filler.app_context():
            filled = prepare(args, url, folder)
            db.engine.dispose()
        app = build_app(url, folder)  # a server started on the filled database
        with app.app_context():
            engine = db.engine
            setting = f"{engine.dialect.name}, {planner_statistics()}"
            commune = db.session.execute(
                select(Place.code).where(Place.province_code == "01").order_by(Place.code)
            ).scalar()
            db.session.remove()
        client = app.test_client()
        response = client.post(
            "/auth/login", data={"email": "bench@example.org", "password": PASSWORD}
        )
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        samples = measure(client, commune, args.saves, args.lookups, not args.no_drafts)
        form = intake_form(0, commune)
        if not args.no_drafts:
            form = with_its_draft(client, form)
        statements = {
            "save": statements_per_request(engine, client, "/calls/new", form),
            "bare": statements_per_request(engine, client, "/bench/bare", {}),
            "lookup": statements_per_request(
                engine, client, "/calls/lookup", {"phone": REPEAT_NUMBER}
            ),
        }
        if args.profile:
            profile(client, commune, 20, args.profile, not args.no_drafts)
        queue_rows = queues.measure(app, "bench@example.org", args.queue_runs)
        engine.dispose()
        report(setting, args, filled, samples, statements)
        queues.report(queue_rows)


if __name__ == "__main__":
    main()
