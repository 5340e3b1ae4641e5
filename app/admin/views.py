"""Admin pages: accounts (create, edit, disable, reset) and organisations."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select
from wtforms import SelectChoice

from app import audit
from app.admin import bp, rules, services
from app.admin.forms import OrganisationForm, UserForm
from app.audit import SIGN_IN_ACTIONS, AuditEntry
from app.auditlog.people import people as people_of
from app.auth.access import roles_required
from app.auth.forms import ActionForm
from app.auth.labels import KIND_LABELS, ROLE_LABELS
from app.auth.models import ROLES, Organisation, User
from app.extensions import db
from app.form_fields import as_page, as_row_id

PAGE_SIZE = 50


def _organisations() -> list[Organisation]:
    return (
        db.session.execute(
            select(Organisation).where(Organisation.active).order_by(Organisation.name)
        )
        .scalars()
        .all()
    )


def _org_choices(kept: Organisation | None = None) -> list[SelectChoice]:
    """The active organisations; and the one an account is in (`kept`) if it is inactive, so
    its edit page shows where it is rather than the first of the list, which saving would
    move it to."""
    choices = [SelectChoice(o.id, o.name) for o in _organisations()]
    if kept is not None and not kept.active:
        label = _("%(name)s (inactive)", name=kept.name)
        choices.insert(0, SelectChoice(kept.id, label))
    return choices


def _user_or_404(user_id: int) -> User:
    return db.session.get(User, user_id) or abort(404)


def _refused(exc: rules.AdminError, account: User | None = None, *, org=None) -> None:
    """A refusal by rule (one's own role, work the account holds, an organisation's code its
    case numbers carry...): written to the audit log of the account's organisation (or of the
    organisation changed), as any refused attempt is; a value to correct is not."""
    if exc.rule is None:
        return
    db.session.rollback()
    if account is not None:
        kind, object_id, organisation_id = "account", account.id, account.organisation_id
    else:
        kind, object_id, organisation_id = "organisation", org.id, org.id
    audit.record(
        "denied",
        user=current_user,
        object_type=kind,
        object_id=object_id,
        organisation_id=organisation_id,
        detail=exc.rule,
    )
    db.session.commit()


def _apply_error(form, exc: rules.AdminError) -> None:
    field = getattr(form, exc.field, None) if exc.field else None
    if field is not None:
        field.errors = [*field.errors, str(exc.message)]
    else:
        flash(str(exc.message), "error")


@bp.route("/users", methods=["GET", "POST"])
@roles_required("admin")
def users():
    """All accounts, filtered by text, role, organisation and state. The filters are sent in
    the body (POST), so a name or email searched for never lands in an address, a proxy's log
    or the browser's history; a plain GET lists with the default filters."""
    asked = request.form if request.method == "POST" else request.args
    q = request.form.get("q", "").strip()[:200]
    role = asked.get("role", "")
    org_id = asked.get("org", type=as_row_id)
    state = asked.get("state", "active")
    number = asked.get("page", 1, type=as_page)
    stmt = select(User).join(User.organisation).order_by(User.full_name)
    if q:
        text = q.lower()  # matched anywhere; % and _ typed are plain characters
        stmt = stmt.where(
            or_(
                func.lower(User.full_name).contains(text, autoescape=True),
                func.lower(User.email).contains(text, autoescape=True),
            )
        )
    if role in ROLES:
        stmt = stmt.where(User.role == role)
    if org_id:
        stmt = stmt.where(User.organisation_id == org_id)
    if state in ("active", "disabled"):
        stmt = stmt.where(User.active == (state == "active"))
    page = db.paginate(stmt, page=number, per_page=PAGE_SIZE, error_out=False)
    return render_template(
        "admin/users.html",
        page=page,
        q=q,
        role=role,
        org_id=org_id,
        state=state,
        orgs=_org_choices(),
    )


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required("admin")
def new_user():
    """Create an account with a temporary password shown once."""
    form = UserForm()
    form.organisation_id.choices = _org_choices()
    if form.validate_on_submit():
        try:
            user, temp = services.create_user(
                by=current_user,
                email=form.email.data,
                full_name=form.full_name.data,
                role=form.role.data,
                organisation=db.session.get(Organisation, form.organisation_id.data),
                language=form.language.data,
            )
        except rules.AdminError as exc:
            _apply_error(form, exc)
        else:
            session["temporary_password"] = {"uid": user.id, "value": temp}
            return redirect(url_for("admin.temporary_password", user_id=user.id))
    return render_template("admin/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>")
