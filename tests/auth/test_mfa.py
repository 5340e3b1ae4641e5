"""One-time codes: required roles enrol first, a code works once, recovery codes, sealed seeds."""

import re

import pyotp
import pytest

from app.auth import mfa
from app.auth.models import User
from app.crypto import DecryptionError
from app.extensions import db
from tests.conftest import PASSWORD, audit_actions, current_code


def _password_step(client, user):
    return client.submit("/auth/login", {"email": user.email, "password": PASSWORD})


def test_code_is_asked_after_the_password_and_not_before(client, make_user):
    user = make_user("supervisor")
    assert _password_step(client, user).location == "/auth/verify"
    assert client.get("/home/supervisor").status_code == 302  # not signed in yet
    done = client.submit("/auth/verify", {"code": current_code(user)})
    assert done.location == "/home/supervisor"


def test_a_replayed_code_is_refused(client, app, make_user):
    user = make_user("supervisor")
    code = current_code(user)
    _password_step(client, user)
    assert client.submit("/auth/verify", {"code": code}).status_code == 302
    other = app.test_client()
    _password_step(other, user)
    replay = other.submit("/auth/verify", {"code": code})
    assert replay.status_code == 200
    assert "/home/supervisor" not in (replay.location or "")
    assert other.get("/home/supervisor").status_code == 302
    assert audit_actions(user).count("mfa_failure") == 1


def test_an_older_code_is_refused_after_a_newer_one(client, app, make_user):
    user = make_user("supervisor")
    _password_step(client, user)
    assert client.submit("/auth/verify", {"code": current_code(user)}).status_code == 302
    other = app.test_client()
    _password_step(other, user)
    older = other.submit("/auth/verify", {"code": current_code(user, offset_steps=-1)})
    assert older.status_code == 200


def test_a_wrong_code_keeps_the_user_out(client, make_user):
    user = make_user("admin")
    _password_step(client, user)
    wrong = "000000" if current_code(user) != "000000" else "111111"
    response = client.submit("/auth/verify", {"code": wrong})
    assert response.status_code == 200
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert client.get("/admin/users").status_code == 302


def test_verify_page_without_a_password_step_goes_back_to_sign_in(client):
    assert client.get("/auth/verify").location == "/auth/login"


def test_required_role_must_enrol_before_entering(client, make_user):
    user = make_user("supervisor", mfa_on=False)
    assert _password_step(client, user).location == "/auth/enrol"
    page = client.get("/auth/enrol").get_data(as_text=True)
    assert "<svg" in page  # the QR code is drawn locally
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    assert client.get("/home/supervisor").status_code == 302
    response = client.submit("/auth/enrol", {"code": pyotp.TOTP(secret).now()})
    assert response.location == "/auth/recovery-codes"
    codes_page = client.get("/auth/recovery-codes").get_data(as_text=True)
    codes = re.findall(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>", codes_page)
    assert len(codes) == mfa.RECOVERY_CODE_COUNT
    finished = client.submit("/auth/recovery-codes", {}, page="/auth/recovery-codes")
    assert finished.location == "/home/supervisor"
    db.session.expire_all()
    stored = db.session.get(User, user.id)
    assert stored.totp_enabled and secret.encode() not in stored.totp_secret_sealed


def test_optional_for_operators_who_may_turn_it_on(client, login_as):
    user = login_as("operator")
    page = client.get("/auth/enrol").get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    # From the account page the password is asked too: a screen left signed in is not enough.
    refused = client.submit("/auth/enrol", {"code": pyotp.TOTP(secret).now()})
    assert refused.status_code == 200 and "Ô này là bắt buộc" in refused.get_data(as_text=True)
    wrong = client.submit("/auth/enrol", {"code": pyotp.TOTP(secret).now(), "password": "nope"})
    assert "Mật khẩu không đúng" in wrong.get_data(as_text=True)
    assert audit_actions(user)[-1] == "login_failure"
    db.session.expire_all()
    assert not db.session.get(User, user.id).totp_enabled
    client.submit("/auth/enrol", {"code": pyotp.TOTP(secret).now(), "password": PASSWORD})
    client.submit("/auth/recovery-codes", {}, page="/auth/recovery-codes")
    db.session.expire_all()
    assert db.session.get(User, user.id).totp_enabled
    off = client.submit("/auth/account/mfa/disable", {"password": PASSWORD}, page="/auth/account")
    assert off.location == "/auth/account"
    db.session.expire_all()
    assert not db.session.get(User, user.id).totp_enabled


def test_required_role_cannot_turn_codes_off(client, login_as):
    user = login_as("supervisor")
    client.submit("/auth/account/mfa/disable", {"password": PASSWORD}, page="/auth/account")
    db.session.expire_all()
    assert db.session.get(User, user.id).totp_enabled


def test_recovery_code_works_once(client, app, make_user):
    user = make_user("admin")
    codes = mfa.new_recovery_codes(user)
    db.session.commit()
    _password_step(client, user)
    assert client.submit("/auth/verify", {"code": codes[0].upper()}).location == "/admin/users"
    again = app.test_client()
    _password_step(again, user)
    assert again.submit("/auth/verify", {"code": codes[0]}).status_code == 200
    db.session.expire_all()
    assert mfa.remaining_recovery_codes(db.session.get(User, user.id)) == len(codes) - 1


def test_new_recovery_codes_replace_the_old_ones(client, login_as):
    user = login_as("supervisor")
    old = mfa.new_recovery_codes(db.session.get(User, user.id))
    db.session.commit()
    response = client.submit(
        "/auth/account/mfa/recovery-codes", {"password": PASSWORD}, page="/auth/account"
    )
    assert response.location == "/auth/recovery-codes"
    db.session.expire_all()
    assert not mfa.use_recovery_code(db.session.get(User, user.id), old[0])


def test_seed_is_sealed_and_bound_to_its_user(make_user):
    first, second = make_user("supervisor"), make_user("supervisor")
    secret = mfa.open_totp_secret(first)
    assert secret.encode() not in first.totp_secret_sealed
    second.totp_secret_sealed = first.totp_secret_sealed  # moved to another row
    with pytest.raises(DecryptionError):
        mfa.open_totp_secret(second)


def test_a_set_up_left_half_done_is_not_offered_to_the_next_person(client, make_user):
    """Supervisor A scans the QR code and walks away; B signs in on the same browser and is
    given a new secret, not A's (whose phone would then make B's codes)."""
    first, second = make_user("supervisor", mfa_on=False), make_user("supervisor", mfa_on=False)
    _password_step(client, first)
    page = client.get("/auth/enrol").get_data(as_text=True)
    left = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    _password_step(client, second)
    page = client.get("/auth/enrol").get_data(as_text=True)
    assert re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1) != left


def test_password_checks_when_signed_in_are_throttled_and_audited(app, client, login_as):
    """Guessing the password from a screen left signed in counts against the same limit as
    signing in, and every wrong try is an event of the account."""
    user = login_as("operator")
    for _ in range(5):
        wrong = client.submit(
            "/auth/password", {"current": "guess", "new": "x" * 14, "confirm": "x" * 14}
        )
        assert "Mật khẩu hiện tại không đúng" in wrong.get_data(as_text=True)
    blocked = client.submit(
        "/auth/password", {"current": PASSWORD, "new": "x" * 14, "confirm": "x" * 14}
    )
    assert "Bạn đã nhập sai quá nhiều lần. Vui lòng thử lại sau" in blocked.get_data(as_text=True)
    actions = audit_actions(user)
    assert actions.count("login_failure") == 5 and "lockout" in actions
    assert actions[-1] == "login_throttled"
