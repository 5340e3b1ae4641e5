"""Signing in: role home pages, generic failures that keep the email, role checks, next links."""

import pytest

from app.audit import AuditEntry
from app.extensions import db
from tests.conftest import PASSWORD, ROLES, sign_in

HOMES = {
    "operator": "/home/operator",
    "case_manager": "/home/case-manager",
    "supervisor": "/home/supervisor",
    "admin": "/admin/users",
    "partner": "/home/partner",
}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_lands_on_its_own_home_page(client, make_user, role):
    user = make_user(role)
    response = sign_in(client, user)
    assert response.status_code == 302
    assert response.location == HOMES[role]
    assert client.get(HOMES[role]).status_code == 200
    assert client.get("/").location == HOMES[role]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    "page", sorted(set(HOMES.values()) | {"/admin/organisations", "/admin/users/new"})
)
def test_pages_of_other_roles_answer_403(client, login_as, role, page):
    login_as(role)
    allowed = HOMES[role] == page or (role == "admin" and page.startswith("/admin/"))
    assert client.get(page).status_code == (200 if allowed else 403)


def test_signed_out_visitor_is_sent_to_sign_in(client):
    response = client.get("/home/operator")
    assert response.status_code == 302
    assert response.location.startswith("/auth/login")


def test_wrong_password_is_generic_and_keeps_the_email(client, make_user):
    user = make_user("operator")
    response = client.submit("/auth/login", {"email": user.email, "password": "not the password"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Email hoặc mật khẩu không đúng" in page or "email or password is incorrect" in page
    assert f'value="{user.email}"' in page
    assert "not the password" not in page


def test_unknown_account_gets_the_same_answer_as_a_wrong_password(client, make_user):
    user = make_user("operator")
    wrong = client.submit("/auth/login", {"email": user.email, "password": "wrong password here"})
    unknown = client.submit(
        "/auth/login", {"email": "nobody@example.org", "password": "wrong password here"}
    )
    error = 'id="login-error"'
    assert error in wrong.get_data(as_text=True) and error in unknown.get_data(as_text=True)
    text_wrong = wrong.get_data(as_text=True).split(error)[1].split("</p>")[0]
    text_unknown = unknown.get_data(as_text=True).split(error)[1].split("</p>")[0]
    assert text_wrong == text_unknown


def test_empty_fields_are_marked_in_vietnamese(client):
    response = client.submit("/auth/login", {"email": "someone@example.org", "password": ""})
    page = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in page
    assert "Ô này là bắt buộc" in page or "bắt buộc" in page
    assert 'value="someone@example.org"' in page


def test_disabled_account_cannot_sign_in(client, make_user):
    user = make_user("operator")
    user.active = False
    db.session.commit()
    response = client.submit("/auth/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 200
    assert 'id="login-error"' in response.get_data(as_text=True)


def test_email_is_matched_without_case(client, make_user):
    user = make_user("operator")
    response = client.submit("/auth/login", {"email": user.email.upper(), "password": PASSWORD})
    assert response.location == "/home/operator"


def test_next_link_is_followed_only_within_the_site(client, make_user):
    user = make_user("operator")
    client.get("/auth/login?next=/auth/account")
    assert sign_in(client, user).location == "/auth/account"
    other = make_user("operator")
    fresh = client.application.test_client()
    fresh.get("/auth/login?next=https://evil.example/steal")
    assert sign_in(fresh, other).location == "/home/operator"


def test_sign_in_and_failure_are_recorded_without_the_password(client, make_user):
    user = make_user("operator")
    client.submit("/auth/login", {"email": user.email, "password": "bad password 1"})
    sign_in(client, user)
    events = db.session.query(AuditEntry).filter_by(object_id=str(user.id)).all()
    kinds = [e.action for e in events]
    assert "login_failure" in kinds and "login_success" in kinds
    for event in events:
        assert "bad password" not in (event.detail or "")
        if event.action.startswith("login_"):
            assert event.request_id and event.ip == "127.0.0.1"
            assert event.user_id == user.id and event.organisation_id == user.organisation_id


def test_must_change_password_holds_the_user_on_that_page(client, make_user):
    user = make_user("operator")
    user.must_change_password = True
    db.session.commit()
    response = sign_in(client, user)
    assert response.location == "/auth/password"
    assert client.get("/home/operator").location == "/auth/password"
    done = client.submit(
        "/auth/password",
        {
            "current": PASSWORD,
            "new": "seven purple owls singing",
            "confirm": "seven purple owls singing",
        },
    )
    assert done.location == "/home/operator"
    assert client.get("/home/operator").status_code == 200


def test_a_page_asked_for_signed_out_is_kept_out_of_the_sign_in_address(client, make_user):
    """A value in the address (a number typed into the case-number box by mistake) goes to no
    further address: where to return is kept in the sealed session, and a page of typed boxes
    (the search, the audit log and its export) is gone back to without them."""
    user = make_user("operator")
    response = client.get("/cases/search?number=0912+345+678")
    assert response.location == "/auth/login"
    assert sign_in(client, user).location == "/cases/search"
    client.post("/auth/logout", data={"csrf_token": client.csrf_token("/cases/search")})
    supervisor = make_user("supervisor", organisation=user.organisation)
    client.get("/audit/export.csv?from=0912+345+678")
    assert sign_in(client, supervisor).location == "/audit/"
    client.post("/auth/logout", data={"csrf_token": client.csrf_token("/audit/")})
    client.get("/calls/mine?page=2")  # any other page: as it was asked for
    assert sign_in(client, user).location == "/calls/mine?page=2"


def test_a_page_asked_for_long_ago_is_not_where_the_next_person_lands(
    client, make_user, monkeypatch
):
    """On a shared computer the page of someone whose session ended long ago (a denied look
    for the next person) is not gone to: home instead."""
    import time

    from app.auth import views

    user = make_user("operator")
    client.get("/cases/search?number=HN-2026-000001")
    asked = time.time()
    monkeypatch.setattr(views.time, "time", lambda: asked + views.NEXT_SECONDS + 1)
    assert sign_in(client, user).location == "/home/operator"
