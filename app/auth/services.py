"""Sign-in and self-service use cases: each checks its rules, records its event, commits once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from app.auth import events, mfa, passwords, throttle
from app.auth.models import User
from app.auth.sessions import revoke_user_sessions
from app.clock import utcnow
from app.extensions import db

GENERIC_FAILURE = _l("The email or password is incorrect.")


class AuthError(Exception):
    """A sign-in or account rule refused the request; the message is shown to the user."""

    def __init__(self, message, *, retry_at: datetime | None = None, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.retry_at = retry_at
        self.field = field


@dataclass(frozen=True)
class SignInStep:
    """What follows a correct password: done, a code to enter, or a code to set up first."""

    user: User
    next_step: str  # "done", "verify" or "enrol"


def find_user_by_email(email: str) -> User | None:
    """The account with this email, compared without case."""
    stmt = select(User).where(func.lower(User.email) == email.strip().lower())
    return db.session.execute(stmt).scalar_one_or_none()


def mfa_required(user: User) -> bool:
    """Whether the user's role must use one-time codes."""
    return user.role in current_app.config["MFA_REQUIRED_ROLES"]


def check_password(*, email: str, password: str, ip: str | None) -> SignInStep:
    """First step of signing in: throttling, then the password; one answer for every failure."""
    state = throttle.check(email, ip)
    user = find_user_by_email(email)
    if state.blocked:
        events.record("login_throttled", user=user)
        db.session.commit()
        raise AuthError(_l("Too many failed attempts."), retry_at=state.retry_at)
    ok = passwords.verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        locked = throttle.record_failure(email, ip)
        detail = "unknown_account" if user is None else ("disabled" if ok else "bad_password")
        events.record("login_failure", user=user, detail=detail)
        if locked:
            events.record("lockout", user=user)
        db.session.commit()
        raise AuthError(GENERIC_FAILURE)
    if passwords.needs_rehash(user.password_hash):
        # Only over the hash just checked: a password changed meanwhile is never put back.
        db.session.execute(
            update(User)
            .where(User.id == user.id, User.password_hash == user.password_hash)
            .values(password_hash=passwords.hash_password(password))
            .execution_options(synchronize_session=False)
        )
        db.session.refresh(user)
    db.session.commit()
    if user.totp_enabled:
        return SignInStep(user, "verify")
    return SignInStep(user, "enrol" if mfa_required(user) else "done")


def check_second_factor(*, user: User, code: str, ip: str | None) -> None:
    """Second step: a one-time code accepted once, or an unused recovery code."""
    state = throttle.check(user.email, ip)
    if state.blocked:
        events.record("login_throttled", user=user)
        db.session.commit()
        raise AuthError(_l("Too many failed attempts."), retry_at=state.retry_at)
    if user.totp_enabled and mfa.accept_totp(user, mfa.open_totp_secret(user), code):
        db.session.commit()
        return
    if mfa.use_recovery_code(user, code):
        events.record("recovery_code_used", user=user)
        db.session.commit()
        return
    locked = throttle.record_failure(user.email, ip)
    events.record("mfa_failure", user=user)
    if locked:
        events.record("lockout", user=user)
    db.session.commit()
    raise AuthError(_l("That code is not valid. Codes change every 30 seconds and work once."))


def complete_sign_in(*, user: User, ip: str | None) -> None:
    """Record a full sign-in once every factor has been checked."""
    throttle.clear_account(user.email, ip)
    user.last_login_at = utcnow()
    events.record("login_success", user=user)
    db.session.commit()


def sign_out(*, user: User, reason: str = "user") -> None:
    """Record a sign-out; the view drops the session itself."""
    events.record("logout" if reason == "user" else "session_expired", user=user, detail=reason)
    db.session.commit()


def record_expired_session(*, user_id: int, reason: str) -> str | None:
    """Record that a session ended by timeout, once, when its cookie is next presented; the
    account's language, for the pages that say so."""
    user = db.session.get(User, user_id)
    if user is None:
        return None
    events.record("session_expired", user=user, detail=reason)
    db.session.commit()
    return user.language


