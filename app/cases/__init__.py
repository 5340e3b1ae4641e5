"""The case record: one survivor, sealed under the case's own data key."""

from flask import Blueprint

bp = Blueprint("cases", __name__, url_prefix="/cases")

# The route modules (views, queue_views, search) are imported by create_app, not here: they use
# the calls package, which itself builds on cases, so importing them here would make the two
# packages import each other.
