"""Test fixtures: one database per test session (migrated once), emptied after every test.

The database is TEST_DATABASE_URL when set (PostgreSQL in CI), else a SQLite file in a temporary
directory. Tables are emptied rather than rolled back, because browser tests drive a live server
in another thread that must see committed rows.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, text

from app import create_app
from app.admin import services as admin_services
from app.auth import mfa, throttle
from app.auth.models import Organisation, User
from app.crypto import write_new_key_file
from app.crypto.fingerprints import RECORDED
from app.extensions import db, limiter
from app.places.services import load_places

PASSWORD = "a calm river at dawn"
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
STATUS_VERSION = re.compile(r'<input id="version" name="version" type="hidden" value="(\d+)">')
ROLES = ("operator", "case_manager", "supervisor", "admin", "partner")
KEPT_TABLES = {"place"}  # reference data loaded once per session


class Client(FlaskClient):
    """A test client that sends a valid CSRF token with every form, as a browser would."""

    def csrf_token(self, page: str = "/auth/login") -> str:
        """The token rendered in a page's meta tag for this client's session."""
        return self._token_and_page(page)[0]

    def _token_and_page(self, page: str) -> tuple[str, str]:
        html = self.get(page).get_data(as_text=True)
        match = CSRF_META.search(html)
        assert match, f"no CSRF token on {page}"
        return match.group(1), html

    def submit(self, url: str, data: dict | None = None, *, page: str | None = None, **kwargs):
        """POST a form the way the page would, token included; a status change also sends the
        case version its page was drawn at, unless the test gives one."""
        fields = dict(data or {})
        fields["csrf_token"], html = self._token_and_page(page or url)
        if url.endswith("/status") and "version" not in fields:
            drawn = STATUS_VERSION.search(html)
            if drawn:
                fields["version"] = drawn.group(1)
        return self.post(url, data=fields, **kwargs)


def _database_url(tmp_path_factory) -> str:
    """PostgreSQL from TEST_DATABASE_URL, else a fresh SQLite file."""
    import os

    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def key_file(tmp_path_factory) -> Path:
    """A key file made for this test session."""
    path = tmp_path_factory.mktemp("keys") / "keys.json"
    write_new_key_file(path)
    return path


@pytest.fixture(scope="session")
def app_config(tmp_path_factory, key_file) -> dict:
    """Settings every test app shares."""
    return {
        "SQLALCHEMY_DATABASE_URI": _database_url(tmp_path_factory),
        "KEY_FILE": str(key_file),
        "SECRET_KEY": "test-secret-key-not-for-production",
        "RATELIMIT_STORAGE_URI": "memory://",
        "SERVER_NAME": None,
    }


@pytest.fixture(scope="session")
def app(app_config):
    """The application, with the schema built by the migrations themselves."""
    from flask_migrate import upgrade

    application = create_app("testing", app_config)
    application.test_client_class = Client
    with application.app_context():
        with db.engine.begin() as conn:  # start from nothing, even on a reused database
            if conn.dialect.name == "postgresql":
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()
        load_places()  # reference data, kept for the whole session (see empty_all_tables)
        empty_all_tables()  # the load's audit entry: every test starts with an empty chain
    yield application
    with application.app_context():
        db.engine.dispose()


def empty_all_tables() -> None:
    """Delete every row but the place list; the audit log's append-only trigger is lifted for
    this on PostgreSQL."""
    with db.engine.begin() as conn:
        postgres = conn.dialect.name == "postgresql"
        if postgres:
            conn.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER USER"))
        for table in reversed(db.metadata.sorted_tables):
            if table.name not in KEPT_TABLES:
                conn.execute(table.delete())
        conn.execute(
            text(f"INSERT INTO audit_head (id, seq, last_hash) VALUES (1, 0, '{'0' * 64}')")
        )
        if postgres:
            conn.execute(text("ALTER TABLE audit_entry ENABLE TRIGGER USER"))


def audit_actions(user: User) -> list[str]:
    """The audit actions recorded about one account, oldest first."""
    from app.audit import AuditEntry

    rows = db.session.execute(
        select(AuditEntry.action)
        .where(AuditEntry.object_type == "account", AuditEntry.object_id == str(user.id))
        .order_by(AuditEntry.id)
    )
    return list(rows.scalars())


@pytest.fixture(scope="session")
def test_side_app(app, app_config):
    """A second app instance for the test's own database work.

    A request reuses an app context that is already pushed for the same app object, which would
    share `g` (and so the signed-in user) and the database session between the test and every
    request it makes. Pushing a context of another instance keeps them apart, as in production.
    """
    side = create_app("testing", app_config)
    yield side
    with side.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_database(app, test_side_app) -> Iterator[None]:
    """Each test starts with empty tables and fresh throttling counters."""
    ctx = test_side_app.app_context()
    ctx.push()
    yield
    db.session.rollback()
    db.session.remove()
    empty_all_tables()
    for instance in (app, test_side_app):
        instance.extensions.pop(RECORDED, None)
    limiter.reset()
    ctx.pop()
    with app.app_context():
        throttle.reset()


@pytest.fixture
def make_app(app_config):
    """Build another app instance (another worker, another config); its engines are closed after."""
    built = []

    def factory(config_name: str = "testing", **overrides):
        instance = create_app(config_name, app_config | overrides)
        instance.test_client_class = Client
        built.append(instance)
        return instance

    yield factory
    for instance in built:
        with instance.app_context():
            db.engine.dispose()


@pytest.fixture
def client(app) -> Client:
    """A fresh browser-like client."""
    return app.test_client()


@pytest.fixture
def make_org():
    """Create an organisation; pass overrides for any field."""
    counter = iter(range(1, 10_000))

    def factory(**overrides) -> Organisation:
        n = next(counter)
        fields = {"name": f"Tổ chức thử {n}", "code": f"T{n}", "kind": "hotline"} | overrides
        return admin_services.create_organisation(by=None, **fields)

    return factory


@pytest.fixture
def make_user(make_org):
    """Create an account with a known password; supervisors and admins get one-time codes."""
    counter = iter(range(1, 10_000))

    def factory(
        role: str = "operator",
        *,
        organisation: Organisation | None = None,
        mfa_on: bool | None = None,
        **overrides,
    ) -> User:
        n = next(counter)
        fields = {
            "email": f"{role}{n}@example.org",
            "full_name": f"Người dùng {n}",
            "language": "vi",
        } | overrides
        user, _ = admin_services.create_user(
            by=None, role=role, organisation=organisation or make_org(), password=PASSWORD, **fields
        )
        if mfa_on if mfa_on is not None else role in ("supervisor", "admin"):
            mfa.seal_totp_secret(user, pyotp.random_base32(32))
            user.totp_enabled = True
            db.session.commit()
        return user

    return factory


def current_code(user: User, *, offset_steps: int = 0) -> str:
    """The user's one-time code now (or a neighbouring step)."""
    secret = mfa.open_totp_secret(user)
    step = int(time.time() // mfa.STEP_SECONDS) + offset_steps
    return pyotp.TOTP(secret).generate_otp(step)


def sign_in(client: Client, user: User, password: str = PASSWORD):
    """Sign in through the real pages, code included where the account has one."""
    response = client.submit("/auth/login", {"email": user.email, "password": password})
    if response.status_code == 302 and response.location.endswith("/auth/verify"):
        response = client.submit("/auth/verify", {"code": current_code(user)})
    return response


def duties_done(case, by: User) -> int:
    """Mark the case's open duties of law done (the commune notified, the 12-hour checks), as
    whoever did them would: a case is not closed with one open. Gives how many."""
    from app.cases.casework import complete_task
    from app.cases.services import duties_open

    db.session.refresh(case)  # as pages may have left it
    duties = duties_open(case)
    for task in duties:
        complete_task(task=task, by=by, note="Đã làm xong")
    return len(duties)


@pytest.fixture
def login_as(client, make_user):
    """Sign the client in as a new user of the given role and return that user."""

    def factory(role: str = "operator", **kwargs) -> User:
        user = make_user(role, **kwargs)
        response = sign_in(client, user)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return user

    return factory
