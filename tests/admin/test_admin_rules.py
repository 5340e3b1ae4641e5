"""Admin changes that would break something elsewhere are refused, with a message saying why:
a short code already in case numbers, a move leaving assigned work behind, a reset of one's own
account, an account brought back in an inactive organisation; and two admins racing to create
the same account get the form's message, not an error page."""

import re
import uuid

import pytest
from sqlalchemy import func, select

from app.admin import services as admin_services
from app.audit import AuditEntry
from app.auth.models import Organisation, User
from app.calls.drafts import discard_draft, open_drafts, save_draft
from app.cases.services import assign_case, open_case
from app.extensions import db
from tests.conftest import sign_in


def _edit(client, user: User, **changes):
    fields = {
        "full_name": user.full_name,
        "email": user.email,
        "role": user.role,
        "organisation_id": user.organisation_id,
        "language": user.language,
    }
    return client.submit(f"/admin/users/{user.id}/edit", fields | changes)


def _fresh(model, key):
    db.session.expire_all()
    return db.session.get(model, key)


def test_a_code_in_case_numbers_cannot_change(client, login_as, make_org, make_user):
    """Numbers are unique across the installation: a code given up could be taken by another
    organisation, whose new numbers would then collide with the old ones for ever."""
    login_as("admin")
    org = make_org(code="HNX")
    open_case(by=make_user("operator", organisation=org), survivor_name="Người Mẫu")
    form = {"name": org.name, "code": "HNY", "kind": org.kind, "active": "y"}
    refused = client.submit(f"/admin/organisations/{org.id}/edit", form)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 200 and "không thể đổi" in page and 'value="HNY"' in page
    assert _fresh(Organisation, org.id).code == "HNX"
    denied = db.session.execute(
        select(AuditEntry).where(
            AuditEntry.action == "denied", AuditEntry.organisation_id == org.id
        )
    ).scalar_one()  # a refusal by rule, in the organisation's own log
    assert (denied.object_type, denied.detail) == ("organisation", "code_in_case_numbers")
    fresh = make_org(code="NEW")  # no case yet: its code may still change
    form = {"name": fresh.name, "code": "NEW2", "kind": fresh.kind, "active": "y"}
    assert client.submit(f"/admin/organisations/{fresh.id}/edit", form).status_code == 302
    assert _fresh(Organisation, fresh.id).code == "NEW2"


def test_a_code_of_digits_beginning_with_0_is_refused(client, login_as, make_org):
    """Its case numbers would read as phone numbers (098-2019-000888), which the case search
    refuses by their shape. Another all-digit code (111, the child helpline) is taken."""
    login_as("admin")
    new = {"name": "Đường dây 098", "code": "098", "kind": "hotline"}
    refused = client.submit("/admin/organisations/new", new)
    assert refused.status_code == 200 and 'value="098"' in refused.get_data(as_text=True)
    assert "không được bắt đầu bằng 0" in refused.get_data(as_text=True)
    assert (
        db.session.execute(select(Organisation).where(Organisation.code == "098")).first() is None
    )
    taken = client.submit("/admin/organisations/new", {**new, "code": "111"})
    assert taken.status_code == 302
    org = make_org(code="HNZ")
    form = {"name": org.name, "code": "0912", "kind": org.kind, "active": "y"}
    assert client.submit(f"/admin/organisations/{org.id}/edit", form).status_code == 200
    assert _fresh(Organisation, org.id).code == "HNZ"


def test_a_case_manager_holding_cases_is_not_moved_or_demoted(
    client, login_as, make_org, make_user
):
    """Moved to another organisation, a case manager would keep seeing the cases still
    assigned to them; made an operator, their cases would sit with nobody who sees them."""
    login_as("admin")
    org = make_org()
    manager = make_user("case_manager", organisation=org)
    supervisor = make_user("supervisor", organisation=org)
    case = open_case(by=make_user("operator", organisation=org), survivor_name="Người Mẫu")
    assign_case(case=case, to=manager, by=supervisor)
    db.session.commit()
    elsewhere = make_org()
    moved = _edit(client, manager, organisation_id=elsewhere.id)
    assert moved.status_code == 200
    assert "1 ca đang xử lý" in moved.get_data(as_text=True)
    demoted = _edit(client, manager, role="operator")
    assert "1 ca đang xử lý" in demoted.get_data(as_text=True)
    after = _fresh(User, manager.id)
    assert after.organisation_id == org.id and after.role == "case_manager"
    assign_case(case=db.session.get(type(case), case.id), to=supervisor, by=supervisor)
    db.session.commit()
    assert _edit(client, after, organisation_id=elsewhere.id).status_code == 302
    assert _fresh(User, manager.id).organisation_id == elsewhere.id


