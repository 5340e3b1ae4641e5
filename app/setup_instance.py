"""Create instance/ for a new installation: a secret key and a key file, each mode 0600.

Run by `make run` and `make test` before anything else; it never overwrites an existing file and
never creates keys next to a database that already exists (those rows need the old keys).
Usage: python -m app.setup_instance
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

from sqlalchemy.engine import make_url

from app.crypto import write_new_key_file
from config import INSTANCE_DIR, Config


def _existing_sqlite_database(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database)
        return path if path.exists() and path.stat().st_size > 0 else None
    return None


def setup(
    instance: Path = INSTANCE_DIR, key_file: str | None = None, database_url: str | None = None
) -> list[str]:
    """Create what is missing and return what was done, one line each."""
    done = []
    instance.mkdir(mode=0o700, exist_ok=True)
    # Private whoever made it (a clone makes it for the tracked .gitkeep, open to every local
    # account): the database and its -wal, created by SQLite with the process's umask, are
    # inside, and nobody else may reach them.
    instance.chmod(0o700)
    config_file = instance / "config.py"
    if not config_file.exists():
        fd = os.open(config_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write("# Generated for this installation; keep it private.\n")
            handle.write(f"SECRET_KEY = {secrets.token_hex(32)!r}\n")
        done.append(f"created {config_file}")
    keys = Path(key_file or Config.KEY_FILE)
    if not keys.exists():
        existing = _existing_sqlite_database(database_url or Config.SQLALCHEMY_DATABASE_URI)
        if existing is not None:
            raise SystemExit(
                f"The key file {keys} is missing but the database {existing} exists: restore "
                "the key file from your key backup; new keys could not open the existing records."
            )
        write_new_key_file(keys)
        done.append(f"created {keys} (back it up apart from the database)")
    return done


if __name__ == "__main__":
    for line in setup():
        print(line)
    sys.exit(0)
