"""Account and organisation administration: each use case records its event and commits once."""

from __future__ import annotations

import hashlib
import json
import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app import audit
from app.auth import events, passwords
from app.auth.models import ORG_KINDS, ROLES, Organisation, User
from app.auth.sessions import revoke_user_sessions
from app.clock import utcnow
from app.extensions import db


class AdminError(Exception):
    """An administration rule refused the change; the message is shown to the admin."""

    def __init__(self, message, *, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


class EditConflict(AdminError):
    """Another admin saved the record after this form was opened: nothing is saved, and the
    admin sees what is stored now next to what they typed."""

    def __init__(self, message, *, saved: dict, seen: str):
        super().__init__(message)
        self.saved, self.seen = saved, seen


# The language is left out: the user changes it themself (the footer, the sign-in page).
USER_FIELDS = ("full_name", "email", "role", "organisation_id")
ORG_FIELDS = ("name", "code", "kind", "province_code", "phone", "active")


def edited_state(record, fields: tuple[str, ...]) -> str:
    """A fingerprint of the fields an edit form changes, as stored: the form carries the one it
    was opened with, and a save made meanwhile by someone else changes it. (Not a version
    column: a sign-in, which changes the account too, must not count as an edit.)"""
    values = json.dumps([getattr(record, name) for name in fields], default=str)
    return hashlib.sha256(values.encode()).hexdigest()[:32]


def _check_unchanged(record, fields: tuple[str, ...], seen: str | None, message) -> None:
    """Lock the record's row (PostgreSQL; SQLite has one writer at a time) and refuse the edit
    when it no longer holds what the form was opened with."""
    if seen is None:
        return
    model = type(record)
    db.session.execute(
        select(model).where(model.id == record.id).with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()  # fmt: skip
    now = edited_state(record, fields)
    if now != seen:
        saved = {name: getattr(record, name) for name in fields}
        raise EditConflict(message, saved=saved, seen=now)


def temporary_password() -> str:
    """A random password handed over once; the user must replace it at the next sign-in."""
    return "-".join(secrets.token_urlsafe(6) for _ in range(3))


def _check_email_free(email: str, *, except_id: int | None = None) -> None:
    stmt = select(User.id).where(func.lower(User.email) == email.lower())
    if any(other != except_id for other in db.session.execute(stmt).scalars()):
        raise AdminError(_l("Another account already uses this email."), field="email")


def _held_work(user: User) -> tuple[int, int]:
    """The active cases assigned to the account, and its open tasks."""
    from app.cases.models import ACTIVE_STATUSES, Case, Task

    cases = db.session.execute(
        select(func.count(Case.id)).where(
            Case.assigned_to_id == user.id, Case.status.in_(ACTIVE_STATUSES)
        )
    ).scalar_one()
    tasks = db.session.execute(
        select(func.count(Task.id)).where(Task.assigned_to_id == user.id, Task.done_at.is_(None))
    ).scalar_one()
    return cases, tasks


def _commit_unique(recheck) -> None:
    """Commit; when a unique index refuses it (another admin saved the same email, name or code
    a moment earlier), roll back and say which field, as the check before the write would."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        recheck()  # raises the field's AdminError when the value is now taken
        raise


def _check_choices(role: str, organisation: Organisation | None) -> None:
    if role not in ROLES:
        raise AdminError(_l("Unknown role."), field="role")
    if organisation is None or not organisation.active:
        raise AdminError(_l("Choose an active organisation."), field="organisation_id")


def create_user(
    *,
    by: User | None,
    email: str,
    full_name: str,
    role: str,
    organisation: Organisation | None,
    language: str = "vi",
    password: str | None = None,
    is_demo: bool = False,
) -> tuple[User, str | None]:
    """Create an account; without a chosen password a temporary one is returned, shown once."""
    email = email.strip().lower()
    _check_email_free(email)
    _check_choices(role, organisation)
    temp = None
    if password is None:
        temp = temporary_password()
    else:
        try:
            passwords.check_password_policy(password, user_inputs=(email, full_name))
        except passwords.PasswordPolicyError as exc:
            raise AdminError(exc.args[0], field="password") from exc
    user = User(
        email=email,
        full_name=full_name.strip(),
        role=role,
        organisation=organisation,
        language=language,
        password_hash=passwords.hash_password(password or temp),
        must_change_password=temp is not None,
        is_demo=is_demo,
    )
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:  # the same email created a moment ago, by a double click or another
        db.session.rollback()
        _check_email_free(email)
        raise
    events.record("user_created", user=user, actor=by, detail=role)
    _commit_unique(lambda: _check_email_free(email))
    return user, temp


def update_user(
    *,
    by: User,
    user: User,
    email: str,
    full_name: str,
    role: str,
    organisation: Organisation | None,
    language: str,
    seen: str | None = None,
) -> User:
    """Change an account's details; a change of role or organisation ends its sessions.
    `seen`: the edited_state the form was opened with (an edit made meanwhile is refused)."""
    _check_unchanged(
        user,
        USER_FIELDS,
        seen,
        _l("Another administrator changed this account while you were editing it."),
    )
    email = email.strip().lower()
    _check_email_free(email, except_id=user.id)
    _check_choices(role, organisation)
    if user.id == by.id and role != user.role:
        raise AdminError(_l("You cannot change your own role."), field="role")
    moved = organisation.id != user.organisation_id
    if user.id == by.id and moved:
        raise AdminError(
            _l("You cannot move your own account to another organisation."),
            field="organisation_id",
        )
    if moved or (user.role == "case_manager" and role != "case_manager"):
        # Assigned work would stay with someone who no longer sees it where it is (or sees it
        # from another organisation): it is handed over first.
        cases, tasks = _held_work(user)
        if cases or tasks:
            raise AdminError(
                _l(
                    "This account still holds %(cases)d active cases and %(tasks)d open tasks. "
                    "Ask a supervisor of its organisation to reassign them first.",
                    cases=cases,
                    tasks=tasks,
                ),
                field="organisation_id" if moved else "role",
            )
    scope_changed = role != user.role or moved
    user.email, user.full_name, user.role = email, full_name.strip(), role
    user.organisation, user.language = organisation, language
    if scope_changed:
        revoke_user_sessions(user.id)
    events.record(
        "user_updated",
        user=user,
        actor=by,
        detail="role_or_organisation" if scope_changed else None,
    )
    _commit_unique(lambda: _check_email_free(email, except_id=user.id))
    return user


def set_user_active(*, by: User | None, user: User, active: bool) -> None:
    """Disable or re-enable an account; disabling ends its sessions at once."""
    if by is not None and user.id == by.id and not active:
        raise AdminError(_l("You cannot disable your own account."))
    if active and not user.organisation.active:
        raise AdminError(
            _l(
                "The account's organisation is inactive: make it active again first, or move "
                "the account to another organisation."
            )
        )
    user.active = active
    if not active:
        revoke_user_sessions(user.id)
    events.record("user_enabled" if active else "user_disabled", user=user, actor=by)
    db.session.commit()


def reset_password(*, by: User | None, user: User) -> str:
    """Give the account a temporary password, shown once; its sessions end at once."""
    _not_oneself(by, user)
    temp = temporary_password()
    user.password_hash = passwords.hash_password(temp)
    user.must_change_password = True
    user.password_changed_at = utcnow()
    revoke_user_sessions(user.id)
    events.record("password_reset", user=user, actor=by)
    db.session.commit()
    return temp


def reset_mfa(*, by: User, user: User) -> None:
    """Remove a lost authenticator; the user sets up a new one at the next sign-in."""
    _not_oneself(by, user)
    user.totp_enabled = False
    user.totp_secret = None
    user.totp_last_step = None
    user.recovery_codes = []
    revoke_user_sessions(user.id)
    events.record("mfa_reset", user=user, actor=by)
    db.session.commit()


def _not_oneself(by: User | None, user: User) -> None:
    """A reset ends the account's sessions: done to oneself, it would sign the admin out
    before the new password is shown. One's own password and codes are changed on one's own
    account page, which asks for the current password."""
    if by is not None and by.id == user.id:
        raise AdminError(
            _l("Change your own password and one-time codes on your account page, not here.")
        )


def _numbers_issued(org: Organisation) -> bool:
    """Whether case numbers carry the organisation's code already (a counter row, or a case)."""
    from app.cases.models import Case, CaseCounter

    counter = select(CaseCounter.organisation_id).where(CaseCounter.organisation_id == org.id)
    case = select(Case.id).where(Case.organisation_id == org.id)
    return (
        db.session.execute(counter.limit(1)).first() is not None
        or db.session.execute(case.limit(1)).first() is not None
    )


def _check_org(name: str, code: str, kind: str, *, except_id: int | None = None) -> None:
    if kind not in ORG_KINDS:
        raise AdminError(_l("Unknown kind of organisation."), field="kind")
    for column, value, field in (
        (Organisation.name, name, "name"),
        (Organisation.code, code, "code"),
    ):
        found = db.session.execute(
            select(Organisation.id).where(func.lower(column) == value.lower())
        ).scalars()
        if any(other != except_id for other in found):  # names stored before lower() knew
            raise AdminError(_l("Another organisation already uses this."), field=field)


def create_organisation(
    *,
    by: User | None,
    name: str,
    code: str,
    kind: str,
    province_code: str | None = None,
    phone: str | None = None,
) -> Organisation:
    """Add an organisation."""
    name, code = name.strip(), code.strip().upper()
    _check_org(name, code, kind)
    org = Organisation(
        name=name, code=code, kind=kind, province_code=province_code or None, phone=phone or None
    )
    db.session.add(org)
    try:
        db.session.flush()
    except IntegrityError:  # the same name or code created a moment ago
        db.session.rollback()
        _check_org(name, code, kind)
        raise
    audit.record(
        "organisation_created",
        user=by,
        object_type="organisation",
        object_id=org.id,
        organisation_id=org.id,
        detail=code,
    )
    _commit_unique(lambda: _check_org(name, code, kind))
    return org


def update_organisation(
    *,
    by: User,
    org: Organisation,
    name: str,
    code: str,
    kind: str,
    province_code: str | None,
    phone: str | None,
    active: bool,
    seen: str | None = None,
) -> Organisation:
    """Change an organisation; one with active accounts cannot be deactivated. `seen`: as for
    update_user."""
    _check_unchanged(
        org,
        ORG_FIELDS,
        seen,
        _l("Another administrator changed this organisation while you were editing it."),
    )
    name, code = name.strip(), code.strip().upper()
    _check_org(name, code, kind, except_id=org.id)
    if not active and any(u.active for u in org.users):
        raise AdminError(_l("Disable the organisation's accounts first."), field="active")
    if code != org.code and _numbers_issued(org):
        # Numbers run per organisation but are unique across the installation: a code given up
        # could be taken by another organisation, whose numbers would then collide.
        raise AdminError(
            _l(
                "Case numbers already carry this code (%(code)s-…), so it can no longer change.",
                code=org.code,
            ),
            field="code",
        )
    org.name, org.code, org.kind = name, code, kind
    org.province_code, org.phone, org.active = province_code or None, phone or None, active
    audit.record(
        "organisation_updated",
        user=by,
        object_type="organisation",
        object_id=org.id,
        organisation_id=org.id,
        detail=code,
    )
    _commit_unique(lambda: _check_org(name, code, kind, except_id=org.id))
    return org