def _denials(account: User) -> list[str]:
    db.session.rollback()
    return list(
        db.session.execute(
            select(AuditEntry.detail)
            .where(
                AuditEntry.action == "denied",
                AuditEntry.object_type == "account",
                AuditEntry.object_id == str(account.id),
            )
            .order_by(AuditEntry.id)
        ).scalars()
    )


def test_an_operator_s_unsaved_intakes_hold_a_move_or_a_role_without_calls(
    client, login_as, make_org, make_user
):
    """Each unsaved intake is a call not yet logged, which only its author can save: made a
    case manager (who opens no intakes) or moved to another hotline (where it would be filed),
    the account would lose it. Refused, said and audited until it is saved or discarded; made
    a supervisor (who takes calls) it stays; disabled (never held up), it stays, said."""
    login_as("admin")
    operator = make_user("operator", organisation=make_org())
    key = uuid.uuid4()
    save_draft(user=operator, intake_key=key, fields={"caller_name": "Chị Cũ"})
    for change in ({"role": "case_manager"}, {"organisation_id": make_org().id}):
        refused = _edit(client, _fresh(User, operator.id), **change)
        assert refused.status_code == 200
        assert "1 phiếu tiếp nhận chưa lưu" in refused.get_data(as_text=True)
    after = _fresh(User, operator.id)
    assert (after.role, after.organisation_id) == ("operator", operator.organisation_id)
    assert _denials(operator) == ["unsaved_intakes", "unsaved_intakes"]
    assert _edit(client, after, role="supervisor").status_code == 302
    assert len(open_drafts(_fresh(User, operator.id))) == 1
    disabled = client.submit(
        f"/admin/users/{operator.id}/disable", {}, page=f"/admin/users/{operator.id}"
    )
    shown = client.get(disabled.location).get_data(as_text=True)
    assert "1 phiếu tiếp nhận chưa lưu" in shown and not _fresh(User, operator.id).active
    assert len(open_drafts(_fresh(User, operator.id))) == 1
    discard_draft(user=_fresh(User, operator.id), intake_key=key)
    client.submit(f"/admin/users/{operator.id}/enable", {}, page=f"/admin/users/{operator.id}")
    moved = _edit(client, _fresh(User, operator.id), organisation_id=make_org().id)
    assert moved.status_code == 302


def test_unsaved_intakes_kept_from_an_earlier_role_stay_with_the_old_hotline(
    client, login_as, make_org, make_user
):
    """A case manager who kept unsaved intakes from being an operator (such a change was not
    refused before) cannot reach them; moved to another hotline, even made an operator again
    in the same save, they are not carried there to be filed at the wrong hotline."""
    login_as("admin")
    account = make_user("operator", organisation=make_org())
    save_draft(user=account, intake_key=uuid.uuid4(), fields={"caller_name": "Chị Cũ"})
    account.role = "case_manager"
    db.session.commit()
    new = make_org()
    answer = _edit(client, _fresh(User, account.id), role="operator", organisation_id=new.id)
    assert answer.status_code == 302 and _fresh(User, account.id).organisation_id == new.id
    assert open_drafts(_fresh(User, account.id)) == []


def test_the_last_supervisor_of_a_hotline_with_cases_stays_one_until_another_is(
    client, login_as, make_org, make_user
):
    """Only a supervisor assigns a hotline's cases, approves closures and sees its 12-hour
    checks: the last one is not made something else, nor moved, while it has active cases;
    disabling (never held up) says what it leaves waiting."""
    login_as("admin")
    org = make_org()
    supervisor = make_user("supervisor", organisation=org)
    open_case(by=make_user("operator", organisation=org), survivor_name="Người Mẫu")
    db.session.commit()
    refused = _edit(client, supervisor, role="case_manager")
    assert refused.status_code == 200
    assert "giám sát viên đang hoạt động cuối cùng" in refused.get_data(as_text=True)
    assert _denials(supervisor) == ["last_supervisor"]
    disabled = client.submit(
        f"/admin/users/{supervisor.id}/disable", {}, page=f"/admin/users/{supervisor.id}"
    )
    shown = client.get(disabled.location).get_data(as_text=True)
    assert "giám sát viên đang hoạt động cuối cùng" in shown
    assert not _fresh(User, supervisor.id).active
    client.submit(f"/admin/users/{supervisor.id}/enable", {}, page=f"/admin/users/{supervisor.id}")
    make_user("supervisor", organisation=org)
    assert _edit(client, _fresh(User, supervisor.id), role="case_manager").status_code == 302


