"""Passwords: argon2id, rehash on sign-in when parameters change, length and common-word checks."""

import pytest
from argon2 import PasswordHasher

from app.auth import passwords
from app.auth.models import User
from app.extensions import db
from tests.conftest import PASSWORD, sign_in


def test_hashes_are_argon2id_and_verify():
    stored = passwords.hash_password(PASSWORD)
    assert stored.startswith("$argon2id$")
    assert passwords.verify_password(stored, PASSWORD)
    assert not passwords.verify_password(stored, PASSWORD + "!")
    assert not passwords.verify_password(None, PASSWORD)
    assert not passwords.verify_password("not-a-hash", PASSWORD)


def test_weaker_hash_is_upgraded_at_sign_in(client, make_user):
    user = make_user("operator")
    user.password_hash = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    db.session.commit()
    assert passwords.needs_rehash(user.password_hash)
    assert sign_in(client, user).status_code == 302
    db.session.expire_all()
    upgraded = db.session.get(User, user.id).password_hash
    assert not passwords.needs_rehash(upgraded) and passwords.verify_password(upgraded, PASSWORD)


@pytest.mark.parametrize(
    "candidate, reason",
    [
        ("short pass", "12"),
        ("password1234", "common"),
        ("qwertyuiop12", "common"),
        ("aaaaaaaaaaaaaaaa", "guess"),
        ("x" * 257, "256"),
    ],
)
def test_weak_passwords_are_refused(app, candidate, reason):
    with app.test_request_context():
        with pytest.raises(passwords.PasswordPolicyError) as caught:
            passwords.check_password_policy(candidate)
    message = str(caught.value)
    if reason.isdigit():
        assert reason in message


@pytest.mark.parametrize(
    "candidate",
    [
        "a calm river at dawn",
        "Tôi thích uống cà phê sữa đá",
        "correct horse battery staple",
        "9f$Kq2!vLm@7zX",
    ],
)
def test_long_passphrases_without_composition_rules_pass(app, candidate):
    with app.test_request_context():
        passwords.check_password_policy(candidate)


def test_password_built_from_the_email_is_refused(app):
    with app.test_request_context():
        with pytest.raises(passwords.PasswordPolicyError):
            passwords.check_password_policy(
                "nguyenvanan2026", user_inputs=("nguyenvanan2026@x.vn",)
            )


def test_change_password_form_reports_the_rule_and_keeps_the_user(client, login_as):
    login_as("operator")
    response = client.submit(
        "/auth/password", {"current": PASSWORD, "new": "password1234", "confirm": "password1234"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'aria-invalid="true"' in page
    mismatch = client.submit(
        "/auth/password",
        {"current": PASSWORD, "new": "one long phrase here", "confirm": "another long phrase"},
    )
    assert 'id="confirm-error"' in mismatch.get_data(as_text=True)
    wrong = client.submit(
        "/auth/password", {"current": "not my password", "new": "x" * 20, "confirm": "x" * 20}
    )
    assert 'id="current-error"' in wrong.get_data(as_text=True)
