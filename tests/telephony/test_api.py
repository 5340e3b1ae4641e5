"""POST /api/v1/calls/incoming: line tokens, what a phone system may send, and what comes back."""

import codecs
import hashlib
import json
import logging
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from app.audit import AuditEntry
from app.clock import utcnow
from app.crypto.blind import normalise_phone
from app.extensions import db
from app.telephony import services
from app.telephony.models import PhoneLine, ScreenPop
from tests.telephony.conftest import DIGITS, NUMBER

URL = "/api/v1/calls/incoming"
POP_URL = re.compile(r"^http://localhost/calls/pop/([A-Za-z0-9_-]{43})$")


def _pops() -> list[ScreenPop]:
    db.session.expire_all()
    return list(db.session.execute(select(ScreenPop)).scalars())


def test_a_call_is_announced_and_answered_with_a_one_time_link(make_line, announce):
    line, token = make_line()
    response = announce(token)
    assert response.status_code == 201
    assert "Set-Cookie" not in response.headers  # no session row per call
    body = response.get_json()
    match = POP_URL.match(body["url"])
    assert match, body
    (pop,) = _pops()
    assert pop.token_hash == hashlib.sha256(match.group(1).encode()).hexdigest()
    assert pop.caller_phone == NUMBER and pop.line_id == line.id
    assert pop.organisation_id == line.organisation_id and pop.claimed_at is None
    expires = datetime.fromisoformat(body["expires_at"])
    assert expires == pop.expires_at
    assert timedelta(minutes=9) < expires - utcnow() <= timedelta(minutes=10)
    assert abs(pop.started_at - utcnow()) < timedelta(minutes=1)
    assert db.session.get(PhoneLine, line.id).last_used_at is not None


def test_the_number_is_in_no_response_url_audit_entry_or_log_line(make_line, announce, caplog):
    caplog.set_level(logging.DEBUG)
    line, token = make_line()
    good = announce(token)
    bad = announce(token, {"caller": "+84 912 345 678 ext"})
    assert good.status_code == 201 and bad.status_code == 422
    for response in (good, bad):
        flat = re.sub(r"\D", "", response.get_data(as_text=True))
        assert DIGITS not in flat
        assert DIGITS not in re.sub(r"\D", "", str(response.headers))
    assert DIGITS not in re.sub(r"\D", "", good.get_json()["url"])
    entries = db.session.execute(select(AuditEntry)).scalars().all()
    (pop_entry,) = [e for e in entries if e.action == "screen_pop"]
    assert pop_entry.organisation_id == line.organisation_id and pop_entry.user_id is None
    assert pop_entry.object_id == str(_pops()[0].id)
    for entry in entries:
        row = " ".join(str(v) for v in vars(entry).values())
        assert DIGITS not in re.sub(r"\D", "", row)
    assert caplog.records, "the request should have logged something to check"
    assert DIGITS not in re.sub(r"\D", "", caplog.text)
    raw = db.session.execute(text("SELECT * FROM screen_pop")).one()
    assert NUMBER.encode() not in b"".join(v for v in raw if isinstance(v, bytes))


def test_a_missing_token_is_refused_with_a_challenge(announce):
    response = announce(None)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="diemtua"'
    assert response.get_json()["error"] == "unauthorized"
    assert _pops() == []


@pytest.mark.parametrize("header", ["Bearer dt_not-a-real-token", "Basic ZHQ6eA==", "Bearer "])
def test_a_wrong_token_is_refused(make_line, client, header):
    _line, token = make_line()
    response = client.post(URL, json={"caller": NUMBER}, headers={"Authorization": header})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="diemtua"')
    assert _pops() == []


def test_a_wrong_token_is_told_it_is_invalid(make_line, announce):
    make_line()
    response = announce("dt_" + "x" * 43)
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="diemtua", error="invalid_token"'


def test_refused_tokens_are_in_the_audit_log_without_the_token(make_line, announce):
    """Someone guessing line tokens shows in the audit log, with their address: once a minute
    from one address, however many guesses (the chain is not flooded)."""
    make_line()
    guess = "dt_" + "y" * 43
    for _ in range(5):
        assert announce(guess).status_code == 401
    assert announce(None).status_code == 401
    db.session.expire_all()
    refused = (
        db.session.execute(
            select(AuditEntry).where(AuditEntry.action == "denied").order_by(AuditEntry.id)
        )
        .scalars()
        .all()
    )
    assert [(e.object_type, e.detail) for e in refused] == [("phone_line", "unknown bearer token")]
    assert all(e.ip for e in refused)
    assert guess not in " ".join(str(v) for e in refused for v in vars(e).values())


