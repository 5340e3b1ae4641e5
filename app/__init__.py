"""Điểm Tựa: hotline case intake and referral. The application factory."""

from __future__ import annotations

import os

from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from config import CONFIGS, INSTANCE_DIR


class StartupError(RuntimeError):
    """The app cannot start; the message is one plain sentence saying what to do."""


def create_app(config_name: str | None = None, overrides: dict | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints, commands and error pages."""
    app = Flask(__name__, instance_path=str(INSTANCE_DIR), instance_relative_config=True)
    app.config.from_object(CONFIGS[config_name or os.environ.get("APP_CONFIG", "development")])
    app.config.from_pyfile("config.py", silent=True)
    if os.environ.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
    app.config.update(overrides or {})
    load_keys(app)
    register_extensions(app)
    register_web(app)
    register_blueprints(app)
    register_cli(app)
    if app.config["STARTUP_CHECKS"]:
        check_database(app)
    return app


def load_keys(app: Flask) -> None:
    """Open the key file and the secret key, or stop with a sentence saying what to do."""
    from app.crypto import KeyFileError, load_keyring

    if not app.config.get("SECRET_KEY"):
        raise StartupError(
            "No SECRET_KEY is set: run 'make run' once to create instance/config.py, "
            "or set the SECRET_KEY environment variable."
        )
    try:
        ring = load_keyring(app.config["KEY_FILE"])
        app.extensions["diemtua.keyring"] = ring
        if ring.source != "KEYS_JSON":
            app.extensions["diemtua.keyring_stamp"] = os.stat(ring.source).st_mtime_ns
    except KeyFileError as exc:
        raise StartupError(str(exc)) from exc


def register_extensions(app: Flask) -> None:
    """Bind the extensions created in app.extensions."""
    from app.auth import throttle
    from app.auth.sessions import DatabaseSessionInterface
    from app.extensions import babel, csrf, db, limiter, login_manager, migrate
    from app.sqlite import keep_statistics, unicode_lower
    from app.web import select_locale, select_timezone

    db.init_app(app)
    with app.app_context():
        keep_statistics(db.engine)
        unicode_lower(db.engine)
    migrate.init_app(app, db, directory=os.path.join(app.root_path, "..", "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    throttle.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    login_manager.init_app(app)
    app.session_interface = DatabaseSessionInterface()


def register_blueprints(app: Flask) -> None:
    """Attach the feature blueprints."""
    from app.admin import bp as admin_bp
    from app.auditlog import bp as audit_bp
    from app.auth import bp as auth_bp
    from app.calls import bp as calls_bp
    from app.calls import call_views as _call_pages  # noqa: F401
    from app.calls import correction_views as _call_corrections  # noqa: F401
    from app.calls import draft_views as _calls_drafts  # noqa: F401  (routes register on import)
    from app.calls import views as _calls_views  # noqa: F401
    from app.cases import bp as cases_bp
    from app.cases import (  # noqa: F401  (routes register on import)
        correction_views,
        draft_views,
        edit_views,
        erase_views,
        part_views,
        queue_views,
        search,
        status_views,
        views,
    )
    from app.home import bp as home_bp
    from app.main import bp as main_bp
    from app.places import bp as places_bp
    from app.telephony import bp as telephony_bp

    for blueprint in (
        main_bp,
        auth_bp,
        home_bp,
        admin_bp,
        calls_bp,
        cases_bp,
        places_bp,
        telephony_bp,
        audit_bp,
    ):
        app.register_blueprint(blueprint)


def register_web(app: Flask) -> None:
    """Security headers, request ids, logging, template helpers and error pages."""
    from app.main.views import register_error_handlers
    from app.web import init_web

    init_web(app)
    register_error_handlers(app)


def register_cli(app: Flask) -> None:
    """Add the flask commands."""
    from app.cli import register

    register(app)


def check_database(app: Flask) -> None:
    """Stop at start with a plain sentence when the database cannot be reached, or when the key
    file does not belong to it."""
    from app.crypto import KeyFileError
    from app.crypto.management import check_fingerprints
    from app.extensions import db

    with app.app_context():
        try:
            with db.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            where = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).render_as_string(
                hide_password=True
            )
            raise StartupError(
                f"The database {where} cannot be reached: check DATABASE_URL "
                "and that the database server is running."
            ) from exc
        try:
            check_fingerprints(app.extensions["diemtua.keyring"])
        except KeyFileError as exc:
            db.session.remove()
            db.engine.dispose()  # the app will not run: close its connections now
            raise StartupError(str(exc)) from exc
        db.session.remove()
