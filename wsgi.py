"""The WSGI entry point: `gunicorn wsgi:app`, and FLASK_APP for the flask command."""

import sys

from app import StartupError, create_app

try:
    app = create_app()
except StartupError as exc:
    sys.stderr.write(f"Điểm Tựa cannot start: {exc}\n")
    sys.exit(1)