def test_admins_see_the_refused_tokens_in_the_log(make_line, announce, app, make_user):
    from tests.conftest import sign_in

    line, _token = make_line()
    announce("dt_" + "z" * 43)
    admin = app.test_client()
    sign_in(admin, make_user("admin", organisation=line.organisation))
    page = admin.get("/audit/?action=denied").get_data(as_text=True)
    assert "mã truy cập không xác định" in page  # "unknown bearer token", in Vietnamese
    supervisor = app.test_client()
    sign_in(supervisor, make_user("supervisor", organisation=line.organisation))
    assert "mã truy cập không xác định" not in supervisor.get("/audit/?action=denied").get_data(
        as_text=True
    )


def test_a_revoked_line_is_refused(make_line, make_user, announce):
    line, token = make_line()
    assert announce(token).status_code == 201
    admin = make_user("admin", organisation=line.organisation)
    services.revoke_line(by=admin, line=line)
    assert announce(token).status_code == 401
    assert len(_pops()) == 1


def test_a_rotated_token_replaces_the_old_one_at_once(make_line, make_user, announce):
    line, old = make_line()
    admin = make_user("admin", organisation=line.organisation)
    new = services.rotate_token(by=admin, line=line)
    assert new != old and new.startswith("dt_")
    assert announce(old).status_code == 401
    assert announce(new).status_code == 201


def test_a_line_of_a_closed_organisation_is_refused(make_line, announce):
    line, token = make_line()
    line.organisation.active = False
    db.session.commit()
    assert announce(token).status_code == 401


@pytest.mark.parametrize(
    "caller", ["+84 912 345 678", "0912345678", "0243.2233.111", "0377 672 444", "+1 202 555 0143"]
)
def test_real_numbers_are_accepted_as_received(make_line, announce, caller):
    _line, token = make_line()
    assert announce(token, {"caller": caller}).status_code == 201
    assert _pops()[0].caller_phone == caller


@pytest.mark.parametrize("caller", ["(024) 3822 1234", "(+84) 24 3822 1234", "(024)38221234"])
def test_a_landline_written_with_its_area_code_in_brackets_is_accepted(make_line, announce, caller):
    """As Hà Nội numbers are written; the blind index files it as the number without them."""
    _line, token = make_line()
    response = announce(token, {"caller": caller})
    assert response.status_code == 201, response.get_data(as_text=True)
    assert "warning" not in response.get_json()
    assert _pops()[0].caller_phone == caller
    assert normalise_phone(caller) == normalise_phone("024 3822 1234") == "+842438221234"


@pytest.mark.parametrize(
    "caller",
    [
        "abc",
        "12345",
        "0912",
        "+84 912 345 678 999",
        "1-800-FLOWERS",
        "' OR 1=1 --",
        "9" * 300,
        "((024) 3822 1234",
        "(abc) 3822 1234",
    ],
)
def test_garbage_is_refused_with_422(make_line, announce, caller):
    _line, token = make_line()
    response = announce(token, {"caller": caller})
    assert response.status_code == 422
    assert response.get_json()["error"] == "caller_invalid"
    assert _pops() == []


@pytest.mark.parametrize("body", [{}, {"line": "Hàng chờ 1"}])
def test_a_missing_caller_is_refused(make_line, announce, body):
    _line, token = make_line()
    response = announce(token, body)
    assert response.status_code == 422 and response.get_json()["error"] == "caller_missing"


def test_a_number_sent_as_a_json_number_is_refused(make_line, announce):
    _line, token = make_line()
    response = announce(token, {"caller": 912345678})
    assert response.status_code == 422 and response.get_json()["error"] == "caller_invalid"


@pytest.mark.parametrize("caller", ["anonymous", "Anonymous", "withheld", "", "  "])
def test_withheld_numbers_are_stored_as_no_number(make_line, announce, caller):
    _line, token = make_line()
    assert announce(token, {"caller": caller}).status_code == 201
    (pop,) = _pops()
    assert pop.caller_phone is None and pop.caller_phone_sealed is None
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "screen_pop")).one()
    assert entry[0].detail.endswith("number withheld")


def test_the_time_the_call_started_is_taken_with_its_offset(make_line, announce):
    _line, token = make_line()
    began = (utcnow() - timedelta(minutes=3)).replace(microsecond=0)
    # As Asterisk's STRFTIME(${EPOCH},Asia/Ho_Chi_Minh,%Y-%m-%dT%H:%M:%S%z) writes it.
    sent = began.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%Y-%m-%dT%H:%M:%S%z")
    assert sent.endswith("+0700")
    response = announce(token, {"caller": NUMBER, "started_at": sent})
    assert response.status_code == 201
    assert _pops()[0].started_at == began


