"""Browser fixtures: the app served on a local port in a thread, driven by the system Chromium."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    """Debian's chromium (installed by `make test`), or CHROMIUM_PATH."""
    explicit = os.environ.get("CHROMIUM_PATH")
    if explicit:
        return explicit
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole run."""
    path = chromium_path()
    if path is None:
        if os.environ.get("SKIP_BROWSER_TESTS"):
            pytest.skip("SKIP_BROWSER_TESTS is set and no Chromium was found")
        pytest.fail(
            "No Chromium found: run 'make test' as root to install Debian's chromium, "
            "set CHROMIUM_PATH, or set SKIP_BROWSER_TESTS=1 to skip browser tests."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=path, headless=True, args=CHROMIUM_FLAGS
        )
        yield instance
        instance.close()


class LiveServer:
    """An app served by werkzeug in a background thread."""

    def __init__(self, application):
        self.server = make_server("127.0.0.1", 0, application, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def serve() -> Iterator:
    """Serve an app instance for one test; returns its base URL."""
    servers: list[LiveServer] = []

    def start(application) -> str:
        server = LiveServer(application)
        servers.append(server)
        return server.url

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def live_url(serve, app) -> str:
    """The main test app, served."""
    return serve(app)


@pytest.fixture
def page(browser):
    """A fresh browser context at 1366x768 (a common office screen), Vietnamese by default."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="vi-VN")
    tab = context.new_page()
    tab.errors = []
    tab.on("console", lambda msg: tab.errors.append(msg.text) if msg.type == "error" else None)
    tab.on("pageerror", lambda exc: tab.errors.append(str(exc)))
    yield tab
    context.close()


@pytest.fixture
def case_hotline(make_org, make_user):
    """A hotline's case, opened by its operator and assigned to its case manager (English UI)."""
    from app.calls.intake import Intake, Survivor, save_intake
    from app.extensions import db

    org = make_org(code="BQ")
    people = {
        role: make_user(role, organisation=org, language="en")
        for role in ("operator", "case_manager", "supervisor")
    }
    case = save_intake(
        data=Intake(
            reason="violence_report",
            survivor=Survivor(name="Lan", safe_contact="Text only"),
        ),
        by=people["operator"],
    ).case
    case.assigned_to_id = people["case_manager"].id
    db.session.commit()
    return people, case
