"""What every response shares: security headers, request ids, logging, language, templates."""

from __future__ import annotations

import logging
import os
import re
import time
import uuid

from flask import (
    Flask,
    flash,
    g,
    has_request_context,
    jsonify,
    redirect,
    request,
    session,
    url_for,
)
from flask_babel import format_date, format_datetime
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import joinedload
from werkzeug.middleware.proxy_fix import ProxyFix

from app.auth.labels import (
    CASE_STATUS_LABELS,
    EVENT_LABELS,
    KIND_LABELS,
    OBJECT_LABELS,
    ROLE_LABELS,
    detail_text,
)
from app.auth.models import User
from app.extensions import db, login_manager
from app.form_messages import use_our_catalog
from app.request_values import AppRequest, RowIdConverter

REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{7,63}$")  # never a formula's first sign
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)
NAV = {
    "operator": [
        ("home.operator", _l("Desk")),
        ("calls.new", _l("New call")),
        ("cases.search", _l("Search")),
    ],
    "case_manager": [("home.case_manager", _l("Overview")), ("cases.search", _l("Search"))],
    "supervisor": [
        ("home.supervisor", _l("Overview")),
        ("calls.new", _l("New call")),
        ("cases.search", _l("Search")),
        ("audit.index", _l("Audit log")),
    ],
    "admin": [
        ("admin.users", _l("Accounts")),
        ("admin.organisations", _l("Organisations")),
        ("telephony.lines", _l("Phone lines")),
        ("audit.index", _l("Audit log")),
    ],
    "partner": [("home.partner", _l("Overview"))],
}


class RequestIdFilter(logging.Filter):
    """Put the request id on every log record, so one request's lines can be found together."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


def configure_logging(app: Flask) -> None:
    """Log lines carry the time, level, request id and message; nothing about people."""
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s")
    )
    app.logger.handlers[:] = [handler]
    app.logger.setLevel(os.environ.get("LOG_LEVEL", "INFO").upper())


# The language of the account a page is shown for before or after its session (the one-time
# code's pages, "You have signed out"): shown in, never stored on an account, unlike "lang",
# the choice made on the sign-in page, which signing in keeps on the account.
SHOWN_LANGUAGE = "lang_shown"


def select_locale() -> str:
    """The account's language, else the one chosen on the sign-in page, else that of the
    account signing in or just signed out on this browser, else Vietnamese."""
    if has_request_context():
        if current_user and current_user.is_authenticated:
            return current_user.language
        for key in ("lang", SHOWN_LANGUAGE):
            if session.get(key) in ("vi", "en"):
                return session[key]
    return "vi"


def select_timezone() -> str:
    """Times are always shown in Vietnam's time zone."""
    return "Asia/Ho_Chi_Minh"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The signed-in user of a live server-side session, unless the account was disabled."""
    # With its organisation in the same query: most pages and every save use it.
    user = db.session.get(User, int(user_id), options=[joinedload(User.organisation)])
    return user if user is not None and user.active else None


@login_manager.unauthorized_handler
def unauthorized():
    """Pages go to the sign-in page; a page script's request gets a plain 401, with no flash
    message and so no new anonymous session cookie that could replace a sign-in made in
    another tab."""
    if request.is_json or request.accept_mimetypes.best == "application/json":
        return jsonify(error="signed_out"), 401
    flash(login_manager.login_message, login_manager.login_message_category)
    # Where to go back to after signing in is kept in the (sealed, server-side) session, not
    # in the sign-in page's address: a value typed into a search box by mistake (a phone
    # number in the case-number box) reaches no further address, history entry or log line.
    if request.method == "GET":  # a form sent is not a page to go back to
        session["next"] = _page_to_go_back_to()
        session["next_at"] = time.time()
    return redirect(url_for(login_manager.login_view))


# Pages whose address holds what was typed in their boxes (a search, the audit log's filters),
# where a value typed in the wrong box (a phone number) may be: after signing in, the person
# goes to the page without them, so the value reaches no second address or log line. An
# export asked for opens the log it is made from, not an export of everything.
TYPED_BOX_PAGES = {
    "cases.search": "cases.search",
    "audit.index": "audit.index",
    "audit.export": "audit.index",
}


def _page_to_go_back_to() -> str:
    """The page asked for while signed out, as it is followed after signing in."""
    if request.endpoint in TYPED_BOX_PAGES:
        return url_for(TYPED_BOX_PAGES[request.endpoint])
    return request.script_root + request.full_path.rstrip("?")


def assign_request_id() -> None:
    """Take the proxy's request id when it looks sane, else make one."""
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if REQUEST_ID.match(incoming) else uuid.uuid4().hex


def set_security_headers(response):
    """Strict browser protections on every response; pages are never cached, except reference
    data marked with cache_privately."""
    headers = response.headers
    headers["Content-Security-Policy"] = CSP
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Frame-Options"] = "DENY"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
    headers["X-Request-ID"] = g.get("request_id", "")
    keep_for = getattr(response, "private_max_age", None)  # set by cache_privately
    if keep_for:
        headers["Cache-Control"] = f"private, max-age={keep_for}"
    elif request.endpoint != "static":
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
    if request.is_secure:
        headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    return response


def cache_privately(response, *, seconds: int):
    """Let the user's browser keep a response for a while (reference data only, never anything
    about people); every other response stays no-store."""
    response.private_max_age = seconds
    return response


def template_helpers() -> dict:
    """Navigation for the user's role and the session timings the page script needs."""
    from flask import current_app

    items = NAV.get(current_user.role, []) if current_user.is_authenticated else []
    return {
        "nav_items": items,
        "role_labels": ROLE_LABELS,
        "kind_labels": KIND_LABELS,
        "event_labels": EVENT_LABELS,
        "object_labels": OBJECT_LABELS,
        "case_status_labels": CASE_STATUS_LABELS,
        "idle_seconds": current_app.config["SESSION_IDLE_SECONDS"],
        "warning_seconds": current_app.config["SESSION_WARNING_SECONDS"],
        "current_locale": select_locale(),
    }


def init_web(app: Flask) -> None:
    """Wire the request hooks, filters and login settings into the app."""
    app.request_class = AppRequest  # no NUL in a parameter or a field (app/request_values.py)
    app.url_map.converters["int"] = RowIdConverter  # before the routes: ids of nine digits
    if app.config.get("TRUST_PROXY"):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)
    configure_logging(app)
    # First of all the request's hooks: a request refused by an extension's own hook (a failed
    # CSRF check, a body too large, a rate limit) still gets its id, in its log line and header.
    app.before_request_funcs.setdefault(None, []).insert(0, assign_request_id)
    app.before_request(use_our_catalog)
    app.after_request(set_security_headers)
    app.context_processor(template_helpers)
    app.add_template_filter(lambda v: format_datetime(v, "dd/MM/yyyy HH:mm") if v else "", "dt")
    app.add_template_filter(lambda v: format_date(v, "dd/MM/yyyy") if v else "", "d")
    app.add_template_filter(detail_text, "audit_detail")
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to continue.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = None  # sessions are server-side and revocable
