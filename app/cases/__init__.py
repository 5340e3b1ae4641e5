"""The case record: one survivor, sealed under the case's own data key."""

from flask import Blueprint

bp = Blueprint("cases", __name__, url_prefix="/cases")

from app.cases import views  # noqa: E402,F401  (routes register on import)
