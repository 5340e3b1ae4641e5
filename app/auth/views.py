"""Sign-in, second factor, sign-out and session keep-alive (the account page: account_views.py)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

from flask import (
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import format_datetime, refresh
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app.auth import bp, events, mfa, services
from app.auth.access import HOME_ENDPOINTS
from app.auth.forms import (
    REQUIRED,
    ActionForm,
    CodeForm,
    EnrolForm,
    LoginForm,
)
from app.auth.models import User
from app.clock import utcnow
from app.extensions import db, limiter
from app.web import SHOWN_LANGUAGE

# A page asked for while signed out is gone back to after signing in within this many seconds.
NEXT_SECONDS = 15 * 60
ALWAYS_ALLOWED = {
    "auth.logout",
    "auth.change_password",
    "auth.keepalive",
    "auth.session_status",
    "static",
    "main.healthz",
    "auth.set_language",
}


def home_url(user: User) -> str:
    """The landing page of the user's role."""
    return url_for(HOME_ENDPOINTS[user.role])


def unsaved_work_url(user: User) -> str | None:
    """After signing in, intakes left unsaved (a session ended mid-call) are offered first, then
    text typed on case pages and not sent."""
    from app.calls.drafts import open_drafts
    from app.cases import drafts as case_drafts

    if user.role in ("operator", "supervisor") and open_drafts(user):
        return url_for("calls.draft_list")
    if user.role in ("operator", "case_manager", "supervisor") and case_drafts.open_drafts(user):
        return url_for("cases.draft_list")
    return None


def safe_next(target: str | None) -> str | None:
    """Only same-site relative paths are followed after sign-in."""
    if not target:
        return None
    if "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None  # browsers read a backslash as a slash, so a path could leave the site
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _not_anothers_draft(target: str | None, user: User) -> str | None:
    """The page asked for, unless it is another person's unsaved intake (`/calls/new?draft=`):
    on a shared computer, the one whose session ended there left it. The next person to sign
    in is not sent to it: it would be refused, and audited as their attempt."""
    from app.calls.drafts import held_by_another
    from app.form_fields import as_uuid

    parts = urlsplit(target or "")
    if not target or parts.path != url_for("calls.new"):
        return target
    key = as_uuid((parse_qs(parts.query).get("draft") or [""])[0])
    if key is not None and held_by_another(user=user, intake_key=key):
        return None
    return target


def _pending_checked_at() -> datetime:
    """When the pending sign-in's password was checked (its step's time: at most that)."""
    return datetime.fromtimestamp(session["pending"]["at"], UTC)


def _pending_user(step: str) -> User | None:
    """The user halfway through signing in, if the pending step is fresh."""
    pending = session.get("pending")
    if not pending or pending.get("step") != step or not services.pending_is_fresh(pending["at"]):
        return None
    user = db.session.get(User, pending["uid"])
    if user is None or not user.active or user.password_changed_at.timestamp() > pending["at"]:
        return None  # a password reset or change since the password step cancels it
    if step == "verify" and not user.totp_enabled:
        return None  # its one-time codes reset or turned off since: signing in starts again
    return user


def _finish_sign_in(user: User, password_checked_at: datetime):
    """Start a fresh session for the fully signed-in user and send them on. The session is
    written only if the password checked at `password_checked_at` is still the account's (a
    change or reset committed meanwhile ends it: app/auth/sessions.py)."""
    g.password_checked_at = password_checked_at
    # Where the person was going, if asked for lately: on a shared computer, the page left by
    # someone whose session ended long ago is not where the next person lands.
    asked_at = session.get("next_at") or 0
    target = safe_next(session.get("next")) if time.time() - asked_at < NEXT_SECONDS else None
    language = session.get("lang")
    session.clear()
    session.regenerate()
    login_user(user)
    target = _not_anothers_draft(target, user)
    if language in current_app.config["LANGUAGES"] and language != user.language:
        user.language = language  # chosen on the sign-in page: kept on the account, logged
        events.record("user_updated", user=user, actor=user, detail="language")
    services.complete_sign_in(user=user, ip=request.remote_addr)
    if user.must_change_password:
        flash(_("Choose a new password before you continue."), "info")
        return redirect(url_for("auth.change_password"))
    return redirect(target or unsaved_work_url(user) or home_url(user))


@bp.before_app_request
def enforce_session_rules():
    """Record timeouts, and hold users who must change their password on that page."""
    expired = getattr(session, "expired_reason", None)
    if expired and session.row.get("user_id"):
        language = services.record_expired_session(user_id=session.row["user_id"], reason=expired)
        if language:
            # "Signed out" and "Please sign in" in the account's language (the session that
            # said who it was is gone), as after signing out.
            session[SHOWN_LANGUAGE] = language
            refresh()
        if expired == "idle":
            flash(
                _("You were signed out after a period without activity. Please sign in again."),
                "info",
            )
        else:
            flash(_("Your session reached its maximum length. Please sign in again."), "info")
        session.expired_reason = None
    if (
        current_user.is_authenticated
        and current_user.must_change_password
        and request.endpoint not in ALWAYS_ALLOWED
    ):
        return redirect(url_for("auth.change_password"))
    return None