def test_an_admin_s_change_refused_by_a_rule_is_audited(client, login_as, make_org, make_user):
    """Changing one's own role or organisation, resetting one's own password or codes,
    disabling oneself, moving a case manager who holds cases: refused, each written to the
    log of the account's organisation; a value to correct (an email in use) is not."""
    me = login_as("admin")
    assert _edit(client, me, role="supervisor").status_code == 200
    assert _edit(client, _fresh(User, me.id), organisation_id=make_org().id).status_code == 200
    for action in ("reset-password", "reset-mfa", "disable"):
        client.submit(f"/admin/users/{me.id}/{action}", {}, page=f"/admin/users/{me.id}")
    assert _denials(me) == [
        "own_role",
        "own_organisation",
        "own_password_or_codes",
        "own_password_or_codes",
        "own_account",
    ]
    other = make_user("operator")
    assert _edit(client, other, email=me.email).status_code == 200
    assert _denials(other) == []


def test_an_admin_does_not_reset_or_move_their_own_account(client, login_as, make_org):
    """A reset ends the account's sessions: on oneself it signed the admin out before the new
    password was shown, leaving nobody able to sign in with it."""
    me = login_as("admin")
    page = client.get(f"/admin/users/{me.id}").get_data(as_text=True)
    assert "reset-password" not in page and "/auth/account" in page
    before = _fresh(User, me.id).password_hash
    refused = client.submit(
        f"/admin/users/{me.id}/reset-password", {}, page=f"/admin/users/{me.id}"
    )
    assert refused.location == f"/admin/users/{me.id}"
    assert "trang tài khoản" in client.get(refused.location).get_data(as_text=True)
    assert _fresh(User, me.id).password_hash == before
    client.submit(f"/admin/users/{me.id}/reset-mfa", {}, page=f"/admin/users/{me.id}")
    assert _fresh(User, me.id).totp_enabled
    moved = _edit(client, me, organisation_id=make_org().id)
    assert moved.status_code == 200 and _fresh(User, me.id).organisation_id == me.organisation_id
    assert client.get("/admin/users").status_code == 200  # still signed in


def test_an_account_of_an_inactive_organisation_stays_disabled(client, login_as, make_org):
    login_as("admin")
    org = make_org()
    staff, _ = admin_services.create_user(
        by=None, email="staff@example.org", full_name="Cũ", role="operator", organisation=org
    )
    admin_services.set_user_active(by=None, user=staff, active=False)
    org.active = False
    db.session.commit()
    page = f"/admin/users/{staff.id}"
    answer = client.submit(f"/admin/users/{staff.id}/enable", {}, page=page)
    assert "không hoạt động" in client.get(answer.location).get_data(as_text=True)
    assert not _fresh(User, staff.id).active
    assert _denials(staff) == ["inactive_organisation"]  # a refusal by a rule: in the log


def test_account_search_knows_vietnamese_capitals_and_plain_wildcards(client, login_as, make_user):
    """SQLite's own lower() changes A to Z only: "ĐỖ" would not find "Đỗ"."""
    login_as("admin")
    make_user("operator", full_name="Đỗ Văn Ánh")
    make_user("operator", full_name="Lê Thị Hoa")
    for typed in ("đỗ", "ĐỖ VĂN", "ánh"):
        page = client.submit("/admin/users", {"q": typed}).get_data(as_text=True)
        assert "Đỗ Văn Ánh" in page and "Lê Thị Hoa" not in page, typed
    page = client.submit("/admin/users", {"q": "%"}).get_data(as_text=True)
    assert "Đỗ Văn Ánh" not in page and "Lê Thị Hoa" not in page  # % is a character here