@roles_required("admin")
def user_detail(user_id: int):
    """One account with its recent sign-in and account events and the actions an admin can
    take. Only those: what the person did with cases is not an admin's to see."""
    user = _user_or_404(user_id)
    recent = (
        db.session.execute(
            select(AuditEntry)
            .where(
                or_(
                    AuditEntry.user_id == user.id,
                    (AuditEntry.object_type == "account") & (AuditEntry.object_id == str(user.id)),
                ),
                AuditEntry.action.in_(SIGN_IN_ACTIONS),
            )
            .order_by(AuditEntry.id.desc())
            .limit(30)
        )
        .scalars()
        .all()
    )
    return render_template(
        "admin/user_detail.html",
        user=user,
        events=recent,
        form=ActionForm(),
        people=people_of(recent),
    )


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@roles_required("admin")
def edit_user(user_id: int):
    """Change an account's name, email, role, organisation or language."""
    user = _user_or_404(user_id)
    form = UserForm(obj=user)
    form.organisation_id.choices = _org_choices(kept=user.organisation)
    if request.method == "GET":
        form.seen.data = rules.edited_state(user, rules.USER_FIELDS)
        form.language_shown.data = user.language
    conflict = None
    if form.validate_on_submit():
        try:
            services.update_user(
                by=current_user,
                user=user,
                email=form.email.data,
                full_name=form.full_name.data,
                role=form.role.data,
                organisation=db.session.get(Organisation, form.organisation_id.data),
                language=form.language.data,
                seen=form.seen.data or None,
                language_shown=form.language_shown.data or None,
            )
        except rules.EditConflict as exc:
            db.session.rollback()
            conflict = _conflict(form, exc, _saved_account(exc.saved))
        except rules.AdminError as exc:
            db.session.rollback()
            _refused(exc, user)
            _apply_error(form, exc)
        else:
            flash(_("The account has been saved."), "success")
            return redirect(url_for("admin.user_detail", user_id=user.id))
    page = render_template("admin/user_form.html", form=form, user=user, conflict=conflict)
    return page, 409 if conflict else 200


def _conflict(form, exc: rules.EditConflict, saved: list[tuple[str, str]]) -> dict:
    """What an edit conflict shows: the other admin's saved values, above the form that keeps
    what this admin typed; saving again (knowingly) replaces them."""
    form.seen.data = exc.seen
    return {"message": str(exc.message), "saved": saved}


def _saved_account(saved: dict) -> list[tuple[str, str]]:
    org = db.session.get(Organisation, saved["organisation_id"])
    return [
        (_("Full name"), saved["full_name"]),
        (_("Email"), saved["email"]),
        (_("Role"), str(ROLE_LABELS.get(saved["role"], saved["role"]))),
        (_("Organisation"), org.name if org else ""),
    ]


def _saved_organisation(saved: dict) -> list[tuple[str, str]]:
    return [
        (_("Name"), saved["name"]),
        (_("Short code (used in case numbers)"), saved["code"]),
        (_("Kind"), str(KIND_LABELS.get(saved["kind"], saved["kind"]))),
        (_("Province code"), saved["province_code"] or ""),
        (_("Phone"), saved["phone"] or ""),
        (_("Active"), _("Yes") if saved["active"] else _("No")),
    ]


