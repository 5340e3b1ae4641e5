"""The audit log: hash chain, tamper detection, append-only on PostgreSQL, browsing, export."""

import csv
import io

import pytest
from flask import g
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from app import audit
from app.audit import AuditEntry
from app.auditlog import verify as chain
from app.clock import LOCAL, utcnow
from app.extensions import db
from tests.conftest import sign_in


def _chain(user, n=6):
    for i in range(n):
        audit.record("view", user=user, object_type="case", object_id=f"obj-{i}")
    db.session.commit()


def _tamper(sql: str) -> None:
    """Change rows behind the app's back, as an attacker with database access would."""
    with db.engine.begin() as conn:
        postgres = conn.dialect.name == "postgresql"
        if postgres:
            conn.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER USER"))
        conn.execute(text(sql))
        if postgres:
            conn.execute(text("ALTER TABLE audit_entry ENABLE TRIGGER USER"))


def _first_case_entry() -> int:
    return db.session.execute(
        text("SELECT min(id) FROM audit_entry WHERE object_id LIKE 'obj-%'")
    ).scalar_one()


def test_a_clean_chain_verifies(app, make_user):
    _chain(make_user("supervisor"))
    assert chain.verify().ok
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    "attack, problem",
    [
        ("UPDATE audit_entry SET action = 'export' WHERE id = {n}", "changed"),
        (
            "UPDATE audit_entry SET at = at WHERE id = {n}; UPDATE audit_entry SET ip = '10.0.0.9' "
            "WHERE id = {n}",
            "changed",
        ),
        ("DELETE FROM audit_entry WHERE id = {n}", "missing"),
    ],
)
def test_changing_or_deleting_a_row_fails_at_that_row(app, make_user, attack, problem):
    _chain(make_user("supervisor"))
    n = _first_case_entry() + 2
    for statement in attack.format(n=n).split("; "):
        _tamper(statement)
    db.session.expire_all()
    result = chain.verify()
    assert (result.broken_at, result.problem) == (n, problem)
    cli = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert cli.exit_code == 1 and str(n) in cli.output


def test_reordering_two_rows_fails_at_the_first(make_user):
    _chain(make_user("supervisor"))
    n = _first_case_entry() + 1
    _tamper(f"UPDATE audit_entry SET id = -1 WHERE id = {n}")
    _tamper(f"UPDATE audit_entry SET id = {n} WHERE id = {n + 1}")
    _tamper(f"UPDATE audit_entry SET id = {n + 1} WHERE id = -1")
    db.session.expire_all()
    assert chain.verify().broken_at == n


def test_cutting_the_end_of_the_chain_is_seen(make_user):
    _chain(make_user("supervisor"))
    last = db.session.execute(text("SELECT max(id) FROM audit_entry")).scalar_one()
    _tamper(f"DELETE FROM audit_entry WHERE id = {last}")
    db.session.expire_all()
    assert chain.verify().problem == "tail"


def test_postgresql_refuses_update_delete_and_truncate(make_user):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's")
    _chain(make_user("supervisor"), n=1)
    for statement in (
        "UPDATE audit_entry SET action = 'x'",
        "DELETE FROM audit_entry",
        "TRUNCATE audit_entry",
    ):
        with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
            conn.execute(text(statement))


def test_entries_name_who_where_and_never_content(client, make_user):
    user = make_user("operator")
    sign_in(client, user)
    entry = db.session.query(AuditEntry).filter_by(action="login_success").one()
    assert (entry.user_id, entry.role, entry.organisation_id) == (
        user.id,
        "operator",
        user.organisation_id,
    )
    assert entry.ip == "127.0.0.1" and entry.request_id and entry.at.tzinfo is not None
    assert len(entry.hash) == 64 and entry.prev_hash != entry.hash


def test_supervisors_browse_filter_and_export_their_organisation_only(
    client, login_as, make_user, make_org
):
    supervisor = login_as("supervisor")
    colleague = make_user("operator", organisation=supervisor.organisation)
    outsider = make_user("operator")
    for person in (colleague, outsider):
        audit.record("view", user=person, object_type="case", object_id="x")
    db.session.commit()
    page = client.get("/audit/").get_data(as_text=True)
    assert colleague.full_name in page and outsider.full_name not in page
    filtered = client.get(f"/audit/?user={colleague.id}&action=view").get_data(as_text=True)
    assert filtered.count("<tr>") == 2  # header row and one entry
    exported = client.get(f"/audit/export.csv?user={colleague.id}")
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][0] == "#" and len(rows) == 2 and rows[1][2] == colleague.full_name
    assert db.session.query(AuditEntry).filter_by(action="export").count() == 1