@pytest.mark.parametrize(
    ("started_at", "why"),
    [("2026-03-01T09:30:00", "no offset"), ("yesterday", "not a time")],
)
def test_a_bad_start_time_is_refused(make_line, announce, started_at, why):
    _line, token = make_line()
    response = announce(token, {"caller": NUMBER, "started_at": started_at})
    assert response.status_code == 422, why
    assert response.get_json()["error"] == "started_at_invalid"


@pytest.mark.parametrize(
    ("off_by", "why"), [(-timedelta(days=3), "too old"), (timedelta(hours=1), "in the future")]
)
def test_a_phone_system_clock_that_drifted_still_hands_the_call_over(
    make_line, announce, off_by, why
):
    """The dialplan ignores the answer: a refusal would mean no links at all, unseen."""
    _line, token = make_line()
    before = utcnow()
    response = announce(token, {"caller": NUMBER, "started_at": (before + off_by).isoformat()})
    assert response.status_code == 201, why
    body = response.get_json()
    assert body["warning"] == "started_at_ignored" and "/calls/pop/" in body["url"]
    assert before <= _pops()[0].started_at <= utcnow()  # the server's time instead


def test_a_too_long_line_label_is_refused(make_line, announce):
    _line, token = make_line()
    response = announce(token, {"caller": NUMBER, "line": "x" * 81})
    assert response.status_code == 422 and response.get_json()["error"] == "line_invalid"
    assert announce(token, {"caller": NUMBER, "line": "Hàng chờ 1"}).status_code == 201


