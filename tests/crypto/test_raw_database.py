"""Nothing sensitive in clear: plant known values through the services, then search the raw
database bytes (the SQLite file, or a pg_dump of PostgreSQL) for every one of them."""

import secrets
import shutil
import subprocess
import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from app.auth import mfa
from app.calls import services as calls
from app.cases import services as cases
from app.cases.models import Case, CaseNote, Incident, Perpetrator, Task
from app.extensions import db
from tests.calls.test_intake_page import form
from tests.conftest import sign_in

NAME = "Đinh Thị Bí Mật Ghim"
ALIAS = "Chị Ghim Kiểm Thử"
PHONE_SPELLINGS = ["0912 345 678", "+84 912 345 678", "84912345678"]
PHONE_FORMS = ["912345678", "912 345 678", "+84912345678", "0912345678", "912.345.678"]
ADDRESS = "Số 17 ngõ Thử Nghiệm, phường Kiểm Tra"
NARRATIVE = "Anh ta đe doạ giết chị bằng dao phay tối thứ bảy"
SAFE = "Chỉ gọi từ 9 đến 11 giờ, không để lại lời nhắn"


def _raw_bytes(tmp_path) -> bytes:
    """Everything the database holds, as bytes: the file (and its journal) or a pg_dump."""
    url = make_url(db.engine.url)
    db.session.remove()
    if url.get_backend_name() == "sqlite":
        data = b""
        for suffix in ("", "-wal", "-journal"):
            try:
                with open(url.database + suffix, "rb") as handle:
                    data += handle.read()
            except FileNotFoundError:
                pass
        assert data, "the SQLite file was not found"
        return data
    if shutil.which("pg_dump") is None:
        pytest.fail("pg_dump is needed to search the PostgreSQL database")
    libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
    dump = subprocess.run(
        ["pg_dump", "--data-only", "--inserts", libpq], capture_output=True, check=True, timeout=120
    )
    return dump.stdout


def _plant(client, make_user):
    operator = make_user("operator")
    for spelling in PHONE_SPELLINGS:
        call = calls.log_call(
            by=operator, caller_phone=spelling, caller_name=ALIAS, narrative=NARRATIVE
        )
    cases.open_case(
        by=operator,
        call=call,
        survivor_name=NAME,
        survivor_phone=PHONE_SPELLINGS[0],
        survivor_address=ADDRESS,
        safe_contact=SAFE,
        summary=NARRATIVE,
    )
    supervisor = make_user("supervisor")
    seed = mfa.open_totp_secret(supervisor)
    codes = mfa.new_recovery_codes(supervisor)
    db.session.commit()
    sign_in(client, supervisor)  # a session row too
    return [seed, codes[0].replace("-", "")]


def test_planted_values_appear_nowhere_in_the_raw_database(client, make_user, tmp_path):
    secrets = _plant(client, make_user)
    raw = _raw_bytes(tmp_path)
    planted = [NAME, ALIAS, ADDRESS, NARRATIVE, SAFE, *PHONE_SPELLINGS, *PHONE_FORMS, *secrets]
    for value in planted:
        for encoding in ("utf-8", "utf-16-le"):
            assert value.encode(encoding) not in raw, f"{value!r} found in clear ({encoding})"
    # the search does see the data: a value stored in clear on purpose is found
    assert "Tổ chức thử".encode() in raw
    # the words of the narrative do not appear either (no plaintext index or fragment)
    for word in ("dao phay", "Bí Mật", "Thử Nghiệm"):
        assert word.encode() not in raw


# Planted through the pages, each value with a word of this run's own (the file keeps freed
# bytes of earlier tests).
BASE = {
    "caller_name": "Người Gọi Ghim Một",
    "narrative": "Lời kể ghim hai bằng dao phay",
    "survivor_name": "Nạn Nhân Ghim Ba",
    "survivor_phone": "0977 111 333",
    "survivor_address": "Số 99 ngõ Ghim Bốn",
    "safe_contact": "Chỉ gọi lúc ghim năm giờ",
    "summary": "Tóm tắt ghim sáu",
    "incident_description": "Diễn biến ghim bảy",
    "perpetrator_name": "Thủ Phạm Ghim Tám",
    "risk_reason": "Lý do ghim chín",
    "counselling": "Tư vấn ghim mười",
}


