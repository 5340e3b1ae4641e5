"""Account and organisation administration: each use case records its event and commits once."""

from __future__ import annotations

import re
import secrets

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app import audit
from app.admin.rules import (
    INTAKE_ROLES,
    ORG_FIELDS,
    USER_FIELDS,
    AdminError,
    check_intakes_kept,
    check_not_last_supervisor,
    check_unchanged,
    commit_unique,
    drop_leftover_intakes,
    held_work,
    last_supervisor_cases,
    not_oneself,
    numbers_issued,
    unsaved_intakes,
)
from app.auth import events, passwords
from app.auth.models import ORG_KINDS, ROLES, Organisation, User
from app.auth.sessions import revoke_user_sessions
from app.cases import drafts as case_drafts
from app.clock import utcnow
from app.extensions import db
from app.form_fields import ONE_LINE, one_line_of


def temporary_password() -> str:
    """A random password handed over once; the user must replace it at the next sign-in."""
    return "-".join(secrets.token_urlsafe(6) for _ in range(3))


def _check_email_free(email: str, *, except_id: int | None = None) -> None:
    stmt = select(User.id).where(func.lower(User.email) == email.lower())
    if any(other != except_id for other in db.session.execute(stmt).scalars()):
        raise AdminError(_l("Another account already uses this email."), field="email")


def _check_choices(role: str, organisation: Organisation | None, kept: int | None = None) -> None:
    """A known role, and an active organisation: or the one the account is in (`kept`), even
    inactive, when it stays there (its edit page offers it, so saving a name does not move it)."""
    if role not in ROLES:
        raise AdminError(_l("Unknown role."), field="role")
    if organisation is None or not (organisation.active or organisation.id == kept):
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
    full_name = _one_line(full_name, "full_name")
    email = email.strip().lower()
    _check_account_text(email, full_name)
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
    commit_unique(lambda: _check_email_free(email))
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
    language_shown: str | None = None,
) -> User:
    """Change an account's details; a change of role or organisation ends its sessions.
    `seen`: the edited_state the form was opened with (an edit made meanwhile is refused);
    `language_shown`: the language it showed, so the user's own choice made meanwhile is
    replaced only when the admin changed the language."""
    check_unchanged(
        user,
        USER_FIELDS,
        seen,
        _l("Another administrator changed this account while you were editing it."),
    )
    full_name = _one_line(full_name, "full_name")
    email = email.strip().lower()
    _check_account_text(email, full_name)
    _check_email_free(email, except_id=user.id)
    _check_choices(role, organisation, kept=user.organisation_id)
    if user.id == by.id and role != user.role:
        raise AdminError(_l("You cannot change your own role."), field="role", rule="own_role")
    moved = organisation.id != user.organisation_id
    if user.id == by.id and moved:
        raise AdminError(
            _l("You cannot move your own account to another organisation."),
            field="organisation_id",
            rule="own_organisation",
        )
    if moved or (user.role == "case_manager" and role != "case_manager"):
        # Assigned work would stay with someone who no longer sees it where it is (or sees it
        # from another organisation): it is handed over first.
        cases, tasks = held_work(user)
        if cases or tasks:
            raise AdminError(
                _l(
                    "This account still holds %(cases)s and %(tasks)s. Ask a supervisor of its "
                    "organisation to reassign them first.",
                    cases=lazy_ngettext("%(num)d active case", "%(num)d active cases", cases),
                    tasks=lazy_ngettext("%(num)d open task", "%(num)d open tasks", tasks),
                ),
                field="organisation_id" if moved else "role",
                rule="held_work",
            )
    check_intakes_kept(user, role=role, moved=moved)
    check_not_last_supervisor(user, role=role, moved=moved)
    if moved and user.role not in INTAKE_ROLES:
        drop_leftover_intakes(user)
    scope_changed = role != user.role or moved
    left = user.organisation_id
    user.email, user.full_name, user.role = email, full_name.strip(), role
    user.organisation = organisation
    if language_shown is None or language != language_shown:
        user.language = language
    if scope_changed:
        revoke_user_sessions(user.id)
        # Text typed on case pages was typed under the old role's access: it goes with it.
        case_drafts.drop_all_of(user)
    events.record(
        "user_updated",
        user=user,
        actor=by,
        detail="role_or_organisation" if scope_changed else None,
    )
    if moved:
        # In the log of the organisation it left too: its supervisors see their staff member
        # moved out (and an account moved in, used and moved back is seen on both sides).
        audit.record(
            "user_updated",
            user=by,
            object_type="account",
            object_id=user.id,
            organisation_id=left,
            detail="role_or_organisation",
        )
    commit_unique(lambda: _check_email_free(email, except_id=user.id))
    return user


def set_user_active(*, by: User | None, user: User, active: bool) -> list[str]:
    """Disable or re-enable an account; disabling ends its sessions at once. Disabling is never
    held up (an account may have to be stopped now): what it leaves waiting is returned, to be
    said to the admin."""
    if by is not None and user.id == by.id and not active:
        raise AdminError(_l("You cannot disable your own account."), rule="own_account")
    if active and not user.organisation.active:
        raise AdminError(
            _l(
                "The account's organisation is inactive: make it active again first, or move "
                "the account to another organisation."
            ),
            rule="inactive_organisation",
        )
    left = [] if active else _left_waiting(user)
    user.active = active
    if not active:
        revoke_user_sessions(user.id)
    events.record("user_enabled" if active else "user_disabled", user=user, actor=by)
    db.session.commit()
    return left