def failure_text(exc: services.AuthError) -> str:
    """The message of a refused check, with when to try again after too many failures."""
    message = str(exc.message)
    if exc.retry_at:
        message += " " + _(
            "Try again after %(time)s.", time=format_datetime(exc.retry_at, "dd/MM/yyyy HH:mm")
        )
    return message


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_REQUEST_LIMIT"])
def login():
    """Email and password; one answer for every failure, throttled after repeated failures."""
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    if request.method == "GET" and safe_next(request.args.get("next")):
        session["next"], session["next_at"] = request.args["next"], time.time()
    form = LoginForm()
    status, error = 200, None
    if form.validate_on_submit():
        checked_at = utcnow()
        try:
            step = services.check_password(
                email=form.email.data, password=form.password.data, ip=request.remote_addr
            )
        except services.AuthError as exc:
            status = 429 if exc.retry_at else 200
            error = failure_text(exc)
        else:
            # A set-up left half done by someone else on this browser is not offered on.
            session.pop("enrol_secret", None)
            if step.next_step == "done":
                return _finish_sign_in(step.user, checked_at)
            session["pending"] = {
                "uid": step.user.id,
                "at": checked_at.timestamp(),
                "step": step.next_step,
            }
            session[SHOWN_LANGUAGE] = step.user.language  # the code's pages in theirs
            return redirect(url_for("auth.verify" if step.next_step == "verify" else "auth.enrol"))
    return render_template("auth/login.html", form=form, error=error), status


@bp.route("/verify", methods=["GET", "POST"])
def verify():
    """The one-time code (or a recovery code) after a correct password."""
    user = _pending_user("verify")
    if user is None:
        flash(_("Please sign in again."), "info")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        try:
            services.check_second_factor(user=user, code=form.code.data, ip=request.remote_addr)
        except services.AuthError as exc:
            status = 429 if exc.retry_at else 200
            if exc.retry_at:
                session.pop("pending", None)
            form.code.errors.append(str(exc.message))
        else:
            return _finish_sign_in(user, _pending_checked_at())
    return render_template("auth/verify.html", form=form), status


@bp.route("/enrol", methods=["GET", "POST"])
def enrol():
    """Set up one-time codes: during sign-in when the role requires them, or from the account."""
    user = current_user if current_user.is_authenticated else _pending_user("enrol")
    if user is None:
        flash(_("Please sign in again."), "info")
        return redirect(url_for("auth.login"))
    if user.totp_enabled:
        return redirect(url_for("auth.account"))
    # The secret being set up belongs to this account only: a set-up another person left half
    # done on this browser is never shown to the next one.
    held = session.get("enrol_secret")
    secret = held["secret"] if isinstance(held, dict) and held.get("uid") == user.id else None
    if secret is None:
        secret = mfa.new_totp_secret()
        session["enrol_secret"] = {"uid": user.id, "secret": secret}
    signed_in = current_user.is_authenticated
    form = EnrolForm()
    if form.validate_on_submit():
        try:
            if signed_in and not form.password.data:
                raise services.AuthError(REQUIRED, field="password")
            codes = services.confirm_mfa_enrolment(
                user=user,
                secret=secret,
                code=form.code.data,
                password=form.password.data if signed_in else None,
                ip=request.remote_addr,
            )
        except services.AuthError as exc:
            form[exc.field or "code"].errors.append(failure_text(exc))
        else:
            session.pop("enrol_secret", None)
            session["recovery_codes"] = codes
            if not current_user.is_authenticated:  # the password's check keeps its time
                at = session["pending"]["at"]
                session["pending"] = {"uid": user.id, "at": at, "step": "codes"}
            return redirect(url_for("auth.recovery_codes"))
    uri = mfa.provisioning_uri(user, secret)
    return render_template(
        "auth/enrol.html",
        form=form,
        qr=mfa.qr_svg(uri),
        secret=secret,
        required=services.mfa_required(user),
        ask_password=signed_in,
    )


@bp.route("/recovery-codes", methods=["GET", "POST"])
def recovery_codes():
    """Show new recovery codes once; continuing finishes a sign-in that was waiting on them."""
    codes = session.get("recovery_codes")
    pending = _pending_user("codes")
    if not codes or (pending is None and not current_user.is_authenticated):
        return redirect(url_for("auth.login"))
    form = ActionForm()
    if form.validate_on_submit():
        session.pop("recovery_codes", None)
        if pending is not None:
            return _finish_sign_in(pending, _pending_checked_at())
        return redirect(url_for("auth.account"))
    return render_template("auth/recovery_codes.html", codes=codes, form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign out: the server-side session is deleted, so the cookie stops working at once."""
    form = ActionForm()
    if current_user.is_authenticated and form.validate_on_submit():
        sign_out_now("idle" if request.form.get("reason") == "idle" else "user")
    return redirect(url_for("auth.login"))


def sign_out_now(reason: str) -> None:
    """End the current session (recorded), with the message for the sign-in page."""
    language = current_user.language
    services.sign_out(user=current_user._get_current_object(), reason=reason)
    logout_user()
    session.clear()
    session[SHOWN_LANGUAGE] = language  # "You have signed out" in theirs
    if reason == "idle":
        flash(
            _("You were signed out after a period without activity. Please sign in again."),
            "info",
        )
    else:
        flash(_("You have signed out."), "success")


def _remaining_seconds() -> int:
    last = session.row.get("last_seen_at") or utcnow()
    idle = current_app.config["SESSION_IDLE_SECONDS"]
    return max(0, int(idle - (utcnow() - last).total_seconds()))


@bp.route("/keepalive", methods=["POST"])
@login_required
def keepalive():
    """Activity in the page (typing, clicking, 'stay signed in') keeps the session alive."""
    session.modified = True
    return jsonify(remaining=current_app.config["SESSION_IDLE_SECONDS"])


@bp.route("/session-status")
def session_status():
    """How long the session has left, without counting as activity."""
    g.passive_request = True
    if not current_user.is_authenticated:
        return jsonify(remaining=0, signed_in=False)
    # Which account: a page of another account's session (signed out, then someone else
    # signed in on this browser) leaves instead of staying on screen.
    return jsonify(remaining=_remaining_seconds(), signed_in=True, user=str(current_user.id))
