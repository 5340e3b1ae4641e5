"""Whom a survivor's consent may name: the active organisations other than the hotline's own
(their names only: an organisation's name is not about a person). The intake and the case's
consent form offer the same list."""

from __future__ import annotations

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


def recipient_choices(organisation_id: int) -> list[tuple[str, str]]:
    """A recipient select's options: any provider first, then the organisations."""
    return [("", str(ANY_PROVIDER))] + [
        (str(o.id), o.name) for o in recipients_for(organisation_id)
    ]


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