@pytest.mark.parametrize("role", ["operator", "case_manager", "partner"])
def test_other_roles_cannot_see_the_log(client, login_as, role):
    login_as(role)
    assert client.get("/audit/").status_code == 403
    assert client.get("/audit/export.csv").status_code == 403


def test_the_log_reads_in_vietnamese_and_keeps_its_period_across_pages(
    client, login_as, make_user, monkeypatch
):
    """Object types as words, the period typed dd/mm/yyyy (kept as typed, said when
    unreadable), and the next page of a period still that period."""
    from app.auditlog import views

    supervisor = login_as("supervisor")
    colleague = make_user("operator", organisation=supervisor.organisation)
    for _ in range(3):
        audit.record("view", user=colleague, object_type="case", object_id="x")
    audit.record("denied", user=colleague, object_type="phone_line", object_id="7")
    db.session.commit()
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    today = utcnow().astimezone(LOCAL).strftime("%d/%m/%Y")
    page = client.get(f"/audit/?from={today}&to={today}").get_data(as_text=True)
    assert f'value="{today}"' in page and 'type="date"' not in page
    assert "<td>Ca</td>" in page and ">case<" not in page
    assert f"page=2&amp;user=&amp;case=&amp;action=&amp;from={today}&amp;to={today}" in page
    later = "01/01/2099"
    empty = client.get(f"/audit/?from={later}").get_data(as_text=True)
    assert "Không có mục nào phù hợp." in empty
    bad = client.get("/audit/?from=31/02/2026").get_data(as_text=True)
    assert 'value="31/02/2026"' in bad and 'aria-invalid="true"' in bad
    assert "/audit/export.csv" not in bad  # no export of a period that could not be read
    exported = client.get("/audit/export.csv?from=31/02/2026")
    assert exported.status_code == 302 and "export.csv" not in exported.location
    assert db.session.query(AuditEntry).filter_by(action="export").count() == 0
    # A phone number typed in a date box stays in its box, and goes on in no link or redirect.
    phone = client.get(f"/audit/?from=0912+345+678&to={today}").get_data(as_text=True)
    assert 'value="0912 345 678"' in phone and phone.count("0912") == 1
    assert f"page=2&amp;user=&amp;case=&amp;action=&amp;to={today}" in phone
    exported = client.get("/audit/export.csv?from=0912+345+678")
    assert exported.status_code == 302 and "0912" not in exported.location
    # A period ending before it starts is said, as the case search says it; no export of it.
    backwards = client.get("/audit/?from=08/12/2026&to=07/12/2026").get_data(as_text=True)
    assert (
        "Ngày kết thúc đang ở trước ngày bắt đầu" in backwards
        and 'aria-invalid="true"' in backwards
    )
    assert "/audit/export.csv" not in backwards
    exported = client.get("/audit/export.csv?from=08/12/2026&to=07/12/2026")
    assert exported.status_code == 302 and "export.csv" not in exported.location
    for edge in ("01/01/0001", "31/12/9999"):  # off the calendar once made local: unreadable
        page = client.get(f"/audit/?from={edge}&to={edge}")
        assert page.status_code == 200 and 'aria-invalid="true"' in page.get_data(as_text=True)
    assert "Đường dây điện thoại" in client.get("/audit/?action=denied").get_data(as_text=True)


def test_the_export_writes_formulas_as_text_and_refuses_to_cut_a_period_short(
    client, login_as, make_user, monkeypatch
):
    """A name an admin typed as a formula is text in the spreadsheet; an export larger than
    one file holds is refused with the reason, never cut off without a word."""
    from app.auditlog import views

    supervisor = login_as("supervisor")
    sly = make_user(
        "operator", organisation=supervisor.organisation, full_name='=HYPERLINK("http://x","y")'
    )
    for _ in range(3):
        audit.record("view", user=sly, object_type="case", object_id="x", detail="-2+3")
    db.session.commit()
    exported = client.get(f"/audit/export.csv?user={sly.id}")
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[1][2] == "'" + sly.full_name and rows[1][8] == "'-2+3"
    # In the reader's language, with the codes again at the end for scripts.
    assert rows[0][:5] == ["#", "Thời gian", "Người dùng", "Vai trò", "Hành động"]
    assert (rows[1][4], rows[1][-4]) == ("Đã xem", "view")
    monkeypatch.setattr(views, "EXPORT_LIMIT", 2)
    refused = client.get(f"/audit/export.csv?user={sly.id}")
    assert refused.status_code == 302 and "export.csv" not in refused.location
    assert "quá nhiều cho một tệp" in client.get(refused.location).get_data(as_text=True)
    assert db.session.query(AuditEntry).filter_by(action="export").count() == 1


