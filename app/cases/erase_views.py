"""Erasing a case for good (the survivor's request under Law 91/2025, a retention rule, a record
made in error): a supervisor of the case's organisation picks the reason from a fixed list and
types the case number again. The case's data key is destroyed (services.erase_case); the
statistical codes and the audit trail stay. Anyone else is refused, and the refusal audited."""

from __future__ import annotations

import uuid

from flask import render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from app.auth.access import roles_required
from app.cases import bp, services
from app.cases.forms import EraseForm
from app.cases.models import Case
from app.cases.numbers import code_of, normalise_case_number
from app.cases.services import CaseError
from app.cases.views import back_to_case, load_case
from app.extensions import db


def _already() -> str:
    return _("This case has already been erased; nothing was changed.")


def _open_work(case: Case) -> dict[str, int]:
    """What erasing ends: the case's open tasks and calls, counted for the warning."""
    return {
        "tasks": sum(1 for task in case.tasks if task.done_at is None),
        "calls": len(case.calls),
    }


@bp.route("/<uuid:case_id>/erase", methods=["GET", "POST"])
@roles_required("supervisor")
def erase(case_id: uuid.UUID):
    """Ask, then erase: the reason code and the case number typed again are both required."""
    case = load_case(case_id)  # another organisation's case: 404, audited
    if case.erased_at is not None:
        # Sent twice (a double click, the back button, a colleague was quicker).
        return back_to_case(case, _already())
    form = EraseForm()
    if request.method == "POST" and form.validate():
        if normalise_case_number(form.confirm.data, code_of(case.number)) != case.number:
            form.confirm.errors = [
                _("This is not the number of this case (%(number)s).", number=case.number)
            ]
        else:
            try:
                services.erase_case(case=case, by=current_user, reason=form.reason.data)
            except StaleDataError:
                # Another write to the case at the same instant: look at it as it is now.
                db.session.rollback()
                if case.erased_at is not None:
                    return back_to_case(case, _already())
                form.confirm.errors = [
                    _(
                        "Someone else changed this case at the same moment. "
                        "Check it, then try again."
                    )
                ]
            except CaseError as error:
                db.session.rollback()
                form.reason.errors = [str(error)]
            else:
                return back_to_case(
                    case, _("The case was erased. Its content can no longer be read.")
                )
    services.audit_case("view", case, current_user, detail="erase form")
    db.session.commit()
    return render_template("cases/erase.html", case=case, form=form, work=_open_work(case)), (
        200 if not form.errors else 422
    )
