"""Admin pages for phone lines and their tokens, and the one-time link an operator opens."""

from __future__ import annotations

from flask import flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.auth.access import HOME_ENDPOINTS, roles_required
from app.auth.forms import ActionForm
from app.telephony import bp, pops, queries, services
from app.telephony.forms import LineForm

SHOWN_TOKEN = "line_token"  # noqa: S105 - the session key holding a new token until its page shows it once
UNAVAILABLE_STATUS = {"unknown": 404, "expired": 410, "claimed": 409, "discarded": 409}


def _hold_token(line_id: int, token: str) -> None:
    session[SHOWN_TOKEN] = {"line": line_id, "value": token}


@bp.route("/admin/lines")
@roles_required("admin")
def lines():
    """The organisation's phone lines with their token hints, last use and state."""
    return render_template(
        "telephony/lines.html",
        lines=queries.organisation_lines(current_user),
        form=ActionForm(),
    )


@bp.route("/admin/lines/new", methods=["GET", "POST"])
@roles_required("admin")
def new_line():
    """Add a line; its token is shown on the next page, once."""
    form = LineForm()
    if form.validate_on_submit():
        try:
            line, token = services.create_line(by=current_user, name=form.name.data)
        except services.LineError as exc:
            form.name.errors = [*form.name.errors, str(exc.message)]
        else:
            _hold_token(line.id, token)
            return redirect(url_for("telephony.line_token", line_id=line.id))
    return render_template("telephony/line_form.html", form=form)


@bp.route("/admin/lines/<int:line_id>/rotate", methods=["POST"])
@roles_required("admin")
def rotate_line(line_id: int):
    """Replace a line's token: the new one is shown once, the old one stops working now."""
    line = queries.line_or_404(current_user, line_id)
    if not ActionForm().validate_on_submit():
        return redirect(url_for("telephony.lines"))
    try:
        token = services.rotate_token(by=current_user, line=line)
    except services.LineError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for("telephony.lines"))
    _hold_token(line.id, token)
    return redirect(url_for("telephony.line_token", line_id=line.id))


@bp.route("/admin/lines/<int:line_id>/revoke", methods=["POST"])
@roles_required("admin")
def revoke_line(line_id: int):
    """Stop a line for good."""
    line = queries.line_or_404(current_user, line_id)
    if ActionForm().validate_on_submit():
        services.revoke_line(by=current_user, line=line)
        flash(_("The line %(name)s was revoked; its token no longer works.", name=line.name),
              "success")  # fmt: skip
    return redirect(url_for("telephony.lines"))


@bp.route("/admin/lines/<int:line_id>/token")
@roles_required("admin")
def line_token(line_id: int):
    """Show a new token once; reloading the page does not show it again."""
    line = queries.line_or_404(current_user, line_id)
    held = session.pop(SHOWN_TOKEN, None)
    value = held["value"] if held and held["line"] == line.id else None
    return render_template(
        "telephony/token.html",
        line=line,
        value=value,
        api_url=url_for("telephony.incoming", _external=True),
    )


@bp.route("/calls/pop/<token>")
@login_required
def pop(token: str):
    """Open an announced call: the intake, already filled in, for the operator who answered."""
    try:
        intake_key = pops.claim_pop(token=token, user=current_user._get_current_object())
    except pops.PopUnavailable as exc:
        page = render_template(
            "telephony/pop_unavailable.html",
            reason=exc.reason,
            home=url_for(HOME_ENDPOINTS[current_user.role]),
        )
        return page, UNAVAILABLE_STATUS[exc.reason]
    return redirect(url_for("calls.new", draft=str(intake_key)))