@bp.route("/users/<int:user_id>/<any(disable, enable):action>", methods=["POST"])
@roles_required("admin")
def set_active(user_id: int, action: str):
    """Disable (ending its sessions at once) or re-enable an account."""
    user = _user_or_404(user_id)
    if ActionForm().validate_on_submit():
        try:
            left = services.set_user_active(by=current_user, user=user, active=action == "enable")
        except rules.AdminError as exc:
            _refused(exc, user)
            flash(str(exc.message), "error")
        else:
            flash(
                _("The account has been disabled.")
                if action == "disable"
                else _("The account has been enabled."),
                "success",
            )
            for said in left:
                flash(said, "info")
    return redirect(url_for("admin.user_detail", user_id=user.id))


@bp.route("/users/<int:user_id>/reset-password", methods=["POST"])
@roles_required("admin")
def reset_password(user_id: int):
    """Give the account a temporary password and end its sessions."""
    user = _user_or_404(user_id)
    if ActionForm().validate_on_submit():
        try:
            temp = services.reset_password(by=current_user, user=user)
        except rules.AdminError as exc:
            _refused(exc, user)
            flash(str(exc.message), "error")
        else:
            session["temporary_password"] = {"uid": user.id, "value": temp}
            return redirect(url_for("admin.temporary_password", user_id=user.id))
    return redirect(url_for("admin.user_detail", user_id=user.id))


@bp.route("/users/<int:user_id>/reset-mfa", methods=["POST"])
@roles_required("admin")
def reset_mfa(user_id: int):
    """Remove a lost authenticator so the user can set up a new one."""
    user = _user_or_404(user_id)
    if ActionForm().validate_on_submit():
        try:
            services.reset_mfa(by=current_user, user=user)
        except rules.AdminError as exc:
            _refused(exc, user)
            flash(str(exc.message), "error")
        else:
            flash(
                _("One-time codes were reset. The user sets them up again at the next sign-in."),
                "success",
            )
    return redirect(url_for("admin.user_detail", user_id=user.id))


@bp.route("/users/<int:user_id>/temporary-password")
@roles_required("admin")
def temporary_password(user_id: int):
    """Show a temporary password once; reloading the page does not show it again."""
    user = _user_or_404(user_id)
    held = session.pop("temporary_password", None)
    value = held["value"] if held and held["uid"] == user.id else None
    return render_template("admin/temporary_password.html", user=user, value=value)


@bp.route("/organisations")
@roles_required("admin")
def organisations():
    """All organisations with their number of active accounts."""
    counts = dict(
        db.session.execute(
            select(User.organisation_id, func.count(User.id))
            .where(User.active)
            .group_by(User.organisation_id)
        ).all()
    )
    orgs = db.session.execute(select(Organisation).order_by(Organisation.name)).scalars().all()
    return render_template("admin/organisations.html", orgs=orgs, counts=counts)


@bp.route("/organisations/new", methods=["GET", "POST"])
@bp.route("/organisations/<int:org_id>/edit", methods=["GET", "POST"])
@roles_required("admin")
def edit_organisation(org_id: int | None = None):
    """Add or change an organisation."""
    org = (db.session.get(Organisation, org_id) or abort(404)) if org_id else None
    form = OrganisationForm(obj=org)
    if request.method == "GET" and org is not None:
        form.seen.data = rules.edited_state(org, rules.ORG_FIELDS)
    conflict = None
    if form.validate_on_submit():
        fields = {k: form[k].data for k in ("name", "code", "kind", "province_code", "phone")}
        try:
            if org is None:
                services.create_organisation(by=current_user, **fields)
            else:
                services.update_organisation(
                    by=current_user,
                    org=org,
                    active=form.active.data,
                    seen=form.seen.data or None,
                    **fields,
                )
        except rules.EditConflict as exc:
            db.session.rollback()
            conflict = _conflict(form, exc, _saved_organisation(exc.saved))
        except rules.AdminError as exc:
            db.session.rollback()
            if org is not None:
                _refused(exc, org=org)
            _apply_error(form, exc)
        else:
            flash(_("The organisation has been saved."), "success")
            return redirect(url_for("admin.organisations"))
    page = render_template("admin/organisation_form.html", form=form, org=org, conflict=conflict)
    return page, 409 if conflict else 200
