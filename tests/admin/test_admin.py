"""Admins create, edit, disable and reset accounts and manage organisations; so do the commands."""

import re

from sqlalchemy import func, select

from app.audit import AuditEntry
from app.auth.models import Organisation, User
from app.extensions import db
from tests.conftest import sign_in


def _user(email: str) -> User:
    db.session.expire_all()
    return db.session.execute(select(User).where(User.email == email)).scalar_one()


def test_admin_creates_an_account_with_a_one_time_password(app, client, login_as, make_org):
    login_as("admin")
    org = make_org(name="Trung tâm CTXH Thử")
    response = client.submit(
        "/admin/users/new",
        {
            "full_name": "Nguyễn Thị Thử",
            "email": "new.staff@example.org",
            "role": "case_manager",
            "organisation_id": org.id,
            "language": "vi",
        },
    )
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    temp = re.search(r'id="temporary-password">([^<]+)<', page).group(1)
    assert 'id="temporary-password"' not in client.get(response.location).get_data(as_text=True)
    created = _user("new.staff@example.org")
    assert created.must_change_password and created.role == "case_manager"
    newcomer = app.test_client()
    first = newcomer.submit("/auth/login", {"email": "new.staff@example.org", "password": temp})
    assert first.location == "/auth/password"


def test_form_errors_mark_the_field_and_keep_the_values(client, login_as, make_user):
    login_as("admin")
    taken = make_user("operator")
    response = client.submit(
        "/admin/users/new",
        {
            "full_name": "Trần Văn Giữ",
            "email": taken.email,
            "role": "operator",
            "organisation_id": taken.organisation_id,
            "language": "vi",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="email-error"' in page and 'value="Trần Văn Giữ"' in page
    bad = client.submit(
        "/admin/users/new",
        {
            "full_name": "Trần Văn Giữ",
            "email": "not-an-email",
            "role": "operator",
            "organisation_id": taken.organisation_id,
            "language": "vi",
        },
    )
    assert 'id="email-error"' in bad.get_data(as_text=True)
    assert db.session.execute(select(func.count(User.id))).scalar_one() == 2


def test_double_submit_creates_one_account(client, login_as, make_org):
    login_as("admin")
    org = make_org()
    data = {
        "full_name": "Lê Thị Một Lần",
        "email": "once@example.org",
        "role": "operator",
        "organisation_id": org.id,
        "language": "vi",
    }
    token = client.csrf_token("/admin/users/new")
    first = client.post("/admin/users/new", data=data | {"csrf_token": token})
    second = client.post("/admin/users/new", data=data | {"csrf_token": token})
    assert first.status_code == 302 and second.status_code == 200
    count = db.session.execute(
        select(func.count(User.id)).where(User.email == "once@example.org")
    ).scalar_one()
    assert count == 1


def test_admin_edits_role_and_the_users_sessions_end(app, client, login_as, make_user):
    login_as("admin")
    staff = make_user("operator")
    theirs = app.test_client()
    sign_in(theirs, staff)
    response = client.submit(
        f"/admin/users/{staff.id}/edit",
        {
            "full_name": staff.full_name,
            "email": staff.email,
            "role": "case_manager",
            "organisation_id": staff.organisation_id,
            "language": "en",
        },
    )
    assert response.location == f"/admin/users/{staff.id}"
    assert _user(staff.email).role == "case_manager"
    assert theirs.get("/home/operator").status_code == 302


def test_admin_cannot_change_own_role_or_disable_self(client, login_as):
    me = login_as("admin")
    client.submit(
        f"/admin/users/{me.id}/edit",
        {
            "full_name": me.full_name,
            "email": me.email,
            "role": "operator",
            "organisation_id": me.organisation_id,
            "language": "vi",
        },
    )
    assert _user(me.email).role == "admin"
    client.submit(f"/admin/users/{me.id}/disable", {}, page=f"/admin/users/{me.id}")
    assert _user(me.email).active


def test_disable_enable_reset_and_mfa_reset_are_recorded(client, login_as, make_user):
    admin = login_as("admin")
    staff = make_user("supervisor")
    page = f"/admin/users/{staff.id}"
    client.submit(f"/admin/users/{staff.id}/disable", {}, page=page)
    assert not _user(staff.email).active
    client.submit(f"/admin/users/{staff.id}/enable", {}, page=page)
    assert _user(staff.email).active
    reset = client.submit(f"/admin/users/{staff.id}/reset-password", {}, page=page)
    assert "temporary-password" in reset.location
    client.submit(f"/admin/users/{staff.id}/reset-mfa", {}, page=page)
    assert not _user(staff.email).totp_enabled
    kinds = {
        e.action
        for e in db.session.execute(
            select(AuditEntry).where(AuditEntry.user_id == admin.id)
        ).scalars()
    }
    assert {"user_disabled", "user_enabled", "password_reset", "mfa_reset"} <= kinds


def test_an_accounts_page_shows_its_sign_in_events_not_its_case_work(client, login_as, make_user):
    """An admin sees when a person signed in, not which cases they opened or were refused."""
    from app import audit

    login_as("admin")
    staff = make_user("operator")
    sign_in(client.application.test_client(), staff)  # a sign-in of theirs
    audit.record("view", user=staff, object_type="case", detail="case page")
    audit.record("denied", user=staff, object_type="case", detail="role: cases.show")
    db.session.commit()
    html = client.get(f"/admin/users/{staff.id}").get_data(as_text=True)
    events = html[html.index("Hoạt động đăng nhập gần đây") :].split("</table>")[0]
    assert "<td>Đăng nhập</td>" in events
    assert "Đã xem" not in events and "Bị từ chối truy cập" not in events


def test_user_list_filters(client, login_as, make_user):
    login_as("admin")
    make_user("operator", full_name="Đỗ Thị Lọc")
    make_user("partner", full_name="Bệnh viện Người Dùng")
    page = client.submit("/admin/users", {"q": "lọc"}).get_data(as_text=True)
    assert "Đỗ Thị Lọc" in page and "Bệnh viện Người Dùng" not in page
    # What was searched for travels in the body only: never in an address of the page.
    assert not re.search(r'(href|action)="[^"]*l%E1%BB%8Dc', page, flags=re.I)
    assert "Bệnh viện Người Dùng" in client.get("/admin/users?q=lọc").get_data(as_text=True)
    page = client.get("/admin/users?role=partner").get_data(as_text=True)
    assert "Bệnh viện Người Dùng" in page and "Đỗ Thị Lọc" not in page


def test_admin_manages_organisations(client, login_as):
    login_as("admin")
    response = client.submit(
        "/admin/organisations/new",
        {
            "name": "Hội LHPN Thử",
            "code": "hlhpn",
            "kind": "womens_union",
            "province_code": "",
            "phone": "",
        },
    )
    assert response.location == "/admin/organisations"
    org = db.session.execute(select(Organisation).where(Organisation.code == "HLHPN")).scalar_one()
    duplicate = client.submit(
        "/admin/organisations/new", {"name": "Khác", "code": "HLHPN", "kind": "hotline"}
    )
    assert 'id="code-error"' in duplicate.get_data(as_text=True)
    client.submit(
        f"/admin/organisations/{org.id}/edit",
        {"name": "Hội LHPN Thử (mới)", "code": "HLHPN", "kind": "womens_union", "active": "y"},
    )
    db.session.expire_all()
    assert db.session.get(Organisation, org.id).name == "Hội LHPN Thử (mới)"


def test_organisation_with_active_accounts_cannot_be_deactivated(client, login_as, make_user):
    login_as("admin")
    staff = make_user("operator")
    org = staff.organisation
    response = client.submit(
        f"/admin/organisations/{org.id}/edit",
        {"name": org.name, "code": org.code, "kind": org.kind},
    )
    assert 'id="active-error"' in response.get_data(as_text=True)
    denied = db.session.execute(
        select(AuditEntry).where(
            AuditEntry.action == "denied", AuditEntry.organisation_id == org.id
        )
    ).scalar_one()  # a refusal by rule, audited as the account refusals are
    assert denied.detail == "organisation_with_active_accounts"


def test_unknown_account_is_404(client, login_as):
    login_as("admin")
    assert client.get("/admin/users/999999").status_code == 404


def test_commands_create_disable_and_reset(app, make_org):
    make_org(code="CLI", name="Tổ chức dòng lệnh")
    runner = app.test_cli_runner()
    created = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "cli@example.org",
            "--name",
            "Dòng Lệnh",
            "--role",
            "operator",
            "--org",
            "cli",
        ]
    )
    assert created.exit_code == 0, created.output
    assert "Mật khẩu tạm thời" in created.output
    again = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "cli@example.org",
            "--name",
            "X",
            "--role",
            "operator",
            "--org",
            "CLI",
        ]
    )
    assert again.exit_code == 1 and "đã được một tài khoản khác sử dụng" in again.output
    reset = runner.invoke(args=["users", "reset-password", "cli@example.org"])
    assert reset.exit_code == 0 and "Mật khẩu tạm thời" in reset.output
    import uuid

    from app.calls.drafts import save_draft

    save_draft(user=_user("cli@example.org"), intake_key=uuid.uuid4(), fields={"narrative": "x"})
    disabled = runner.invoke(args=["users", "disable", "cli@example.org"])
    assert disabled.exit_code == 0
    assert "1 phiếu tiếp nhận chưa lưu" in disabled.output  # what it leaves waiting, said
    assert not _user("cli@example.org").active
    listed = runner.invoke(args=["users", "list"]).output  # in the installation's language
    line = next(row for row in listed.splitlines() if row.startswith("cli@example.org"))
    assert "Tư vấn viên tổng đài" in line
    assert line.endswith("Đã vô hiệu hoá")
    assert "Tổ chức dòng lệnh" in runner.invoke(args=["orgs", "list"]).output
    missing = runner.invoke(args=["users", "disable", "nobody@example.org"])
    assert missing.exit_code == 1 and "Không có tài khoản" in missing.output


