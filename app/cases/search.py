"""Finding cases: by number, codes and dates (GET), or by phone number through the blind index
(POST, so the number never reaches an address bar, a history or a server log). Always within
what the user may see; lists show codes and dates only. Free text is not searchable: see
docs/search.md."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import Row, exists, false, func, or_, select
from sqlalchemy.orm import contains_eager
from wtforms import SelectChoice

from app import audit
from app.auth.access import roles_required
from app.auth.models import User
from app.calls.models import Call
from app.cases import bp
from app.cases.models import ACTIVE_STATUSES, Case, Task
from app.cases.queries import case_rows, open_duties, stranded_holders
from app.cases.scope import case_scope
from app.cases.search_form import (
    PhoneSearchForm,
    SearchForm,
    normalise_case_number,
    own_code,
    parse_day,
)
from app.clock import local_midnight, utcnow
from app.crypto import blind
from app.extensions import db
from app.form_fields import as_row_id
from app.places.form_choices import commune_options, province_options

CASE_ROLES = ("operator", "case_manager", "supervisor")
PAGE_SIZE = 50


@dataclass
class CaseFilters:
    """What a search narrows by; empty values do not narrow. `case_ids` are phone matches."""

    number: str = ""
    status: str = ""  # a status code, or "active" for any active one
    assignee: str = ""  # a user id, or "none" for no one yet
    opened_from: date | None = None
    opened_to: date | None = None
    province: str = ""
    commune: str = ""
    risk: str = ""
    child: str = ""  # "yes" or "no"
    tasks: str = ""  # "overdue": an open task past due; "none": no open task
    opened_by: str = ""  # "me": the cases the user opened
    case_ids: set[uuid.UUID] | None = None


@dataclass
class Page:
    """One page of a search's results."""

    rows: list[Row]
    total: int
    number: int
    size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        """How many pages there are (at least one)."""
        return max(1, -(-self.total // self.size))

    @property
    def has_prev(self) -> bool:
        """Whether there is a page before this one."""
        return self.number > 1

    @property
    def has_next(self) -> bool:
        """Whether there is a page after this one."""
        return self.number < self.pages


def _statuses(f: CaseFilters) -> tuple | None:
    """The statuses a search asks for (None: any)."""
    if f.status == "active":
        return ACTIVE_STATUSES
    return (f.status,) if f.status else None


def _open_tasks(f: CaseFilters, user: User, now: datetime) -> list:
    """Cases with an overdue open task (found from the organisation's overdue tasks, along
    ix_task_open_due, not case by case), or with none open (active cases nobody planned for:
    each case's open tasks looked up on the task's case index)."""
    if f.tasks == "overdue":
        late = select(Task.case_id).where(
            Task.organisation_id == user.organisation_id,
            Task.done_at.is_(None),
            Task.due_at < now,
        )
        return [Case.id.in_(late)]
    if f.tasks == "none":
        open_task = select(Task.id).where(Task.case_id == Case.id, Task.done_at.is_(None))
        return [~exists(open_task)]
    return []


def search_conditions(f: CaseFilters, user: User, now: datetime) -> list:
    """The WHERE conditions of a search (the user's scope is added apart)."""
    found = _open_tasks(f, user, now)
    if f.number:
        found.append(Case.number == normalise_case_number(f.number, own_code(user)))
    if f.status == "active":
        found.append(Case.status.in_(ACTIVE_STATUSES))
    elif f.status:
        found.append(Case.status == f.status)
    if f.assignee == "none":  # as the supervisor's unassigned list: stranded cases too
        found.append(
            or_(
                Case.assigned_to_id.is_(None),
                Case.assigned_to_id.in_(stranded_holders(user.organisation_id, _statuses(f))),
            )
        )
    elif f.assignee:
        # An account id as the list gives it; anything else (a crafted value: "²" is a digit to
        # Python, a 20-digit number no integer column holds) matches nothing.
        account = as_row_id(f.assignee)
        found.append(Case.assigned_to_id == account if account is not None else false())
    if f.opened_from:
        found.append(Case.opened_at >= local_midnight(f.opened_from))
    if f.opened_to:
        found.append(Case.opened_at < local_midnight(f.opened_to + timedelta(days=1)))
    for column, value in (
        (Case.province_code, f.province),
        (Case.commune_code, f.commune),
        (Case.risk_level, f.risk),
    ):
        if value:
            found.append(column == value)
    if f.child in ("yes", "no"):
        found.append(Case.is_child.is_(f.child == "yes"))
    if f.opened_by == "me":
        found.append(Case.opened_by_id == user.id)
    elif f.opened_by:
        found.append(false())  # an unknown value matches nothing, never everything
    if f.case_ids is not None:
        found.append(Case.id.in_(f.case_ids) if f.case_ids else false())
    return found


def search_cases(user: User, filters: CaseFilters, *, page: int, now: datetime) -> Page:
    """One page of the cases the user may see that match, newest first (codes only). Cases
    waiting for their closure's approval also say how many duties of law are still open on
    each, as the supervisor's home list does."""
    scope, conditions = case_scope(user), search_conditions(filters, user, now)
    total = db.session.execute(scope(select(func.count(Case.id)).where(*conditions))).scalar_one()
    number = min(max(page, 1), max(1, -(-total // PAGE_SIZE)))
    rows = case_rows(now)
    if filters.status == "pending_closure":
        rows = rows.add_columns(open_duties().label("duties"))
    stmt = (
        scope(rows.where(*conditions))
        .order_by(Case.opened_at.desc(), Case.id)
        .limit(PAGE_SIZE)
        .offset((number - 1) * PAGE_SIZE)
    )
    return Page(list(db.session.execute(stmt).all()), total, number)


def cases_with_phone(user: User, raw: str) -> set[uuid.UUID]:
    """The cases the user may see whose survivor's number, or the number of a call on them, is
    this one in any spelling: blind-index candidates narrowed to the user's scope first, then
    each confirmed by opening its sealed number (so only a few values are ever decrypted)."""
    found: set[uuid.UUID] = set()
    scope = case_scope(user)
    same = blind.matcher("phone", raw)
    case_ids = blind.candidates(field="phone", raw=raw, owner_type="case")
    if case_ids:
        stmt = scope(select(Case).where(Case.id.in_(case_ids), Case.erased_at.is_(None)))
        for case in db.session.execute(stmt).scalars():
            if same(case.survivor_phone):
                found.add(case.id)
    call_ids = blind.candidates(field="phone", raw=raw, owner_type="call")
    if call_ids:
        stmt = scope(
            select(Call)
            .join(Case, Case.id == Call.case_id)
            .where(Call.id.in_(call_ids), Case.erased_at.is_(None))
            .options(contains_eager(Call.case))
        )
        for call in db.session.execute(stmt).unique().scalars():
            if call.case_id not in found and same(call.caller_phone):
                found.add(call.case_id)
    return found


def audit_phone_search(*, by: User, found: set[uuid.UUID], page: Page) -> None:
    """The search audited, without the number: how many cases matched, and each case its page
    listed (the number is tied to it, so "who looked at this case" finds the search)."""
    audit.record("search", user=by, object_type="case", detail=f"phone matched={len(found)}")
    for row in page.rows:
        audit.record(
            "search", user=by, object_type="case", object_id=row.id, case_id=row.id,
            detail="phone",
        )  # fmt: skip
    db.session.commit()


def set_choices(form: SearchForm, user: User) -> None:
    """Whom the user may search by assignee, the provinces, and the chosen province's communes.

    A case manager sees only their own cases; others choose among the organisation's staff."""
    assignees = [SelectChoice("", _("Anyone"))]
    if user.role == "case_manager":
        assignees.append(SelectChoice(str(user.id), user.full_name))
    else:
        staff = db.session.execute(
            select(User.id, User.full_name)
            .where(
                User.organisation_id == user.organisation_id,
                User.role.in_(("case_manager", "supervisor")),
            )
            .order_by(User.full_name)
        ).all()
        assignees.append(SelectChoice("none", _("No one yet")))
        assignees += [SelectChoice(str(uid), name) for uid, name in staff]
    form.assignee.choices = assignees
    # The lists of the intake and the edit page, in alphabet order (their blank options named).
    form.province.choices = [SelectChoice("", _("Any province")), *province_options()[1:]]
    communes = commune_options(form.province.data)[1:]
    blank = _("Any commune") if form.province.data else _("Choose a province first")
    form.commune.choices = [SelectChoice("", blank), *communes]
    if form.commune.data and form.commune.data not in {choice.value for choice in communes}:
        # The commune of the province chosen before (no script resets it as the province
        # changes): not searched by, as the page shows none chosen.
        form.commune.data = ""


def filters_of(form: SearchForm) -> CaseFilters:
    """The form's values as search filters (unknown codes match nothing, never everything)."""
    return CaseFilters(
        number=(form.number.data or "").strip(),
        status=form.status.data or "",
        assignee=form.assignee.data or "",
        opened_from=parse_day(form.opened_from.data),
        opened_to=parse_day(form.opened_to.data),
        province=form.province.data or "",
        commune=form.commune.data or "",
        risk=form.risk.data or "",
        child=form.child.data or "",
        tasks=form.tasks.data or "",
        opened_by=form.opened_by.data or "",
    )


@bp.route("/search", methods=["GET", "POST"])
@roles_required(*CASE_ROLES)
def search():
    """Search the cases the user may see; a single exact case-number hit opens the case. The
    page's form is sent in the body and checked first, then asked again by its address (which
    pages and links use): a phone number typed in the case-number box by mistake is refused
    there, never put in an address, a history or a server log, script or none."""
    if request.method == "POST":
        return _sent()
    form, now = SearchForm(request.args), utcnow()
    set_choices(form, current_user)
    results = None
    if any(request.args.get(name) for name in form.data if name != "submit") and form.validate():
        filters = filters_of(form)
        page = request.args.get("page", 1, type=int)
        results = search_cases(current_user, filters, page=page, now=now)
        if filters.number and results.total == 1:
            return redirect(url_for("cases.show", case_id=results.rows[0].id))
        if filters.number and results.total == 0:
            _audit_number_out_of_scope(filters.number)
    return _render(form, PhoneSearchForm(formdata=None), results, now=now)


def _sent():
    """The search form sent: its filters as the results' address, or the form again with what
    to correct (the values typed kept, nothing put in an address)."""
    form = SearchForm(request.form)
    set_choices(form, current_user)
    if not form.validate():
        return _render(form, PhoneSearchForm(formdata=None), None, now=utcnow())
    asked = {name: request.form[name] for name in form.data if _asked(name, request.form)}
    # A case number opens its case: no anchor, which a browser would carry on to the case page.
    anchor = None if "number" in asked else "results"
    return redirect(url_for("cases.search", **asked, _anchor=anchor), 303)


def _asked(name: str, values) -> bool:
    return name != "submit" and bool((values.get(name) or "").strip())


def _audit_number_out_of_scope(number: str) -> None:
    """A case number that names a case outside the user's scope: the page says nothing more
    than for a number no case has, but the attempt goes to the audit log of the case's
    organisation, as a case number typed into an intake does (numbers run in sequence: trying
    them is how someone would go looking)."""
    wanted = select(Case.id, Case.organisation_id).where(
        Case.number == normalise_case_number(number, own_code())
    )
    found = db.session.execute(wanted).first()
    if found is None:
        return
    visible = case_scope(current_user)(select(Case.id).where(Case.id == found.id))
    if db.session.execute(visible).first() is not None:
        return  # in scope; the other filters left it out
    audit.record(
        "denied",
        user=current_user,
        object_type="case",
        object_id=found.id,
        case_id=found.id,
        organisation_id=found.organisation_id,
        detail="search by case number",
    )
    db.session.commit()


@bp.route("/search/phone", methods=["POST"])
@roles_required(*CASE_ROLES)
def search_phone():
    """Search by phone number, sent in the body so it never reaches an address; audited."""
    form, phone_form, now = SearchForm(formdata=None), PhoneSearchForm(), utcnow()
    set_choices(form, current_user)
    results = None
    if phone_form.validate_on_submit():
        found = cases_with_phone(current_user, phone_form.phone.data)
        page = request.form.get("page", 1, type=int)
        results = search_cases(current_user, CaseFilters(case_ids=found), page=page, now=now)
        audit_phone_search(by=current_user, found=found, page=results)
    return _render(form, phone_form, results, now=now, by_phone=True)


def _render(form, phone_form, results, *, now, by_phone=False):
    # The pages of a search keep its own fields only (not whatever else the address held).
    asked = {name: request.args[name] for name in form.data if _asked(name, request.args)}
    return render_template(
        "cases/search.html",
        form=form,
        phone_form=phone_form,
        results=results,
        by_phone=by_phone,
        now=now,
        asked=asked,
    )
