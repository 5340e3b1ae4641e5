"""The landing page of each role."""

from flask import Blueprint

bp = Blueprint("home", __name__, url_prefix="/home")

from app.home import views  # noqa: E402,F401  (routes register on import)
