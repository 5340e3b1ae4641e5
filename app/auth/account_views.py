"""The user's own account: password, language, one-time codes, recovery codes, sessions."""

from __future__ import annotations

from flask import (
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import select

from app import crypto
from app.auth import bp, mfa, services
from app.auth.forms import (
    ActionForm,
    ChangePasswordForm,
    LanguageForm,
    PasswordConfirmForm,
)
from app.auth.models import WebSession
from app.auth.views import failure_text, home_url, safe_next
from app.extensions import db


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change one's own password; other sessions of the account end."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(
                user=current_user._get_current_object(),
                current=form.current.data,
                new=form.new.data,
                keep_sid=session.sid,
                ip=request.remote_addr,
            )
        except services.AuthError as exc:
            form[exc.field or "new"].errors.append(failure_text(exc))
        else:
            session.regenerate()
            flash(_("Your password has been changed. Other sessions were signed out."), "success")
            return redirect(home_url(current_user))
    return render_template("auth/password.html", form=form)


@bp.route("/account")
@login_required
def account():
    """The user's own account: language, one-time codes, recovery codes and open sessions."""
    rows = (
        db.session.execute(
            select(WebSession)
            .where(WebSession.user_id == current_user.id)
            .order_by(WebSession.last_seen_at.desc())
        )
        .scalars()
        .all()
    )
    return render_template(
        "auth/account.html",
        language_form=LanguageForm(language=current_user.language),
        confirm_form=PasswordConfirmForm(),
        action_form=ActionForm(),
        sessions=rows,
        current_session_id=crypto.session_key_id(session.sid) if session.sid else None,
        recovery_left=mfa.remaining_recovery_codes(current_user),
        mfa_required=services.mfa_required(current_user),
    )


@bp.route("/language", methods=["POST"])
def set_language():
    """Switch the interface language: on the account when signed in, else for this session."""
    form = LanguageForm()
    if form.validate_on_submit():
        if current_user.is_authenticated:
            services.set_language(
                user=current_user._get_current_object(), language=form.language.data
            )
        else:
            session["lang"] = form.language.data
    return redirect(safe_next(form.next.data) or url_for("auth.login"))


@bp.route("/account/sessions/end-others", methods=["POST"])
@login_required
def end_other_sessions():
    """Sign out of every other browser and device."""
    if ActionForm().validate_on_submit():
        count = services.end_other_sessions(
            user=current_user._get_current_object(), keep_sid=session.sid
        )
        flash(
            ngettext(
                "%(num)d other session signed out.", "%(num)d other sessions signed out.", count
            ),
            "success",
        )
    return redirect(url_for("auth.account"))


def _with_password(action):
    """Run `action` (a service taking user, password and ip) once the page's password form is
    valid; a refusal is flashed. (The result, or None when nothing was done.)"""
    form = PasswordConfirmForm()
    if not form.validate_on_submit():
        return None
    try:
        return (
            action(
                user=current_user._get_current_object(),
                password=form.password.data,
                ip=request.remote_addr,
            )
            or True
        )
    except services.AuthError as exc:
        flash(failure_text(exc), "error")
        return None


@bp.route("/account/mfa/disable", methods=["POST"])
@login_required
def disable_mfa():
    """Turn off one-time codes where the role allows it."""
    if _with_password(services.disable_mfa):
        flash(_("One-time codes are off."), "success")
    return redirect(url_for("auth.account"))


@bp.route("/account/mfa/recovery-codes", methods=["POST"])
@login_required
def new_recovery_codes():
    """Replace the recovery codes after a password check, and show the new ones once."""
    codes = _with_password(services.regenerate_recovery_codes)
    if codes:
        session["recovery_codes"] = codes
        return redirect(url_for("auth.recovery_codes"))
    return redirect(url_for("auth.account"))
