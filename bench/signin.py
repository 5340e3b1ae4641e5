"""Sign-in figures: server time of the sign-in page and of a password check, and install size.

Run with `make bench`. Uses a throwaway SQLite database and key file in a temporary directory;
prints a table. Figures go to docs/performance.md with the date and the machine.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402

from app import create_app  # noqa: E402
from app.admin import services as admin_services  # noqa: E402
from app.crypto import write_new_key_file  # noqa: E402

PASSWORD = "a calm river at dawn"  # noqa: S105 - throwaway benchmark account


def timed(fn, runs: int) -> list[float]:
    """Milliseconds per call over a number of runs, after two warm-up calls."""
    fn()
    fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def summary(name: str, samples: list[float]) -> str:
    """One table row: median and 95th percentile."""
    p95 = statistics.quantiles(samples, n=20)[18]
    return f"| {name} | {len(samples)} | {statistics.median(samples):.2f} | {p95:.2f} |"


def cpu_model() -> str:
    """The processor's name, where Linux tells it."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def install_size() -> str:
    """Size of the virtual environment and the number of installed distributions."""
    from importlib.metadata import distributions

    venv = Path(sys.prefix)
    site = Path(sys.modules["flask"].__file__).parent.parent
    total = _megabytes(venv)
    dev = _megabytes(site / "playwright") + _megabytes(venv / "bin" / "ruff")
    count = len({d.metadata["Name"].lower() for d in distributions()})
    return (
        f"{total} MB in {venv.name}/ ({count} distributions); without the test and lint "
        f"tools (Playwright, ruff): about {total - dev} MB"
    )


def _megabytes(path: Path) -> int:
    """Disk use of a file or a folder, in MB."""
    if path.is_file():
        return round(path.stat().st_size / 2**20)
    size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())
    return round(size / 2**20)


def main() -> None:
    """Build a throwaway installation and measure it."""
    with tempfile.TemporaryDirectory() as tmp:
        keys = Path(tmp) / "keys.json"
        write_new_key_file(keys)
        app = create_app(
            "development",
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite3",
                "KEY_FILE": str(keys),
                "SECRET_KEY": os.urandom(16).hex(),
                "LOGIN_FAILURES_PER_ACCOUNT": "100000 per minute",
                "LOGIN_FAILURES_PER_IP": "100000 per minute",
            },
        )
        app.logger.disabled = True
        with app.app_context():
            upgrade()
            org = admin_services.create_organisation(
                by=None, name="Bench", code="B", kind="hotline"
            )
            admin_services.create_user(
                by=None,
                email="bench@example.org",
                full_name="Bench",
                role="operator",
                organisation=org,
                password=PASSWORD,
            )
        client = app.test_client()
        page = timed(lambda: client.get("/auth/login"), 500)
        app.config["WTF_CSRF_ENABLED"] = False

        def sign_in():
            fresh = app.test_client()
            response = fresh.post(
                "/auth/login", data={"email": "bench@example.org", "password": PASSWORD}
            )
            assert response.status_code == 302

        login = timed(sign_in, 30)
    print(
        f"Machine: {cpu_model()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )
    print("| measure | runs | median ms | p95 ms |")
    print("|---|---|---|---|")
    print(summary("GET /auth/login (server time, SQLite)", page))
    print(summary("POST /auth/login, correct password (argon2id verify, session)", login))
    print(f"Installed environment: {install_size()}")


if __name__ == "__main__":
    main()