def test_an_email_taken_between_the_check_and_the_write_is_the_forms_message(
    app, make_org, monkeypatch
):
    """Two admins (or a retried request) create the same email at once: both pass the check,
    the unique index refuses the second, and it gets the field's message, not a 500."""
    org = make_org()
    admin_services.create_user(
        by=None, email="twice@example.org", full_name="Một", role="operator", organisation=org
    )
    check = admin_services._check_email_free
    calls = []

    def late(email, **kw):  # the first check ran before the other admin's commit
        calls.append(email)
        if len(calls) > 1:
            check(email, **kw)

    monkeypatch.setattr(admin_services, "_check_email_free", late)
    with pytest.raises(admin_services.AdminError) as refused:
        admin_services.create_user(
            by=None, email="twice@example.org", full_name="Hai", role="operator", organisation=org
        )
    assert refused.value.field == "email"
    count = select(func.count(User.id)).where(User.email == "twice@example.org")
    assert db.session.execute(count).scalar_one() == 1


def _seen(page: str) -> str:
    return re.search(r'name="seen" type="hidden" value="([0-9a-f]+)"', page).group(1)


def test_two_admins_editing_an_account_at_once(app, client, login_as, make_user):
    """The second save sees the first admin's values next to its own, instead of silently
    putting the old role back; saving again is then a choice made knowingly."""
    login_as("admin")
    staff = make_user("operator")
    other = app.test_client()
    sign_in(other, make_user("admin"))
    mine = _seen(client.get(f"/admin/users/{staff.id}/edit").get_data(as_text=True))
    assert _edit(other, staff, role="case_manager").status_code == 302
    fields = {
        "full_name": "Tên Mới Của Tôi",
        "email": staff.email,
        "role": "operator",
        "organisation_id": staff.organisation_id,
        "language": "vi",
        "seen": mine,
    }
    clash = client.submit(f"/admin/users/{staff.id}/edit", fields)
    page = clash.get_data(as_text=True)
    assert clash.status_code == 409
    assert "Một quản trị viên khác đã thay đổi tài khoản này" in page
    assert "Cán bộ quản lý ca" in page  # the other admin's role, as saved
    assert 'value="Tên Mới Của Tôi"' in page  # what this admin typed is kept
    assert _fresh(User, staff.id).role == "case_manager"
    again = client.submit(f"/admin/users/{staff.id}/edit", fields | {"seen": _seen(page)})
    assert again.status_code == 302
    assert _fresh(User, staff.id).full_name == "Tên Mới Của Tôi"


def test_a_sign_in_meanwhile_is_no_conflict(app, client, login_as, make_user):
    login_as("admin")
    staff = make_user("operator")
    seen = _seen(client.get(f"/admin/users/{staff.id}/edit").get_data(as_text=True))
    sign_in(app.test_client(), staff)  # changes the account's last sign-in, not what is edited
    saved = _edit(client, staff, full_name="Đã Sửa", seen=seen)
    assert saved.status_code == 302 and _fresh(User, staff.id).full_name == "Đã Sửa"


def test_two_admins_editing_an_organisation_at_once(app, client, login_as, make_user, make_org):
    login_as("admin")
    org = make_org(code="QQ")
    other = app.test_client()
    sign_in(other, make_user("admin"))
    mine = _seen(client.get(f"/admin/organisations/{org.id}/edit").get_data(as_text=True))
    form = {"name": org.name, "code": "QQ", "kind": org.kind, "active": "y"}
    assert other.submit(f"/admin/organisations/{org.id}/edit", form | {"phone": "024 111"})
    clash = client.submit(
        f"/admin/organisations/{org.id}/edit", form | {"phone": "024 999", "seen": mine}
    )
    page = clash.get_data(as_text=True)
    assert clash.status_code == 409 and "024 111" in page and 'value="024 999"' in page
    assert _fresh(Organisation, org.id).phone == "024 111"