def test_a_form_encoded_body_works_as_asterisk_sends_it(make_line, client):
    _line, token = make_line()
    response = client.post(
        URL,
        data={"caller": "0912345678", "line": "trunk-1"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    assert _pops()[0].caller_phone == "0912345678"


@pytest.mark.parametrize("payload", ["[1, 2]", '"0912345678"', "{not json", '{"a":' + "[" * 5000])
def test_a_body_that_is_not_an_object_is_refused(make_line, client, payload):
    _line, token = make_line()
    response = client.post(
        URL,
        data=payload,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 400 and response.get_json()["error"] == "bad_request"


@pytest.mark.parametrize("label", ["application/x-www-form-urlencoded", "text/plain", None])
def test_a_json_body_without_its_content_type_is_read_as_json(make_line, client, label):
    """`curl -d '{"caller": ...}'` with no Content-Type header labels the body form-encoded."""
    _line, token = make_line()
    response = client.post(
        URL,
        data=json.dumps({"caller": "+84 912 345 678", "line": "trunk-1"}),
        content_type=label,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    assert _pops()[0].caller_phone == "+84 912 345 678"


@pytest.mark.parametrize("label", ["application/x-www-form-urlencoded", "text/plain", None])
def test_a_json_body_after_a_byte_order_mark_is_read_as_json(make_line, client, label):
    """A body saved by a Windows editor starts with a UTF-8 BOM (`curl -d @pop.json`)."""
    _line, token = make_line()
    body = json.dumps({"caller": "+84 912 345 678"}).encode()
    response = client.post(
        URL,
        data=codecs.BOM_UTF8 + body,
        content_type=label,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    assert _pops()[0].caller_phone == "+84 912 345 678"


def test_a_form_body_after_a_byte_order_mark_is_read_whole(make_line, client):
    """`curl -d @pop.txt` of a file saved by a Windows editor: caller=...&line=... after a BOM;
    the first field's name must not carry the mark, or the call would come without its caller."""
    _line, token = make_line()
    response = client.post(
        URL,
        data=codecs.BOM_UTF8 + b"caller=%2B84+912+345+678",
        content_type="application/x-www-form-urlencoded",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    assert _pops()[0].caller_phone == "+84 912 345 678"


def test_a_body_of_another_kind_is_refused_as_unreadable(make_line, client):
    _line, token = make_line()
    response = client.post(
        URL,
        data="caller: 0912345678",
        content_type="text/plain",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 400 and response.get_json()["error"] == "bad_request"
    assert _pops() == []


def test_an_oversized_body_is_refused_as_json(make_line, client):
    _line, token = make_line()
    response = client.post(
        URL,
        json={"caller": NUMBER, "padding": "x" * 20_000},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 413 and response.get_json()["error"] == "too_large"
    assert _pops() == []


def test_the_api_is_rate_limited_per_line_in_json(app, make_line, make_org, announce, monkeypatch):
    monkeypatch.setitem(app.config, "SCREEN_POP_LIMIT", "2 per minute")
    _line, token = make_line()
    _other, other_token = make_line()
    assert [announce(token).status_code for _ in range(2)] == [201, 201]
    refused = announce(token)
    assert refused.status_code == 429 and refused.get_json()["error"] == "rate_limited"
    assert refused.headers["Retry-After"] == "60" and "Set-Cookie" not in refused.headers
    assert announce(other_token).status_code == 201


def test_only_the_api_is_exempt_from_csrf(make_line, login_as, client):
    line, _token = make_line()
    admin = login_as("admin", organisation=line.organisation)
    assert admin.organisation_id == line.organisation_id
    response = client.post(f"/admin/lines/{line.id}/revoke")
    assert response.status_code in (302, 400)
    assert db.session.get(PhoneLine, line.id).revoked_at is None


def test_the_link_uses_the_configured_public_address(app, make_line, announce, monkeypatch):
    monkeypatch.setitem(app.config, "SCREEN_POP_BASE_URL", "https://diemtua.example.vn/")
    _line, token = make_line()
    url = announce(token).get_json()["url"]
    assert re.match(r"^https://diemtua\.example\.vn/calls/pop/[A-Za-z0-9_-]{43}$", url)


def test_tokens_are_kept_only_as_their_hash(make_line):
    line, token = make_line()
    raw = db.session.execute(text("SELECT * FROM phone_line")).one()
    assert token not in " ".join(str(v) for v in raw)
    assert line.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert line.token_hint == token[-4:]


def test_a_get_on_the_api_is_answered_in_json(client):
    response = client.get(URL)
    assert response.status_code == 405 and response.get_json()["error"] == "http_405"
    assert response.headers["Allow"].split(", ").count("POST") == 1
    assert client.get("/admin/lines", headers={"Accept": "text/html"}).status_code in (302, 401)


def test_a_number_outside_vietnams_plan_is_handed_over_with_a_warning(make_line, announce):
    """A foreign caller whose trunk drops the "+", or a range newer than the phonenumbers data:
    the operator still gets the link, with the number as sent."""
    _line, token = make_line()
    response = announce(token, {"caller": "14155552671"})
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["warning"] == "caller_unrecognised"
    assert _pops()[0].caller_phone == "14155552671"
    both = announce(token, {"caller": "14155552671", "started_at": "2001-01-01T00:00:00+07:00"})
    assert both.get_json()["warning"] == "started_at_ignored,caller_unrecognised"


def test_a_line_revoked_while_its_call_is_announced_leaves_no_link(
    make_line, announce, make_user, monkeypatch
):
    line, token = make_line()
    checked = services.authenticate_line

    def revoked_after_the_check(supplied):
        found = checked(supplied)
        services.revoke_line(by=make_user("admin", organisation=found.organisation), line=found)
        return found

    monkeypatch.setattr(services, "authenticate_line", revoked_after_the_check)
    response = announce(token)
    assert response.status_code == 401 and response.get_json()["error"] == "unauthorized"
    assert _pops() == []


def test_a_line_given_a_new_token_while_its_call_is_announced_leaves_no_link(
    make_line, announce, make_user, monkeypatch
):
    line, token = make_line()
    checked = services.authenticate_line

    def rotated_after_the_check(supplied):
        found = checked(supplied)
        admin = make_user("admin", organisation=found.organisation)
        services.rotate_token(by=admin, line=db.session.get(PhoneLine, found.id))
        return found

    monkeypatch.setattr(services, "authenticate_line", rotated_after_the_check)
    assert announce(token).status_code == 401
    assert _pops() == []


def test_a_chunked_body_is_refused_whole_when_too_long_never_cut(make_line, client):
    """A body sent in chunks says no length; a server that ends the input itself (gunicorn)
    would have the 8 kB cap hand on its first 8 kB, fields past it dropped, a number cut."""
    import io

    _line, token = make_line()
    chunked = {"Authorization": f"Bearer {token}", "Transfer-Encoding": "chunked"}
    ended = {"wsgi.input_terminated": True}
    bodies = [
        (b"pad=" + b"x" * 20_000 + b"&caller=0912345678", "application/x-www-form-urlencoded"),
        (b'{"caller": "0912345678", "pad": "' + b"x" * 20_000 + b'"}', "application/json"),
    ]
    for body, kind in bodies:
        answer = client.post(URL, input_stream=io.BytesIO(body), headers=chunked,
                             content_type=kind, environ_overrides=ended)  # fmt: skip
        assert answer.status_code == 413 and answer.get_json()["error"] == "too_large"
    small = client.post(URL, input_stream=io.BytesIO(b"caller=0912345678"), headers=chunked,
                        content_type=bodies[0][1], environ_overrides=ended)  # fmt: skip
    assert small.status_code == 201 and _pops()[0].caller_phone == "0912345678"


def test_a_multipart_form_body_works_as_curl_f_sends_it(make_line, client):
    _line, token = make_line()
    response = client.post(
        URL,
        data={"caller": "0912345678", "line": "trunk-1"},
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    assert _pops()[0].caller_phone == "0912345678"
