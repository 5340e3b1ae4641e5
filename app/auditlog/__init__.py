"""The audit log pages: supervisors and admins browse, filter and export their organisation's."""

from flask import Blueprint

bp = Blueprint("audit", __name__, url_prefix="/audit")

from app.auditlog import views  # noqa: E402,F401  (routes register on import)
