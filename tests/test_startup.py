"""Start-up refuses with one plain sentence; /healthz; instance set-up never replaces keys."""

import json
import logging
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app import StartupError, create_app
from app.crypto.keyring import load_keyring, save_keyring
from app.setup_instance import setup

ROOT = Path(__file__).resolve().parent.parent


def test_missing_key_file_stops_the_app(app_config, tmp_path):
    with pytest.raises(StartupError) as caught:
        create_app("testing", app_config | {"KEY_FILE": str(tmp_path / "absent.json")})
    message = str(caught.value)
    assert "missing" in message and "backup" in message and "\n" not in message


def test_unreadable_key_file_stops_the_app(app_config, tmp_path):
    broken = tmp_path / "keys.json"
    broken.write_text("{not json")
    with pytest.raises(StartupError, match="cannot be read"):
        create_app("testing", app_config | {"KEY_FILE": str(broken)})
    broken.write_text(json.dumps({"keks": {"k1": "c2hvcnQ="}, "active_kek": "k1", "index": ""}))
    with pytest.raises(StartupError, match="cannot be read"):
        create_app("testing", app_config | {"KEY_FILE": str(broken)})


def test_unreachable_database_stops_the_app(app_config):
    url = "postgresql+psycopg://nobody:secret@127.0.0.1:9/nowhere"
    with pytest.raises(StartupError) as caught:
        create_app("testing", app_config | {"SQLALCHEMY_DATABASE_URI": url})
    message = str(caught.value)
    assert "cannot be reached" in message and "secret" not in message


def test_missing_secret_key_stops_the_app(app_config):
    with pytest.raises(StartupError, match="SECRET_KEY"):
        create_app("testing", app_config | {"SECRET_KEY": None})


def test_wsgi_prints_one_sentence_and_exits(tmp_path):
    env = os.environ | {
        "KEY_FILE": str(tmp_path / "none.json"),
        "SECRET_KEY": "x" * 32,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("Điểm Tựa cannot start: The key file")
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1


def test_healthz_reports_database_and_keys(client, app, tmp_path):
    assert client.get("/healthz").get_json() == {"status": "ok", "database": "ok", "keys": "ok"}
    original = app.config["KEY_FILE"]
    app.config["KEY_FILE"] = str(tmp_path / "gone.json")
    try:
        response = client.get("/healthz")
    finally:
        app.config["KEY_FILE"] = original
    assert response.status_code == 503 and response.get_json()["keys"] == "error"


def test_healthz_follows_a_key_rotation_done_elsewhere(make_app, key_file, tmp_path):
    """`flask keys rotate` writes the file while workers run: a worker that only answers
    health checks takes the new keys up instead of reporting itself broken for ever."""
    keys = tmp_path / "keys.json"
    shutil.copy(key_file, keys)
    app = make_app(KEY_FILE=str(keys), STARTUP_CHECKS=False)
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    save_keyring(load_keyring(keys).with_new_kek(), keys)
    os.utime(keys, ns=(time.time_ns(), time.time_ns() + 1_000_000))  # a later stamp
    answer = client.get("/healthz")
    assert answer.status_code == 200 and answer.get_json()["keys"] == "ok"


def test_setup_creates_private_files_once(tmp_path):
    instance = tmp_path / "instance"
    keys = instance / "keys.json"
    done = setup(instance, key_file=str(keys), database_url=f"sqlite:///{instance / 'x.db'}")
    assert len(done) == 2
    for path in (keys, instance / "config.py"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    before = keys.read_bytes()
    assert setup(instance, key_file=str(keys)) == []
    assert keys.read_bytes() == before


def test_setup_makes_an_instance_folder_a_clone_made_open_private(tmp_path):
    """`git clone` makes instance/ (0755) for its tracked .gitkeep before setup runs: the
    database SQLite creates there with the umask would be readable by every local account."""
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    instance.chmod(0o755)
    (instance / ".gitkeep").touch()
    setup(instance, key_file=str(instance / "keys.json"), database_url="sqlite://")
    assert stat.S_IMODE(instance.stat().st_mode) == 0o700


def test_make_help_lists_every_target_the_readme_names():
    import re

    root = Path(__file__).resolve().parents[1]
    listed = subprocess.run(["make", "-s", "help"], cwd=root, capture_output=True, text=True)
    readme = (root / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`make ([a-z0-9-]+)", readme))
    assert named and all(f"make {target} " in listed.stdout for target in named), named


def test_setup_never_makes_new_keys_beside_an_existing_database(tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    database = instance / "diemtua.sqlite3"
    database.write_bytes(b"SQLite format 3\x00 pretend rows")
    with pytest.raises(SystemExit, match="restore the key file"):
        setup(instance, key_file=str(instance / "keys.json"), database_url=f"sqlite:///{database}")
    assert not (instance / "keys.json").exists()


def test_log_lines_carry_a_request_id_and_no_password(client, make_user, app):
    user = make_user("operator")
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(self.format(record))

    handler = Keep()
    handler.setFormatter(app.logger.handlers[0].formatter)
    handler.filters = list(app.logger.handlers[0].filters)
    app.logger.addHandler(handler)
    try:
        token = client.csrf_token()
        client.post(
            "/auth/login",
            headers={"X-Request-ID": "req-abcdef12"},
            data={"csrf_token": token, "email": user.email, "password": "secret words here"},
        )
    finally:
        app.logger.removeHandler(handler)
    assert any("[req-abcdef12]" in line and "login_failure" in line for line in records), records
    assert not any("secret words here" in line or user.email in line for line in records)
