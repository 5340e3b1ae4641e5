"""Phone lines and their tokens: created, rotated and revoked by an admin of their organisation.

A token is shown once and kept only as its SHA-256 (tokens are 256-bit random strings, so a fast
hash is enough) with its last four characters as a hint. The screen pops a line announces live in
app.telephony.pops.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from app import audit
from app.auth.models import Organisation, User
from app.clock import utcnow
from app.extensions import db
from app.telephony.models import PhoneLine, ScreenPop

TOKEN_PREFIX = "dt_"  # noqa: S105 - not a secret: recognisable in a config file or a secret scanner's report
HINT_LENGTH = 4


class LineError(Exception):
    """A rule refused a change to a phone line; the message is shown to the admin."""

    def __init__(self, message, *, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


def hash_token(token: str) -> str:
    """The SHA-256 hex digest a token is stored and looked up by."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_line_token() -> str:
    """A fresh line token: the prefix and 256 random bits."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def _set_token(line: PhoneLine) -> str:
    token = new_line_token()
    line.token_hash = hash_token(token)
    line.token_hint = token[-HINT_LENGTH:]
    return token


def _check_name_free(name: str, organisation_id: int) -> None:
    stmt = select(PhoneLine.id).where(
        PhoneLine.organisation_id == organisation_id,
        PhoneLine.revoked_at.is_(None),
        func.lower(PhoneLine.name) == name.lower(),
    )
    if db.session.execute(stmt).first() is not None:
        raise LineError(_l("Another active line already has this name."), field="name")


def create_line(*, by: User, name: str) -> tuple[PhoneLine, str]:
    """Add a line to the admin's organisation; returns it with its token, to be shown once."""
    name = " ".join(name.split())
    if not name:
        raise LineError(_l("This field is required."), field="name")
    _check_name_free(name, by.organisation_id)
    line = PhoneLine(organisation_id=by.organisation_id, name=name, created_by_id=by.id)
    token = _set_token(line)
    db.session.add(line)
    db.session.flush()
    audit.record(
        "line_created",
        user=by,
        object_type="phone_line",
        object_id=line.id,
        organisation_id=line.organisation_id,
    )
    db.session.commit()
    return line, token


def rotate_token(*, by: User, line: PhoneLine) -> str:
    """Give a line a new token (returned, to be shown once); the old one stops working at once."""
    if line.revoked_at is not None:
        raise LineError(_l("A revoked line cannot get a new token. Add a new line instead."))
    token = _set_token(line)
    _end_unopened_pops(line, utcnow())  # made with the old token: perhaps by whoever had it
    audit.record(
        "line_created",
        user=by,
        object_type="phone_line",
        object_id=line.id,
        organisation_id=line.organisation_id,
        detail="rotated",
    )
    db.session.commit()
    return token


def revoke_line(*, by: User, line: PhoneLine) -> None:
    """Stop a line for good: its token is refused from now on, and the links it handed out that
    nobody has opened yet stop working too (a stolen token's pops), their numbers forgotten."""
    if line.revoked_at is not None:
        return
    now = line.revoked_at = utcnow()
    _end_unopened_pops(line, now)
    audit.record(
        "line_revoked",
        user=by,
        object_type="phone_line",
        object_id=line.id,
        organisation_id=line.organisation_id,
    )
    db.session.commit()


def _end_unopened_pops(line: PhoneLine, now) -> None:
    """The line's links nobody has opened yet stop working, their numbers forgotten."""
    db.session.execute(
        update(ScreenPop)
        .where(ScreenPop.line_id == line.id, ScreenPop.key_destroyed_at.is_(None))
        .where(ScreenPop.claimed_at.is_(None))
        .values(
            expires_at=now,
            key_kek_id=None,
            key_wrapped=None,
            key_destroyed_at=now,
            caller_phone_sealed=None,
        )
        .execution_options(synchronize_session=False)
    )


def stopped_line(token: str) -> PhoneLine | None:
    """The line a refused token still names (revoked, or of a closed organisation), so the
    refusal is audited where that line's admins look; None for a token no line ever had (or
    a rotated one: its digest is gone)."""
    if len(token) > 200:
        return None
    return db.session.execute(
        select(PhoneLine).where(PhoneLine.token_hash == hash_token(token))
    ).scalar_one_or_none()


def authenticate_line(token: str | None) -> PhoneLine | None:
    """The live line a bearer token belongs to, or None (unknown, revoked, or organisation
    closed)."""
    if not token or len(token) > 200:
        return None
    digest = hash_token(token)
    line = db.session.execute(
        select(PhoneLine)
        .join(Organisation, Organisation.id == PhoneLine.organisation_id)
        .where(
            PhoneLine.token_hash == digest,
            PhoneLine.revoked_at.is_(None),
            Organisation.active,
        )
    ).scalar_one_or_none()
    # The lookup is by digest; compare again in constant time so no timing depends on a match.
    if line is None or not hmac.compare_digest(line.token_hash, digest):
        return None
    return line
