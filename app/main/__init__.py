"""Site-wide routes: the front door, health check and error pages."""

from flask import Blueprint

bp = Blueprint("main", __name__)

from app.main import views  # noqa: E402,F401  (routes register on import)
