"""The commune list of a province, as JSON for the intake form, and place names for templates."""

from __future__ import annotations

from flask import abort, jsonify

from app.auth.access import roles_required
from app.places import bp, queries
from app.web import cache_privately

# The roles that record calls and cases, and so fill in where a survivor lives.
CASE_ROLES = ("operator", "case_manager", "supervisor")
ONE_DAY = 86_400


@bp.route("/provinces/<code>/communes")
@roles_required(*CASE_ROLES)
def communes(code: str):
    """A province's communes as [{"code", "name"}] in alphabet order; browsers keep it a day."""
    if not queries.is_province(code):
        abort(404)
    rows = [{"code": place.code, "name": place.name} for place in queries.communes_of(code)]
    return cache_privately(jsonify(rows), seconds=ONE_DAY)


@bp.app_template_global("place_name")
def place_name(code: str | None) -> str:
    """The official name for a stored place code, for pages; an unknown code is shown as is."""
    return queries.place_name(code) or (code or "")
