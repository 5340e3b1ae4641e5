"""Screen pop: the phone system tells us who is calling; the operator who answers gets a
one-time link to an intake already filled with the number."""

from flask import Blueprint

bp = Blueprint("telephony", __name__)

# The tables must be known to migrations; the routes register on import.
from app.telephony import api, models, views  # noqa: E402,F401
