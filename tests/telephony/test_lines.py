"""Admins manage their organisation's phone lines; a token is shown once, then only its hint."""

import hashlib
import re

import pytest
from sqlalchemy import select

from app.audit import AuditEntry
from app.extensions import db
from app.telephony import pops
from app.telephony.models import PhoneLine

TOKEN_ON_PAGE = re.compile(r'id="line-token">(dt_[A-Za-z0-9_-]{43})<')


def _line(name: str) -> PhoneLine:
    db.session.expire_all()
    return db.session.execute(select(PhoneLine).where(PhoneLine.name == name)).scalar_one()


def _entries(action: str) -> list[AuditEntry]:
    stmt = select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
    return list(db.session.execute(stmt).scalars())


def test_creating_a_line_shows_its_token_once(client, login_as, announce):
    admin = login_as("admin")
    response = client.submit("/admin/lines/new", {"name": "Tổng đài 1900"})
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    token = TOKEN_ON_PAGE.search(page).group(1)
    assert "/api/v1/calls/incoming" in page
    assert 'id="line-token"' not in client.get(response.location).get_data(as_text=True)
    line = _line("Tổng đài 1900")
    assert line.organisation_id == admin.organisation_id and line.created_by_id == admin.id
    assert line.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert announce(token).status_code == 201
    (created,) = _entries("line_created")
    assert (created.user_id, created.object_id, created.detail) == (admin.id, str(line.id), None)


def test_the_list_shows_only_the_hint(client, login_as, make_line):
    admin = login_as("admin")
    line, token = make_line(organisation=admin.organisation, name="Asterisk văn phòng")
    page = client.get("/admin/lines").get_data(as_text=True)
    assert "Asterisk văn phòng" in page and f"dt_…{token[-4:]}" in page
    assert token not in page and token[3:20] not in page


def test_the_list_shows_only_the_admins_own_organisation(client, login_as, make_line):
    admin = login_as("admin")
    make_line(organisation=admin.organisation, name="Đường dây của mình")
    make_line(name="Đường dây của tổ chức khác")
    page = client.get("/admin/lines").get_data(as_text=True)
    assert "Đường dây của mình" in page and "Đường dây của tổ chức khác" not in page


def test_the_admin_menu_leads_to_the_lines(client, login_as):
    login_as("admin")
    assert 'href="/admin/lines"' in client.get("/admin/users").get_data(as_text=True)


def test_rotating_shows_a_new_token_and_stops_the_old_one(client, login_as, make_line, announce):
    admin = login_as("admin")
    line, old = make_line(organisation=admin.organisation)
    response = client.submit(f"/admin/lines/{line.id}/rotate", page="/admin/lines")
    assert response.location == f"/admin/lines/{line.id}/token"
    new = TOKEN_ON_PAGE.search(client.get(response.location).get_data(as_text=True)).group(1)
    assert new != old
    assert announce(old).status_code == 401 and announce(new).status_code == 201
    rotated = _entries("line_created")[-1]
    assert (rotated.user_id, rotated.detail) == (admin.id, "rotated")


def test_rotating_ends_the_links_made_with_the_old_token(
    client, login_as, make_line, make_user, announce
):
    admin = login_as("admin")
    line, old = make_line(organisation=admin.organisation)
    token = announce(old).get_json()["url"].rsplit("/", 1)[1]
    client.submit(f"/admin/lines/{line.id}/rotate", page="/admin/lines")
    operator = make_user("operator", organisation=admin.organisation)
    with pytest.raises(pops.PopUnavailable) as refused:  # perhaps not the PBX's own
        pops.claim_pop(token=token, user=operator)
    assert refused.value.reason == "expired"


def test_revoking_stops_the_line(client, login_as, make_line, announce):
    admin = login_as("admin")
    line, token = make_line(organisation=admin.organisation, name="Đường dây cũ")
    response = client.submit(f"/admin/lines/{line.id}/revoke", page="/admin/lines")
    assert response.location == "/admin/lines"
    assert _line("Đường dây cũ").revoked_at is not None
    assert announce(token).status_code == 401
    assert announce(token).status_code == 401  # the PBX not told: audited once a minute
    (refused,) = _entries("denied")  # in the line's organisation's log, where its admins look
    assert (refused.object_type, refused.object_id) == ("phone_line", str(line.id))
    assert refused.organisation_id == line.organisation_id
    assert refused.detail == "stopped line's bearer token"
    (revoked,) = _entries("line_revoked")
    assert (revoked.user_id, revoked.object_id) == (admin.id, str(line.id))
    page = client.get("/admin/lines").get_data(as_text=True)
    assert f"/admin/lines/{line.id}/rotate" not in page
    again = client.submit(f"/admin/lines/{line.id}/rotate", page="/admin/lines")
    assert again.location == "/admin/lines" and announce(token).status_code == 401


def test_a_name_already_in_use_is_refused(client, login_as, make_line):
    admin = login_as("admin")
    make_line(organisation=admin.organisation, name="Tổng đài chính")
    response = client.submit("/admin/lines/new", {"name": "  tổng đài   CHÍNH "})
    assert response.status_code == 200 and 'id="name-error"' in response.get_data(as_text=True)
    empty = client.submit("/admin/lines/new", {"name": ""})
    assert 'id="name-error"' in empty.get_data(as_text=True)


@pytest.mark.parametrize(
    ("method", "suffix"), [("get", "token"), ("post", "rotate"), ("post", "revoke")]
)
def test_another_organisations_line_is_404_and_audited(
    client, login_as, make_line, announce, method, suffix
):
    admin = login_as("admin")
    line, token = make_line(name="Không phải của mình")
    url = f"/admin/lines/{line.id}/{suffix}"
    if method == "get":
        response = client.get(url)
    else:
        response = client.submit(url, page="/admin/lines")
    assert response.status_code == 404
    assert _line("Không phải của mình").revoked_at is None
    assert announce(token).status_code == 201
    (denied,) = _entries("denied")
    assert (denied.user_id, denied.object_type, denied.object_id) == (
        admin.id,
        "phone_line",
        str(line.id),
    )
    assert denied.organisation_id == line.organisation_id


@pytest.mark.parametrize("role", ["operator", "case_manager", "supervisor", "partner"])
def test_only_admins_manage_lines(client, login_as, role):
    login_as(role)
    assert client.get("/admin/lines").status_code == 403
    assert client.get("/admin/lines/new").status_code == 403


def test_a_role_refused_on_a_line_is_audited_under_the_lines_organisation(
    client, login_as, make_line, make_org
):
    line, _ = make_line(name="Đường dây khác")
    supervisor = login_as("supervisor", organisation=make_org())
    assert (
        client.submit(f"/admin/lines/{line.id}/revoke", page="/home/supervisor").status_code == 403
    )
    (denied,) = _entries("denied")
    assert (denied.user_id, denied.object_type, denied.object_id) == (
        supervisor.id,
        "phone_line",
        str(line.id),
    )
    assert denied.organisation_id == line.organisation_id != supervisor.organisation_id
    assert denied.case_id is None
