"""Places: the official post-2025 list of provinces and commune-level units, kept in a table."""

from flask import Blueprint

bp = Blueprint("places", __name__, url_prefix="/places")

from app.places import models, views  # noqa: E402,F401  (the table for migrations; the routes)
