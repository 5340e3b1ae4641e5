"""Need-to-know in the services, the keyed audit chain, and sign-in edge cases."""

import hashlib

import pytest
from sqlalchemy import text

from app import audit
from app.admin import services as admin_services
from app.audit import AuditEntry
from app.auditlog import verify as chain
from app.auth.models import User
from app.calls import services as calls
from app.cases import services as cases
from app.extensions import db
from tests.conftest import PASSWORD


def test_repeat_caller_lookup_stays_within_the_organisation(make_user):
    mine, theirs = make_user("operator"), make_user("operator")
    calls.log_call(by=theirs, caller_phone="0912345678")
    own = calls.log_call(by=mine, caller_phone="0912345678")
    found = calls.calls_from_number("0912 345 678", organisation_id=mine.organisation_id)
    assert [c.id for c in found] == [own.id]


def test_a_call_of_another_organisation_cannot_open_a_case(make_user):
    call = calls.log_call(by=make_user("operator"), caller_phone="0912345678")
    with pytest.raises(cases.CaseError):
        cases.open_case(by=make_user("operator"), call=call, survivor_name="X")


def test_only_a_supervisor_of_the_organisation_may_erase(make_user, make_org):
    org = make_org()
    operator = make_user("operator", organisation=org)
    case = cases.open_case(by=operator, survivor_name="Y")
    for who in (operator, make_user("supervisor")):
        with pytest.raises(cases.CaseError):
            cases.erase_case(case=case, by=who, reason="survivor_request")
    cases.erase_case(
        case=case, by=make_user("supervisor", organisation=org), reason="survivor_request"
    )


def test_the_chain_cannot_be_rewritten_without_the_audit_key(make_user):
    user = make_user("supervisor")
    audit.record("view", user=user, object_type="case", object_id="a")
    db.session.commit()
    entry = db.session.query(AuditEntry).order_by(AuditEntry.id.desc()).first()
    values = [getattr(entry, name) for name in audit.HASHED]
    values[audit.HASHED.index("action")] = "export"
    forged = hashlib.sha256(audit.canonical(values)).hexdigest()  # an attacker's best guess
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER USER"))
        conn.execute(
            text("UPDATE audit_entry SET action = 'export', hash = :h WHERE id = :i"),
            {"h": forged, "i": entry.id},
        )
        conn.execute(text("UPDATE audit_head SET last_hash = :h"), {"h": forged})
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_entry ENABLE TRIGGER USER"))
    db.session.expire_all()
    result = chain.verify()
    assert (result.broken_at, result.problem) == (entry.id, "changed")


def test_fields_cannot_slide_into_each_other():
    from datetime import UTC, datetime

    at = datetime(2026, 1, 1, tzinfo=UTC)
    base = [1, at, 2, "operator", 3, "view", "case", "x", None, "a|b", None, "r", "ip", "0"]
    moved = [1, at, 2, "operator", 3, "view", "case", "x", None, "a", "b", "r", "ip", "0"]
    empty = [1, at, 2, "operator", 3, "view", "case", "x", None, "", None, "r", "ip", "0"]
    none = [1, at, 2, "operator", 3, "view", "case", "x", None, None, None, "r", "ip", "0"]
    assert audit.canonical(base) != audit.canonical(moved)
    assert audit.canonical(empty) != audit.canonical(none)


@pytest.mark.parametrize("target", ["/\\evil.example/x", "/\t/evil.example", "\\\\evil"])
def test_next_links_that_browsers_would_send_elsewhere_are_ignored(client, make_user, target):
    user = make_user("operator")
    client.get("/auth/login", query_string={"next": target})
    from tests.conftest import sign_in

    assert sign_in(client, user).location == "/home/operator"


def test_a_password_reset_cancels_a_half_finished_sign_in(client, make_user):
    user = make_user("supervisor")
    step = client.submit("/auth/login", {"email": user.email, "password": PASSWORD})
    assert step.location == "/auth/verify"
    admin_services.reset_password(by=None, user=db.session.get(User, user.id))
    assert client.get("/auth/verify").location == "/auth/login"
