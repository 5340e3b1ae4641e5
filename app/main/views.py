"""The front door, the deployment health check, and error pages in the user's language."""

from __future__ import annotations

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
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import text
from werkzeug.exceptions import HTTPException

from app.auth.access import HOME_ENDPOINTS
from app.crypto import KeyFileError, load_keyring
from app.crypto.datakeys import keyring
from app.extensions import csrf, db
from app.main import bp

ERROR_CODES = (400, 403, 404, 405, 413, 429, 500)


@bp.route("/")
def index():
    """Send signed-in users to their role's home page, others to sign in."""
    if current_user.is_authenticated:
        return redirect(url_for(HOME_ENDPOINTS[current_user.role]))
    return redirect(url_for("auth.login"))


@bp.route("/enter-pressed", methods=["POST"])
@csrf.exempt
def enter_pressed():
    """Where a form's Enter guard sends (_macros/forms.html enter_guard), JavaScript off: nothing
    is read or done, and "204 No Content" leaves the browser on the page, everything typed in
    it, in any browser. Open to anyone (a session ended meanwhile must not take the page away);
    not counted as activity."""
    g.passive_request = True
    return "", 204


@bp.route("/healthz")
def healthz():
    """Whether the database answers and the key file opens, for load balancers and monitoring."""
    checks = {"database": "ok", "keys": "ok"}
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means unhealthy; the log has the detail
        current_app.logger.exception("health check: database unreachable")
        checks["database"] = "error"
    try:
        ring = load_keyring(current_app.config["KEY_FILE"])
        if ring.fingerprint() != keyring().fingerprint():
            # A rotation written by the command or another worker: this worker takes the new
            # file up now (keyring() looks at most once a second), as its next request would.
            current_app.extensions["diemtua.keyring_checked"] = 0.0
            if ring.fingerprint() != keyring().fingerprint():
                checks["keys"] = "changed"
    except KeyFileError:
        checks["keys"] = "error"
    healthy = all(v == "ok" for v in checks.values())
    return jsonify(status="ok" if healthy else "error", **checks), 200 if healthy else 503


def render_error(error):
    """An error page in the user's language, never with a stack trace."""
    from app.telephony.api import api_errors, is_api_request

    if is_api_request() and isinstance(error, HTTPException):
        return api_errors(error)  # a routing error on the API's address (a GET): JSON too
    code = getattr(error, "code", 500) or 500
    if code not in ERROR_CODES:
        code = 500
    if code == 500:
        db.session.rollback()
    if request.is_json or request.accept_mimetypes.best == "application/json":
        # A page script's request: answer in kind. Rendering the HTML page would also issue a
        # new anonymous session cookie, which could replace a sign-in made in another tab.
        return jsonify(error="csrf" if isinstance(error, CSRFError) else code), code
    if isinstance(error, CSRFError):
        answer = _csrf_answer()
        if answer is not None:
            return answer
    return render_template(f"errors/{code}.html", csrf_error=isinstance(error, CSRFError)), code


def _csrf_answer():
    """A form whose token no longer matches its session, where something better than the
    expired-form page can be done: the sign-in page and its language switch left open past
    their session, a sign-out from a page of an ended or earlier session. None elsewhere."""
    if not current_user.is_authenticated and request.endpoint == "auth.login":
        return _sign_in_again()
    if not current_user.is_authenticated and request.endpoint == "auth.set_language":
        # The sign-in page's footer, left open: the language chosen is kept (a choice for this
        # browser only, nothing an attacker gains by), and the page drawn again.
        if request.form.get("language") in current_app.config["LANGUAGES"]:
            session["lang"] = request.form["language"]
        return redirect(url_for("auth.login"))
    if request.endpoint == "auth.logout":
        idle = request.form.get("reason") == "idle"
        if current_user.is_authenticated:
            # A page of an earlier session (signed in again since, in another tab). Its idle
            # timer does not end the session in use now; a click on its "Sign out" does.
            if idle:
                return redirect(url_for("main.index"))
            from app.auth.views import sign_out_now

            sign_out_now("user")
            return redirect(url_for("auth.login"))
        # The session ended on the server just before the page's sign-out arrived: there is
        # nothing left to sign out of, so go on to the sign-in page as a sign-out would.
        if idle:
            flash(
                _("You were signed out after a period without activity. Please sign in again."),
                "info",
            )
        return redirect(url_for("auth.login"))
    return None


def _sign_in_again():
    """The sign-in page sent after its session ended (left open between shifts, say): the
    sign-in page again, the email kept (never the password), rather than an error page."""
    from app.auth.forms import LoginForm

    form = LoginForm(formdata=None)
    form.email.data = (request.form.get("email") or "").strip()[:254]
    flash(
        _("The sign-in page had been open a long time. Enter your password again to sign in."),
        "info",
    )
    return render_template("auth/login.html", form=form, error=None)


def register_error_handlers(app) -> None:
    """Route every HTTP error to render_error."""
    for code in ERROR_CODES:
        app.register_error_handler(code, render_error)
    app.register_error_handler(CSRFError, render_error)
