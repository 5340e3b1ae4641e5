"""Server-side sessions: revoked at once, renewed at sign-in, idle and absolute timeouts."""

from datetime import timedelta

from sqlalchemy import select, update

from app import crypto
from app.admin import services as admin_services
from app.auth.models import User, WebSession
from app.clock import utcnow
from app.extensions import db
from tests.conftest import PASSWORD, audit_actions, sign_in

COOKIE = "diemtua_session"


def _cookie(client) -> str:
    return client.get_cookie(COOKIE).value


def _copy(app, client):
    """Another browser holding a copy of this client's cookie."""
    thief = app.test_client()
    thief.set_cookie(COOKIE, _cookie(client))
    return thief


def test_copied_cookie_stops_working_after_logout(app, client, login_as):
    login_as("operator")
    thief = _copy(app, client)
    assert thief.get("/home/operator").status_code == 200
    client.submit("/auth/logout", {}, page="/home/operator")
    assert client.get("/home/operator").status_code == 302
    assert thief.get("/home/operator").status_code == 302


def test_copied_cookie_stops_working_after_password_change(app, client, login_as):
    login_as("operator")
    thief = _copy(app, client)
    new = "seven purple owls singing"
    response = client.submit("/auth/password", {"current": PASSWORD, "new": new, "confirm": new})
    assert response.location == "/home/operator"
    assert client.get("/home/operator").status_code == 200  # this browser goes on
    assert thief.get("/home/operator").status_code == 302


def test_copied_cookie_stops_working_when_the_account_is_disabled(app, client, login_as):
    user = login_as("operator")
    thief = _copy(app, client)
    admin_services.set_user_active(by=None, user=db.session.get(User, user.id), active=False)
    assert thief.get("/home/operator").status_code == 302
    assert client.get("/home/operator").status_code == 302


def test_copied_cookie_stops_working_after_an_admin_reset(app, client, login_as):
    user = login_as("operator")
    thief = _copy(app, client)
    admin_services.reset_password(by=None, user=db.session.get(User, user.id))
    assert thief.get("/home/operator").status_code == 302


def test_session_id_is_renewed_at_sign_in(client, make_user):
    user = make_user("operator")
    client.get("/auth/login")
    before = _cookie(client)
    sign_in(client, user)
    after = _cookie(client)
    assert before != after
    assert db.session.get(WebSession, crypto.session_key_id(before)) is None


def test_session_rows_hold_no_readable_data(client, login_as):
    login_as("operator")
    client.get("/auth/account")
    for row in db.session.execute(select(WebSession)).scalars():
        assert b"_user_id" not in row.data and b"csrf" not in row.data
        assert row.id != _cookie(client)


def _age_sessions(**delta):
    db.session.execute(
        update(WebSession).values(
            last_seen_at=utcnow() - timedelta(**delta.get("idle", {})),
            authenticated_at=utcnow() - timedelta(**delta.get("absolute", {})),
        )
    )
    db.session.commit()


def test_idle_timeout_signs_out_with_a_message(client, login_as):
    user = login_as("operator")
    _age_sessions(idle={"minutes": 16})
    response = client.get("/home/operator")
    assert response.location.startswith("/auth/login")
    page = client.get(response.location).get_data(as_text=True)
    assert "không có thao tác" in page
    assert "session_expired" in audit_actions(user)


def test_activity_within_the_limit_keeps_the_session(client, login_as):
    login_as("operator")
    _age_sessions(idle={"minutes": 14})
    assert client.get("/home/operator").status_code == 200


def test_absolute_timeout_ends_even_an_active_session(client, login_as):
    login_as("operator")
    _age_sessions(absolute={"hours": 12, "minutes": 1})
    assert client.get("/home/operator").status_code == 302


def test_keepalive_renews_and_status_does_not(client, login_as):
    login_as("operator")
    _age_sessions(idle={"minutes": 10})
    status = client.get("/auth/session-status").get_json()
    assert status["signed_in"] and 280 < status["remaining"] <= 300
    again = client.get("/auth/session-status").get_json()
    assert again["remaining"] <= status["remaining"]  # asking does not count as activity
    token = client.csrf_token("/auth/account")
    _age_sessions(idle={"minutes": 10})
    alive = client.post("/auth/keepalive", headers={"X-CSRFToken": token})
    assert alive.status_code == 200
    assert client.get("/auth/session-status").get_json()["remaining"] > 890


def test_keepalive_without_token_is_refused(client, login_as):
    login_as("operator")
    assert client.post("/auth/keepalive").status_code == 400


def test_user_can_end_other_sessions(app, client, make_user):
    user = make_user("operator")
    sign_in(client, user)
    laptop = app.test_client()
    sign_in(laptop, user)
    client.submit("/auth/account/sessions/end-others", {}, page="/auth/account")
    assert client.get("/home/operator").status_code == 200
    assert laptop.get("/home/operator").status_code == 302


def test_sign_out_from_a_page_of_an_earlier_session(client, login_as):
    """Signed in again (another tab) after the session ended: the old page's "Sign out" still
    signs out; its idle timer does not end the session in use now."""
    user = login_as("operator")
    stale = client.csrf_token("/home/operator")
    client.submit("/auth/logout", {}, page="/home/operator")
    sign_in(client, user)
    timer = client.post("/auth/logout", data={"csrf_token": stale, "reason": "idle"})
    assert timer.status_code == 302
    home = client.get(timer.location, follow_redirects=True)
    assert "/auth/login" not in home.request.path
    assert "Bạn đã được đăng xuất vì không có thao tác" not in home.get_data(as_text=True)
    assert client.get("/home/operator").status_code == 200  # still signed in
    click = client.post("/auth/logout", data={"csrf_token": stale})
    assert click.location == "/auth/login"
    assert client.get("/home/operator").status_code == 302  # signed out
    assert audit_actions(user).count("logout") == 2


def test_an_expired_session_is_answered_in_the_accounts_language(client, login_as):
    """The session that said who it was is gone, but its account is known when its cookie comes
    back: "signed out" and "please sign in" are in that account's language, not Vietnamese."""
    user = login_as("operator")
    user.language = "en"
    db.session.commit()
    _age_sessions(idle={"minutes": 16})
    response = client.get("/home/operator")
    assert response.location.startswith("/auth/login")
    page = client.get(response.location).get_data(as_text=True)
    assert "You were signed out after a period without activity" in page
    assert "Please sign in to continue." in page
    assert 'lang="en"' in page