def _left_waiting(user: User) -> list[str]:
    """What an account about to be disabled leaves waiting, said to the admin."""
    said = []
    if intakes := unsaved_intakes(user):
        said.append(
            lazy_ngettext(
                "It has %(num)d unsaved intake: it stays with the account, and comes back if "
                "the account is enabled again.",
                "It has %(num)d unsaved intakes: they stay with the account, and come back if "
                "the account is enabled again.",
                intakes,
            )
        )
    if cases := last_supervisor_cases(user):
        said.append(
            lazy_ngettext(
                "It was the last active supervisor of its organisation, which has %(num)d "
                "active case: until another account is made its supervisor, nobody assigns "
                "it, approves its closure or sees its 12-hour checks.",
                "It was the last active supervisor of its organisation, which has %(num)d "
                "active cases: until another account is made its supervisor, nobody assigns "
                "them, approves their closure or sees their 12-hour checks.",
                cases,
            )
        )
    return [str(text) for text in said]


def reset_password(*, by: User | None, user: User) -> str:
    """Give the account a temporary password, shown once; its sessions end at once."""
    not_oneself(by, user)
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
    not_oneself(by, user)
    user.totp_enabled = False
    user.totp_secret = None
    user.totp_last_step = None
    user.recovery_codes = []
    revoke_user_sessions(user.id)
    events.record("mfa_reset", user=user, actor=by)
    db.session.commit()


def _one_line(value: str | None, field: str) -> str | None:
    """A name or phone as stored, whichever way it came (the form, the command line)."""
    try:
        return one_line_of(value) if value else value
    except ValueError:
        raise AdminError(ONE_LINE, field=field) from None


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


def _check_account_text(email: str, full_name: str | None) -> None:
    """What the account form checks, checked for the command line too (`flask users create`
    took "not an email")."""
    _check_length(full_name, 200, "full_name")
    _check_length(email, 254, "email")
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        raise AdminError(_l("Enter a valid email address."), field="email") from None


def _check_org_text(name: str, phone: str | None, province_code: str | None) -> None:
    """What the organisation form checks, checked for the command line too."""
    _check_length(name, 200, "name")
    _check_length(phone, 40, "phone")
    _check_length(province_code, 8, "province_code")


def _check_length(value: str | None, limit: int, field: str) -> None:
    if value and len(value) > limit:
        raise AdminError(_l("At most %(max)d characters.", max=limit), field=field)


# A code as case numbers carry it and the case search reads them back (HN-2026-000123).
CODE_SHAPE = re.compile(r"[A-Z0-9]{1,12}", re.ASCII)


def _check_code(code: str) -> None:
    """Letters A to Z and digits, 1 to 12 of them, as the case search reads a case number back
    (a code such as "ĐN" or "H-N", taken from the command line, gave numbers no search found).
    A code of digits only may not begin with 0: its case numbers would read as phone numbers
    ("098 2019 888" as 098-2019-000888), which the case search must refuse by their shape
    (app/cases/numbers.case_number) so that no phone number lands in an address."""
    if not CODE_SHAPE.fullmatch(code):
        raise AdminError(
            _l("Use 1 to 12 letters (A to Z, without accents) and digits, such as HN."),
            field="code",
        )
    if code.isdigit() and code.startswith("0"):
        raise AdminError(
            _l(
                "A code of digits only may not begin with 0: its case numbers would read like "
                "phone numbers. Add a letter, or begin with another digit."
            ),
            field="code",
        )


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
    name, code = _one_line(name, "name").strip(), code.strip().upper()
    phone = _one_line(phone, "phone")
    _check_org_text(name, phone, province_code)
    _check_org(name, code, kind)
    _check_code(code)
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
    commit_unique(lambda: _check_org(name, code, kind))
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
    check_unchanged(
        org,
        ORG_FIELDS,
        seen,
        _l("Another administrator changed this organisation while you were editing it."),
    )
    name, code = _one_line(name, "name").strip(), code.strip().upper()
    phone = _one_line(phone, "phone")
    _check_org_text(name, phone, province_code)
    _check_org(name, code, kind, except_id=org.id)
    if not active and any(u.active for u in org.users):
        raise AdminError(
            _l("Disable the organisation's accounts first."),
            field="active",
            rule="organisation_with_active_accounts",
        )
    if code != org.code:
        _check_code(code)
    if code != org.code and numbers_issued(org):
        # Numbers run per organisation but are unique across the installation: a code given up
        # could be taken by another organisation, whose numbers would then collide.
        raise AdminError(
            _l(
                "Case numbers already carry this code (%(code)s-…), so it can no longer change.",
                code=org.code,
            ),
            field="code",
            rule="code_in_case_numbers",
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
    commit_unique(lambda: _check_org(name, code, kind, except_id=org.id))
    return org