def confirm_password(
    *, user: User, password: str, ip: str | None, message=None, field: str | None = None
) -> None:
    """A signed-in user's password, asked again before a sensitive change. Throttled and
    audited as a sign-in is (the same counters: a screen left signed in does not allow endless
    guesses, and each wrong try is in the account's events)."""
    state = throttle.check(user.email, ip)
    if state.blocked:
        events.record("login_throttled", user=user, detail="password_check")
        db.session.commit()
        raise AuthError(_l("Too many failed attempts."), retry_at=state.retry_at, field=field)
    if passwords.verify_password(user.password_hash, password):
        return
    locked = throttle.record_failure(user.email, ip)
    events.record("login_failure", user=user, detail="password_check")
    if locked:
        events.record("lockout", user=user)
    db.session.commit()
    raise AuthError(message or _l("The password is incorrect."), field=field)


def change_password(
    *, user: User, current: str, new: str, keep_sid: str | None, ip: str | None = None
) -> None:
    """Change one's own password; every other session of the account ends at once."""
    confirm_password(
        user=user,
        password=current,
        ip=ip,
        message=_l("The current password is incorrect."),
        field="current",
    )
    if current == new:
        raise AuthError(_l("Choose a password different from the current one."))
    try:
        passwords.check_password_policy(new, user_inputs=(user.email, user.full_name))
    except passwords.PasswordPolicyError as exc:
        raise AuthError(exc.args[0]) from exc
    user.password_hash = passwords.hash_password(new)
    user.password_changed_at = utcnow()
    user.must_change_password = False
    revoke_user_sessions(user.id, keep_sid=keep_sid)
    events.record("password_changed", user=user, actor=user)
    db.session.commit()


def confirm_mfa_enrolment(
    *, user: User, secret: str, code: str, password: str | None = None, ip: str | None = None
) -> list[str]:
    """Turn on one-time codes once the user proves the app works; returns new recovery codes.
    From the account page (`password` given) the password is checked first: whoever finds a
    screen left signed in must not tie the account to their own phone."""
    if password is not None:
        confirm_password(user=user, password=password, ip=ip, field="password")
    step = mfa.matching_step(secret, code)
    if step is None:
        raise AuthError(_l("That code does not match. Check the time on your phone and try again."))
    mfa.seal_totp_secret(user, secret)
    user.totp_enabled = True
    user.totp_last_step = step
    codes = mfa.new_recovery_codes(user)
    events.record("mfa_enrolled", user=user, actor=user)
    db.session.commit()
    return codes


def disable_mfa(*, user: User, password: str, ip: str | None = None) -> None:
    """Turn off one-time codes, for roles where they are optional, after a password check."""
    if mfa_required(user):
        raise AuthError(_l("Your role requires one-time codes; they cannot be turned off."))
    confirm_password(user=user, password=password, ip=ip)
    user.totp_enabled = False
    user.totp_secret = None
    user.totp_last_step = None
    user.recovery_codes = []
    events.record("mfa_disabled", user=user, actor=user)
    db.session.commit()


def regenerate_recovery_codes(*, user: User, password: str, ip: str | None = None) -> list[str]:
    """Replace the recovery codes after a password check; the old ones stop working."""
    confirm_password(user=user, password=password, ip=ip)
    codes = mfa.new_recovery_codes(user)
    events.record("recovery_codes_regenerated", user=user, actor=user)
    db.session.commit()
    return codes


def set_language(*, user: User, language: str) -> None:
    """Store the user's language choice on the account."""
    if language not in current_app.config["LANGUAGES"]:
        raise AuthError(_l("Unknown language."))
    if language != user.language:  # an account change: in the log, as an admin's would be
        user.language = language
        events.record("user_updated", user=user, actor=user, detail="language")
    db.session.commit()


def end_other_sessions(*, user: User, keep_sid: str | None) -> int:
    """Sign the user out everywhere but here."""
    count = revoke_user_sessions(user.id, keep_sid=keep_sid)
    events.record("sessions_revoked", user=user, actor=user, detail=str(count))
    db.session.commit()
    return count


def pending_is_fresh(started: float, *, minutes: int = 5) -> bool:
    """Whether a half-finished sign-in (password given, code pending) is still usable."""
    return utcnow() - datetime.fromtimestamp(started, utcnow().tzinfo) < timedelta(minutes=minutes)
