"""Flask commands: accounts, organisations, demo data and session housekeeping."""

from __future__ import annotations

import time

import click
from flask import Flask, current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import func, select

from app import audit
from app.admin import services as admin_services
from app.auditlog.verify import verify
from app.auth.labels import KIND_LABELS, ROLE_LABELS
from app.auth.models import ORG_KINDS, ROLES, Organisation, User
from app.auth.sessions import purge_expired_sessions
from app.extensions import db
from app.form_fields import printable


def _user(email: str) -> User:
    user = db.session.execute(
        select(User).where(func.lower(User.email) == email.strip().lower())
    ).scalar_one_or_none()
    if user is None:
        raise click.ClickException(_("No account with the email %(email)s.", email=email))
    return user


def _fail(exc: admin_services.AdminError) -> click.ClickException:
    return click.ClickException(str(exc.message))


users = click.Group("users", help="Create, disable and reset accounts.")
orgs = click.Group("orgs", help="Create and list organisations.")
sessions_cli = click.Group("sessions", help="Session housekeeping.")


@users.command("create")
@click.option("--email", required=True)
@click.option("--name", "full_name", required=True)
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--org", "org_code", required=True, help="The organisation's short code.")
@click.option("--language", type=click.Choice(["vi", "en"]), default="vi")
@click.option(
    "--password",
    is_flag=True,
    help="Choose the password at a prompt instead of getting a temporary one.",
)
def create_user(email, full_name, role, org_code, language, password):
    """Create an account; prints a temporary password unless --password is given."""
    org = db.session.execute(
        select(Organisation).where(func.upper(Organisation.code) == org_code.upper())
    ).scalar_one_or_none()
    if org is None:
        raise click.ClickException(_("No organisation with the code %(code)s.", code=org_code))
    chosen = (
        click.prompt("Password", hide_input=True, confirmation_prompt=True) if password else None
    )
    try:
        user, temp = admin_services.create_user(
            by=None,
            email=email,
            full_name=full_name,
            role=role,
            organisation=org,
            language=language,
            password=chosen,
        )
    except admin_services.AdminError as exc:
        raise _fail(exc) from exc
    role = ROLE_LABELS.get(user.role, user.role)
    click.echo(_("Created %(email)s (%(role)s).", email=user.email, role=role))
    if temp:
        click.echo(
            _(
                "Temporary password (shown once, to be changed at sign-in): %(password)s",
                password=temp,
            )
        )


@users.command("disable")
@click.argument("email")
def disable_user(email):
    """Disable an account and end its sessions at once."""
    left = admin_services.set_user_active(by=None, user=_user(email), active=False)
    click.echo(_("Disabled %(email)s; its sessions have ended.", email=email))
    for said in left:  # what it leaves waiting (unsaved intakes, a hotline without supervisor)
        click.echo(said)


@users.command("enable")
@click.argument("email")
def enable_user(email):
    """Re-enable a disabled account (refused, with the reason, when its organisation is
    inactive)."""
    try:
        admin_services.set_user_active(by=None, user=_user(email), active=True)
    except admin_services.AdminError as exc:
        raise _fail(exc) from exc
    click.echo(_("Enabled %(email)s.", email=email))


@users.command("reset-password")
@click.argument("email")
def reset_password(email):
    """Give an account a temporary password (printed once) and end its sessions."""
    temp = admin_services.reset_password(by=None, user=_user(email))
    click.echo(
        _(
            "Temporary password for %(email)s (shown once, to be changed at sign-in): %(password)s",
            email=email,
            password=temp,
        )
    )


@users.command("list")
def list_users():
    """List accounts: email, role, organisation, state."""
    for user in db.session.execute(select(User).order_by(User.email)).scalars():
        state = _("Active") if user.active else _("Disabled")
        role = str(ROLE_LABELS.get(user.role, user.role))
        click.echo(f"{printable(user.email):40} {role:24} {user.organisation.code:8} {state}")


@orgs.command("create")
@click.option("--name", required=True)
@click.option("--code", required=True, help="Short code used in case numbers, e.g. HN.")
@click.option("--kind", type=click.Choice(ORG_KINDS), required=True)
@click.option("--province", "province_code", default=None)
def create_org(name, code, kind, province_code):
    """Add an organisation."""
    try:
        org = admin_services.create_organisation(
            by=None, name=name, code=code, kind=kind, province_code=province_code
        )
    except admin_services.AdminError as exc:
        raise _fail(exc) from exc
    click.echo(_("Created organisation %(code)s.", code=org.code))


