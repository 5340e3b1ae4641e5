"""Whom a survivor's consent may name: the active organisations other than the hotline's own
(their names only: an organisation's name is not about a person). The intake and the case's
consent form offer the same list."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.auth.models import Organisation
from app.extensions import db

ANY_PROVIDER = _l("Any provider of the service")
RECIPIENT_HINT = _l(
    "Leave 'any provider' when the survivor agrees to any service of that type; choose an "
    "organisation when the consent is for that one only."
)


def recipients_for(organisation_id: int) -> list[Organisation]:
    """The active organisations, other than this one, a referral could go to, by name."""
    return list(
        db.session.execute(
            select(Organisation)
            .where(Organisation.active.is_(True), Organisation.id != organisation_id)
            .order_by(Organisation.name)
        ).scalars()
    )


# A recipient chosen before that the list no longer offers (see `keep_chosen`).
NOT_OFFERED = _l(
    "This organisation is no longer among those that receive referrals: ask the survivor about "
    "another one, or choose 'any provider' if that is what they agree to."
)


def recipient_choices(organisation_id: int, chosen: str | None = None) -> list[tuple[str, str]]:
    """A recipient select's options: any provider first, then the organisations; and the one
    chosen before, if the list no longer offers it (see `keep_chosen`)."""
    options = [("", str(ANY_PROVIDER))] + [
        (str(o.id), o.name) for o in recipients_for(organisation_id)
    ]
    return keep_chosen(options, chosen, organisation_id)


def keep_chosen(
    options: list[tuple[str, str]], chosen: str | None, organisation_id: int
) -> list[tuple[str, str]]:
    """The options, with a recipient chosen before (a draft brought back, a page sent back)
    that is no longer among them kept at the end, marked: shown without it, the list would
    show "any provider" in its place, and a consent to one organisation would be sent as a
    consent to all. The save refuses it (NOT_OFFERED) until another is chosen. Named only when
    it is an organisation deactivated since (not this one, which never was on the list)."""
    if not chosen or any(value == chosen for value, _label in options):
        return options
    name = None
    if chosen.isdecimal() and len(chosen) <= 9:
        name = db.session.execute(
            select(Organisation.name).where(
                Organisation.id == int(chosen),
                Organisation.active.is_(False),
                Organisation.id != organisation_id,
            )
        ).scalar()
    if name:
        label = _("%(name)s (no longer receives referrals)", name=name)
    else:
        label = _("An organisation no longer on the list")
    return options + [(chosen, label)]


def is_recipient(value: str, organisation_id: int) -> bool:
    """Whether a posted recipient is one of those offered (one lookup, only when one is
    chosen: a consent to any provider costs the save nothing)."""
    if not value.isdecimal() or len(value) > 9:
        return False
    stmt = select(Organisation.id).where(
        Organisation.id == int(value),
        Organisation.active.is_(True),
        Organisation.id != organisation_id,
    )
    return db.session.execute(stmt).first() is not None
