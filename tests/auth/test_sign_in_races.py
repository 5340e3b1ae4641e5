"""A sign-in racing a password change: the sign-in's password was checked (the old one, still
right then), the change committed before its session was written. The change's revocation
deleted the sessions there were; the one written after must not stay signed in, and a rehash
of the old password must not be written over the new one."""

from __future__ import annotations

import re
import threading

from argon2 import PasswordHasher

from app.auth import passwords
from app.auth import services as auth_services
from app.auth.models import User
from app.extensions import db
from tests.conftest import PASSWORD, sign_in

CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
NEW = "a brand new long passphrase 42"


def together(first, second) -> list:
    """Run both at once, each in its own thread; their results (an exception raised again)."""
    out: list = [None, None]

    def run(i, fn):
        try:
            out[i] = fn()
        except BaseException as exc:  # noqa: BLE001  (said in the test's thread below)
            out[i] = exc

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate((first, second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
        assert not thread.is_alive(), "a request hung"
    for result in out:
        if isinstance(result, BaseException):
            raise result
    return out


def change_form(owner) -> dict:
    page = owner.get("/auth/password").get_data(as_text=True)
    return {"csrf_token": CSRF.search(page).group(1), "current": PASSWORD, "new": NEW,
            "confirm": NEW}  # fmt: skip


def held_while(monkeypatch, module, name, meanwhile):
    """`module.name` paused the first time it answers, while `meanwhile` (another request, which
    may call it too, unpaused) runs."""
    ran, go_on = threading.Event(), threading.Event()
    real = getattr(module, name)

    def held(*args, **kwargs):
        answer = real(*args, **kwargs)
        if answer and not ran.is_set():
            ran.set()
            go_on.wait(20)
        return answer

    def then():
        ran.wait(20)
        try:
            return meanwhile()
        finally:
            go_on.set()

    monkeypatch.setattr(module, name, held)
    return then


def test_a_sign_in_with_the_old_password_does_not_outlive_the_change(app, make_user, monkeypatch):
    user = make_user("operator")
    owner = app.test_client()
    sign_in(owner, user)
    form = change_form(owner)
    other = app.test_client()
    token = CSRF.search(other.get("/auth/login").get_data(as_text=True)).group(1)
    change = held_while(
        monkeypatch,
        auth_services,
        "check_password",
        lambda: owner.post("/auth/password", data=form),
    )
    signed, changed = together(
        lambda: other.post(
            "/auth/login", data={"csrf_token": token, "email": user.email, "password": PASSWORD}
        ),
        change,
    )
    assert changed.status_code == 302  # "Your password has been changed"
    assert signed.status_code == 302  # the page sends it on, but no session was written
    after = other.get("/calls/new")
    assert after.status_code == 302 and after.location.startswith("/auth/login")
    assert owner.get("/calls/new").status_code == 200  # the changer's own session stays


def test_a_rehash_at_sign_in_never_puts_the_old_password_back(app, make_user, monkeypatch):
    """An account hashed with older parameters is re-hashed as it signs in: racing the owner's
    change, the old password's new hash was written over the changed one (the new password
    stopped working, the old one worked again)."""
    user = make_user("operator")
    owner = app.test_client()
    sign_in(owner, user)  # first: signing in would re-hash the older hash set below
    db.session.expire_all()
    user = db.session.get(User, user.id)
    user.password_hash = PasswordHasher(time_cost=1, memory_cost=8192).hash(PASSWORD)
    db.session.commit()
    assert passwords.needs_rehash(user.password_hash)
    form = change_form(owner)
    other = app.test_client()
    token = CSRF.search(other.get("/auth/login").get_data(as_text=True)).group(1)
    change = held_while(
        monkeypatch, passwords, "needs_rehash", lambda: owner.post("/auth/password", data=form)
    )
    _signed, changed = together(
        lambda: other.post(
            "/auth/login", data={"csrf_token": token, "email": user.email, "password": PASSWORD}
        ),
        change,
    )
    assert changed.status_code == 302
    db.session.expire_all()
    stored = db.session.get(User, user.id).password_hash
    assert passwords.verify_password(stored, NEW)
    assert not passwords.verify_password(stored, PASSWORD)