def test_a_role_refused_at_a_case_is_in_that_cases_organisation_log(
    app, client, login_as, make_user, make_org
):
    """A partner (or an admin) trying a case's address is refused for the role; the attempt
    is in the log of the case's organisation, with the case and the page asked for."""
    from app.cases.services import open_case

    org = make_org()
    case = open_case(by=make_user("operator", organisation=org), survivor_name="Người Mẫu")
    db.session.commit()
    login_as("partner")  # of another organisation
    assert client.get(f"/cases/{case.id}").status_code == 403
    entry = (
        db.session.execute(
            select(AuditEntry).where(AuditEntry.action == "denied").order_by(AuditEntry.id.desc())
        )
        .scalars()
        .first()
    )
    assert (entry.case_id, entry.organisation_id) == (case.id, org.id)
    supervisor = app.test_client()
    sign_in(supervisor, make_user("supervisor", organisation=org))
    page = supervisor.get("/audit/?action=denied").get_data(as_text=True)
    assert case.number in page and "trang mà vai trò này không được mở: cases.show" in page


def _last_denial() -> AuditEntry:
    db.session.rollback()
    query = select(AuditEntry).where(AuditEntry.action == "denied")
    return db.session.execute(query.order_by(AuditEntry.id.desc())).scalars().first()


def test_a_role_refused_at_a_case_or_draft_named_in_the_query_is_in_its_owners_log(
    client, login_as, make_user, make_org
):
    """ "New call on this case" names the case in its query (`/calls/new?case=<id>`), an
    unsaved intake offered back its key (`?draft=`), and the unsaved intake's own page its key in
    the path: a partner refused them for the role is in the log of the hotline whose record it
    is, with the object, as an operator of another hotline refused the same object is."""
    import uuid

    from app.calls.drafts import save_draft
    from app.cases.services import open_case

    org = make_org()
    operator = make_user("operator", organisation=org)
    case = open_case(by=operator, survivor_name="Người Mẫu")
    key = uuid.uuid4()
    save_draft(user=operator, intake_key=key, fields={"narrative": "chưa lưu"})
    db.session.commit()
    login_as("partner")  # of another organisation
    assert client.get(f"/calls/new?case={case.id}").status_code == 403
    entry = _last_denial()
    assert (entry.object_type, entry.case_id, entry.organisation_id) == ("case", case.id, org.id)
    for address in (f"/calls/new?draft={key}", f"/calls/drafts/{key}"):
        assert client.get(address).status_code == 403
        entry = _last_denial()
        assert (entry.object_type, entry.object_id) == ("intake_draft", str(key))
        assert entry.organisation_id == org.id
    assert client.get("/calls/new?case=not-an-id").status_code == 403
    assert _last_denial().object_type is None


def test_the_log_filters_by_a_case_number_in_any_spelling(client, login_as):
    from app.cases import services as cases

    supervisor = login_as("supervisor")
    case = cases.open_case(by=supervisor)
    audit.record("view", user=supervisor, object_type="case", object_id=case.id, case_id=case.id)
    db.session.commit()
    loose = case.number.lower().replace("-", " ").replace(" 00000", " ")
    page = client.get("/audit/", query_string={"case": loose}).get_data(as_text=True)
    assert page.count("<tr>") > 1 and case.number in page
    phone = client.get("/audit/", query_string={"case": "0912 345 678"}).get_data(as_text=True)
    assert phone.count("<tr>") == 2  # the header and "Nothing matches."
    # Said on the page (the script that stops it may be off), and carried on in no link.
    assert '<p class="error" id="f-case-error">Hãy ghi số ca, ví dụ HN-2026-000123.' in phone
    assert "0912" not in phone
    export = client.get("/audit/export.csv", query_string={"case": "0912 345 678", "user": 0})
    assert export.status_code == 302 and "0912" not in export.location


def test_the_log_shows_an_entrys_fixed_words_in_the_readers_language(client, login_as):
    """Details are stored in a fixed English vocabulary; the page and the export read them in
    the user's language, and what is not in it (ids, field names) stays as stored."""
    supervisor = login_as("supervisor")
    org = supervisor.organisation_id
    audit.record("screen_pop", object_type="screen_pop", organisation_id=org,
                 detail="line 4; number withheld")  # fmt: skip
    audit.record("view", user=supervisor, object_type="case", detail="edit form")
    audit.record("update", user=supervisor, object_type="case", detail="survivor_name")
    db.session.commit()
    page = client.get("/audit/").get_data(as_text=True)
    assert "đường dây 4; số bị ẩn" in page and "biểu mẫu sửa" in page
    assert "survivor_name" in page and "number withheld" not in page
    exported = client.get("/audit/export.csv").get_data(as_text=True).lstrip("\ufeff")
    rows = {row[-4]: row for row in csv.reader(io.StringIO(exported)) if len(row) > 8}
    assert rows["screen_pop"][8] == "đường dây 4; số bị ẩn"
    assert rows["screen_pop"][-2] == "line 4; number withheld"