def test_the_account_list_pages_keep_the_search(client, login_as, make_org, make_user):
    login_as("admin")
    org = make_org()
    for n in range(55):
        make_user("operator", organisation=org, full_name=f"Trần Thị {n:02d}")
    make_user("operator", organisation=org, full_name="Nguyễn Văn Khác")
    first = client.submit("/admin/users", {"q": "trần"}).get_data(as_text=True)
    assert "Trang 1/2" in first and '<input type="hidden" name="q" value="trần">' in first
    second = client.submit("/admin/users", {"q": "trần", "page": "2", "state": "active"})
    page = second.get_data(as_text=True)
    names = re.findall(r">(Trần Thị \d\d)<", page)
    assert len(names) == 5 and "Nguyễn Văn Khác" not in page


def test_the_users_own_language_choice_meanwhile_is_no_conflict(app, client, login_as, make_user):
    """The admin's form was opened in Vietnamese; the user then chose English: a name saved
    from that form keeps English (the form shows what it was opened with), unless the admin
    changed the language there. The user's own change is in the log, as an admin's is."""
    login_as("admin")
    staff = make_user("operator", language="vi")
    page = client.get(f"/admin/users/{staff.id}/edit").get_data(as_text=True)
    seen = _seen(page)
    shown = re.search(r'name="language_shown" type="hidden" value="(\w+)"', page).group(1)
    theirs = app.test_client()
    sign_in(theirs, staff)
    theirs.submit("/auth/language", {"language": "en"}, page="/auth/account")
    assert _fresh(User, staff.id).language == "en"
    mine = {"seen": seen, "language_shown": shown}
    saved = _edit(client, staff, full_name="Đã Sửa Tên", language="vi", **mine)
    assert saved.status_code == 302 and _fresh(User, staff.id).full_name == "Đã Sửa Tên"
    assert _fresh(User, staff.id).language == "en"
    changes = db.session.execute(
        select(AuditEntry.user_id, AuditEntry.detail).where(
            AuditEntry.action == "user_updated", AuditEntry.object_id == str(staff.id)
        )
    ).all()
    assert (staff.id, "language") in changes
    page = client.get(f"/admin/users/{staff.id}/edit").get_data(as_text=True)
    mine = {"seen": _seen(page), "language_shown": "en"}
    _edit(client, _fresh(User, staff.id), language="vi", **mine)  # the admin's own change
    assert _fresh(User, staff.id).language == "vi"


def test_staff_moved_out_stay_in_the_log_s_user_filter(app, client, make_org, make_user):
    """Their entries stay in the log of the organisation they left: its supervisors can still
    choose them to review what they did there, marked as moved."""
    org = make_org()
    leaver = make_user("operator", organisation=org, full_name="Người Đã Chuyển Đi")
    login_as_admin = app.test_client()
    sign_in(login_as_admin, make_user("admin"))
    assert _edit(login_as_admin, leaver, organisation_id=make_org().id).status_code == 302
    sign_in(client, make_user("supervisor", organisation=org))
    page = client.get(f"/audit/?user={leaver.id}").get_data(as_text=True)
    chosen = re.search(rf'<option value="{leaver.id}" selected>([^<]*)</option>', page)
    assert chosen and "Người Đã Chuyển Đi (đã chuyển sang đơn vị khác)" in chosen.group(1)
    stranger = make_user("operator", full_name="Người Ở Nơi Khác")
    assert "Người Ở Nơi Khác" not in page and f'value="{stranger.id}"' not in page


def test_names_stored_before_unicode_lower_do_not_break_the_check(client, login_as, make_org):
    """Two organisations whose names differ only in Vietnamese capitals (allowed while SQLite's
    lower() knew A to Z only) are both still editable; a third such name is refused."""
    login_as("admin")
    first = make_org(name="Tổng đài Đà Nẵng")
    second = Organisation(name="TỔNG ĐÀI ĐÀ NẴNG", code="DN2", kind="hotline")  # from before
    db.session.add(second)
    db.session.commit()
    form = {"name": first.name, "code": first.code, "kind": first.kind, "active": "y"}
    answer = client.submit(f"/admin/organisations/{first.id}/edit", form)
    assert answer.status_code == 200  # the field's message, not an error page
    assert "đã được một đơn vị khác sử dụng" in answer.get_data(as_text=True)
    new = {"name": "tổng đài đà nẵng", "code": "ZZ9", "kind": "hotline"}
    refused = client.submit("/admin/organisations/new", new)
    assert refused.status_code == 200
    assert "đã được một đơn vị khác sử dụng" in refused.get_data(as_text=True)