def test_seed_demo_creates_one_account_per_role_once(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed-demo", "--if-empty"]).exit_code == 0
    roles = sorted(u.role for u in db.session.execute(select(User)).scalars())
    assert roles == sorted(["operator", "case_manager", "supervisor", "admin", "partner"])
    assert runner.invoke(args=["seed-demo", "--if-empty"]).exit_code == 0
    assert db.session.execute(select(func.count(User.id))).scalar_one() == 5
    logins = runner.invoke(args=["demo-logins"]).output
    assert "supervisor@example.org" in logins and "khoá mã một lần" in logins
    code = runner.invoke(args=["demo-code", "admin@example.org"]).output.strip()
    assert re.fullmatch(r"\d{6}", code)


def test_the_demo_has_calls_and_cases_to_show(app):
    """The demo desk is not empty: a case for the case manager with a repeat call on it, a
    child case waiting for a supervisor, two calls without a case; all sealed as usual."""
    from app.auditlog.verify import verify
    from app.calls.models import Call
    from app.calls.services import calls_from_number
    from app.cases.models import Case

    assert app.test_cli_runner().invoke(args=["seed-demo", "--if-empty"]).exit_code == 0
    cases = db.session.execute(select(Case).order_by(Case.opened_at)).scalars().all()
    manager = _user("case_manager@example.org")
    adult, child = cases
    assert adult.assigned_to_id == manager.id and adult.risk_level == "high"
    assert len(adult.calls) == 2 and b"Demo Lan" not in adult.survivor_name_sealed
    assert child.is_child and child.assigned_to_id is None
    assert {t.kind for t in child.tasks} >= {"notify_commune"}
    assert db.session.execute(select(func.count(Call.id))).scalar_one() == 5
    operator = _user("operator@example.org")
    assert len(calls_from_number("+84912000111", organisation_id=operator.organisation_id)) == 2
    assert verify().ok
    # What the first call recorded is dated with it, before the repeat call of two days later:
    # a training case whose tasks were made after their follow-ups teaches the wrong reading.
    first_call, repeat = sorted(adult.calls, key=lambda call: call.started_at)
    recorded = [
        *(task.created_at for task in adult.tasks),
        *(a.assessed_at for a in adult.assessments),
        *(c.recorded_at for c in adult.consents),
    ]
    assert recorded and all(first_call.started_at <= at < repeat.started_at for at in recorded)