def test_status_moves_counts_and_erasure_reasons_read_in_the_readers_language(
    client, login_as, app
):
    """A status move, the tasks a closure ended, an import's counts: codes to the database,
    words to the reader, on the page and in the export, whose last columns keep the codes;
    an erasure's reason code too."""
    from flask_babel import force_locale

    from app.auth.labels import detail_text

    with app.test_request_context(), force_locale("vi"):
        said = detail_text("pending_closure>closed tasks_ended=2")
        assert said == "Chờ đóng ca → Đã đóng 2 việc chưa xong đã được kết thúc"
        assert "Đang hỗ trợ" in detail_text("open>in_support assign")
        counts = detail_text("read=15 written=12 skipped=3 duplicates=0 warnings=2 closed=4")
        assert "in_support" not in said and "read=" not in counts and "12" in counts
        assert detail_text("task:7 done").startswith("task:7 ")
    supervisor = login_as("supervisor")
    audit.record("erase", user=supervisor, object_type="case", reason="recorded_in_error",
                 detail="in_support>erased")  # fmt: skip
    db.session.commit()
    exported = client.get("/audit/export.csv").get_data(as_text=True).lstrip("\ufeff")
    rows = {row[-4]: row for row in csv.reader(io.StringIO(exported)) if len(row) > 8}
    assert "recorded_in_error" not in rows["erase"][9] and rows["erase"][-1] == "recorded_in_error"
    assert (
        rows["erase"][8] == "Đang hỗ trợ → Đã xoá vĩnh viễn"
        and rows["erase"][-2] == "in_support>erased"
    )


def test_every_fixed_detail_the_code_writes_reads_in_the_readers_language(app):
    """A detail written as a fixed phrase (`detail="..."`) has its words in DETAIL_LABELS, so
    the Vietnamese log never shows it in English; the made-up ones read through their patterns."""
    import re
    from pathlib import Path

    from flask_babel import force_locale

    from app.auth.labels import DETAIL_LABELS, detail_text

    written = set()
    for source in Path(app.root_path).rglob("*.py"):
        written.update(re.findall(r'detail="([a-z][a-z_ \'-]*[a-z])"', source.read_text()))
    assert "closure self-approval" in written  # the scan finds what it is for
    assert sorted(written - set(DETAIL_LABELS)) == []
    with app.test_request_context(), force_locale("en"):
        assert detail_text("role: admin.users") == "a page this role may not open: admin.users"
        assert detail_text("page: cases.keep_draft") == "asked on the page cases.keep_draft"
        assert detail_text("phone matched=2") == "search by phone number: 2 cases found"
        assert detail_text("operator") == "Hotline operator"
    with app.test_request_context(), force_locale("vi"):
        assert detail_text("page: cases.show") == "yêu cầu ở trang cases.show"
        for english in ("role: admin.users", "phone matched=2", "operator", "phone"):
            shown = detail_text(english)
            assert shown != english and "search" not in shown and "role" not in shown, shown


def test_a_request_id_anyone_may_send_is_never_a_formula_in_the_export(
    app, client, login_as, make_user
):
    """X-Request-ID comes from anyone, signed in or not: one starting with a formula's sign is
    not taken (a fresh one is made), and the export writes the column as text anyway."""
    supervisor = login_as("supervisor")
    target = make_user("operator", organisation=supervisor.organisation)
    stranger = app.test_client()
    stranger.post(
        "/auth/login",
        data={"email": target.email, "password": "wrong", "csrf_token": stranger.csrf_token()},
        headers={"X-Request-ID": "-1-1-1-1-1-1"},
    )
    failure = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "login_failure")
    ).scalar_one()
    assert failure.request_id != "-1-1-1-1-1-1"
    with app.test_request_context():  # an entry written before ids were held to that
        g.request_id = "@SUM(1)"
        audit.record("view", user=supervisor, object_type="case", detail="x")
        db.session.commit()
    exported = client.get("/audit/export.csv").get_data(as_text=True).lstrip("\ufeff")
    rows = {row[-4]: row for row in csv.reader(io.StringIO(exported)) if len(row) > 8}
    assert rows["view"][11] == "'@SUM(1)"