@orgs.command("list")
def list_orgs():
    """List organisations."""
    for org in db.session.execute(select(Organisation).order_by(Organisation.code)).scalars():
        kind = str(KIND_LABELS.get(org.kind, org.kind))
        click.echo(f"{org.code:8} {kind:32} {printable(org.name)}")  # one line each, whatever


@sessions_cli.command("purge")
def purge_sessions():
    """Delete expired sessions (run from cron; expired sessions never work anyway)."""
    count = purge_expired_sessions(
        idle=current_app.config["SESSION_IDLE_SECONDS"],
        absolute=current_app.config["SESSION_MAX_SECONDS"],
    )
    click.echo(
        ngettext("Deleted %(num)d expired session.", "Deleted %(num)d expired sessions.", count)
    )


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when accounts already exist.")
def seed_demo_command(if_empty):
    """Load made-up demo organisations and one account per role."""
    from app import demo

    if not demo.database_is_empty():
        if if_empty:
            return
        raise click.ClickException(_("The database already has accounts; demo data not loaded."))
    if current_app.config.get("SESSION_COOKIE_SECURE") and not if_empty:
        click.echo(_("Warning: loading demo accounts with a published password."))
    demo.seed_demo()
    click.echo(_("Demo data loaded."))


@click.command("demo-logins")
def demo_logins_command():
    """Print the demo accounts, their password and one-time-code seeds."""
    from app import demo

    rows = demo.demo_logins()
    if not rows:
        return
    click.echo(
        _(
            "Demo accounts (made-up people; password for all: %(password)s):",
            password=rows[0]["password"],
        )
    )
    for row in rows:
        line = f"  {row['role']:13} {row['email']:28}"
        if row["secret"]:
            line += " " + _(
                "one-time-code seed %(secret)s (code now: %(code)s)",
                secret=row["secret"],
                code=row["code"],
            )
        click.echo(line)
    click.echo(
        "  "
        + _(
            "Add a seed to an authenticator app, or run "
            "'make demo-code EMAIL=...' for the current code."
        )
    )


@click.command("demo-code")
@click.argument("email")
def demo_code_command(email):
    """Print the current one-time code of a demo account (demo accounts only)."""
    from app import demo

    for row in demo.demo_logins():
        if row["email"] == email.strip().lower() and row["code"]:
            click.echo(row["code"])
            return
    raise click.ClickException(_("No demo account with one-time codes has that email."))


audit_cli = click.Group("audit", help="The access and change log.")
AUDIT_PROBLEMS = {
    "missing": _l("an entry is missing or out of order"),
    "unlinked": _l("it does not follow the previous entry"),
    "changed": _l("its content was changed"),
    "tail": _l("entries are missing at the end of the chain"),
}


@audit_cli.command("verify")
def verify_audit():
    """Check the whole hash chain; names the first broken entry and exits 1 if there is one."""
    began = time.perf_counter()
    total = db.session.execute(select(func.count()).select_from(audit.AuditEntry)).scalar_one()
    with click.progressbar(length=max(total, 1), label=_("Checking the audit chain")) as bar:
        result = verify(progress=bar.update)
    took = time.perf_counter() - began
    if result.ok:
        click.echo(
            _(
                "The audit chain holds: %(n)d entries checked in %(s).1f s.",
                n=result.checked,
                s=took,
            )
        )
        click.echo(
            _(
                "Last entry %(n)d, hash %(hash)s: keep this line outside the database to "
                "detect a cut chain later.",
                n=result.checked,
                hash=result.head_hash,
            )
        )
        return
    raise click.ClickException(
        _(
            "The audit chain is broken at entry %(id)d: %(problem)s.",
            id=result.broken_at,
            problem=AUDIT_PROBLEMS[result.problem],
        )
    )


def register(app: Flask) -> None:
    """Attach the commands to the app."""
    from app.cases.cli import cases_cli
    from app.crypto.cli import keys
    from app.places.cli import places
    from app.telephony.cli import telephony

    for command in (
        users,
        orgs,
        sessions_cli,
        seed_demo_command,
        demo_logins_command,
        demo_code_command,
        keys,
        audit_cli,
        cases_cli,
        places,
        telephony,
    ):
        app.cli.add_command(command)
