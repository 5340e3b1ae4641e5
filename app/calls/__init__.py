"""Calls (contacts): every call is logged, most never become a case. The intake lives here."""

from flask import Blueprint

from app import classifications as c

bp = Blueprint("calls", __name__, url_prefix="/calls")


# The duties of law a case is not closed with open: a global, as macros imported without the
# page's context (cases/_lists.html's done button) ask for a note when one is marked done.
bp.add_app_template_global(c.CLOSING_DUTIES, "closing_duties")


@bp.app_context_processor
def code_labels() -> dict:
    """Labels of the stored codes, for every template: `labels.<list>[code]` and short names."""
    from app.cases import risk

    return {
        "labels": {**c.ALL_LISTS, "risk_question": risk.QUESTIONS},
        "reason_labels": c.REASONS,
        "channel_labels": c.CHANNELS,
        "caller_type_labels": c.CALLER_TYPES,
        "outcome_labels": c.CALL_OUTCOMES,
        "caller_flag_labels": c.CALLER_FLAGS,
        "danger_labels": c.DANGER_QUESTIONS,
        "emergency_labels": c.EMERGENCY_ACTIONS,
        "risk_level_labels": c.RISK_LEVELS,
    }


from app.calls import models  # noqa: E402,F401  (the tables must be known to migrations)

# The routes (app.calls.views) are imported by create_app: they use the cases package, which
# itself reads calls, so importing them here would make the two packages import each other.
