"""Configuration: defaults here, overridden by instance/config.py, then by environment variables."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_PATH", BASE_DIR / "instance"))


def _int(name: str, default: int) -> int:
    """Read an integer setting from the environment."""
    return int(os.environ.get(name, default))


class Config:
    """Settings shared by every environment; each can be set by an environment variable."""

    APP_NAME = "Điểm Tựa"
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'diemtua.sqlite3'}"
    )
    # hide_parameters: error messages never carry the values of a statement (emails, hashes).
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "hide_parameters": True}
    KEY_FILE = os.environ.get("KEY_FILE", str(INSTANCE_DIR / "keys.json"))
    # Sign-in throttling: failures allowed per window, per account and per client address.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    LOGIN_FAILURES_PER_ACCOUNT = os.environ.get("LOGIN_FAILURES_PER_ACCOUNT", "5 per 15 minutes")
    LOGIN_FAILURES_PER_IP = os.environ.get("LOGIN_FAILURES_PER_IP", "20 per 15 minutes")
    # A flood guard on the sign-in form itself, whatever the outcome of each attempt.
    LOGIN_REQUEST_LIMIT = os.environ.get("LOGIN_REQUEST_LIMIT", "60 per minute")
    # Sessions live on the server; the cookie only carries a random id.
    SESSION_IDLE_SECONDS = _int("SESSION_IDLE_MINUTES", 15) * 60
    SESSION_WARNING_SECONDS = _int("SESSION_WARNING_SECONDS", 60)
    SESSION_MAX_SECONDS = _int("SESSION_MAX_HOURS", 12) * 3600
    SESSION_COOKIE_NAME = "diemtua_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    MFA_REQUIRED_ROLES = ("supervisor", "admin")
    PASSWORD_MIN_LENGTH = 12
    # Bits kept of each blind-index digest: fewer bits, more false matches and less revealed.
    BLIND_INDEX_BITS = _int("BLIND_INDEX_BITS", 24)
    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
    LANGUAGES = ("vi", "en")
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the server-side session
    STARTUP_CHECKS = True
    PREFERRED_URL_SCHEME = "http"


class DevelopmentConfig(Config):
    """The embedded SQLite set-up of `make run`."""


class ProductionConfig(Config):
    """Behind an HTTPS proxy: secure, host-only cookies and HSTS."""

    SESSION_COOKIE_NAME = "__Host-diemtua_session"
    SESSION_COOKIE_SECURE = True
    # Lax, not Strict: under Strict a link opened from another site (the phone system's web
    # softphone handing over a screen pop, a link in webmail) arrives without the cookie, and
    # the sign-in page it is sent to sets a new one over it, signing the operator out of every
    # tab mid-call. Lax still keeps the cookie off cross-site POSTs; every form carries a CSRF
    # token, and no GET changes anything another site could name (a pop's link is a secret).
    SESSION_COOKIE_SAMESITE = "Lax"
    PREFERRED_URL_SCHEME = "https"
    TRUST_PROXY = True


class TestingConfig(Config):
    """Used by the test suite; the database comes from TEST_DATABASE_URL or a temporary file."""

    TESTING = True
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")


CONFIGS = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "testing": TestingConfig,
}
