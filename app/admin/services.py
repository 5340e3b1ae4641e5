"""Account and organisation administration: each use case records its event and commits once."""

from __future__ import annotations

import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

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


def temporary_password() -> str:
    """A random password handed over once; the user must replace it at the next sign-in."""
    return "-".join(secrets.token_urlsafe(6) for _ in range(3))


def _check_email_free(email: str, *, except_id: int | None = None) -> None:
    stmt = select(User.id).where(func.lower(User.email) == email.lower())
    found = db.session.execute(stmt).scalar_one_or_none()
    if found is not None and found != except_id:
        raise AdminError(_l("Another account already uses this email."), field="email")


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
    db.session.flush()
    events.record("user_created", user=user, actor=by, detail=role)
    db.session.commit()
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
) -> User:
    """Change an account's details; a change of role or organisation ends its sessions."""
    email = email.strip().lower()
    _check_email_free(email, except_id=user.id)
    _check_choices(role, organisation)
    if user.id == by.id and role != user.role:
        raise AdminError(_l("You cannot change your own role."), field="role")
    scope_changed = role != user.role or organisation.id != user.organisation_id
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
    db.session.commit()
    return user


def set_user_active(*, by: User | None, user: User, active: bool) -> None:
    """Disable or re-enable an account; disabling ends its sessions at once."""
    if by is not None and user.id == by.id and not active:
        raise AdminError(_l("You cannot disable your own account."))
    user.active = active
    if not active:
        revoke_user_sessions(user.id)
    events.record("user_enabled" if active else "user_disabled", user=user, actor=by)
    db.session.commit()


def reset_password(*, by: User | None, user: User) -> str:
    """Give the account a temporary password, shown once; its sessions end at once."""
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
    user.totp_enabled = False
    user.totp_secret = None
    user.totp_last_step = None
    user.recovery_codes = []
    revoke_user_sessions(user.id)
    events.record("mfa_reset", user=user, actor=by)
    db.session.commit()


def _check_org(name: str, code: str, kind: str, *, except_id: int | None = None) -> None:
    if kind not in ORG_KINDS:
        raise AdminError(_l("Unknown kind of organisation."), field="kind")
    for column, value, field in (
        (Organisation.name, name, "name"),
        (Organisation.code, code, "code"),
    ):
        found = db.session.execute(
            select(Organisation.id).where(func.lower(column) == value.lower())
        ).scalar_one_or_none()
        if found is not None and found != except_id:
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
    db.session.flush()
    audit.record(
        "organisation_created",
        user=by,
        object_type="organisation",
        object_id=org.id,
        organisation_id=org.id,
        detail=code,
    )
    db.session.commit()
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
) -> Organisation:
    """Change an organisation; one with active accounts cannot be deactivated."""
    name, code = name.strip(), code.strip().upper()
    _check_org(name, code, kind, except_id=org.id)
    if not active and any(u.active for u in org.users):
        raise AdminError(_l("Disable the organisation's accounts first."), field="active")
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
    db.session.commit()
    return org
