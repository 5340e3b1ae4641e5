"""From a review of accounts, admin and the audit log: another organisation's staff are not
named to a supervisor who types their ids, an inactive organisation's account stays where it
is when edited, a sign-in waiting for its code after the codes were reset starts again, and a
session's end is told in Vietnamese."""

import re

from sqlalchemy import select

from app.admin import services as admin
from app.audit import AuditEntry
from app.auth.models import Organisation, User
from app.extensions import db
from tests.conftest import PASSWORD, current_code, sign_in


def test_a_supervisor_typing_another_hotlines_account_id_learns_no_name(
    client, login_as, make_org, make_user
):
    sup = login_as("supervisor")
    stranger = make_user(
        "case_manager", organisation=make_org(code="XB"), full_name="Phạm Thị Người Lạ"
    )
    assert client.get(f"/admin/users/{stranger.id}").status_code == 403
    db.session.rollback()
    [entry] = db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "denied", AuditEntry.user_id == sup.id)
    ).scalars()
    assert entry.organisation_id == stranger.organisation_id  # in the log of that hotline
    shown = client.get("/audit/?action=denied").get_data(as_text=True)
    assert "Phạm Thị Người Lạ" not in shown
    own = make_user("operator", organisation=sup.organisation, full_name="Lê Văn Đồng Nghiệp")
    assert client.get(f"/admin/users/{own.id}").status_code == 403
    assert "Lê Văn Đồng Nghiệp" in client.get("/audit/?action=denied").get_data(as_text=True)


def test_an_account_of_an_inactive_organisation_stays_there_when_edited(
    client, login_as, make_org, make_user
):
    admin_user = login_as("admin")
    closed = make_org(code="ZZ", name="Trung tâm đã đóng")
    staff = make_user("operator", organisation=closed)
    admin.set_user_active(by=admin_user, user=staff, active=False)
    closed.active = False
    db.session.commit()
    page = client.get(f"/admin/users/{staff.id}/edit").get_data(as_text=True)
    assert re.search(rf'<option selected value="{closed.id}">Trung tâm đã đóng \(', page) or (
        f'value="{closed.id}" selected' in page
    )
    sent = client.submit(
        f"/admin/users/{staff.id}/edit",
        {
            "full_name": "Tên Mới",
            "email": staff.email,
            "role": "operator",
            "organisation_id": str(closed.id),
            "language": "vi",
        },
    )
    assert sent.status_code == 302
    db.session.expire_all()
    kept = db.session.get(User, staff.id)
    assert (kept.full_name, kept.organisation_id) == ("Tên Mới", closed.id)
    others = [o.id for o in db.session.execute(select(Organisation)).scalars() if o.active]
    moved = client.submit(
        f"/admin/users/{staff.id}/edit",
        {
            "full_name": "Tên Mới",
            "email": staff.email,
            "role": "operator",
            "organisation_id": str(others[0]),
            "language": "vi",
        },
    )
    assert moved.status_code == 302  # moving it to an active one is still allowed
    other = make_org(code="YY")
    other.active = False
    db.session.commit()
    refused = client.submit(
        f"/admin/users/{staff.id}/edit",
        {
            "full_name": "Tên Mới",
            "email": staff.email,
            "role": "operator",
            "organisation_id": str(other.id),
            "language": "vi",
        },
    )
    assert refused.status_code == 200  # not into an inactive one


def test_a_sign_in_waiting_for_its_code_after_the_codes_were_reset_starts_again(
    app, client, make_user
):
    user = make_user("supervisor")
    code = current_code(user)
    answer = client.submit("/auth/login", {"email": user.email, "password": PASSWORD})
    assert answer.location == "/auth/verify"
    admin_user = make_user("admin")
    admin.reset_mfa(by=admin_user, user=db.session.get(User, user.id))
    db.session.commit()
    sent = client.submit("/auth/verify", {"code": code}, page="/auth/login")
    assert sent.status_code == 302 and sent.location == "/auth/login"
    assert client.get("/home/supervisor").status_code == 302


def test_why_a_session_ended_is_told_in_vietnamese(app, client, login_as, make_user):
    sup = login_as("supervisor")
    other = app.test_client()
    sign_in(other, make_user("operator", organisation=sup.organisation))
    other.submit("/auth/logout", {}, page="/home/operator")
    shown = client.get("/audit/?action=logout").get_data(as_text=True)
    assert "người dùng tự đăng xuất" in shown


def test_an_account_moved_out_is_in_the_log_of_the_organisation_it_left(
    app, client, login_as, make_org, make_user
):
    login_as("admin")
    first, second = make_org(code="AA"), make_org(code="BB")
    staff = make_user("operator", organisation=first)
    sent = client.submit(
        f"/admin/users/{staff.id}/edit",
        {
            "full_name": staff.full_name,
            "email": staff.email,
            "role": "operator",
            "organisation_id": str(second.id),
            "language": "vi",
        },
    )
    assert sent.status_code == 302
    db.session.rollback()
    logged = db.session.execute(
        select(AuditEntry.organisation_id).where(
            AuditEntry.action == "user_updated", AuditEntry.object_id == str(staff.id)
        )
    ).scalars()
    assert sorted(logged) == sorted([first.id, second.id])
    # Its name is still shown to the supervisors of the organisation it left, in their log.
    watcher = app.test_client()
    sign_in(watcher, make_user("supervisor", organisation=first))
    assert staff.full_name in watcher.get("/audit/?action=user_updated").get_data(as_text=True)


def test_enabling_an_account_of_an_inactive_organisation_by_command_says_why(
    app, make_org, make_user
):
    closed = make_org(code="ZC")
    staff = make_user("operator", organisation=closed)
    admin.set_user_active(by=None, user=staff, active=False)
    closed.active = False
    db.session.commit()
    answer = app.test_cli_runner().invoke(args=["users", "enable", staff.email])
    assert answer.exit_code == 1 and "Traceback" not in answer.output
    assert "Đơn vị của tài khoản này đang không hoạt động" in answer.output, answer.output
    db.session.expire_all()
    assert not db.session.get(User, staff.id).active