def test_values_typed_through_the_pages_are_nowhere_in_clear(
    app, client, make_user, make_org, tmp_path
):
    """The search above plants through two services; this one through the pages people use
    (the intake and its drafts, the case page's note, task, draft and status reasons), which
    write by other paths (the intake's batch writer, the drafts, the audit log's details)."""
    # A word of this run's own in every value: the file keeps freed bytes of earlier tests.
    tag = "".join(secrets.choice("bcdfghklmnpqrstvx") for _ in range(10))
    P = {k: v if k == "survivor_phone" else f"{v} {tag}" for k, v in BASE.items()}
    NOTE, TASK_NOTE, REASON = (f"Ghi chú ghim mười một {tag}", f"Việc ghim mười hai {tag}",
                               f"Mở lại ghim mười ba {tag}")  # fmt: skip
    DRAFT, CASE_DRAFT = f"Nháp ghim mười bốn {tag}", f"Nháp ca ghim mười lăm {tag}"
    DONE = f"Đã báo chủ tịch xã ghim mười sáu {tag}"
    org = make_org(code="HN")
    operator = make_user("operator", organisation=org)
    manager = make_user("case_manager", organisation=org)
    boss = make_user("supervisor", organisation=org)
    sign_in(client, operator)
    data = form(
        client, reason="violence_report", caller_phone="0912 345 678", acts=["a_beating"],
        perpetrator_relationship="intimate_partner", risk_answers=["substance"],
        risk_raised_to="severe", **P,
    )  # fmt: skip
    token = client.csrf_token("/calls/new")
    assert client.post("/calls/drafts", json={"intake_key": str(uuid.uuid4()),
                       "fields": {"survivor_name": DRAFT}},
                       headers={"X-CSRFToken": token}).status_code == 200  # fmt: skip
    answer = client.submit("/calls/new", data, page="/calls/new")
    assert answer.status_code == 302, answer.get_data(as_text=True)[:3000]
    case = db.session.execute(select(Case)).scalar_one()
    assert case.survivor_name == P["survivor_name"]
    assert (
        db.session.execute(select(Incident)).scalar_one().description == P["incident_description"]
    )
    assert db.session.execute(select(Perpetrator)).scalar_one().name == P["perpetrator_name"]
    case.assigned_to_id = manager.id
    db.session.commit()
    m = app.test_client()
    sign_in(m, manager)
    url = f"/cases/{case.id}"
    assert m.submit(f"{url}/notes", {"kind": "note", "body": NOTE}, page=url).status_code == 302
    assert m.submit(f"{url}/tasks", {"kind": "other", "due_at": "30/11/2030 09:00",
                    "note": TASK_NOTE}, page=url).status_code == 302  # fmt: skip
    assert m.post(f"{url}/drafts/note", json={"page": str(uuid.uuid4()),
                  "fields": {"body": CASE_DRAFT}},
                  headers={"X-CSRFToken": m.csrf_token(url)}).status_code == 200  # fmt: skip
    db.session.refresh(case)
    for duty in cases.duties_open(case):  # marked done with what was done: the closure waits
        done = {"back": "case", "note": DONE}
        assert m.submit(f"/cases/tasks/{duty.id}/done", done, page=url).status_code == 302
    for to in ("in_support", "pending_closure"):
        m.submit(f"{url}/status", {"to": to}, page=f"{url}/status?to={to}")
    b = app.test_client()
    sign_in(b, boss)
    b.submit(f"{url}/status", {"to": "closed"}, page=f"{url}/status?to=closed")
    b.submit(
        f"{url}/status", {"to": "reopened", "reason": REASON}, page=f"{url}/status?to=reopened"
    )
    db.session.expire_all()
    assert any(n.body == NOTE for n in db.session.execute(select(CaseNote)).scalars())
    assert any(t.note == TASK_NOTE for t in db.session.execute(select(Task)).scalars())
    assert any(t.done_note == DONE for t in db.session.execute(select(Task)).scalars())
    assert db.session.get(Case, case.id).status == "reopened"
    raw = _raw_bytes(tmp_path)
    planted = [*P.values(), NOTE, TASK_NOTE, REASON, DRAFT, CASE_DRAFT, DONE,
               "0912345678", "912345678", "0977111333", "977111333"]  # fmt: skip
    found = [v for v in planted for enc in ("utf-8", "utf-16-le") if v.encode(enc) in raw]
    # Pieces too, and a value the organisation holds in clear, to show the search sees it.
    found += [w for w in (tag, f"dao phay {tag}") if w.encode() in raw]
    assert "Tổ chức thử".encode() in raw
    assert found == [], found
