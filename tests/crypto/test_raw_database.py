"""Nothing sensitive in clear: plant known values through the services, then search the raw
database bytes (the SQLite file, or a pg_dump of PostgreSQL) for every one of them."""

import shutil
import subprocess

import pytest
from sqlalchemy.engine import make_url

from app.auth import mfa
from app.calls import services as calls
from app.cases import services as cases
from app.extensions import db
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