def test_a_name_with_a_line_break_or_an_escape_is_refused_and_listings_stay_one_line(
    app, client, login_as
):
    """A one-line box never sends a line break or a terminal's escape; a crafted post with one
    would forge a row of `flask orgs list`: refused with the field's message, what was typed
    kept; a name stored before prints on one line."""
    login_as("admin")
    forged = "Thật\nZZ       police      Đơn vị giả\x1b[31m"
    refused = client.submit(
        "/admin/organisations/new", {"name": forged, "code": "QQ", "kind": "hotline"}
    )
    assert refused.status_code == 200
    assert "Hãy viết trên một dòng" in refused.get_data(as_text=True)
    assert db.session.execute(select(Organisation).where(Organisation.code == "QQ")).first() is None
    db.session.add(Organisation(name=forged, code="QR", kind="hotline"))  # stored before
    db.session.commit()
    with app.app_context():
        listed = app.test_cli_runner().invoke(args=["orgs", "list"], color=True).output
    assert "\x1b" not in listed and not any(line.startswith("ZZ") for line in listed.splitlines())


@pytest.mark.parametrize(
    "typed, stored",
    [
        ("Tổng đài\u200b Hà Nội", "Tổng đài Hà Nội"),  # a zero-width space, pasted from a page
        ("Trung tâm bảo\u00ad trợ", "Trung tâm bảo trợ"),  # Word's optional hyphen
        ("\ufeffNhà tạm lánh", "Nhà tạm lánh"),  # a byte order mark at the start
        ("Nhóm mẹ và bé 👩\u200d👧", "Nhóm mẹ và bé 👩\u200d👧"),  # emoji joined
        ("Đơn vị 🩷", "Đơn vị 🩷"),  # an emoji newer than the Unicode tables of Python 3.11
        ("Tru\u0301c Li\u0302m", "Tru\u0301c Li\u0302m"),  # accents as combining marks
    ],
)
def test_a_name_that_looks_right_is_saved(client, login_as, typed, stored):
    """Only what breaks a line or its display is refused; the invisible characters pasted
    text carries are dropped, so the name saved is the one seen."""
    login_as("admin")
    answer = client.submit(
        "/admin/organisations/new", {"name": typed, "code": "NM1", "kind": "ngo"}
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)[-400:]
    saved = db.session.execute(select(Organisation).where(Organisation.code == "NM1"))
    assert saved.scalar_one().name == stored


def test_the_command_line_refuses_a_name_the_form_refuses(app):
    with app.app_context():
        runner = app.test_cli_runner()
        made = runner.invoke(
            args=["orgs", "create", "--name", "Đơn vị\x1b[2J giả", "--code", "ZQ", "--kind", "ngo"]
        )
    assert made.exit_code != 0
    assert db.session.execute(select(Organisation).where(Organisation.code == "ZQ")).first() is None


@pytest.mark.parametrize("code", ["H-N", "ĐN", "A B", "ABCDEFGHIJKLM"])
def test_the_command_line_refuses_a_code_case_numbers_cannot_carry(app, code):
    """`flask orgs create` took codes the form refuses ("ĐN", "H-N"): their case numbers were
    refused by the case search as not case numbers; a code over 12 letters was stored on
    SQLite and a traceback on PostgreSQL. Refused with the form's reason, in Vietnamese."""
    runner = app.test_cli_runner()
    made = runner.invoke(
        args=["orgs", "create", "--name", "Tổng đài thử", "--code", code, "--kind", "hotline"]
    )
    assert made.exit_code == 1 and "Traceback" not in made.output
    assert "Hãy dùng từ 1 đến 12 chữ cái" in made.output
    db.session.rollback()
    assert (
        db.session.execute(select(Organisation).where(Organisation.name == "Tổng đài thử")).first()
        is None
    )


def test_the_command_line_refuses_an_account_without_a_real_email(app, make_org):
    org = make_org(code="QX")
    runner = app.test_cli_runner()
    made = runner.invoke(
        args=["users", "create", "--email", "not an email", "--name", "Chị Lan",
              "--role", "operator", "--org", org.code]
    )  # fmt: skip
    assert made.exit_code == 1 and "Vui lòng nhập địa chỉ email hợp lệ." in made.output
    db.session.rollback()
    assert db.session.execute(select(User).where(User.full_name == "Chị Lan")).first() is None
